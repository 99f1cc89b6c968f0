"""Lints: warnings about likely command-line mistakes (stderr; silenced by --no-lints)."""

from __future__ import annotations

from typing import Callable

from websocat.planner.model import Invocation, Stack
from websocat.planner.specs.chunking import LineChunks
from websocat.planner.specs.log import Log
from websocat.planner.specs.process import Cmd, Exec
from websocat.planner.specs.splitoff import WriteSplitoff
from websocat.planner.specs.tee import Tee
from websocat.planner.specs.trivial import Stdio
from websocat.planner.specs.unix import UnixPath
from websocat.planner.specs.ws import WsConnect, WsRequest

Lint = Callable[[Invocation], list[str]]


def both_modes(inv: Invocation) -> list[str]:
    if inv.opts.text and inv.opts.binary:
        return ["both --text and --binary given: --binary wins where a chunker is inserted"]
    return []


def both_directions_off(inv: Invocation) -> list[str]:
    if inv.opts.unidirectional and inv.opts.unidirectional_reverse:
        return ["both -u and -U given: no data will be transferred in either direction"]
    return []


def listener_on_the_right(inv: Invocation) -> list[str]:
    if inv.right is not None and inv.right.listener and inv.left is not None and not inv.left.listener:
        return [f"the right side {inv.right.source!r} listens: it accepts one connection for the session"]
    return []


def oneshot_without_listener(inv: Invocation) -> list[str]:
    opts = inv.opts
    if (opts.oneshot or opts.exit_after_one_session) and inv.left is not None and not inv.left.listener:
        return ["--oneshot/--exit-after-one-session have no effect: the left side does not listen"]
    return []


def separator_without_lines(inv: Invocation) -> list[str]:
    opts = inv.opts
    given = opts.separator is not None or opts.separator_n is not None or opts.null_terminated
    stacks = [s for _role, s in inv.stacks]
    if given and not any(isinstance(o, LineChunks) for s in stacks for o in s.overlays):
        return ["separator options given but no lines: overlay is in the plan; they have no effect"]
    return []


def at_sign_unix_path(inv: Invocation) -> list[str]:
    """unix:@name is a file named '@name': websocat v1 meant the abstract namespace, websocat4 no longer does."""
    found = []
    for _role, stack in inv.stacks:
        if isinstance(stack.endpoint, UnixPath):
            path = stack.endpoint.path
            if path[:1] in ("@", b"@"):
                found.append(
                    f"{stack.source!r} names a file starting with '@'; for the Linux abstract namespace "
                    "use abstract: or seqpacket-abstract: (websocat4 no longer converts '@' names)"
                )
    return found


def options_without_effect(inv: Invocation) -> list[str]:
    """Options whose job our framer does differently: accepted, and said to do nothing."""
    found = []
    if inv.opts.ws_no_flush:
        found.append("--ws-no-flush has no effect: each batch of frames is written at once, with no separate flush")
    if inv.opts.ws_no_auto_buffer:
        found.append("--ws-no-auto-buffer has no effect: frames are always built into one buffer per write")
    return found


def omitted_upgrade_headers(inv: Invocation) -> list[str]:
    """--ws-omit-headers on a client whose -H options do not put the upgrade back."""
    stacks = [s for _role, s in inv.stacks]
    clients = [o for s in stacks for o in s.overlays if isinstance(o, (WsConnect, WsRequest))]
    for client in clients:
        given = {name.lower() for name, _value in client.headers}
        if client.omit_headers and "sec-websocket-key" not in given:
            return [
                "--ws-omit-headers: the upgrade request has no Upgrade, Connection, Sec-WebSocket-Version"
                " or -Key unless given with -H; most servers refuse it"
            ]
    return []


def stdio_global_timeout_without_exit(inv: Invocation) -> list[str]:
    """websocat4's StdoutGlobalTimeoutWithoutExit, on the same condition: stdio is read (it is
    on the left without -U, or on the right without -u) and no --global-timeout-force-exit.

    websocat4 warns because tokio's blocking stdin may keep the process alive; our stdin is
    non-blocking, so what is left to warn about is that the timeout looks like a normal end.
    """
    opts = inv.opts
    stdin_read = (_is_stdio(inv.left) and not opts.unidirectional_reverse) or (
        _is_stdio(inv.right) and not opts.unidirectional
    )
    if stdin_read and opts.global_timeout_ms is not None and not opts.global_timeout_force_exit:
        return [
            "--global-timeout-ms with stdio: when it expires the session is cut and websocat exits"
            " with 0, as after a normal end; add --global-timeout-force-exit to exit with 1 instead"
        ]
    return []


