"""The batched WebSocket framer: round trips, fragmentation, masking, protocol violations."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays import ws_framing
from websocat.runtime.overlays.ws_framing import (
    STREAM_FRAME_OVER,
    FrameBuilder,
    FrameError,
    FrameParser,
    _python_apply_mask,
    apply_mask,
    close_payload,
    parse_close,
)
from websocat.runtime.sockets import CLOSE, CONTINUES, PING, PONG, TEXT, Message


def frame(b0: int, payload: bytes = b"", *, key: bytes | None = None, length: int | None = None) -> bytes:
    """A raw frame, built by hand to test the parser independently of the builder."""
    n = len(payload) if length is None else length
    mask_bit = 0x80 if key is not None else 0
    if n < 126:
        head = bytes((b0, mask_bit | n))
    elif n < 65536:
        head = struct.pack("!BBH", b0, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mask_bit | 127, n)
    if key is None:
        return head + payload
    return head + key + _python_apply_mask(payload, key)


def parse_all(data: bytes, *, expect_masked: bool | None = False) -> list[Message]:
    """Every message of ``data``, asserting it is consumed whole."""
    parser = FrameParser(expect_masked)
    out: list[Message] = []
    assert parser.parse(data, out) == len(data)
    return out


def round_trip(batch: list[Message], *, mask: bool) -> list[Message]:
    data = bytes(FrameBuilder(mask).build(batch))
    return parse_all(data, expect_masked=mask)


# -- masking ---------------------------------------------------------------------------


def test_apply_mask_matches_pure_python() -> None:
    data = bytes(range(256)) * 3 + b"xyz"
    for key in (b"\x00\x00\x00\x00", b"\x01\x02\x03\x04", b"\xff\x80\x7f\x00"):
        assert apply_mask(data, key) == _python_apply_mask(data, key)
        assert _python_apply_mask(_python_apply_mask(data, key), key) == data
    assert _python_apply_mask(b"", b"abcd") == b""


def test_c_mask_loaded_without_importing_websockets() -> None:
    code = (
        "import sys; from websocat.runtime.overlays import ws_framing as f;"
        "assert type(f.apply_mask).__name__ == 'builtin_function_or_method', f.apply_mask;"
        "assert not [m for m in sys.modules if m.startswith('websockets')], 'imported websockets'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pure_python_mask_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_framing, "apply_mask", _python_apply_mask)
    batch = [(b"abc" * 100, TEXT), (b"", 0), (bytes(range(256)), 0), (b"p", PING)]
    assert round_trip(batch, mask=True) == batch


def test_masked_frames_use_fresh_keys() -> None:
    data = bytes(FrameBuilder(mask=True).build([(b"same", 0)] * 8))
    keys = {data[i + 2 : i + 6] for i in range(0, len(data), 10)}
    assert len(keys) > 1
    assert all(data[i + 1] == 0x84 for i in range(0, len(data), 10))


# -- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize("mask", [False, True])
@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_round_trip_sizes(mask: bool, size: int) -> None:
    batch = [(b"a" * size, TEXT), (bytes(range(256)) * (size // 256) + b"\xff" * (size % 256), 0)]
    assert round_trip(batch, mask=mask) == batch


def test_header_encoding_is_minimal() -> None:
    builder = FrameBuilder(mask=False)
    assert builder.build([(b"hi", TEXT)]) == b"\x81\x02hi"
    assert builder.build([(b"", 0)]) == b"\x82\x00"
    assert bytes(builder.build([(b"x" * 126, 0)]))[:4] == b"\x82\x7e\x00\x7e"
    assert bytes(builder.build([(b"x" * 65536, 0)]))[:10] == b"\x82\x7f" + (65536).to_bytes(8, "big")


def test_whole_batch_is_one_buffer() -> None:
    data = FrameBuilder(mask=False).build([(b"a", TEXT), (b"b", 0), (b"c", TEXT)])
    assert data == b"\x81\x01a\x82\x01b\x81\x01c"


def test_control_frames_round_trip_and_go_to_control_list() -> None:
    batch = [(b"1", TEXT), (b"ping!", PING), (b"2", 0), (b"", PONG)]
    data = bytes(FrameBuilder(mask=True).build(batch))
    parser = FrameParser(expect_masked=True)
    out: list[Message] = []
    control: list[Message] = []
    assert parser.parse(data, out, control) == len(data)
    assert out == [(b"1", TEXT), (b"2", 0)]
    assert control == [(b"ping!", PING), (b"", PONG)]
    assert parse_all(data, expect_masked=True) == batch  # inline when no control list


def test_close_stops_parsing_and_builder() -> None:
    builder = FrameBuilder(mask=False)
    data = bytes(builder.build([(b"a", 0), (close_payload(1001, "bye"), CLOSE), (b"late", 0)]))
    assert builder.closed
    assert builder.build([(b"later", 0)]) == b""
    parser = FrameParser(expect_masked=False)
    out: list[Message] = []
    tail = frame(0x82, b"ignored")
    assert parser.parse(data + tail, out) == len(data) + len(tail)
    assert out == [(b"a", 0), (b"\x03\xe9bye", CLOSE)]
    assert parser.closed
    assert parser.parse(frame(0x82, b"more"), out) == 6
    assert len(out) == 2


def test_close_payloads() -> None:
    assert close_payload(1000) == b"\x03\xe8"
    assert close_payload(None) == b""
    assert len(close_payload(4000, "x" * 300)) == 125
    assert parse_close(close_payload(4000, "é" * 100)) == (4000, "é" * 61)
    assert parse_close(b"") == (1005, "")
    assert parse_close(close_payload(4321, "héllo")) == (4321, "héllo")
    assert FrameBuilder(mask=False).close_frame(1000, "ok") == b"\x88\x04\x03\xe8ok"


# -- fragmentation ---------------------------------------------------------------------


@pytest.mark.parametrize("mask", [False, True])
def test_fragments_stream_through_with_continuation_opcodes(mask: bool) -> None:
    batch = [
        (b"he", TEXT | CONTINUES),
        (b"ll", TEXT | CONTINUES),
        (b"o", TEXT),
        (b"\x00", CONTINUES),
        (b"\x01", 0),
    ]
    data = bytes(FrameBuilder(mask).build(batch))
    opcodes = []
    pos = 0
    while pos < len(data):
        opcodes.append(data[pos])
        pos += 2 + (4 if mask else 0) + (data[pos + 1] & 127)
    assert opcodes == [0x01, 0x00, 0x80, 0x02, 0x80]
    assert round_trip(batch, mask=mask) == batch


def test_fragmented_state_carries_across_batches() -> None:
    builder = FrameBuilder(mask=False)
    first = builder.build([(b"a", TEXT | CONTINUES)])
    second = builder.build([(b"b", 0)])  # the flags of later fragments do not matter
    assert bytes(first) == b"\x01\x01a"
    assert bytes(second) == b"\x80\x01b"
    assert parse_all(bytes(first + second)) == [(b"a", TEXT | CONTINUES), (b"b", TEXT)]


def test_control_frame_between_fragments() -> None:
    data = frame(0x01, b"a") + frame(0x89, b"p") + frame(0x80, b"b")
    assert parse_all(data) == [(b"a", TEXT | CONTINUES), (b"p", PING), (b"b", TEXT)]
    batch = [(b"a", CONTINUES), (b"p", PING), (b"b", 0)]
    assert bytes(FrameBuilder(mask=False).build(batch)) == frame(0x02, b"a") + frame(0x89, b"p") + frame(0x80, b"b")


def test_parse_resumes_after_partial_input() -> None:
    data = bytes(FrameBuilder(mask=True).build([(b"x" * 300, TEXT), (b"yz", 0), (b"q", PING)]))
    parser = FrameParser(expect_masked=True)
    out: list[Message] = []
    buf = b""
    for i in range(len(data)):
        buf += data[i : i + 1]
        if len(buf) >= parser.need:
            buf = buf[parser.parse(buf, out) :]
    assert buf == b""
    assert out == [(b"x" * 300, TEXT), (b"yz", 0), (b"q", PING)]


def test_parse_accepts_bytearray() -> None:
    out: list[Message] = []
    assert FrameParser(False).parse(bytearray(b"\x81\x02hi\x81"), out) == 4
    assert out == [(b"hi", TEXT)]
    assert type(out[0][0]) is bytes


def test_need_reports_the_missing_frame_length() -> None:
    parser = FrameParser(expect_masked=False)
    out: list[Message] = []
    data = frame(0x82, b"x" * 1000)
    assert parser.parse(data[:1], out) == 0 and parser.need == 2
    assert parser.parse(data[:3], out) == 0 and parser.need == 4
    assert parser.parse(data[:10], out) == 0 and parser.need == 1004
    long = frame(0x82, length=70000)
    assert parser.parse(long[:5], out) == 0 and parser.need == 10


@pytest.mark.parametrize("mask", [False, True])
def test_long_frame_arrives_in_pieces(mask: bool) -> None:
    size = STREAM_FRAME_OVER + 12345
    payload = bytes(range(256)) * (size // 256) + b"\x07" * (size % 256)
    key = b"\x11\x22\x33\x45" if mask else None
    data = frame(0x82, payload, key=key) + frame(0x81, b"next", key=key)
    parser = FrameParser(expect_masked=mask)
    out: list[Message] = []
    buf = b""
    step = 65537  # odd piece sizes exercise the rotation of the mask key
    for i in range(0, len(data), step):
        buf += data[i : i + step]
        if len(buf) >= parser.need:
            buf = buf[parser.parse(buf, out) :]
        assert len(buf) < step + 14  # never buffers the long frame whole
    assert buf == b""
    assert len(out) > 2
    assert all(flags == CONTINUES for _, flags in out[:-2])
    assert out[-2][1] == 0 and out[-1] == (b"next", TEXT)
    assert b"".join(piece for piece, _ in out[:-1]) == payload


def test_long_text_frame_split_inside_a_character() -> None:
    text = ("é" * (STREAM_FRAME_OVER // 2 + 10)).encode()
    data = frame(0x81, text)
    parser = FrameParser(expect_masked=False)
    out: list[Message] = []
    used = parser.parse(data[: 10 + 2001], out)  # 10-byte header, then an odd cut
    parser.parse(data[used:], out)
    assert b"".join(p for p, _ in out) == text
    assert [f for _, f in out] == [TEXT | CONTINUES, TEXT]


def test_huge_declared_length_is_not_preallocated() -> None:
    parser = FrameParser(expect_masked=False)
    out: list[Message] = []
    header = frame(0x82, length=(1 << 62))
    assert parser.parse(header + b"abc", out) == len(header) + 3
    assert out == [(b"abc", CONTINUES)]
    assert parser.need == 1


# -- UTF-8 -------------------------------------------------------------------------------


def test_utf8_text_accepted_across_fragments() -> None:
    text = "żółw ☃ 𝄞".encode()
    for cut in range(len(text) + 1):
        data = frame(0x01, text[:cut]) + frame(0x80, text[cut:])
        assert parse_all(data) == [(text[:cut], TEXT | CONTINUES), (text[cut:], TEXT)]


@pytest.mark.parametrize(
    "frames",
    [
        [frame(0x81, b"\xff")],
        [frame(0x81, b"ok\xc3")],
        [frame(0x01, b"\xc3"), frame(0x80, b"a")],  # the character never completes
        [frame(0x01, b"\xc3"), frame(0x89, b""), frame(0x80, b"")],
        [frame(0x01, b"a"), frame(0x80, b"\xed\xa0\x80")],  # a surrogate
    ],
)
def test_invalid_utf8_fails_with_1007(frames: list[bytes]) -> None:
    with pytest.raises(FrameError) as info:
        parse_all(b"".join(frames))
    assert info.value.code == 1007


def test_binary_messages_are_not_validated() -> None:
    assert parse_all(frame(0x82, b"\xff\xfe")) == [(b"\xff\xfe", 0)]


# -- protocol violations -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expect_masked", "code", "message"),
    [
        (frame(0xC1, b"x"), False, 1002, "reserved bits set (no extension was negotiated)"),
        (frame(0x91, b"x"), False, 1002, "reserved bits set (no extension was negotiated)"),
        (frame(0x83, b"x"), False, 1002, "reserved opcode 3"),
        (frame(0x8B, b"x"), False, 1002, "reserved opcode 11"),
        (frame(0x09, b"x"), False, 1002, "fragmented control frame"),
        (frame(0x89, b"x" * 126), False, 1002, "control frame longer than 125 bytes"),
        (frame(0x80, b"x"), False, 1002, "continuation frame without a message to continue"),
        (frame(0x01, b"a") + frame(0x81, b"b"), False, 1002, "new data frame while a fragmented message is open"),
        (frame(0x02, b"a") + frame(0x82, b"b"), False, 1002, "new data frame while a fragmented message is open"),
        (frame(0x01, b"a") + frame(0x02, b"b"), False, 1002, "new data frame while a fragmented message is open"),
        (frame(0x81, b"x"), True, 1002, "unmasked frame from a client"),
        (frame(0x81, b"x", key=b"abcd"), False, 1002, "masked frame from a server"),
        (frame(0x82, length=1 << 63), False, 1002, "frame length has its most significant bit set"),
        (frame(0x88, b"\x03"), False, 1002, "close frame payload of 1 byte"),
        (frame(0x88, b"\x03\xed"), False, 1002, "invalid close code 1005"),
        (frame(0x88, b"\x03\xee"), False, 1002, "invalid close code 1006"),
        (frame(0x88, b"\x00\x01"), False, 1002, "invalid close code 1"),
        (frame(0x88, b"\x13\x88"), False, 1002, "invalid close code 5000"),
        (frame(0x88, b"\x03\xe8\xff"), False, 1007, "close reason is not valid UTF-8"),
    ],
)
def test_protocol_violations(data: bytes, expect_masked: bool, code: int, message: str) -> None:
    with pytest.raises(FrameError) as info:
        parse_all(data, expect_masked=expect_masked)
    assert info.value.code == code
    assert info.value.message == f"websocket protocol error: {message}"
    assert info.value.exit_code == 4


def test_violations_detected_before_the_payload_arrives() -> None:
    for data in (frame(0x89, length=200), frame(0xC2, length=100)):
        with pytest.raises(FrameError):
            FrameParser(expect_masked=False).parse(data[:4], [])


def test_ignore_masks_accepts_both() -> None:
    data = frame(0x81, b"a", key=b"wxyz") + frame(0x81, b"b")
    assert parse_all(data, expect_masked=None) == [(b"a", TEXT), (b"b", TEXT)]


def test_oversized_control_message_is_refused_by_builder() -> None:
    with pytest.raises(ProtocolError):
        FrameBuilder(mask=False).build([(b"x" * 126, PING)])


# -- property: any batch survives a round trip, however the bytes are split -------------

messages = st.one_of(
    st.tuples(st.binary(max_size=300), st.sampled_from([0, CONTINUES])),
    st.tuples(st.text(max_size=100).map(str.encode), st.sampled_from([TEXT, TEXT | CONTINUES])),
    st.tuples(st.binary(max_size=125), st.sampled_from([PING, PONG])),
)


def expected_messages(batch: list[Message]) -> list[Message]:
    """What a receiver sees: continuation fragments take their message's kind."""
    seen = []
    kind = None
    for data, flags in batch:
        if flags & (PING | PONG):
            seen.append((data, flags))
            continue
        if kind is None:
            kind = flags & TEXT
        seen.append((data, kind | (flags & CONTINUES)))
        if not flags & CONTINUES:
            kind = None
    return seen


