"""broadcast: at runtime: every message of the shared socket to every session, sessions
joining mid-message start at the next one, a session too far behind is dropped with one
line, EOF reaches every session, writes are reuse-raw:'s."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from websocat.runtime.overlays import broadcast
from websocat.runtime.sockets import CONTINUES, PING, TEXT

from test_reuse import Upstream, opener


def run(test: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(test(), 10))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_every_session_gets_every_message() -> None:
    async def test() -> None:
        sock = Upstream()
        upstream, runs = opener(sock)
        async with broadcast.listener(upstream) as shared:
            async with broadcast.connect(shared) as a, broadcast.connect(shared) as b:
                await sock.incoming.put([(b"one", TEXT), (b"two", 0)])
                await sock.incoming.put([(b"", PING)])
                await settle()
                everything = [(b"one", TEXT), (b"two", 0), (b"", PING)]
                assert await a.recv_batch() == everything  # what waited, in one batch
                assert await b.recv_batch() == everything
                await a.send_batch([(b"from a", TEXT)])
                await b.send_batch([(b"from b", 0)])
        assert sock.written == [(b"from a", TEXT), (b"from b", 0)]
        assert runs == [1] and sock.closed

    run(test)


def test_a_session_joining_mid_message_starts_at_the_next() -> None:
    async def test() -> None:
        sock = Upstream()
        upstream, _runs = opener(sock)
        async with broadcast.listener(upstream) as shared:
            async with broadcast.connect(shared) as first:
                await sock.incoming.put([(b"he", CONTINUES)])
                assert await first.recv_batch() == [(b"he", CONTINUES)]
                async with broadcast.connect(shared) as late:
                    await sock.incoming.put([(b"llo", 0), (b"next", 0)])
                    assert await first.recv_batch() == [(b"llo", 0), (b"next", 0)]
                    assert await late.recv_batch() == [(b"next", 0)]

    run(test)


def test_a_session_too_far_behind_is_dropped_with_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    async def test() -> None:
        sock = Upstream()
        upstream, _runs = opener(sock)
        async with broadcast.listener(upstream, queue_len=2) as shared:
            async with broadcast.connect(shared) as reader, broadcast.connect(shared) as stalled:
                for number in range(4):
                    await sock.incoming.put([(b"%d" % number, 0)])
                    await settle()
                    assert await reader.recv_batch() == [(b"%d" % number, 0)]
                assert await stalled.recv_batch() == []  # dropped: EOF, its queue emptied
                await sock.incoming.put([(b"later", 0)])
                assert await reader.recv_batch() == [(b"later", 0)]

    run(test)
    err = capsys.readouterr().err
    assert err == "websocat: broadcast: session 2 fell 2 messages behind (--broadcast-queue-len): dropped\n"


def test_eof_reaches_every_session() -> None:
    async def test() -> None:
        sock = Upstream()
        upstream, _runs = opener(sock)
        async with broadcast.listener(upstream) as shared:
            async with broadcast.connect(shared) as a, broadcast.connect(shared) as b:
                await sock.incoming.put([])
                assert await a.recv_batch() == [] and await b.recv_batch() == []

    run(test)