def process_options_without_effect(inv: Invocation) -> list[str]:
    """--exec-* options where nothing they apply to is in the plan."""
    opts = inv.opts
    stacks = [s for _role, s in inv.stacks]  # the --tee, --filter, ... stacks too
    found = []
    child = (opts.exec_args, opts.exec_arg0, opts.exec_chdir, opts.exec_uid, opts.exec_gid, opts.exec_monitor_exits)
    if any(v not in (None, False, []) for v in child) and not any(isinstance(s.endpoint, (Exec, Cmd)) for s in stacks):
        found.append("--exec-* options given but no exec: or cmd: endpoint is in the plan; they have no effect")
    if opts.exec_args and any(isinstance(s.endpoint, Cmd) for s in stacks):
        if not any(isinstance(s.endpoint, Exec) for s in stacks):
            found.append("--exec-args has no effect on cmd: (its command line is the value); use exec:")
    if (opts.exec_dup2_keep_nonblocking or opts.exec_dup2_execve) and opts.exec_dup2 is None:
        found.append("--exec-dup2-keep-nonblocking/--exec-dup2-execve have no effect without --exec-dup2")
    if opts.exec_after_listen_append_port and opts.exec_after_listen is None:
        found.append("--exec-after-listen-append-port has no effect without --exec-after-listen")
    if opts.exec_after_listen is not None and not any(s.listener for s in stacks):
        found.append("--exec-after-listen has no effect: no side listens")
    return found


def tee_options_without_tee(inv: Invocation) -> list[str]:
    """--tee-* and --write-splitoff-omit-shutdown where no tee: / write-splitoff: is in the plan."""
    opts = inv.opts
    layers = [type(layer) for _role, s in inv.stacks for layer in s.overlays]
    found = []
    flags = (opts.tee_propagate_failures, opts.tee_propagate_eof, opts.tee_tolerate_torn_msgs)
    if (any(flags) or opts.tee_use_hangups or opts.tee_use_first_hangup) and Tee not in layers:
        found.append("--tee-* options given but no tee: overlay is in the plan (give --tee); they have no effect")
    if opts.write_splitoff_omit_shutdown and WriteSplitoff not in layers:
        found.append("--write-splitoff-omit-shutdown has no effect without write-splitoff: (give --write-splitoff)")
    return found


def log_options_without_log(inv: Invocation) -> list[str]:
    """--log-verbose/-omit-content/-hex/-timestamps where no log: is in the plan."""
    opts = inv.opts
    given = [name for name in ("verbose", "omit_content", "hex", "timestamps") if getattr(opts, f"log_{name}")]
    stacks = [s for _role, s in inv.stacks]
    if given and not any(isinstance(o, Log) for s in stacks for o in s.overlays):
        flags = ", ".join("--log-" + name.replace("_", "-") for name in given)
        return [f"{flags}: no log: overlay is in the plan (add log: or --log-traffic); no effect"]
    return []


def ping_options(inv: Invocation) -> list[str]:
    """--ping-* without a WebSocket to ping, or with values that drop live peers (websocat v1's lints)."""
    opts = inv.opts
    interval, timeout = opts.ping_interval, opts.ping_timeout
    given = [name for name, value in (("--ping-interval", interval), ("--ping-timeout", timeout)) if value is not None]
    found = []
    framed = any(hasattr(o, "ping_interval") for _role, s in inv.stacks for o in s.overlays)
    if given and not framed:
        found.append(f"{' and '.join(given)}: no WebSocket framing is in the plan; no effect")
    if timeout is not None and interval is None:
        found.append(
            "--ping-timeout without --ping-interval: no pings are sent, so unless pongs come anyway the "
            "connection is dropped after that time"
        )
    if timeout is not None and interval is not None and timeout <= interval:
        found.append("--ping-timeout is not longer than --ping-interval: live peers may be dropped")
    if (opts.print_ping_rtts or opts.max_sent_pings is not None) and interval is None:
        found.append("--print-ping-rtts and --max-sent-pings have no effect without --ping-interval")
    return found


def _is_stdio(stack: Stack | None) -> bool:
    return stack is not None and isinstance(stack.endpoint, Stdio)


LINTS: tuple[Lint, ...] = (
    both_modes,
    both_directions_off,
    listener_on_the_right,
    oneshot_without_listener,
    separator_without_lines,
    at_sign_unix_path,
    options_without_effect,
    omitted_upgrade_headers,
    stdio_global_timeout_without_exit,
    process_options_without_effect,
    tee_options_without_tee,
    log_options_without_log,
    ping_options,
)


def apply_lints(inv: Invocation) -> Invocation:
    """Add each lint's warnings to the invocation (none with --no-lints)."""
    if inv.opts.no_lints:
        return inv
    for lint in LINTS:
        for message in lint(inv):
            inv = inv.warn(message)
    return inv
