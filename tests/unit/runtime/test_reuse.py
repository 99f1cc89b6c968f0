"""reuse-raw: at runtime: sessions share one message socket a message at a time,
fragments hold it, torn messages end writing or are trimmed, the rest of a message whose
reader left is dropped, EOF reaches every session, the socket is opened once, lazily."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from websocat.runtime import exchange_packets
from websocat.runtime.errors import ConnectError, ProtocolError
from websocat.runtime.overlays import reuse
from websocat.runtime.sockets import CONTINUES, PING, TEXT, Message, MessageSocket


class Upstream(MessageSocket):
    """A message socket in memory: batches to read are queued, writes are recorded."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[list[Message]] = asyncio.Queue()
        self.written: list[Message | str] = []
        self.closed = False

    async def recv_batch(self) -> list[Message]:
        return await self.incoming.get()

    async def send_batch(self, batch: list[Message]) -> None:
        self.written += batch

    async def send_eof(self) -> None:
        self.written.append("EOF")

    async def aclose(self) -> None:
        self.closed = True


def opener(sock: Upstream, failures: int = 0) -> tuple[Callable[..., Awaitable[None]], list[int]]:
    """An upstream coroutine that fails ``failures`` times, then shares ``sock``; and the
    count of its runs."""
    runs = [0]

    async def upstream(slot: reuse.Slot) -> None:
        runs[0] += 1
        if runs[0] <= failures:
            raise ConnectError("upstream: connection refused")
        async with sock:
            await slot.share(sock)

    return upstream, runs


def run(test: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(test(), 10))


def test_opened_once_by_the_first_session_and_again_after_a_failure() -> None:
    sock = Upstream()
    upstream, runs = opener(sock, failures=1)

    async def test() -> None:
        async with reuse.listener(upstream) as reuser:
            assert runs == [0]  # not before a session asks
            with pytest.raises(ConnectError):
                await reuse.connect(reuser)
            async with reuse.connect(reuser) as a, reuse.connect(reuser) as b:
                assert a.sock is b.sock is sock
            assert runs == [2] and not sock.closed
        assert sock.closed  # leaving main()'s block closes it

    run(test)


def test_a_fragmented_message_holds_the_upstream_until_its_final_fragment() -> None:
    sock = Upstream()
    upstream, _runs = opener(sock)

    async def test() -> None:
        async with reuse.listener(upstream) as reuser:
            async with reuse.connect(reuser) as a, reuse.connect(reuser) as b:
                await a.send_batch([(b"a1", TEXT | CONTINUES)])
                b_sends = asyncio.ensure_future(b.send_batch([(b"b", TEXT)]))
                await asyncio.sleep(0.01)
                assert not b_sends.done()
                await a.send_batch([(b"a2", TEXT)])
                await b_sends
                await a.send_eof()  # a session's EOF stays with it
        assert sock.written == [(b"a1", TEXT | CONTINUES), (b"a2", TEXT), (b"b", TEXT)]

    run(test)


@pytest.mark.parametrize("leave", ["send_eof", "aclose"])
def test_a_torn_message_ends_writing(leave: str) -> None:
    sock = Upstream()
    upstream, _runs = opener(sock)

    async def test() -> None:
        async with reuse.listener(upstream) as reuser:
            async with reuse.connect(reuser) as b:
                async with reuse.connect(reuser) as a:
                    await a.send_batch([(b"half", CONTINUES)])
                    b_sends = asyncio.ensure_future(b.send_batch([(b"b", TEXT)]))
                    await getattr(a, leave)()
                with pytest.raises(ProtocolError, match="--reuser-tolerate-torn-msgs"):
                    await b_sends
        assert sock.written == [(b"half", CONTINUES), "EOF"]

    run(test)


def test_a_torn_message_is_trimmed_when_tolerated() -> None:
    sock = Upstream()
    upstream, _runs = opener(sock)

    async def test() -> None:
        async with reuse.listener(upstream, tolerate_torn_msgs=True) as reuser:
            async with reuse.connect(reuser) as b:
                async with reuse.connect(reuser) as a:
                    await a.send_batch([(b"half", TEXT | CONTINUES)])
                await b.send_batch([(b"b", TEXT)])
        assert sock.written == [(b"half", TEXT | CONTINUES), (b"", TEXT), (b"b", TEXT)]

    run(test)


def test_reads_go_to_one_session_a_message_at_a_time() -> None:
    sock = Upstream()
    upstream, _runs = opener(sock)

    async def test() -> None:
        async with reuse.listener(upstream) as reuser:
            async with reuse.connect(reuser) as b:
                async with reuse.connect(reuser) as a:
                    sock.incoming.put_nowait([(b"whole", TEXT), (b"x1", CONTINUES)])
                    assert await a.recv_batch() == [(b"whole", TEXT), (b"x1", CONTINUES)]
                    b_reads = asyncio.ensure_future(b.recv_batch())
                    sock.incoming.put_nowait([(b"x2", CONTINUES)])
                    assert await a.recv_batch() == [(b"x2", CONTINUES)]  # a holds the message
                    assert not b_reads.done()
                # a left mid-message: b gets what follows it, and control messages
                sock.incoming.put_nowait([(b"x3", CONTINUES), (b"", PING), (b"x4", 0), (b"next", TEXT)])
                assert await b_reads == [(b"", PING), (b"next", TEXT)]
                sock.incoming.put_nowait([])
                assert await b.recv_batch() == []
                async with reuse.connect(reuser) as c:
                    assert await c.recv_batch() == []  # EOF reaches every session

    run(test)


class GoneClient(MessageSocket):
    """A session's other side: at EOF at once, records what it is sent."""

    def __init__(self) -> None:
        self.hangup = asyncio.Event()
        self.sent: list[Message] = []

    async def recv_batch(self) -> list[Message]:
        return []

    async def send_batch(self, batch: list[Message]) -> None:
        self.sent += batch


def test_a_session_whose_client_hung_up_reads_no_more() -> None:
    """No grace period for a direction reading the shared socket: the next message goes
    to a session still there, not to one whose client is gone."""
    sock = Upstream()
    upstream, _runs = opener(sock)

    async def test() -> None:
        async with reuse.listener(upstream) as reuser:
            async with reuse.connect(reuser) as other:
                gone = GoneClient()
                async with reuse.connect(reuser) as mine:
                    session = asyncio.ensure_future(exchange_packets(gone, mine))
                    await asyncio.sleep(0.01)  # its reader waits on the shared socket
                    gone.hangup.set()
                    await asyncio.sleep(0.05)  # well within HANGUP_GRACE
                    sock.incoming.put_nowait([(b"for a session still there", 0)])
                    assert await other.recv_batch() == [(b"for a session still there", 0)]
                    await session
                assert gone.sent == []

    run(test)
