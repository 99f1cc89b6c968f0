"""The lines: and chunks: overlays over an in-memory stream."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from websocat.runtime.overlays import chunks, lines
from websocat.runtime.sockets import BINARY, CONTINUES, PING, TEXT, Message
from websocat.runtime.testing import MemoryStream


def read_all(sock) -> list[list[Message]]:
    """Every batch up to EOF; checks EOF stays EOF."""

    async def go() -> list[list[Message]]:
        batches = []
        while batch := await sock.recv_batch():
            batches.append(batch)
        assert await sock.recv_batch() == []
        return batches

    return asyncio.run(go())


def read_messages(chunks_in: list[bytes], **kw) -> list[Message]:
    return [m for batch in read_all(lines.framed(MemoryStream(chunks_in), **kw)) for m in batch]


def read_lines(chunks_in: list[bytes], **kw) -> list[bytes]:
    msgs = read_messages(chunks_in, **kw)
    assert all(flags == TEXT for _, flags in msgs), msgs
    return [data for data, _ in msgs]


def write(batches: list[list[Message]], eof: bool = False, **kw) -> MemoryStream:
    stream = MemoryStream()
    sock = lines.framed(stream, **kw)

    async def go() -> None:
        for batch in batches:
            await sock.send_batch(batch)
        if eof:
            await sock.send_eof()

    asyncio.run(go())
    return stream


def written(msgs: list[bytes], **kw) -> bytes:
    return bytes(write([[(m, TEXT) for m in msgs]], **kw).written)


# -- reading


def test_read_lines_one_batch_per_read():
    batches = read_all(lines.framed(MemoryStream([b"a\nbb\nccc\n", b"d\n"])))
    assert batches == [[(b"a", TEXT), (b"bb", TEXT), (b"ccc", TEXT)], [(b"d", TEXT)]]


def test_read_crlf_stripped():
    assert read_lines([b"a\r\nb\r\n\r\nc\n"]) == [b"a", b"b", b"", b"c"]


def test_read_cr_kept_when_not_before_lf():
    assert read_lines([b"a\rb\n", b"c\r"]) == [b"a\rb", b"c\r"]


def test_read_cr_kept_inline():
    assert read_lines([b"a\r\nb\n"], inline=True) == [b"a\r\n", b"b\n"]


def test_read_no_newline_before_eof():
    assert read_lines([b"a\nlast"]) == [b"a", b"last"]
    assert read_lines([b"only"]) == [b"only"]
    assert read_lines([]) == []


def test_read_empty_lines_are_messages():
    assert read_lines([b"\n\na\n"]) == [b"", b"", b"a"]


def test_read_line_split_across_reads():
    assert read_lines([b"hel", b"lo\nwo", b"r", b"ld\n"]) == [b"hello", b"world"]


def test_read_crlf_split_across_reads():
    assert read_lines([b"a\r", b"\nb\r", b"\n"]) == [b"a", b"b"]


def test_read_byte_at_a_time():
    data = b"one\r\ntwo\n\nthree"
    assert read_lines([data[i : i + 1] for i in range(len(data))]) == [b"one", b"two", b"", b"three"]


def test_read_very_long_line_across_many_reads():
    line = bytes(range(32, 127)) * 2000  # 190 KB, no newline inside
    pieces = [line[i : i + 1000] for i in range(0, len(line), 1000)]
    assert read_lines(pieces + [b"\nshort\n"]) == [line, b"short"]


def test_read_over_long_line_becomes_fragments():
    line = b"x" * 10_000
    msgs = read_messages([line[:3000], line[3000:7000], line[7000:] + b"\r\nnext\n"], max_line=2048)
    *fragments, last, nxt = msgs
    assert fragments and all(flags == TEXT | CONTINUES for _, flags in fragments)
    assert last[1] == TEXT and nxt == (b"next", TEXT)
    assert b"".join(d for d, _ in fragments) + last[0] == line  # the CR is still stripped


def test_read_over_long_line_in_one_read_and_at_eof():
    msgs = read_messages([b"a\n" + b"y" * 5000], max_line=1000, read_size=1 << 16)
    assert msgs[0] == (b"a", TEXT)
    assert msgs[1][1] == TEXT | CONTINUES and msgs[-1][1] == TEXT
    assert b"".join(d for d, _ in msgs[1:]) == b"y" * 5000


def test_read_binary_flag():
    assert read_messages([b"a\n"], text=False) == [(b"a", BINARY)]


def test_read_separator_n_2():
    assert read_lines([b"l1\nl2\n\nnext\n\n"], separator_n=2) == [b"l1\nl2", b"next"]
    # a third newline starts the next message, as in websocat4
    assert read_lines([b"a\n\n\nb\n\n"], separator_n=2) == [b"a", b"\nb"]


def test_read_separator_n_2_split_across_reads():
    assert read_lines([b"a\n", b"\nb\n", b"c\n", b"\n"], separator_n=2) == [b"a", b"b\nc"]
    assert read_lines([b"x", b"\n", b"\n", b"y"], separator_n=2) == [b"x", b"y"]


def test_read_null_separator():
    assert read_lines([b"a\nb\0c\r\n\0"], separator=0) == [b"a\nb", b"c\r\n"]


def test_read_inline():
    assert read_lines([b"a\nb\n", b"c"], inline=True) == [b"a\n", b"b\n", b"c"]
    assert read_lines([b"a\n\nb\n\n"], inline=True, separator_n=2) == [b"a\n\n", b"b\n\n"]


# -- writing


def test_write_batch_is_one_write():
    stream = write([[(b"a", TEXT), (b"bb", BINARY), (b"c", TEXT)]])
    assert stream.writes == [b"a\nbb\nc\n"]


def test_write_embedded_newlines_replaced():
    assert written([b"a\nb", b"c\r\nd"]) == b"a b\nc d\n"


def test_write_leading_trailing_separators_trimmed():
    assert written([b"\n\nabc\n\n", b"\n", b""]) == b"abc\n\n\n"


def test_write_trailing_cr_kept():
    assert written([b"abc\r\n"]) == b"abc\r\n"


def test_write_inhibit_substitution():
    assert written([b"\na\nb\n", b"c"], substitute=False) == b"\na\nb\n\nc\n"


def test_write_separator_n_2():
    # a lone newline is content; a pair would end the message, so its second byte goes
    assert written([b"l1\nl2", b"a\n\n\nb", b"\n\nx\n"], separator_n=2) == b"l1\nl2\n\na\n \nb\n\nx\n\n"


def test_write_null_separator():
    assert written([b"a\0b\n", b"\0c\0"], separator=0) == b"a b\n\0c\0"


def test_write_inline():
    assert written([b"a\n", b"b"], inline=True) == b"a\nb\n"
    assert written([b"a\n", b"b", b"c\n\n"], inline=True, substitute=False) == b"a\nb\nc\n\n"


def test_write_fragments_get_one_separator():
    stream = write([[(b"he", TEXT | CONTINUES), (b"llo", TEXT), (b"x", TEXT)]])
    assert stream.writes == [b"hello\nx\n"]


def test_write_fragments_across_batches():
    stream = write(
        [
            [(b"\nab\n", TEXT | CONTINUES)],
            [(b"\ncd", TEXT | CONTINUES), (b"\n", TEXT | CONTINUES)],
            [(b"\n", TEXT)],
            [(b"e", TEXT)],
        ]
    )
    # same as writing b"\nab\n\ncd\n\n" in one piece: trimmed, inner newlines replaced
    assert bytes(stream.written) == b"ab  cd\ne\n"


def test_write_fragments_separator_n_2_boundary():
    # a separator pair split across fragments is still broken up
    stream = write([[(b"a\n", TEXT | CONTINUES)], [(b"\nb", TEXT)]], separator_n=2)
    assert bytes(stream.written) == b"a\n b\n\n"


def test_write_fragments_crlf_boundary():
    stream = write([[(b"a\r", TEXT | CONTINUES)], [(b"\nb", TEXT)]])
    assert bytes(stream.written) == b"a b\n"


def test_write_fragments_inline_no_substitution():
    stream = write([[(b"a\n", TEXT | CONTINUES), (b"\n", TEXT)]], inline=True, substitute=False, separator_n=2)
    assert bytes(stream.written) == b"a\n\n"


def test_write_control_messages_dropped():
    stream = write([[(b"a", TEXT), (b"ping", PING), (b"b", TEXT)]])
    assert bytes(stream.written) == b"a\nb\n"


def test_send_eof():
    stream = write([[(b"a", TEXT)]], eof=True)
    assert stream.eof_written and bytes(stream.written) == b"a\n"


def test_bad_arguments():
    with pytest.raises(ValueError):
        lines.framed(MemoryStream(), separator=256)
    with pytest.raises(ValueError):
        lines.framed(MemoryStream(), separator_n=0)


# -- round trips

line_bytes = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))


@settings(max_examples=200, deadline=None)
@given(st.lists(line_bytes, max_size=30), st.integers(1, 50), st.booleans())
def test_roundtrip_lines(msgs: list[bytes], read_at: int, two: bool):
    n = 2 if two else 1
    data = written(msgs, separator_n=n)
    pieces = [data[i : i + read_at] for i in range(0, len(data), read_at)]
    assert read_lines(pieces, separator_n=n) == msgs


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=20), st.integers(1, 50), st.sampled_from([0, 10]), st.booleans())
def test_roundtrip_any_bytes_one_message_one_line(msgs: list[bytes], read_at: int, sep: int, two: bool):
    """With substitution, any messages come back as the same number of messages."""
    n = 2 if two else 1
    data = written(msgs, separator=sep, separator_n=n)
    pieces = [data[i : i + read_at] for i in range(0, len(data), read_at)]
    back = read_lines(pieces, separator=sep, separator_n=n)
    assert len(back) == len(msgs)
    sb = bytes((sep,))
    for orig, got in zip(msgs, back):
        if sb not in orig and b"\r" not in orig:
            assert got == orig


write_options = st.sampled_from(
    [
        {},
        {"separator_n": 2},
        {"separator": 0},
        {"inline": True},
        {"substitute": False},
        {"inline": True, "substitute": False, "separator_n": 2},
    ]
)
newline_heavy = st.lists(st.sampled_from([b"\n", b"\r", b"\0", b"a", b"\r\n"]), max_size=12).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.binary(max_size=30), newline_heavy), max_size=10),
    st.lists(st.integers(0, 30), max_size=10),
    write_options,
)
def test_fragmented_write_equals_whole_write(msgs: list[bytes], cuts: list[int], options: dict):
    """Writing a message in fragments gives the same bytes as writing it whole."""
    whole = written(msgs, **options)
    batch = []
    for msg in msgs:
        points = sorted({c % (len(msg) + 1) for c in cuts})
        bounds = [0, *points, len(msg)]
        frags = [msg[a:b] for a, b in zip(bounds, bounds[1:])]
        batch += [(f, TEXT | CONTINUES) for f in frags[:-1]] + [(frags[-1], TEXT)]
    # one fragment per batch, to exercise the state kept between batches
    assert bytes(write([[m] for m in batch], **options).written) == whole
    assert bytes(write([batch], **options).written) == whole


@settings(max_examples=200, deadline=None)
@given(st.lists(newline_heavy, max_size=20).map(b"".join), st.integers(1, 7), st.integers(1, 9), write_options)
def test_fragmented_read_joins_to_unfragmented(data: bytes, read_at: int, max_line: int, options: dict):
    """Reading with a small max_line only splits messages into fragments."""
    options = {k: v for k, v in options.items() if k != "substitute"}
    pieces = [data[i : i + read_at] for i in range(0, len(data), read_at)]
    whole = read_messages(pieces, **options)
    joined, buf = [], b""
    for frag, flags in read_messages(pieces, max_line=max_line, **options):
        buf += frag
        if not flags & CONTINUES:
            joined.append((buf, flags))
            buf = b""
    assert buf == b"" and joined == whole


# -- chunks


def test_chunks_read_one_message_per_read():
    sock = chunks.framed(MemoryStream([b"ab\ncd", b"e"]))
    assert read_all(sock) == [[(b"ab\ncd", BINARY)], [(b"e", BINARY)]]


def test_chunks_read_text_and_max_bytes():
    sock = chunks.framed(MemoryStream([b"abcdef"]), max_bytes=4, text=True)
    assert read_all(sock) == [[(b"abcd", TEXT)], [(b"ef", TEXT)]]


def test_chunks_write_joined_in_one_write():
    stream = MemoryStream()
    sock = chunks.framed(stream)

    async def go() -> None:
        await sock.send_batch([(b"a\n", BINARY)])
        await sock.send_batch([(b"b", TEXT | CONTINUES), (b"p", PING), (b"c", TEXT)])
        await sock.send_batch([])
        await sock.send_eof()

    asyncio.run(go())
    assert stream.writes == [b"a\n", b"bc"] and stream.eof_written


def test_recv_one_message_at_a_time():
    """The base class's recv() convenience works over both overlays."""

    async def go(sock) -> list:
        got = []
        while (msg := await sock.recv()) is not None:
            got.append(msg)
        return got

    assert asyncio.run(go(lines.framed(MemoryStream([b"a\nb\n", b"c"])))) == [(b"a", TEXT), (b"b", TEXT), (b"c", TEXT)]
    assert asyncio.run(go(chunks.framed(MemoryStream([b"a\nb", b"c"])))) == [(b"a\nb", BINARY), (b"c", BINARY)]
