"""The kinds overlay (--base64, --base64-text, --text-prefix, --binary-prefix) over a
message mirror: what it sends is what the WebSocket under it would send, what the mirror
gives back is what the WebSocket would have received."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from websocat.runtime.endpoints import trivial
from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays.kinds import tagged
from websocat.runtime.sockets import BINARY, CONTINUES, PING, PONG, TEXT, Message
from websocat.runtime.testing import sent_through


def sent(batches: list[list[Message]], **options: Any) -> list[Message]:
    """The messages the overlay sends down for these batches written to it."""
    return sent_through(lambda mirror: tagged(mirror, **options), batches)


def received(batches: list[list[Message]], **options: Any) -> list[Message]:
    """The messages the overlay hands up for these batches arriving from below."""

    async def main() -> list[Message]:
        mirror = trivial.message_mirror()
        sock = tagged(mirror, **options)

        async def write() -> None:
            for batch in batches:
                await mirror.send_batch(batch)
            await mirror.send_eof()

        async def read() -> list[Message]:
            got: list[Message] = []
            while batch := await sock.recv_batch():
                got += batch
            return got

        _written, got = await asyncio.gather(write(), read())
        return got

    return asyncio.run(asyncio.wait_for(main(), 10))


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def test_base64_shows_binary_messages_and_leaves_text() -> None:
    got = received([[(b"\x00\n\xff", BINARY), (b"text\n", TEXT), (b"", BINARY)]], base64=True)
    assert got == [(b64(b"\x00\n\xff"), TEXT), (b"text\n", TEXT), (b"", TEXT)]


def test_base64_text_and_prefixes() -> None:
    options = {"base64": True, "base64_text": True, "text_prefix": "T:", "binary_prefix": b"B:"}
    got = received([[(b"\x01", BINARY), ("ü".encode(), TEXT)]], **options)
    assert got == [(b"B:" + b64(b"\x01"), TEXT), (b"T:" + b64("ü".encode()), TEXT)]


def test_prefixes_alone_keep_the_bytes_and_the_kind() -> None:
    got = received([[(b"\xff", BINARY), (b"t", TEXT)]], text_prefix="T:", binary_prefix="B:")
    assert got == [(b"B:\xff", BINARY), (b"T:t", TEXT)]


def test_lines_sent_follow_their_prefix_else_their_own_kind() -> None:
    batch = [(b"T:text", BINARY), (b"B:bin", TEXT), (b"plain", TEXT), (b"plain", BINARY), (b"T:B:x", TEXT)]
    got = sent([batch], text_prefix="T:", binary_prefix="B:")
    # v1 looks for the text prefix, then for the binary one in what is left
    assert got == [(b"text", TEXT), (b"bin", BINARY), (b"plain", TEXT), (b"plain", BINARY), (b"x", BINARY)]


def test_base64_lines_are_decoded_for_the_kinds_shown_as_base64() -> None:
    batch = [(b"B:" + b64(b"\x00\n"), TEXT), (b"as text", TEXT), (b64(b"\xff") + b"\r\n", BINARY)]
    got = sent([batch], binary_prefix="B:", base64=True)
    assert got == [(b"\x00\n", BINARY), (b"as text", TEXT), (b"\xff", BINARY)]
    assert sent([[(b64("ä".encode()), TEXT)]], base64_text=True) == [("ä".encode(), TEXT)]


def test_a_line_that_is_not_base64_is_sent_as_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    assert sent([[(b"B:not base64!", TEXT)]], binary_prefix="B:", base64=True) == [(b"not base64!", BINARY)]
    assert "is not base64 ('not base64!'); sent as it is" in capsys.readouterr().err


def test_control_messages_pass_unchanged() -> None:
    batch = [(b"ping", PING), (b"\x00", BINARY), (b"pong", PONG)]
    assert received([batch], base64=True, binary_prefix="B") == [
        (b"ping", PING),
        (b"B" + b64(b"\x00"), TEXT),
        (b"pong", PONG),
    ]
    assert sent([[(b"B", PING)]], base64=True, binary_prefix="B") == [(b"B", PING)]


def test_fragments_are_encoded_piece_by_piece() -> None:
    data = bytes(range(256)) * 3
    pieces = [data[:100], data[100:101], data[101:500], data[500:]]
    batches = [[(pieces[0], BINARY | CONTINUES), (b"ping", PING)], [(pieces[1], BINARY | CONTINUES)]]
    batches += [[(pieces[2], BINARY | CONTINUES), (pieces[3], BINARY), (b"next", TEXT)]]
    got = received(batches, base64=True, binary_prefix="B:")
    assert (b"ping", PING) in got and got[-1] == (b"next", TEXT)
    encoded = [message for message in got if message[1] & ~CONTINUES == TEXT][:-1]
    assert all(flags == TEXT | CONTINUES for _data, flags in encoded[:-1]) and encoded[-1][1] == TEXT
    assert b"".join(d for d, _f in encoded) == b"B:" + b64(data)


def test_fragments_are_decoded_piece_by_piece() -> None:
    data = bytes(range(256)) * 3
    line = b"B:" + b64(data) + b"\r\n"
    # the prefix is looked for in the first fragment (lines: makes them a MiB long);
    # pieces of 1 and 5 characters, and the CR and LF in pieces of their own
    cuts = [0, 3, 4, 9, 300, len(line) - 1, len(line)]
    pieces = [line[a:b] for a, b in zip(cuts, cuts[1:])]
    batch = [(piece, TEXT | CONTINUES) for piece in pieces[:-1]] + [(pieces[-1], TEXT), (b"after", TEXT)]
    got = sent([batch], base64=True, binary_prefix="B:")
    assert got[-1] == (b"after", TEXT)
    assert all(flags == BINARY | CONTINUES for _d, flags in got[:-2]) and got[-2][1] == BINARY
    assert b"".join(d for d, _f in got[:-1]) == data


def test_a_long_line_that_is_not_base64_fails_the_session() -> None:
    with pytest.raises(ProtocolError, match="a long message to send is not base64"):
        sent([[(b"B:" + b"!" * 100, TEXT | CONTINUES), (b"", TEXT)]], base64=True, binary_prefix="B:")


def test_fragments_without_base64_get_the_prefix_once() -> None:
    batch = [(b"ab", BINARY | CONTINUES), (b"cd", BINARY)]
    assert received([batch], binary_prefix="B:") == [(b"B:ab", BINARY | CONTINUES), (b"cd", BINARY)]
    sent_batch = [(b"T:ab", BINARY | CONTINUES), (b"T:cd", BINARY)]
    assert sent([sent_batch], text_prefix="T:") == [(b"ab", TEXT | CONTINUES), (b"T:cd", TEXT)]
