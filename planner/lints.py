"""Lints: warnings about likely command-line mistakes (stderr; silenced by --no-lints)."""

from __future__ import annotations

import ipaddress
from typing import Callable

from websocat.planner.model import Invocation, Spec, Stack
from websocat.planner.session import Exchange, Running, Serving
from websocat.planner.specs import _given, all_spec_classes, bound_options
from websocat.planner.specs.chunking import LineChunks
from websocat.planner.specs.log import Log
from websocat.planner.specs.process import Cmd, Exec
from websocat.planner.specs.splitoff import WriteSplitoff
from websocat.planner.specs.tee import Tee
from websocat.planner.specs.tls import TlsAccept, TlsClient
from websocat.planner.specs.trivial import Stdio
from websocat.planner.specs.unix import UnixPath
from websocat.planner.specs.tcp import TcpListen
from websocat.planner.specs.ws import WsAccept, WsAcceptUpgrade, WsConnect, WsRequest

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


def request_options_without_effect(inv: Invocation) -> list[str]:
    """-e, --header-to-env, --exec-exit-on-disconnect and --exec-stderr-inherit with nothing
    for them to act on (websocat v1's lints for the first two)."""
    opts = inv.opts
    stacks = [s for _role, s in inv.stacks]
    children = any(isinstance(s.endpoint, (Exec, Cmd)) for s in stacks)
    listens = inv.left is not None and inv.left.listener
    ws_server = any(isinstance(o, (WsAccept, WsAcceptUpgrade)) for s in stacks for o in s.overlays)
    given = [
        name
        for name, value in (
            ("-e", opts.set_environment),
            ("--header-to-env", opts.header_to_env),
            ("--exec-exit-on-disconnect", opts.exec_exit_on_disconnect),
            ("--exec-stderr-inherit", opts.exec_stderr_inherit),
        )
        if value
    ]
    if given and not children:
        return [f"{'/'.join(given)}: no exec: or cmd: endpoint is in the plan; no effect"]
    found = []
    if opts.set_environment and not listens and not ws_server:
        found.append(
            "-e (--set-environment) has no effect: nothing listens or accepts a WebSocket, so there is no request"
        )
    if opts.header_to_env and not opts.set_environment:
        found.append("--header-to-env has no effect without -e (--set-environment)")
    elif opts.header_to_env and not ws_server:
        found.append("--header-to-env has no effect: no WebSocket server (ws-l:, -s, ws-accept:) is in the plan")
    if opts.exec_stderr_inherit and not listens:
        found.append(
            "--exec-stderr-inherit has no effect: the left side does not listen (only a listener's sessions "
            "prefix their children's stderr)"
        )
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


# Options that a lint above already names when they have no effect: unused_options says
# nothing more about them (one message per option).
COVERED_BY_LINTS = frozenset(
    {
        "separator",
        "separator_n",
        "null_terminated",
        "oneshot",
        "exit_after_one_session",
        "exec_args",
        "exec_arg0",
        "exec_chdir",
        "exec_uid",
        "exec_gid",
        "exec_monitor_exits",
        "exec_dup2_keep_nonblocking",
        "exec_dup2_execve",
        "exec_after_listen",
        "exec_after_listen_append_port",
        "set_environment",
        "header_to_env",
        "exec_exit_on_disconnect",
        "exec_stderr_inherit",
        "tee_propagate_failures",
        "tee_propagate_eof",
        "tee_tolerate_torn_msgs",
        "tee_use_hangups",
        "tee_use_first_hangup",
        "write_splitoff_omit_shutdown",
        "log_verbose",
        "log_omit_content",
        "log_hex",
        "log_timestamps",
        "tls_cert",
        "tls_key",
        "tls_client_ca",
        "tls_ca",
        "tls_client_cert",
        "tls_client_key",
        "ping_interval",
        "ping_timeout",
        "print_ping_rtts",
        "max_sent_pings",
    }
)


def _layer_dests(cls: type[Spec]) -> set[str]:
    """The options a layer of this kind takes: bound to its fields, or read for it by a fixup."""
    return {dest for _f, dests in bound_options(cls) for dest in dests} | set(cls.consumes)


def _kind_name(cls: type[Spec]) -> str:
    return cls.prefixes[0] if cls.prefixes else cls.applies_to