@settings(max_examples=200, deadline=None)
@given(
    batches=st.lists(st.lists(messages, max_size=12), max_size=4),
    mask=st.booleans(),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=20),
)
def test_random_batches_round_trip(batches: list[list[Message]], mask: bool, cuts: list[int]) -> None:
    # A text fragment from st.text is valid UTF-8 on its own; keep binary continuations
    # of a text message out, they could split nothing but would fail validation.
    flat: list[Message] = []
    kind = None
    for batch in batches:
        fixed = []
        for data, flags in batch:
            if not flags & (PING | PONG):
                if kind is None:
                    kind = flags & TEXT
                elif kind == TEXT:
                    data = data.decode("latin-1").encode("ascii", "replace")
                if not flags & CONTINUES:
                    kind = None
            fixed.append((data, flags))
        flat += fixed
        batch[:] = fixed
    builder = FrameBuilder(mask)
    wire = b"".join(bytes(builder.build(batch)) for batch in batches)
    parser = FrameParser(expect_masked=mask)
    out: list[Message] = []
    buf = b""
    pos = 0
    for cut in [*cuts, len(wire)]:
        buf += wire[pos : pos + cut]
        pos += cut
        if buf and len(buf) >= parser.need:
            buf = buf[parser.parse(buf, out) :]
    buf += wire[pos:]
    if buf:
        buf = buf[parser.parse(buf, out) :]
    assert buf == b""
    assert out == expected_messages(flat)
