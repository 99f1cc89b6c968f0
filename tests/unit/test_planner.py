"""Planner passes, each alone: parse, fixups, lints, phase dumps, unimplemented refusals."""

from __future__ import annotations

import pytest

from websocat.planner import fixups, lints
from websocat.planner.model import Invocation, Kind, NotImplementedYet, SpecError
from websocat.planner.options import parse_args
from websocat.planner.parse import parse, parse_stack
from websocat.planner.pipeline import dump_phase0, dump_phase1, dump_phase2, plan
from websocat.planner.specs import (
    PREFIXES,
    SPECS,
    DummyDatagrams,
    LineChunks,
    MessageMirror,
    Mirror,
    Stdio,
    StreamChunks,
    TcpConnectByEarlyHostname,
    TcpConnectByIp,
    TcpConnectByLateHostname,
    TcpListen,
    WsClient,
    WsListen,
    WsServer,
)


def inv(*argv: str) -> Invocation:
    opts = parse_args(list(argv))
    return parse(Invocation(opts=opts, argv=argv, spec1=opts.spec1, spec2=opts.spec2))


def test_every_manual_prefix_is_in_the_table() -> None:
    import re
    from pathlib import Path

    manual = Path(__file__).resolve().parents[2] / "docs" / "websocat4-manual.txt"
    text = manual.read_text()
    start, end = text.index("List of endpoints:"), text.index("Scenario functions")
    listed = set(re.findall(r"^  • (\S+)$", text[start:end], re.M))
    assert listed - set(PREFIXES) == set()
    assert "-" in PREFIXES and PREFIXES["-"] is Stdio


def test_every_spec_has_doc_and_prefixes() -> None:
    for cls in SPECS:
        assert cls.prefixes and cls.__doc__, cls


def test_parse_overlays_outermost_first() -> None:
    stack = parse_stack("lines:tcp:127.0.0.1:5")
    assert stack.endpoint == TcpConnectByIp("127.0.0.1", 5)
    assert stack.overlays == (LineChunks(),)
    assert stack.provides is Kind.MESSAGES


def test_unknown_prefix_suggests() -> None:
    with pytest.raises(SpecError, match="did you mean 'tcp:'"):
        parse_stack("tpc:127.0.0.1:5")


def test_unimplemented_prefix() -> None:
    with pytest.raises(NotImplementedYet, match="^udp-bind: is not implemented yet$"):
        parse_stack("udp-l:127.0.0.1:5")


def test_bad_port() -> None:
    with pytest.raises(SpecError, match="bad port '99999'"):
        parse_stack("tcp:127.0.0.1:99999")


def test_server_shorthand_port_and_host_port() -> None:
    assert fixups.server_shorthand(inv("-s", "1234")).left.endpoint == WsListen("127.0.0.1", 1234)
    assert fixups.server_shorthand(inv("-s", "0.0.0.0:80")).left.endpoint == WsListen("0.0.0.0", 80)
    with pytest.raises(SpecError):
        fixups.check_plan(fixups.default_stdio(inv("1234")))


def test_default_stdio() -> None:
    assert fixups.default_stdio(inv("literal:x")).right.endpoint == Stdio()
    assert fixups.default_stdio(inv("literal:x", "devnull:")).right.endpoint != Stdio()


def test_expand_websocket() -> None:
    got = fixups.expand_websocket(fixups.default_stdio(inv("ws://example.com:81/a?b")))
    assert got.left.overlays == (WsClient(uri="/a?b", host="example.com:81"),)
    assert got.left.endpoint.host == "example.com" and got.left.endpoint.port == 81
    got = fixups.expand_websocket(fixups.default_stdio(inv("ws-l:127.0.0.1:9")))
    assert got.left.endpoint == TcpListen("127.0.0.1", 9) and got.left.overlays == (WsServer(),)


def test_resolve_hostnames_early_and_late() -> None:
    early = fixups.resolve_hostnames(fixups.default_stdio(inv("tcp:example.com:5")))
    assert isinstance(early.left.endpoint, TcpConnectByEarlyHostname)
    late = fixups.resolve_hostnames(fixups.default_stdio(inv("--late-resolve", "tcp:example.com:5")))
    assert isinstance(late.left.endpoint, TcpConnectByLateHostname)
    ip = fixups.resolve_hostnames(fixups.default_stdio(inv("tcp:127.0.0.1:5")))
    assert isinstance(ip.left.endpoint, TcpConnectByIp)


def test_mirror_follows_its_peer() -> None:
    facing_messages = fixups.choose_mirror(fixups.expand_websocket(inv("ws-l:127.0.0.1:1", "mirror:")))
    assert type(facing_messages.right.endpoint) is MessageMirror
    facing_bytes = fixups.choose_mirror(inv("tcp-l:127.0.0.1:1", "mirror:"))
    assert type(facing_bytes.right.endpoint) is Mirror