def unused_options(inv: Invocation) -> list[str]:
    """websocat4's "lints for unused options": an option given (not at its default) that no
    layer of any stack of this invocation takes, nor the planner, nor the exchange and
    run() (nor a listener's serving, when the left side listens)."""
    from websocat.planner.options import OPTIONS
    from websocat.planner.pipeline import PLANNER_OPTIONS

    consumed = set(PLANNER_OPTIONS) | COVERED_BY_LINTS
    for cls in (Exchange, Running):
        consumed |= {dest for _f, dests in bound_options(cls) for dest in dests}
    if inv.left is not None and inv.left.listener:
        consumed |= {dest for _f, dests in bound_options(Serving) for dest in dests}
    in_plan: set[str] = set()
    for _role, stack in inv.stacks:
        for layer in (stack.endpoint, *stack.overlays):
            consumed |= _layer_dests(type(layer))
            in_plan.add(_kind_name(type(layer)))
    found = []
    for option in OPTIONS:
        if option.dest in consumed or not _given(inv.opts, option.dest):
            continue
        takers = [cls for cls in all_spec_classes() if option.dest in _layer_dests(cls)]
        kinds = sorted({_kind_name(cls) for cls in takers} - {""})
        if any(kind in in_plan for kind in kinds):
            why = f"the {' or '.join(k for k in kinds if k in in_plan)} in this command does not use it"
        elif len(kinds) > 3 and all(getattr(cls, "listener", False) for cls in takers):
            why = "nothing in this command listens"
        elif len(kinds) > 3:
            why = f"none of the {len(kinds)} kinds that take it is in this command"
        elif kinds:
            why = f"no {' or '.join(kinds)} in this command"
        elif any(option.dest in dests for _f, dests in bound_options(Serving)):
            why = "the left side does not listen"
        else:
            why = "nothing in this command uses it"
        found.append(f"{option.long} has no effect here: {why}")
    return found


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


def compress_options(inv: Invocation) -> list[str]:
    """--compress-* parameters without --compress, where a WebSocket could have used them."""
    opts = inv.opts
    given = [
        name
        for name, value in (
            ("--compress-no-context-takeover", opts.compress_no_context_takeover),
            ("--compress-window-bits", opts.compress_window_bits),
            ("--compress-level", opts.compress_level is not None),
        )
        if value
    ]
    layers = [o for _role, s in inv.stacks for o in s.overlays]
    if given and not opts.compress and any(hasattr(layer, "compress") for layer in layers):
        return [f"{' and '.join(given)}: no effect without --compress"]
    return []


def _is_stdio(stack: Stack | None) -> bool:
    return stack is not None and isinstance(stack.endpoint, Stdio)


def tls_options_without_tls(inv: Invocation) -> list[str]:
    """Certificate options with no TLS layer of their side to use them (a server's on tls-accept:,
    wss-l: and -s; a client's on tls: and wss://), and a key without its certificate."""
    opts = inv.opts
    layers = [o for _role, s in inv.stacks for o in s.overlays]
    found = []
    for layer_type, what, names in (
        (
            TlsAccept,
            "no TLS server (tls-accept:, ssl-l:, wss-l:, -s with --tls-cert)",
            ("--tls-cert", "--tls-key", "--tls-client-ca"),
        ),
        (TlsClient, "no TLS client (tls:, wss://)", ("--tls-ca", "--tls-client-cert", "--tls-client-key")),
    ):
        given = [name for name in names if getattr(opts, name[2:].replace("-", "_")) is not None]
        if given and not any(isinstance(layer, layer_type) for layer in layers):
            found.append(f"{'/'.join(given)} given but the plan has {what}; they have no effect")
    if opts.tls_client_key is not None and opts.tls_client_cert is None:
        found.append("--tls-client-key has no effect without --tls-client-cert")
    return found


def _loopback(host: str) -> bool:
    """Whether a listen address is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").partition("%")[0]).is_loopback
    except ValueError:
        return False  # another hostname, or '' (every address)


def open_remote_shell(inv: Invocation) -> list[str]:
    """cmd:/exec:/sh-c: served by a WebSocket listener that anyone on the network reaches,
    with no --restrict-uri, --allow-origin or --server-basic-auth-file."""
    left = inv.left
    if left is None or not left.listener or not isinstance(left.endpoint, TcpListen):
        return []
    servers = [o for o in left.overlays if isinstance(o, (WsAccept, WsAcceptUpgrade))]
    if not servers or _loopback(left.endpoint.host):
        return []
    if not any(isinstance(s.endpoint, (Exec, Cmd)) for _role, s in inv.stacks):
        return []
    if any(o.restrict_uri or o.allow_origins or o.users_file is not None for o in servers):
        return []
    host = left.endpoint.host or "*"
    shown = f"[{host}]:{left.endpoint.port}" if ":" in host else f"{host}:{left.endpoint.port}"
    return [
        f"a command is served to anyone who reaches {shown} "
        "(any web page its users visit included): add --server-basic-auth-file, --allow-origin or "
        "--restrict-uri, or listen on 127.0.0.1"
    ]


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
    request_options_without_effect,
    tee_options_without_tee,
    log_options_without_log,
    tls_options_without_tls,
    ping_options,
    compress_options,
    open_remote_shell,
    unused_options,  # last: the lints above name some options their own way
)


def apply_lints(inv: Invocation) -> Invocation:
    """Add each lint's warnings to the invocation (none with --no-lints)."""
    if inv.opts.no_lints:
        return inv
    for lint in LINTS:
        for message in lint(inv):
            inv = inv.warn(message)
    return inv
