"""The planner end to end: argv in, phase dumps or script source out, no I/O."""

from __future__ import annotations

import argparse
import pprint

from collections.abc import Callable

from websocat.planner import compose
from websocat.planner.fixups import apply_fixups, share_reused
from websocat.planner.lints import apply_lints
from websocat.planner.model import Composition, Invocation, NotImplementedYet, Role, SpecError, describe_tree
from websocat.planner.options import OPTIONS, parse_args, without_dump_flags
from websocat.planner.parse import parse
from websocat.planner.render import render_script
from websocat.planner.values import SECRET_OPTIONS, hide_credentials, hide_secret_value

SECRET_DESTS = frozenset(name.removeprefix("--").replace("-", "_") for name in SECRET_OPTIONS)

# Options the planner itself consumes (parsing, fixups, lints, dumps, the command),
# each with where it is read; every other implemented option fills a field of a spec
# class or of planner/session.py, declared with `option(...)`.
PLANNER_OPTIONS: dict[str, str] = {
    "dump_spec": "cli",
    "dump_spec_phase0": "cli",
    "dump_spec_phase1": "cli",
    "dump_spec_phase2": "cli",
    "standalone": "cli (with --dump-spec)",
    "scenario": "cli (-x)",
    "help": "cli",
    "version": "cli",
    "accept_from_fd": "cli (migration message)",
    "spec1": "parse",
    "spec2": "parse",
    "tee": "parse (stacks for tee:)",
    "write_splitoff": "parse (the stack for write-splitoff:)",
    "filter": "parse (stacks for the --filter wiring)",
    "filter_reverse": "parse (stacks for the --filter wiring)",
    "text": "fixups.insert_chunker",
    "binary": "fixups.insert_chunker",
    "server": "fixups.server_shorthand",
    "late_resolve": "fixups.resolve_hostnames",
    "ws_c_uri": "fixups.apply_ws_c_uri",
    "log_traffic": "fixups.insert_log",
    "no_fixups": "fixups.apply_fixups",
    "less_fixups": "fixups.insert_reuser, specs.tee.insert_tee, specs.splitoff.insert_write_splitoff",
    "compose": "planner/compose.py",
    "no_lints": "lints.apply_lints",
    "exclude_ws_from_sockopts": "fixups.bind_options",
    "ws_no_flush": "lints.options_without_effect",
    "ws_no_auto_buffer": "lints.options_without_effect",
}


def implemented_options() -> frozenset[str]:
    """Every option this version acts on: bound to a field, or consumed by the planner."""
    from websocat.planner.session import PROCESS_LEVEL
    from websocat.planner.specs import all_spec_classes, bound_options

    classes = (*all_spec_classes(), *PROCESS_LEVEL)
    bound = {dest for cls in classes for _f, dests in bound_options(cls) for dest in dests}
    consumed = {dest for cls in all_spec_classes() for dest in cls.consumes}
    return frozenset(bound | consumed | PLANNER_OPTIONS.keys())


IMPLEMENTED = implemented_options()


def reject_unimplemented(opts: argparse.Namespace) -> None:
    for option in OPTIONS:
        if option.dest in IMPLEMENTED:
            continue
        value = getattr(opts, option.dest, option.default)
        default: object = [] if option.kind in ("append", "rest") else option.default
        if value != default and value != option.default:
            raise NotImplementedYet(f"option '{option.long}' is not implemented yet")
    if opts.compose:
        raise SpecError("--compose must be the first argument")
    if opts.scenario:
        raise SpecError("-x (--scenario) runs a scenario file; it cannot be a --compose part")


def invocation(argv: list[str]) -> Invocation:
    """Phase 0: parsed options and positional arguments."""
    opts = parse_args(argv)
    command = tuple(without_dump_flags(argv))  # what the dumped script's first line shows
    return Invocation(opts=opts, argv=command, spec1=opts.spec1, spec2=opts.spec2)


def _parsed(argv: list[str]) -> Invocation:
    """Phase 1: options checked, stacks built."""
    inv = invocation(argv)
    reject_unimplemented(inv.opts)
    return parse(inv)


