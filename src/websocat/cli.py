"""The slow half of the command: argument parsing, help, dumps, planning (imported on a cache miss)."""

from __future__ import annotations

import sys
from argparse import Namespace
from types import CodeType

from websocat import __version__
from websocat.scenario import execute, fail, run_script_file
from websocat.planner.model import SpecError
from websocat.planner import compose
from websocat.planner.options import DUMP_FLAGS, OptionError, build_parser, parse_args

ACCEPT_FROM_FD = (
    "--accept-from-fd is websocat1's option; websocat4 takes the inherited socket as an endpoint "
    "instead: tcp-listen-fd:N (or unix-listen-fd:N, udp-fd:N), or tcp-listen-fdname:NAME with "
    "systemd's LISTEN_FDNAMES"
)


def help_epilog() -> str:
    """Short lists of endpoint and overlay prefixes (from the prefix table) and the manual's examples."""
    from websocat.planner.specs import endpoint_prefixes, overlay_prefixes
    from websocat.runtime.errors import EXIT_CODES

    lines = ["Short list of endpoint prefixes:"]
    lines += [f"  {p}" for p in endpoint_prefixes()]
    lines += ["", "Short list of overlay prefixes:"]
    lines += [f"  {p}" for p in overlay_prefixes()]
    lines += [
        "",
        "Examples:",
        "",
        "  websocat ws://127.0.0.1:1234",
        "    Simple WebSocket client",
        "",
        "  websocat -s 1234",
        "    Simple WebSocket server",
        "",
        "  websocat -b tcp-l:127.0.0.1:1234 wss://ws.vi-server.org/mirror",
        "    TCP-to-WebSocket converter",
        "",
        "  websocat -b ws-l:127.0.0.1:8080 udp:127.0.0.1:1234",
        "    WebSocket-to-UDP converter",
        "",
        "  websocat --dump-spec -s 1234 > run.py; python run.py",
        "    Print the Python program a command line compiles to, then run it (edited or not)",
        "",
        "Exit codes:",
        *(f"  {code:<4}{meaning}" for code, meaning in EXIT_CODES),
        "",
        "Set WEBSOCAT_DEBUG=1 for a traceback with errors.",
    ]
    return "\n".join(lines)


def _options_given(opts: object, keep: tuple[str, ...]) -> list[str]:
    """The options given with a value other than their default, but those in ``keep``."""
    from websocat.planner.options import OPTIONS

    given = []
    for option in OPTIONS:
        if option.dest in keep:
            continue
        value = getattr(opts, option.dest, option.default)
        if value not in (option.default, [], None, False):
            given.append(option.long)
    return given


def _run_scenario_file(opts: Namespace) -> int:
    """-x FILE: run a (possibly edited) scenario file; it takes no other argument or option."""
    if not opts.spec1:
        return fail("-x expects the scenario file as SPEC1")
    if opts.spec2 is not None:
        return fail(
            f"-x {opts.spec1}: unexpected extra argument {opts.spec2!r};"
            " a scenario file takes no arguments (edit the values in it)"
        )
    ignored = _options_given(opts, keep=("scenario", "spec1", "spec2"))
    if ignored:
        return fail(
            f"-x {opts.spec1}: option '{ignored[0]}' has no effect on a scenario file,"
            " whose values are in it (edit the script, or run the command line instead)"
        )
    return run_script_file(opts.spec1)


def plan_and_run(argv: list[str], stamp: bytes | None) -> int:
    """Parse argv and do what it asks: help, a dump, -x, or plan and run the scenario
    (with --compose first, of each part: planner/compose.py)."""
    from websocat.planner import pipeline

    try:
        if compose.is_compose(argv):
            flags = compose.dump_flags(argv)
        else:
            if "-h" in argv or "--help" in argv:
                build_parser(epilog=help_epilog(), version=__version__).parse_args(["--help"])
            opts = parse_args(argv, parser=build_parser(epilog="", version=__version__))
            if opts.accept_from_fd:
                return fail(ACCEPT_FROM_FD)
            if opts.scenario:
                return _run_scenario_file(opts)
            flags = {flag for flag in DUMP_FLAGS if getattr(opts, flag.removeprefix("--").replace("-", "_"))}
        if "--standalone" in flags and "--dump-spec" not in flags:
            return fail("--standalone changes what --dump-spec prints; use them together")
        for flag, dump in (
            ("--dump-spec-phase0", pipeline.dump_phase0),
            ("--dump-spec-phase1", pipeline.dump_phase1),
            ("--dump-spec-phase2", pipeline.dump_phase2),
        ):
            if flag in flags:
                sys.stdout.write(dump(argv))
                return 0
        if "--dump-spec" in flags:
            _warn(pipeline.warnings_of(pipeline.plan(argv)))
            sys.stdout.write(pipeline.dump_spec(argv, standalone="--standalone" in flags))
            return 0
        source, warnings = pipeline.script_source(argv)
    except (OptionError, SpecError) as exc:
        return fail(without_credentials(str(exc), argv))
    _warn(warnings)
    code = compile(source, "<websocat>", "exec")
    if stamp is not None:
        remember(argv, stamp, source, warnings, code)
    return execute(code, "<websocat>")


def without_credentials(message: str, argv: list[str]) -> str:
    """message with every argument that holds a URL password or a secret option's value replaced by its shown form (u:***)."""
    from websocat.planner.values import hide_argv_credentials

    for arg, shown in zip(argv, hide_argv_credentials(argv)):
        if shown != arg:
            message = message.replace(repr(arg), repr(shown)).replace(arg, shown)
    return message


def remember(argv: list[str], stamp: bytes, source: str, warnings: tuple[str, ...], code: CodeType) -> None:
    """Store the script for this argv, and a template for the same command with other ports."""
    from websocat import cache
    from websocat.planner import pipeline

    if not cache.usable_for(argv):
        return  # main() passes no stamp then; this keeps a stray caller from storing secrets
    cache.store(cache.exact_key(stamp, argv), (list(warnings), code))
    skeleton = cache.port_skeleton(argv)
    if skeleton is None or not cache.valid_ports(skeleton[1]):
        return
    ports_b = cache.perturbed(skeleton[1])
    try:
        source_b, warnings_b = pipeline.script_source(cache.with_ports(skeleton[0], ports_b))
    except (OptionError, SpecError):
        return
    texts = [(source, source_b), *zip(warnings, warnings_b)]
    if len(warnings) != len(warnings_b):
        return
    templates = [cache.make_template(a, b, skeleton[1], ports_b) for a, b in texts]
    if all(t is not None for t in templates):
        cache.store(cache.port_key(stamp, skeleton[0]), (templates[0], templates[1:]))


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        sys.stderr.write(f"websocat: warning: {warning}\n")
