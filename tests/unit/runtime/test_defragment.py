"""defragment: over a message mirror (what it writes comes back as the mirror got it)."""

from __future__ import annotations

import asyncio

import pytest

from websocat.runtime.endpoints import trivial
from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays.defragment import defragment
from websocat.runtime.sockets import BINARY, CONTINUES, PING, TEXT, Message


def _through(batches: list[list[Message]], max_size: int = 1 << 20) -> list[Message]:
    async def main() -> list[Message]:
        mirror = trivial.message_mirror()  # holds one batch in flight: read while writing
        whole = defragment(mirror, max_size=max_size)

        async def write() -> None:
            for batch in batches:
                await whole.send_batch(batch)
            await whole.send_eof()

        async def read() -> list[Message]:
            got: list[Message] = []
            while batch := await mirror.recv_batch():
                got += batch
            return got

        _written, got = await asyncio.gather(write(), read())
        return got

    return asyncio.run(asyncio.wait_for(main(), 10))


def test_fragments_become_one_message() -> None:
    batches = [[(b"ab", TEXT | CONTINUES)], [(b"cd", TEXT | CONTINUES), (b"ef", TEXT)], [(b"x", BINARY)]]
    assert _through(batches) == [(b"abcdef", TEXT), (b"x", BINARY)]


def test_control_messages_go_at_once() -> None:
    batches = [[(b"a", BINARY | CONTINUES), (b"p", PING)], [(b"b", BINARY)]]
    assert _through(batches) == [(b"p", PING), (b"ab", BINARY)]


def test_a_message_over_the_limit_fails() -> None:
    with pytest.raises(ProtocolError, match=r"over --defragment-max-size \(3 bytes\)"):
        _through([[(b"ab", BINARY | CONTINUES)], [(b"cd", BINARY)]], max_size=3)
    assert _through([[(b"ab", BINARY | CONTINUES)], [(b"c", BINARY)]], max_size=3) == [(b"abc", BINARY)]
