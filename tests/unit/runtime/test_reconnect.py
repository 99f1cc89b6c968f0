"""runtime/overlays/reconnect.py: backoff, and messages never torn across connections
(real TCP on 127.0.0.1, a `websockets` server as the peer)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from websockets.asyncio.server import ServerConnection, serve

from websocat.runtime import rng
from websocat.runtime.endpoints import tcp
from websocat.runtime.overlays import reconnect, ws
from websocat.runtime.sockets import CONTINUES, PING, TEXT, Message


def _delays(seed: int) -> list[float]:
    rng.seed(seed)
    sock = reconnect.AutoReconnect(
        lambda slot: asyncio.sleep(0),
        (),
        delay_millis=20,
        max_delay_millis=200,
        max_attempts=None,
        preamble=(),
        verbose=False,
    )
    found = []
    for failures in range(8):
        sock.failures = failures
        found.append(sock._delay())
    return found


def test_backoff_doubles_with_seeded_jitter_up_to_the_cap() -> None:
    try:
        first, again = _delays(7), _delays(7)
    finally:
        rng._seeded = None
    assert first == again  # --random-seed: the same waits
    assert first[0] == 0.02  # after a connection that carried messages: the first delay as it is
    for failures, delay in enumerate(first[1:], start=1):
        full = min(0.2, 0.02 * 2 ** (failures - 1))
        assert full / 2 <= delay <= full, (failures, delay)
    assert len(set(first[5:])) > 1  # capped, but jittered


def test_split_incomplete_keeps_a_message_not_finished() -> None:
    batch: list[Message] = [(b"a", TEXT), (b"b1", TEXT | CONTINUES), (b"", PING), (b"b2", CONTINUES)]
    assert reconnect._split_incomplete(batch) == 1
    assert reconnect._split_incomplete(batch[:1]) == 1
    assert reconnect._split_incomplete([(b"x", TEXT), (b"", PING)]) == 2
    assert reconnect._split_incomplete([(b"x1", TEXT | CONTINUES)]) == 0


def test_a_message_cut_by_a_lost_connection_is_dropped_whole() -> None:
    """The first connection dies after two fragments of a message: the reader gets none of
    them, then the next connection's message."""
    connections = 0

    async def handler(conn: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:

            async def fragments() -> AsyncIterator[str]:
                yield "torn-1"
                yield "torn-2"
                await asyncio.sleep(0.1)
                conn.transport.abort()  # the connection dies in the middle of the message
                yield "never"

            try:
                await conn.send(fragments())
            except Exception:
                pass
        else:
            await conn.send("whole")
            await conn.wait_closed()

    async def main() -> list[Message]:
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]

            async def opener(slot: reconnect.Slot) -> None:
                async with tcp.connect("127.0.0.1", port) as stream:
                    async with ws.connect(stream, uri="/", host=f"127.0.0.1:{port}") as sock:
                        await slot.use(sock)

            async with reconnect.autoreconnect(opener, delay_millis=1) as sock:
                got = await asyncio.wait_for(sock.recv_batch(), 10)
            return got

    assert asyncio.run(main()) == [(b"whole", TEXT)]
    assert connections == 2