def test_insert_chunker_text_and_binary() -> None:
    base = fixups.expand_websocket(fixups.default_stdio(inv("ws://127.0.0.1:1/")))
    assert fixups.insert_chunker(base).right.overlays == (LineChunks(),)
    binary = fixups.expand_websocket(fixups.default_stdio(inv("-b", "ws://127.0.0.1:1/")))
    assert fixups.insert_chunker(binary).right.overlays == (StreamChunks(),)
    same = inv("empty:", "dummy:")
    assert fixups.insert_chunker(same) == same


def test_configure_lines() -> None:
    got = plan(["--separator-n", "2", "-0", "--separator-inline", "ws://127.0.0.1:1/"])
    assert got.right.overlays[0] == LineChunks(separator=0, separator_n=2, substitute=True, inline=True)
    assert fixups.separator_byte("0x3b", False) == 0x3B
    assert fixups.separator_byte(";", False) == 0x3B
    with pytest.raises(SpecError):
        fixups.separator_byte("300", False)


def test_mismatch_that_cannot_be_fixed() -> None:
    with pytest.raises(SpecError, match="expects bytes but the layer under it gives messages"):
        plan(["lines:ws-l:127.0.0.1:1", "mirror:"])
    with pytest.raises(SpecError, match="left side gives messages but right side gives bytes"):
        plan(["--no-fixups", "empty:", "devnull:"])


def test_no_fixups_keeps_shorthands_out() -> None:
    with pytest.raises(SpecError, match="needs the planner's fixups"):
        plan(["--no-fixups", "ws://127.0.0.1:1/", "empty:"])


def test_unimplemented_option_fails_loudly() -> None:
    with pytest.raises(NotImplementedYet, match="'--udp-server-qlen' is not implemented yet"):
        plan(["--udp-server-qlen", "5", "literal:x"])
    with pytest.raises(NotImplementedYet, match="^option '--unlink' is not implemented yet$"):
        plan(["--unlink", "ws://127.0.0.1:1/"])


def test_header_needs_a_colon() -> None:
    with pytest.raises(SpecError, match="option '-H': expected 'Name: value', got 'nocolon'"):
        plan(["-H", "nocolon", "ws://127.0.0.1:1/"])


def test_omit_headers_lint_wants_the_key_back() -> None:
    warned = plan(["--ws-omit-headers", "ws://127.0.0.1:1/"]).warnings
    assert any("--ws-omit-headers" in w for w in warned)
    own = ["-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "--ws-omit-headers", "ws://127.0.0.1:1/"]
    assert not any("--ws-omit-headers" in w for w in plan(own).warnings)
    assert not any("--ws-omit-headers" in w for w in plan(["--ws-omit-headers", "-s", "1"]).warnings)


@pytest.mark.parametrize(
    "args, warned",
    [
        (["ws://127.0.0.1:1/"], True),  # stdio on the right, read
        (["-", "mirror:"], True),  # on the left
        (["-U", "-", "mirror:"], False),  # left stdio not read: websocat4's condition
        (["-u", "mirror:", "-"], False),  # right stdio not read
        (["-U", "mirror:", "-"], True),
        (["--global-timeout-force-exit", "ws://127.0.0.1:1/"], False),
        (["-b", "zero:", "devnull:"], False),  # no stdio
    ],
)
def test_global_timeout_lint_as_websocat4(args: list[str], warned: bool) -> None:
    warnings = plan(["--global-timeout-ms", "100", *args]).warnings
    assert any("--global-timeout-force-exit" in w for w in warnings) is warned, warnings
    assert not any("--global-timeout" in w for w in plan(args).warnings)


def test_lints_warn_and_no_lints_silences() -> None:
    assert any("-u and -U" in w for w in plan(["-u", "-U", "literal:x"]).warnings)
    assert plan(["--no-lints", "-u", "-U", "literal:x"]).warnings == ()
    assert lints.listener_on_the_right(fixups.default_stdio(inv("-", "tcp-l:127.0.0.1:1")))


def test_phase_dumps_are_readable() -> None:
    assert "'binary': True" in dump_phase0(["-b", "ws://127.0.0.1:1/"])
    assert "WsUrl" in dump_phase1(["ws://127.0.0.1:1/"])
    phase2 = dump_phase2(["ws://127.0.0.1:1/"])
    assert "WsClient" in phase2 and "LineChunks" in phase2 and "Stdio" in phase2


def test_dummy_datagrams_kind() -> None:
    assert parse_stack("null:").endpoint == DummyDatagrams()
