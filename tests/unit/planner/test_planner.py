"""Planner passes, each alone: parse, fixups, lints, phase dumps, unimplemented refusals."""

from __future__ import annotations

import pytest

from websocat.planner import fixups, lints
from websocat.planner.model import Invocation, Kind, NotImplementedYet, SpecError
from websocat.planner.options import parse_args
from websocat.planner.parse import parse, parse_stack
from websocat.planner.pipeline import dump_phase0, dump_phase1, dump_phase2, plan
from websocat.planner.specs import PREFIXES, SPECS
from websocat.planner.specs.chunking import LineChunks, StreamChunks, separator_byte
from websocat.planner.specs.log import Log
from websocat.planner.specs.tcp import TcpConnectByEarlyHostname, TcpConnectByIp, TcpConnectByLateHostname, TcpListen
from websocat.planner.specs.tls import TlsClient
from websocat.planner.specs.trivial import DummyDatagrams, MessageMirror, Mirror, Stdio
from websocat.planner.specs.ws import WsAccept, WsConnect, WsListen, WsRequest


def inv(*argv: str) -> Invocation:
    opts = parse_args(list(argv))
    return parse(Invocation(opts=opts, argv=argv, spec1=opts.spec1, spec2=opts.spec2))


def test_every_manual_prefix_is_in_the_table() -> None:
    import re
    from pathlib import Path

    manual = Path(__file__).resolve().parents[3] / "docs" / "websocat4-manual.txt"
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


