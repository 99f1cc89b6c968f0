"""The option table and parser (websocat.planner.options) against websocat4's manual."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from websocat.planner.options import (
    GROUPS,
    EXTENSIONS,
    OPTIONS,
    OptionError,
    OptionSpec,
    build_parser,
    find_option,
    parse_args,
)

MANUAL = Path(__file__).resolve().parents[3] / "docs" / "websocat4-manual.txt"

# Headings: "  -B, --buffer-size <BUFFER_SIZE>", "      --dump-spec",
# "      --exec-args [<EXEC_ARGS>...]".
_HEADING = re.compile(
    r"^  (?:(?P<short>-\w), |    )(?P<long>--[\w-]+)" r"(?: (?P<rest>\[)?<(?P<metavar>\w+)>(?:\.\.\.\])?)?$"
)


@dataclass
class ManualOption:
    short: str | None
    long: str
    metavar: str | None
    rest: bool
    default: int | None = None
    possible_bool: bool = False
    help: str = ""


def _manual_text() -> str:
    return MANUAL.read_text(encoding="utf-8")  # a copy of shared/reference/websocat4.txt


def _manual_options() -> list[ManualOption]:
    """The options of the manual's ``--help output`` section, in order."""
    text = _manual_text()
    section = text[text.index("\nOptions:\n") : text.index("\nShort list of endpoint prefixes:")]
    options: list[ManualOption] = []
    bodies: list[list[str]] = []
    for line in section.splitlines()[2:]:
        if heading := _HEADING.match(line):
            short, long, rest, metavar = heading.group("short", "long", "rest", "metavar")
            options.append(ManualOption(short, long, metavar, bool(rest)))
            bodies.append([])
        else:
            bodies[-1].append(line.strip())
    for option, body in zip(options, bodies):
        paragraphs = [" ".join(p.split()) for p in "\n".join(body).split("\n\n") if p.strip()]
        if paragraphs and (default := re.fullmatch(r"\[default: (\d+)\]", paragraphs[-1])):
            option.default = int(default[1])
            paragraphs.pop()
        if paragraphs and paragraphs[-1] == "[possible values: true, false]":
            option.possible_bool = True
            paragraphs.pop()
        option.help = "\n\n".join(paragraphs)
    return options


@pytest.fixture(scope="module")
def manual() -> list[ManualOption]:
    return _manual_options()


MANUAL_OPTIONS = [spec for spec in OPTIONS if spec not in EXTENSIONS]


def test_extensions_are_few_and_documented() -> None:
    """Options of ours (websocat v1's, or new): each says so in its help."""
    v1 = [
        "--ping-interval",
        "--ping-timeout",
        "--print-ping-rtts",
        "--max-sent-pings",
        "--preamble",
        "--preamble-reverse",
        "--one-message",
        "--max-messages",
        "--max-messages-rev",
    ]
    assert {"--verbose", "--standalone", "--close-delay-ms", "--broadcast-queue-len", *v1} <= {
        s.long for s in EXTENSIONS
    }
    assert all("not in websocat4" in spec.help for spec in EXTENSIONS)
    assert all("websocat v1's name" in _spec(long).help for long in v1)


def _spec(long: str) -> OptionSpec:
    spec = find_option(long)
    assert spec is not None, long
    return spec


# --- the table against the manual --------------------------------------------------


def test_manual_parser_sees_the_whole_section(manual: list[ManualOption]) -> None:
    assert manual[0].long == "--dump-spec"
    assert manual[-1].long == "--version"
    assert len(manual) > 150


def test_every_manual_option_is_in_the_table_in_order(
    manual: list[ManualOption],
) -> None:
    table = [spec.long for spec in MANUAL_OPTIONS]
    documented = [option.long for option in manual]
    assert set(documented) - set(table) == set(), "missing from OPTIONS"
    assert set(table) - set(documented) == set(), "not in the manual"
    assert table == documented


def test_short_options_match_the_manual(manual: list[ManualOption]) -> None:
    assert {o.long: o.short for o in manual} == {s.long: s.short for s in MANUAL_OPTIONS}


