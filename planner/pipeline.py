"""The planner end to end: argv in, phase dumps or script source out, no I/O."""

from __future__ import annotations

import argparse
import pprint

from websocat.planner.fixups import apply_fixups
from websocat.planner.lints import apply_lints
from websocat.planner.model import Invocation, NotImplementedYet
from websocat.planner.options import OPTIONS, parse_args, without_dump_flags
from websocat.planner.parse import parse
from websocat.planner.render import render_script
from websocat.planner.values import hide_credentials

# Options that this version acts on; any other option given with a non-default value is
# refused with "is not implemented yet" rather than silently ignored.
IMPLEMENTED = frozenset(
    """
    dump_spec dump_spec_phase0 dump_spec_phase1 dump_spec_phase2 scenario text binary
    late_resolve server ws_c_uri separator separator_n separator_inhibit_substitution
    separator_inline null_terminated dummy_hangup exit_on_hangup exit_after_one_session
    unidirectional unidirectional_reverse unidirectional_late_drop exit_on_eof buffer_size
    no_close oneshot no_lints no_fixups less_fixups random_seed mirror_bufsize
    global_timeout_ms global_timeout_force_exit sleep_ms_before_start
    stdout_announce_listening_ports accept_from_fd write_file_no_overwrite
    write_file_auto_rename random_fast tcp_race_interval_ms spec1 spec2 help version
    header server_header protocol server_protocol origin ua ws_dont_check_headers
    inhibit_pongs ws_ignore_invalid_masks ws_shutdown_socket_on_eof insecure tls_domain
    enable_sslkeylog verbose server_protocol_lax server_protocol_choose_first ws_no_flush
    ws_no_auto_buffer ws_omit_headers close_delay_ms
    """.split()
)


def reject_unimplemented(opts: argparse.Namespace) -> None:
    for option in OPTIONS:
        if option.dest in IMPLEMENTED:
            continue
        value = getattr(opts, option.dest, option.default)
        default: object = [] if option.kind in ("append", "rest") else option.default
        if value != default and value != option.default:
            raise NotImplementedYet(f"option '{option.long}' is not implemented yet")
    if opts.compose:
        raise NotImplementedYet("option '--compose' is not implemented yet")


def invocation(argv: list[str]) -> Invocation:
    """Phase 0: parsed options and positional arguments."""
    opts = parse_args(argv)
    command = tuple(without_dump_flags(argv))  # what the dumped script's first line shows
    return Invocation(opts=opts, argv=command, spec1=opts.spec1, spec2=opts.spec2)


def plan(argv: list[str]) -> Invocation:
    """Phases 0-2: parse, check options, build stacks, apply fixups and lints."""
    inv = invocation(argv)
    reject_unimplemented(inv.opts)
    inv = parse(inv)
    inv = apply_fixups(inv)
    return apply_lints(inv)


def script_source(argv: list[str]) -> tuple[str, tuple[str, ...]]:
    """The script (unformatted) and the lint warnings: what `websocat ARGS` runs."""
    inv = plan(argv)
    return render_script(inv), inv.warnings


def dump_phase0(argv: list[str]) -> str:
    inv = invocation(argv)
    defaults = {o.dest: o.default for o in OPTIONS}
    given = {
        k: v
        for k, v in sorted(vars(inv.opts).items())
        if v not in (None, False, [], ()) and v != defaults.get(k)
    }
    given = {k: _hidden(v) for k, v in given.items()}
    return "options: " + pprint.pformat(given, sort_dicts=True) + "\n"


def _hidden(value: object) -> object:
    """An option's value with URL passwords shown as ***."""
    if isinstance(value, str):
        return hide_credentials(value)
    if isinstance(value, list):
        return [_hidden(v) for v in value]
    return value


def dump_phase1(argv: list[str]) -> str:
    inv = invocation(argv)
    reject_unimplemented(inv.opts)
    return _dump_stacks(parse(inv))


def dump_phase2(argv: list[str]) -> str:
    return _dump_stacks(plan(argv))


def _dump_stacks(inv: Invocation) -> str:
    lines = []
    for name, stack in (("left", inv.left), ("right", inv.right)):
        lines.append(f"{name}: " + (stack.describe() if stack is not None else "(none)"))
    lines += [f"warning: {w}" for w in inv.warnings]
    return "\n".join(lines) + "\n"


def dump_spec(argv: list[str]) -> str:
    """The script as --dump-spec prints it: black-formatted."""
    import black

    source, _warnings = script_source(argv)
    return black.format_str(source, mode=black.Mode(line_length=100))