def test_unimplemented_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row of planner/specs/unimplemented.py is recognised and refused with one line."""
    from websocat.planner import parse as parse_module
    from websocat.planner.specs import PREFIXES, SPECS
    from websocat.planner.specs.unimplemented import ENDPOINT, Row, declare

    cls = declare(Row("FutureKind", "trivial", ENDPOINT, "", "A kind to come.", ("future-kind:", "fk:")))
    monkeypatch.setattr(parse_module, "_ORDERED", sorted(PREFIXES, key=len, reverse=True))
    try:
        with pytest.raises(NotImplementedYet, match="^future-kind: is not implemented yet$"):
            parse_stack("fk:somewhere")
    finally:
        SPECS.remove(cls)
        del PREFIXES["future-kind:"], PREFIXES["fk:"]


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
    assert got.left.overlays == (WsConnect(uri="/a?b", host="example.com:81"),)
    assert got.left.endpoint.host == "example.com" and got.left.endpoint.port == 81
    got = fixups.expand_websocket(fixups.default_stdio(inv("ws-l:127.0.0.1:9")))
    assert got.left.endpoint == TcpListen("127.0.0.1", 9) and got.left.overlays == (WsAccept(),)


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


def test_lines_options_bind_to_the_lines_layer() -> None:
    got = plan(["--separator-n", "2", "-0", "--separator-inline", "ws://127.0.0.1:1/"])
    assert got.right.overlays[0] == LineChunks(separator=b"\0", separator_n=2, substitute=True, inline=True)
    assert plan(["--separator", ";", "ws://127.0.0.1:1/"]).right.overlays[0] == LineChunks(separator=b";")
    assert separator_byte("0x3b", False) == b";"
    assert separator_byte(";", False) == b";"
    with pytest.raises(SpecError):
        separator_byte("300", False)
    with pytest.raises(SpecError, match="--separator-n"):
        plan(["--separator-n", "0", "ws://127.0.0.1:1/"])


def test_ws_c_uri_fixup_sets_explicit_clients_only() -> None:
    explicit = plan(["--ws-c-uri", "/chat", "ws-c:tcp:127.0.0.1:1"])
    assert explicit.left.overlays == (WsConnect(uri="/chat"),)
    request = plan(["--ws-c-uri", "ws://h:81/x", "ws-r:tcp:127.0.0.1:1"])
    assert request.left.overlays[0] == WsRequest(uri="/x", host="h:81")
    from_url = plan(["--ws-c-uri", "/chat", "ws://127.0.0.1:1/p"])
    assert from_url.left.overlays == (WsConnect(uri="/p", host="127.0.0.1:1"),)


def test_tls_domain_fixup() -> None:
    host = plan(["wss://example.com/"])
    assert host.left.overlays[1] == TlsClient(domain="example.com")
    given = plan(["--tls-domain", "other.example", "wss://example.com/"])
    assert given.left.overlays[1] == TlsClient(domain="other.example")
    assert plan(["--tls-domain", "d", "tls:tcp:127.0.0.1:1"]).left.overlays == (TlsClient(domain="d"),)
    with pytest.raises(SpecError, match="tls: needs --tls-domain"):
        plan(["tls:mss:R x"])


def test_mismatch_that_cannot_be_fixed() -> None:
    with pytest.raises(SpecError, match="expects bytes but the layer under it gives messages"):
        plan(["lines:ws-l:127.0.0.1:1", "mirror:"])
    with pytest.raises(SpecError, match="left side gives messages but right side gives bytes"):
        plan(["--no-fixups", "empty:", "devnull:"])


def test_no_fixups_keeps_shorthands_out() -> None:
    with pytest.raises(SpecError, match="needs the planner's fixups"):
        plan(["--no-fixups", "ws://127.0.0.1:1/", "empty:"])


def test_unimplemented_option_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """An option no field binds and the planner does not read is refused, never ignored
    (none is left after issue 12; the check stays for the options to come)."""
    from websocat.planner import pipeline

    monkeypatch.setattr(pipeline, "IMPLEMENTED", pipeline.IMPLEMENTED - {"mirror_bufsize"})
    with pytest.raises(NotImplementedYet, match="^option '--mirror-bufsize' is not implemented yet$"):
        plan(["--mirror-bufsize", "10", "mirror:"])


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


@pytest.mark.parametrize(
    ("args", "warning"),
    [
        (["--ping-interval", "1", "tcp:127.0.0.1:1", "-"], "--ping-interval: no WebSocket framing is in the plan"),
        (["--ping-timeout", "1", "ws://127.0.0.1:1/"], "--ping-timeout without --ping-interval"),
        (["--ping-interval", "2", "--ping-timeout", "2", "-s", "1"], "not longer than --ping-interval"),
        (["--print-ping-rtts", "ws://127.0.0.1:1/"], "no effect without --ping-interval"),
        (["--ping-interval", "1", "--ping-timeout", "3", "ws://127.0.0.1:1/"], None),
    ],
)
def test_ping_lints(args: list[str], warning: str | None) -> None:
    warnings = [w for w in plan(args).warnings if "ping" in w]
    assert warnings == [] if warning is None else len(warnings) == 1 and warning in warnings[0], warnings


def test_phase_dumps_are_readable() -> None:
    assert dump_phase0(["-b", "ws://127.0.0.1:1/"]) == "options: {'binary': True, 'spec1': 'ws://127.0.0.1:1/'}\n"
    assert dump_phase1(["ws://127.0.0.1:1/"]) == (
        "left: WsUrl(host='127.0.0.1', port=1, path='/', host_header='127.0.0.1:1')\nright: (none)\n"
    )
    assert dump_phase2(["--protocol", "chat", "ws://127.0.0.1:1/"]).splitlines() == [
        "left: WsConnect(uri='/', host='127.0.0.1:1', headers=(), protocol='chat', origin=None, user_agent=None,"
        " omit_headers=False, no_close=False, lax=False, max_pongs=None, ignore_masks=False, shutdown_on_eof=False,"
        " close_delay_ms=None, verbose=False, ping_interval=None, ping_timeout=None, print_ping_rtts=False,"
        " max_sent_pings=None, max_message_length=None, compress=False, compress_no_context_takeover=False,"
        " compress_window_bits=None, compress_level=6, close_code=None, close_reason='', connect_timeout_ms=None,"
        " basic_auth_file=None)"
        " over TcpConnectByIp(host='127.0.0.1', port=1, sockopts=None, connect_timeout_ms=None)",
        "right: LineChunks(separator=b'\\n', separator_n=1, substitute=True, inline=False, text=True) over Stdio()",
        "exchange: Exchange(unidirectional=False, unidirectional_reverse=False, late_drop=False, exit_on_eof=False,"
        " pass_right_eof=True, preamble=(), preamble_reverse=(), one_message=False, max_messages=None,"
        " max_messages_rev=None, buffer_size=None, idle_timeout_ms=None)",
        "serving: Serving(oneshot=False, exit_after_one_session=False, announce=False, ready_message=None,"
        " exec_after_listen=None, exec_after_listen_append_port=False, conncap=None, conncap_http=False)",
        "running: Running(global_timeout_ms=None, global_timeout_force_exit=False, sleep_ms_before_start=None,"
        " exit_on_hangup=False, random_seed=None, workers=None, stats=None)",
    ]


def test_dummy_datagrams_kind() -> None:
    assert parse_stack("null:").endpoint == DummyDatagrams()


def test_phase_dumps_show_a_composition_tree() -> None:
    """A --compose tree prints as its operators, each part under its number and words."""
    from websocat.planner.model import describe_tree
    from websocat.planner.pipeline import phase1

    tree = phase1(["--compose", "(", "literal:a", "&", "literal:b", ")", ";", "(", "-u", "literal:c", ")"])
    lines = describe_tree(tree, lambda inv: [f"left: {inv.left.describe()}"])
    assert lines == [
        "sequence (;)",
        "  parallel (&)",
        "    part 1: literal:a",
        "      left: Literal(data=b'a', hangup=False)",
        "    part 2: literal:b",
        "      left: Literal(data=b'b', hangup=False)",
        "  part 3: -u literal:c",
        "    left: Literal(data=b'c', hangup=False)",
    ]


def test_overlay_of_either_kind_gives_what_it_gets() -> None:
    from dataclasses import dataclass
    from typing import ClassVar

    from websocat.planner.model import Overlay, Stack

    @dataclass(frozen=True)
    class Passing(Overlay):  # as log: and tee:
        accepts: ClassVar[Kind | None] = None
        provides: ClassVar[Kind | None] = None

    assert Stack(DummyDatagrams(), (Passing(),)).provides is Kind.MESSAGES
    assert Stack(Stdio(), (Passing(),)).provides is Kind.BYTES


def test_at_sign_unix_path_warns() -> None:
    """websocat v1 read unix:@name as an abstract name; websocat4 reads a file name, and says so."""
    assert any("abstract:" in w for w in plan(["unix:@name", "-"]).warnings)
    assert any("seqpacket-abstract:" in w for w in plan(["-b", "seqpacket-l:@name", "-"]).warnings)
    assert not plan(["unix:/tmp/@name", "-"]).warnings


def _log_traffic(*argv: str) -> Invocation:
    return fixups.insert_log(fixups.resolve_hostnames(fixups.expand_websocket(fixups.default_stdio(inv(*argv)))))


def test_log_traffic_goes_where_websocat4_puts_it() -> None:
    """Right side first, over the raw connection (under ws-c:, over tls:), else the left."""
    ws_client = _log_traffic("--log-traffic", "-b", "tcp-l:127.0.0.1:1", "ws://example.com/")
    assert ws_client.right.overlays == (WsConnect(uri="/", host="example.com"), Log())
    assert ws_client.left.overlays == ()
    secure = _log_traffic("--log-traffic", "wss://example.com/")
    assert [type(o) for o in secure.left.overlays] == [WsConnect, Log, TlsClient]
    server = _log_traffic("--log-traffic", "ws-l:127.0.0.1:1", "mirror:")
    assert server.left.overlays == (WsAccept(), Log()) and server.right.overlays == ()
    assert _log_traffic("--log-traffic", "-", "exec:cat").right.overlays == (Log(),)
    present = _log_traffic("--log-traffic", "tcp:127.0.0.1:1", "log:udp:127.0.0.1:2")
    assert present.right.overlays == (Log(),) and present.left.overlays == ()
    nowhere = _log_traffic("--log-traffic", "-", "mirror:")
    assert nowhere.right.overlays == () and "--log-traffic: no side has" in nowhere.warnings[0]
    assert _log_traffic("tcp:127.0.0.1:1", "-").left.overlays == ()
    handed = plan(["--log-traffic", "--exec-dup2", "0,1", "tcp-l:127.0.0.1:1", "exec:cat"])
    assert handed.right.overlays == () and handed.left.overlays == ()
    assert handed.warnings == ("--log-traffic has no effect with --exec-dup2: the program is handed the socket itself",)


def test_log_options_bind_and_need_a_log() -> None:
    got = plan(["--log-hex", "--log-omit-content", "--log-verbose", "--log-timestamps", "log:tcp:127.0.0.1:1", "-"])
    assert got.left.overlays == (Log(verbose=True, omit_content=True, hex=True, timestamps=True),)
    assert not got.warnings
    idle = plan(["--log-hex", "--log-timestamps", "tcp:127.0.0.1:1", "-"])
    assert idle.warnings == (
        "--log-hex, --log-timestamps: no log: overlay is in the plan (add log: or --log-traffic); no effect",
    )


def test_log_takes_either_kind_and_mirror_looks_through_it() -> None:
    over_messages = plan(["-b", "ws-l:127.0.0.1:1", "log:mirror:"])
    assert type(over_messages.right.endpoint) is MessageMirror and over_messages.right.provides is Kind.MESSAGES
    over_bytes = plan(["-b", "log:tcp:127.0.0.1:1", "ws://127.0.0.1:2/"])
    assert over_bytes.left.overlays == (StreamChunks(), Log())