def test_kinds_and_metavars_match_the_manual(manual: list[ManualOption]) -> None:
    for option in manual:
        spec = _spec(option.long)
        assert spec.metavar == option.metavar, option.long
        if option.metavar is None:
            assert spec.kind == "flag", option.long
        elif option.rest:
            assert spec.kind == "rest", option.long
        else:
            assert spec.kind in ("value", "append"), option.long


def test_defaults_match_the_manual(manual: list[ManualOption]) -> None:
    for option in manual:
        spec = _spec(option.long)
        if option.default is not None:
            assert spec.default == option.default and spec.type == "int", option.long
            assert spec.shows_default
        elif spec.kind == "flag":
            assert spec.default is False, option.long
        elif spec.kind in ("append", "rest"):
            assert spec.default == (), option.long
        else:
            assert spec.default is None and not spec.shows_default, option.long


def test_true_false_options_are_bool(manual: list[ManualOption]) -> None:
    bools = {o.long for o in manual if o.possible_bool}
    assert bools == {s.long for s in MANUAL_OPTIONS if s.type == "bool"}
    assert bools == {
        "--reuseaddr",
        "--socket-only-v6",
        "--socket-nodelay",
        "--socket-thin-linear-timeouts",
        "--socket-keepalive",
        "--socket-multicast-all",
        "--socket-multicast-loop",
    }


# Deliberate differences: our scenarios are Python scripts, not Rhai.
RETOLD = {"--dump-spec", "--scenario"}


def test_help_texts_match_the_manual(manual: list[ManualOption]) -> None:
    for option in manual:
        if option.long in RETOLD:
            assert "Rhai" not in _spec(option.long).help and "Python" in _spec(option.long).help
            continue
        assert _spec(option.long).help == option.help, option.long


def test_table_is_consistent() -> None:
    dests = [spec.dest for spec in OPTIONS]
    assert len(set(dests)) == len(dests)
    assert all(dest.isidentifier() for dest in dests)
    assert all(spec.dest == spec.long[2:].replace("-", "_") for spec in OPTIONS)
    assert {spec.group for spec in OPTIONS} == set(GROUPS)
    for spec in OPTIONS:
        assert (spec.type is None) == (spec.kind == "flag"), spec.long
        assert spec.type in (None, "int", "str", "bool", "float"), spec.long
        assert spec.help == " ".join(spec.help.split(" ")).strip(), spec.long


def test_repeatable_and_rest_options() -> None:
    assert {s.long for s in OPTIONS if s.kind == "rest"} == {"--exec-args"}
    # Repeatable in websocat4's source (Vec<...>); the manual's layout does not show it.
    appended = {
        "--header",
        "--server-header",
        "--filter",
        "--filter-reverse",
        "--tee",
        "--preamble",
        "--preamble-reverse",
        "--header-to-env",
        "--allow-origin",
        "--static-file",
    }
    assert {s.long for s in OPTIONS if s.kind == "append"} == appended
    assert _spec("-H") is _spec("--header")


@pytest.mark.parametrize("short", ["-x", "-s", "-t", "-b", "-u", "-U", "-E", "-k", "-0", "-n"])
def test_mode_letters_are_flags(short: str) -> None:
    assert _spec(short).kind == "flag"


# --- parsing -----------------------------------------------------------------------


def test_defaults_in_namespace() -> None:
    ns = parse_args([])
    assert ns.spec1 is None and ns.spec2 is None
    assert ns.text is False and ns.server is False
    assert ns.buffer_size is None
    assert ns.udp_max_send_datagram_size == 4096
    assert ns.tcp_race_interval_ms == 20
    assert ns.header == [] and ns.server_header == [] and ns.exec_args == []
    assert ns.reuseaddr is None


def test_append_defaults_are_not_shared() -> None:
    parse_args(["-H", "a: b"]).header.append("x")
    assert parse_args([]).header == []


def test_buffer_size_is_int() -> None:
    assert parse_args(["-B", "4096"]).buffer_size == 4096
    assert parse_args(["--buffer-size=10", "x"]).buffer_size == 10
    assert parse_args(["-B4096"]).buffer_size == 4096


