"""lengthprefixed: against hand-made byte vectors of websocat4's layout.

The vectors follow websocat4's src/scenario_executor/lengthprefixed.rs and its planner
(src/scenario_planner/buildscenario_overlays.rs): flag bits taken from the prefix's top in
the order continuation, control, text (each only when its option is on), the length in
the bits below, the prefix big-endian or little-endian in ``nbytes`` bytes, a control
frame's opcode (8 close, 9 ping, 10 pong) as the first body byte, counted in the length.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays.lengthprefixed import Layout, framed
from websocat.runtime.sockets import BINARY, CLOSE, CONTINUES, PING, PONG, TEXT, ByteStream, Message


class Recorder(ByteStream):
    """A byte stream that reads the given chunks, then EOF, and records what is written."""

    def __init__(self, chunks: list[bytes] = []) -> None:
        self.chunks = list(chunks)
        self.written = bytearray()
        self.writes = 0
        self.eof_written = False

    async def read(self, max_bytes: int = 65536) -> bytes:
        await asyncio.sleep(0)
        return self.chunks.pop(0) if self.chunks else b""

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.eof_written, "write after write_eof"
        self.written += data
        self.writes += 1

    async def write_eof(self) -> None:
        self.eof_written = True


def encode(batches: list[list[Message]], eof: bool = True, **options: Any) -> bytes:
    stream = Recorder()

    async def main() -> None:
        sock = framed(stream, **options)
        for batch in batches:
            await sock.send_batch(batch)
        if eof:
            await sock.send_eof()
            assert stream.eof_written

    asyncio.run(main())
    return bytes(stream.written)


def decode(data: bytes, chunk: int | None = None, **options: Any) -> list[Message]:
    """Every message read from ``data`` (in reads of ``chunk`` bytes), up to EOF."""
    step = chunk or max(len(data), 1)
    stream = Recorder([data[i : i + step] for i in range(0, len(data), step)])

    async def main() -> list[Message]:
        sock = framed(stream, **options)
        got: list[Message] = []
        while batch := await sock.recv_batch():
            got += batch
        assert await sock.recv_batch() == []
        return got

    return asyncio.run(main())


ALL = {"continuations": True, "include_control": True, "tag_text": True}

# (options, messages written, bytes on the stream); EOF written after the messages.
VECTORS: list[tuple[dict[str, Any], list[Message], bytes]] = [
    ({}, [(b"hello", BINARY)], b"\x00\x00\x00\x05hello"),
    ({}, [(b"", BINARY), (b"hi", TEXT)], b"\x00\x00\x00\x00\x00\x00\x00\x02hi"),
    ({"little_endian": True}, [(b"hello", BINARY)], b"\x05\x00\x00\x00hello"),
    ({"nbytes": 1}, [(b"hello", BINARY)], b"\x05hello"),
    ({"nbytes": 2}, [(b"x" * 300, BINARY)], b"\x01\x2c" + b"x" * 300),
    ({"nbytes": 2, "little_endian": True}, [(b"x" * 300, BINARY)], b"\x2c\x01" + b"x" * 300),
    ({"nbytes": 3}, [(b"x" * 0x10203, BINARY)], b"\x01\x02\x03" + b"x" * 0x10203),
    ({"nbytes": 3, "little_endian": True}, [(b"x" * 0x10203, BINARY)], b"\x03\x02\x01" + b"x" * 0x10203),
    ({"nbytes": 5}, [(b"ab", BINARY)], b"\x00\x00\x00\x00\x02ab"),
    ({"nbytes": 6, "little_endian": True}, [(b"ab", BINARY)], b"\x02\x00\x00\x00\x00\x00ab"),
    ({"nbytes": 7}, [(b"ab", BINARY)], b"\x00" * 6 + b"\x02ab"),
    ({"nbytes": 8}, [(b"ab", BINARY)], b"\x00" * 7 + b"\x02ab"),
    ({"nbytes": 8, "little_endian": True}, [(b"ab", BINARY)], b"\x02" + b"\x00" * 7 + b"ab"),
    # --lengthprefixed-tag-text alone takes the top bit
    ({"tag_text": True}, [(b"t", TEXT), (b"b", BINARY)], b"\x80\x00\x00\x01t\x00\x00\x00\x01b"),
    ({"tag_text": True, "nbytes": 1}, [(b"t", TEXT)], b"\x81t"),
    # continuations: top bit on non-final fragments; text the next bit
    (
        {"continuations": True, "tag_text": True},
        [(b"ab", TEXT | CONTINUES), (b"c", TEXT), (b"d", BINARY | CONTINUES), (b"e", BINARY)],
        b"\xc0\x00\x00\x02ab\x40\x00\x00\x01c\x80\x00\x00\x01d\x00\x00\x00\x01e",
    ),
    (
        {"continuations": True, "little_endian": True},
        [(b"ab", CONTINUES), (b"c", BINARY)],
        b"\x02\x00\x00\x80ab\x01\x00\x00\x00c",
    ),
    (
        {"continuations": True, "nbytes": 8, "little_endian": True},
        [(b"a", CONTINUES)],
        b"\x01" + b"\x00" * 6 + b"\x80a",
    ),
    # control messages: the control bit (top without continuations), the opcode counted in the length
    (
        {"include_control": True, "nbytes": 2},
        [(b"", PING), (b"pp", PONG), (b"m", BINARY)],
        b"\x80\x01\x09\x80\x03\x0app\x00\x01m\x80\x01\x08",
    ),
    # all three: 0x80 continuation, 0x40 control, 0x20 text, 0x1F length (nbytes 1)
    (
        {**ALL, "nbytes": 1},
        [(b"ab", TEXT | CONTINUES), (b"p", PING), (b"c", TEXT)],
        b"\xa2ab\x42\x09p\x21c\x41\x08",
    ),
    (
        ALL,
        [(b"x", BINARY | CONTINUES), (b"q", PONG), (b"y", BINARY)],
        b"\x80\x00\x00\x01x\x40\x00\x00\x02\x0aq\x00\x00\x00\x01y\x40\x00\x00\x01\x08",
    ),
]


@pytest.mark.parametrize("options, messages, wire", VECTORS)
def test_websocat4_layout_encodes(options: dict[str, Any], messages: list[Message], wire: bytes) -> None:
    assert encode([messages], **options) == wire


@pytest.mark.parametrize("options, messages, wire", VECTORS)
@pytest.mark.parametrize("chunk", [None, 1, 3])
def test_websocat4_layout_decodes(
    options: dict[str, Any], messages: list[Message], wire: bytes, chunk: int | None
) -> None:
    layout = Layout(**{k: v for k, v in options.items() if k != "nbytes"}, nbytes=options.get("nbytes", 4))
    want = [
        (data, flags if layout.text_bit else flags & ~TEXT)  # without the text bit everything reads binary
        for data, flags in messages
        if not flags & CONTINUES or layout.cont_bit
    ]
    assert decode(wire, chunk, **options) == want


def test_layout_bits() -> None:
    layout = Layout(4, continuations=True, include_control=True, tag_text=True)
    assert (layout.cont_bit, layout.ctrl_bit, layout.text_bit, layout.mask) == (
        0x80000000,
        0x40000000,
        0x20000000,
        0x1FFFFFFF,
    )
    assert Layout(8).mask == (1 << 64) - 1
    assert Layout(1, include_control=True).ctrl_bit == 0x80
    for bad in (0, 9):
        with pytest.raises(ValueError):
            Layout(bad)


def test_fragments_are_joined_without_continuations() -> None:
    batches = [[(b"ab", TEXT | CONTINUES)], [(b"p", PING), (b"cd", TEXT | CONTINUES), (b"e", TEXT)]]
    assert encode(batches, tag_text=True) == b"\x80\x00\x00\x05abcde"
    # control messages are dropped without --lengthprefixed-include-control, in either mode
    assert encode(batches, continuations=True) == b"\x80\x00\x00\x02ab\x80\x00\x00\x02cd\x00\x00\x00\x01e"


def test_a_control_message_in_pieces_is_written_whole_without_continuations() -> None:
    assert encode([[(b"ab", PING | CONTINUES), (b"c", PING)]], eof=False, include_control=True) == (
        b"\x80\x00\x00\x04\x09abc"
    )


def test_one_write_per_batch() -> None:
    stream = Recorder()

    async def main() -> None:
        sock = framed(stream, nbytes=2)
        await sock.send_batch([(bytes([i]) * i, BINARY) for i in range(100)])

    asyncio.run(main())
    assert stream.writes == 1
    assert decode(bytes(stream.written), nbytes=2) == [(bytes([i]) * i, BINARY) for i in range(100)]


def test_a_close_message_is_written_once_and_ends_writing() -> None:
    wire = encode([[(b"a", BINARY), (b"\x03\xe8", CLOSE), (b"after", BINARY)], [(b"more", BINARY)]], **ALL)
    assert wire == b"\x00\x00\x00\x01a\x40\x00\x00\x03\x08\x03\xe8"


def test_a_close_frame_reads_as_eof() -> None:
    assert decode(b"\x00\x00\x00\x01a\x80\x00\x00\x01\x08\x00\x00\x00\x01b", include_control=True) == [(b"a", BINARY)]


def test_many_messages_across_reads() -> None:
    messages = [(bytes([i % 256]) * (i % 70), TEXT if i % 3 else BINARY) for i in range(2000)]
    wire = encode([messages[:700], messages[700:]], tag_text=True, nbytes=3, little_endian=True)
    for chunk in (None, 1, 7, 4096):
        assert decode(wire, chunk, tag_text=True, nbytes=3, little_endian=True) == messages


def test_a_large_message_over_many_reads() -> None:
    big = bytes(range(256)) * 1000
    wire = encode([[(b"s", BINARY), (big, BINARY), (b"t", BINARY)]])
    assert decode(wire, 65536) == [(b"s", BINARY), (big, BINARY), (b"t", BINARY)]
    assert decode(wire, 1000) == [(b"s", BINARY), (big, BINARY), (b"t", BINARY)]


@pytest.mark.parametrize(
    "wire, options, error",
    [
        (b"\x00\x00", {}, r"ended inside a prefix \(2 of 4 bytes\)"),
        (b"\x00\x00\x00\x05abc", {}, r"ended inside a message \(3 of 5 bytes\)"),
        (b"\x00\x00\x00\x01a\x00", {}, r"ended inside a prefix \(1 of 4 bytes\)"),
        (
            b"\x00\x00\x01\x00",
            {"max_message_size": 255},
            r"message of 256 bytes is over --lengthprefixed-max-message-size \(255 bytes\)",
        ),
        (b"\x80", {"nbytes": 1, "include_control": True}, "control frame without its opcode byte"),
        (b"\x81\x07", {"nbytes": 1, "include_control": True}, "bad control frame opcode 7"),
    ],
)
@pytest.mark.parametrize("chunk", [None, 1])
def test_bad_input_fails(wire: bytes, options: dict[str, Any], error: str, chunk: int | None) -> None:
    with pytest.raises(ProtocolError, match=error):
        decode(wire, chunk, **options)


def test_writing_over_the_limits_fails() -> None:
    with pytest.raises(ProtocolError, match=r"over --lengthprefixed-max-message-size \(3 bytes\)"):
        encode([[(b"ab", CONTINUES)], [(b"cd", BINARY)]], max_message_size=3)
    assert encode([[(b"ab", CONTINUES)], [(b"c", BINARY)]], max_message_size=3) == b"\x00\x00\x00\x03abc"
    with pytest.raises(ProtocolError, match=r"32 bytes does not fit a 1-byte prefix \(at most 31\)"):
        encode([[(b"x" * 32, BINARY)]], nbytes=1, **ALL)
    # with continuations the size limit is the prefix's only
    assert len(encode([[(b"x" * 100, BINARY)]], max_message_size=3, continuations=True)) == 104


def test_skip_directions_are_chunks() -> None:
    assert (
        encode([[(b"ab", TEXT), (b"p", PING), (b"c", BINARY)]], skip_write_direction=True, include_control=True)
        == b"abc"
    )
    assert decode(b"\x00\x00\x00\x01", skip_read_direction=True) == [(b"\x00\x00\x00\x01", BINARY)]