def _planned(argv: list[str]) -> Invocation:
    """Phase 2: fixups applied, options bound, lints run; then each reuse-raw: given its
    shared stack."""
    return share_reused(apply_lints(apply_fixups(_parsed(argv))))


def _tree(argv: list[str], leaf: Callable[[list[str]], Invocation]) -> Composition:
    """One invocation, or with --compose the tree of its parts, each made by ``leaf``."""
    if not compose.is_compose(argv):
        return leaf(argv)
    _flags, tokens = compose.split(argv)
    return compose.tree(tokens, leaf)


def plan(argv: list[str]) -> Composition:
    """Phases 0-2: parse, check options, build stacks, apply fixups and lints."""
    return _tree(argv, _planned)


def warnings_of(plan: Composition) -> tuple[str, ...]:
    """The lints' warnings; a --compose part's say which part."""
    if isinstance(plan, Invocation):
        return plan.warnings
    parts = compose.leaves(plan)
    return tuple(f"part {number}: {warning}" for number, inv in enumerate(parts, 1) for warning in inv.warnings)


def script_source(argv: list[str]) -> tuple[str, tuple[str, ...]]:
    """The script (unformatted) and the lint warnings: what `websocat ARGS` runs."""
    planned = plan(argv)
    if isinstance(planned, Invocation):
        return render_script(planned), planned.warnings
    running = compose.run_options(compose.leaves(planned))
    return render_script(planned, compose.command(argv), running), warnings_of(planned)


def dump_phase0(argv: list[str]) -> str:
    return "\n".join(describe_tree(_tree(argv, invocation), _options_lines)) + "\n"


def _options_lines(inv: Invocation) -> list[str]:
    defaults = {o.dest: o.default for o in OPTIONS}
    given = {k: v for k, v in sorted(vars(inv.opts).items()) if v not in (None, False, [], ()) and v != defaults.get(k)}
    given = {k: hide_secret_value(v) if k in SECRET_DESTS else _hidden(v) for k, v in given.items()}
    first, *rest = pprint.pformat(given, sort_dicts=True).split("\n")
    return ["options: " + first, *("         " + line for line in rest)]


def _hidden(value: object) -> object:
    """An option's value with URL passwords shown as ***."""
    if isinstance(value, str):
        return hide_credentials(value)
    if isinstance(value, list):
        return [_hidden(v) for v in value]
    return value


def phase1(argv: list[str]) -> Composition:
    """Phases 0-1: the stacks as parsed, before the fixups."""
    return _tree(argv, _parsed)


def dump_phase1(argv: list[str]) -> str:
    return _dump_stacks(phase1(argv))


def dump_phase2(argv: list[str]) -> str:
    return _dump_stacks(plan(argv))


def _dump_stacks(plan: Composition) -> str:
    """A phase dump: the composition tree (one invocation without --compose), each
    invocation as its role-tagged stacks, its process-level options and its warnings."""
    return "\n".join(describe_tree(plan, _invocation_lines)) + "\n"


def _invocation_lines(inv: Invocation) -> list[str]:
    lines = []
    for role in (Role.LEFT, Role.RIGHT):
        stack = inv.stack(role)
        lines.append(f"{role.value}: " + (stack.describe() if stack is not None else "(none)"))
    lines += [f"{role.value}: {stack.describe()}" for role, stack in inv.stacks if role not in (Role.LEFT, Role.RIGHT)]
    for name in ("exchange", "serving", "running"):
        bound = getattr(inv, name)
        if bound is not None:
            lines.append(f"{name}: {bound!r}")
    lines += [f"warning: {w}" for w in inv.warnings]
    return lines


def dump_spec(argv: list[str], *, standalone: bool = False) -> str:
    """The script as --dump-spec prints it: black-formatted; with --standalone, the
    runtime pieces it uses inlined (planner/standalone.py)."""
    import black

    source, _warnings = script_source(argv)
    script = black.format_str(source, mode=black.Mode(line_length=100))
    if not standalone:
        return script
    from websocat.planner.standalone import inline_runtime

    return inline_runtime(script)