def test_header_is_repeatable() -> None:
    ns = parse_args(["-H", "A: 1", "ws://h/", "--header", "B:2", "--server-header", "C: 3"])
    assert ns.header == ["A: 1", "B:2"]
    assert ns.server_header == ["C: 3"]
    assert ns.spec1 == "ws://h/"


@pytest.mark.parametrize(
    ("argv", "flags"),
    [
        (["-s", "1234"], {"server": True}),
        (["-x", "run.py"], {"scenario": True}),
        (
            ["-t", "-b", "-u", "-U", "-E", "-k", "-0", "-n", "x"],
            {"text": True, "null_terminated": True},
        ),
        (["-tb", "x"], {"text": True, "binary": True}),
    ],
)
def test_flags_take_no_value(argv: list[str], flags: dict[str, bool]) -> None:
    ns = parse_args(argv)
    assert ns.spec1 == argv[-1] and ns.spec2 is None
    for dest, value in flags.items():
        assert getattr(ns, dest) is value


def test_options_and_positionals_interleave() -> None:
    ns = parse_args(["ws://h/", "-t", "mirror:", "-B", "1"])
    assert (ns.spec1, ns.spec2, ns.text, ns.buffer_size) == (
        "ws://h/",
        "mirror:",
        True,
        1,
    )


def test_dash_is_a_positional_and_double_dash_ends_options() -> None:
    assert parse_args(["-", "tcp:h:1"]).spec1 == "-"
    ns = parse_args(["-t", "--", "-weird", "-B"])
    assert (ns.spec1, ns.spec2, ns.buffer_size) == ("-weird", "-B", None)


def test_exec_args_takes_everything_after_it() -> None:
    ns = parse_args(["-", "exec:ls", "--exec-args", "-l", "-a", "--", "-B", "x", "--help"])
    assert (ns.spec1, ns.spec2, ns.buffer_size) == ("-", "exec:ls", None)
    assert ns.exec_args == ["-l", "-a", "--", "-B", "x", "--help"]
    assert parse_args(["exec:ls", "--exec-args=-l", "-a"]).exec_args == ["-l", "-a"]
    assert parse_args(["exec:ls", "--exec-args"]).exec_args == []


def test_exec_args_through_the_bare_parser() -> None:
    ns = build_parser().parse_args(["exec:ls", "--exec-args", "-l", "-a"])
    assert ns.exec_args == ["-l", "-a"]


@pytest.mark.parametrize(("text", "value"), [("true", True), ("false", False)])
def test_bool_values(text: str, value: bool) -> None:
    ns = parse_args(["--reuseaddr", text, f"--socket-keepalive={text}"])
    assert ns.reuseaddr is value and ns.socket_keepalive is value


def test_str_values_are_kept_verbatim() -> None:
    surrogate = b"ws://\xff/".decode("utf-8", "surrogateescape")
    ns = parse_args([surrogate, "--separator", "0", "--tee", "a:", "--tee", "b:"])
    assert ns.spec1 == surrogate and ns.separator == "0" and ns.tee == ["a:", "b:"]


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--bufer-size", "10"],
            "unknown option '--bufer-size'; did you mean '--buffer-size'?",
        ),
        (
            ["--bufer-size=10", "x"],
            "unknown option '--bufer-size'; did you mean '--buffer-size'?",
        ),
        (
            ["x", "--sever-header", "a:b"],
            "unknown option '--sever-header'; did you mean '--server-header'?",
        ),
        (["--zzzzzzzzzzzz"], "unknown option '--zzzzzzzzzzzz'"),
        (["--protocl", "x"], "unknown option '--protocl'; did you mean '--protocol'?"),
        (["--global-timeout", "1"], "unknown option '--global-timeout'; did you mean '--global-timeout-ms'?"),
        # far from every option: no suggestion rather than a wild one
        (["--ping-intervall"], "unknown option '--ping-intervall'; did you mean '--ping-interval'?"),
        (["--qqqqq-wobble"], "unknown option '--qqqqq-wobble'"),
        (["-Z"], "unknown option '-Z'"),
        (["--txt"], "unknown option '--txt'; did you mean '--text'?"),
        (["--xy"], "unknown option '--xy'"),
        (["-B"], "option '--buffer-size' expects a value (BUFFER_SIZE)"),
        (["x", "--header"], "option '--header' expects a value (HEADER)"),
        (["-B", "abc"], "option '--buffer-size': 'abc' is not an integer"),
        (["-B", "1_000"], "option '--buffer-size': '1_000' is not an integer"),
        (["--buffer-size=-1"], "option '--buffer-size': '-1' is negative"),
        (
            ["--reuseaddr", "yes"],
            "option '--reuseaddr': 'yes' is not 'true' or 'false'",
        ),
        (["--text=1"], "option '--text' takes no value, got '1'"),
        (
            ["a", "b", "c"],
            "unexpected extra argument 'c'; only SPEC1 and SPEC2 are accepted",
        ),
    ],
)
def test_errors_are_one_line(argv: list[str], message: str) -> None:
    with pytest.raises(OptionError) as caught:
        parse_args(argv)
    assert str(caught.value) == message


def test_option_error_is_a_value_error() -> None:
    assert issubclass(OptionError, ValueError)


def test_abbreviations_are_not_accepted() -> None:
    with pytest.raises(OptionError, match="unknown option '--buffer'"):
        parse_args(["--buffer", "1"])


# --- help and version --------------------------------------------------------------


def test_help_lists_every_option_by_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(
            ["--help"],
            parser=build_parser(epilog="Short list of endpoint prefixes:\n  tcp:"),
        )
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: websocat [OPTIONS] <SPEC1> [SPEC2]\n")
    assert "Command-line client for web sockets, like netcat/curl/socat for ws://." in out
    assert out.endswith("Short list of endpoint prefixes:\n  tcp:\n")
    assert "-B, --buffer-size <BUFFER_SIZE>" in out
    assert "--exec-args [<EXEC_ARGS>...]" in out
    assert "[default: 4096]" in out and "[possible values: true, false]" in out
    for group in GROUPS:
        assert f"\n{group}:\n" in out
    for spec in OPTIONS:
        assert re.search(rf"{re.escape(spec.long)}\b", out), spec.long
    assert all(line == line.rstrip() for line in out.splitlines())


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["-V"], parser=build_parser(version="websocat 1.2.3"))
    assert exited.value.code == 0
    assert capsys.readouterr().out == "websocat 1.2.3\n"


# --- websocat v1's options -----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--prometheus", "127.0.0.1:9090", "ws://h/"],
            "unknown option '--prometheus': it is websocat v1's, and has no counterpart here yet",
        ),
        (["-S", "ws://h/"], "unknown option '-S': it is websocat v1's, and has no counterpart here yet"),
        (["--strict"], "unknown option '--strict': it is websocat v1's, and has no counterpart here yet"),
        (
            ["--no-line", "ws://h/"],
            "unknown option '--no-line': it is websocat v1's; use -b (chunks: instead of lines:)",
        ),
        (["--server-mode", "1234"], "unknown option '--server-mode': it is websocat v1's; use -s (--server)"),
        (
            ["--udp-ttl", "3"],
            "unknown option '--udp-ttl': it is websocat v1's; use --socket-ttl (and --socket-multicast-ttl)",
        ),
        (["-X", "POST"], "unknown option '-X': it is websocat v1's, and has no counterpart here yet"),
    ],
)
def test_websocat1_options_say_so(argv: list[str], message: str) -> None:
    with pytest.raises(OptionError) as info:
        parse_args(argv)
    assert str(info.value) == message


def test_websocat1_table_holds_only_options_unknown_here() -> None:
    """An option that gets implemented moves from the v1 table to OPTIONS; never in both."""
    from websocat.planner.websocat1 import WEBSOCAT1_OPTIONS

    ours = {name for spec in OPTIONS for name in spec.option_strings}
    v1 = [name for names, _instead in WEBSOCAT1_OPTIONS for name in names]
    assert len(v1) == len(set(v1))
    assert not ours & set(v1)
    for names, instead in WEBSOCAT1_OPTIONS:
        for word in (instead or "").split():
            if word.startswith("--"):
                assert word.strip("()") in ours, (names, word)  # the advice names a real option
