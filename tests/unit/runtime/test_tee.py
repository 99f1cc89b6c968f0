"""tee: over in-memory nodes: writes to all, reads merged, fragments kept together, nodes
that end or fail, torn messages, hangups (runtime/overlays/tee.py)."""

from __future__ import annotations

import asyncio

import pytest

from websocat.runtime.overlays.tee import tee
from websocat.runtime.sockets import BINARY, CONTINUES, TEXT, Message, MessageSocket


class Node(MessageSocket):
    """A message socket fed by the test (``feed``; [] is EOF, an exception a failure) that
    records what it is sent; ``fail_after``: sends after that many batches fail."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.incoming: asyncio.Queue[list[Message] | Exception] = asyncio.Queue()
        self.sent: list[Message] = []
        self.batches = 0
        self.eof_sent = False
        self.closed = False
        self.fail_after = fail_after
        self.hangup = asyncio.Event()

    def feed(self, item: list[Message] | Exception) -> None:
        self.incoming.put_nowait(item)

    async def recv_batch(self) -> list[Message]:
        item = await self.incoming.get()
        if isinstance(item, Exception):
            raise item
        return item

    async def send_batch(self, batch: list[Message]) -> None:
        if self.fail_after is not None and self.batches >= self.fail_after:
            raise ConnectionResetError("node gone")
        self.batches += 1
        await asyncio.sleep(0)  # a real socket may wait: the others go on meanwhile
        self.sent += batch

    async def send_eof(self) -> None:
        self.eof_sent = True

    async def aclose(self) -> None:
        self.closed = True


def run(main: object) -> object:
    return asyncio.run(asyncio.wait_for(main, 5))  # type: ignore[arg-type]


def test_writes_reach_every_node_and_eof_too() -> None:
    async def main() -> None:
        a, b, c = Node(), Node(), Node()
        t = tee(a, [b, c])
        await t.send_batch([(b"one", TEXT), (b"two", BINARY)])
        await t.send_eof()
        for node in (a, b, c):
            assert node.sent == [(b"one", TEXT), (b"two", BINARY)] and node.eof_sent
        await t.aclose()
        assert a.closed and b.closed and c.closed

    run(main())


def test_a_failed_node_is_dropped_and_the_others_get_everything() -> None:
    async def main() -> None:
        a, b = Node(), Node(fail_after=1)
        t = tee(a, [b])
        for i in range(5):
            await t.send_batch([(b"%d" % i, BINARY)])
        assert a.sent == [(b"%d" % i, BINARY) for i in range(5)]
        assert b.sent == [(b"0", BINARY)]
        with pytest.raises(ConnectionResetError):  # the last node failing is the tee's failure
            a.fail_after = 0
            await t.send_batch([(b"x", BINARY)])

    run(main())


def test_propagate_failures_fails_at_the_first() -> None:
    async def main() -> None:
        a, b = Node(), Node(fail_after=0)
        t = tee(a, [b], propagate_failures=True)
        with pytest.raises(ConnectionResetError):
            await t.send_batch([(b"x", BINARY)])
        b.feed(ValueError("read failed"))
        with pytest.raises(ValueError):
            await t.recv_batch()

    run(main())


def test_reads_merge_and_a_fragmented_message_stays_whole() -> None:
    """b's message waits while a is in the middle of one; nothing is lost or interleaved."""

    async def main() -> list[list[Message]]:
        a, b = Node(), Node()
        t = tee(a, [b])
        a.feed([(b"a1", TEXT | CONTINUES)])
        got = [await t.recv_batch()]
        b.feed([(b"b", BINARY)])
        await asyncio.sleep(0.01)
        a.feed([(b"a2", TEXT)])
        got.append(await t.recv_batch())
        got.append(await t.recv_batch())
        a.feed([])
        b.feed([])
        got.append(await t.recv_batch())
        return got

    assert run(main()) == [[(b"a1", TEXT | CONTINUES)], [(b"a2", TEXT)], [(b"b", BINARY)], []]


def test_reading_ends_when_every_node_has_or_at_the_first_with_propagate_eof() -> None:
    async def main() -> tuple[list[Message], list[Message]]:
        a, b = Node(), Node()
        t = tee(a, [b])
        a.feed([])
        b.feed([(b"still here", BINARY)])
        first = await t.recv_batch()
        b.feed([])
        assert await t.recv_batch() == []
        c, d = Node(), Node()
        eager = tee(c, [d], propagate_eof=True)
        d.feed([])
        return first, await eager.recv_batch()

    assert run(main()) == ([(b"still here", BINARY)], [])


def test_a_failed_reader_is_dropped_unless_it_is_the_last() -> None:
    async def main() -> list[Message]:
        a, b = Node(), Node()
        t = tee(a, [b])
        a.feed(OSError("gone"))
        await asyncio.sleep(0)
        b.feed([(b"b", BINARY)])
        got = await t.recv_batch()
        b.feed(OSError("gone too"))
        with pytest.raises(OSError, match="gone too"):
            await t.recv_batch()
        return got

    assert run(main()) == [(b"b", BINARY)]


@pytest.mark.parametrize("ending", [[], OSError("reset")])
def test_a_torn_message_ends_reading_unless_tolerated(ending: list[Message] | Exception) -> None:
    async def main(tolerate: bool) -> list[list[Message]]:
        a, b = Node(), Node()
        t = tee(a, [b], tolerate_torn_msgs=tolerate)
        a.feed([(b"half", TEXT | CONTINUES)])
        got = [await t.recv_batch()]
        a.feed(ending)
        try:
            got.append(await t.recv_batch())
        except OSError:
            got.append([(b"raised", 0)])
        if tolerate:
            b.feed([(b"b", BINARY)])
            got.append(await t.recv_batch())
        return got

    strict = [(b"raised", 0)] if isinstance(ending, Exception) else []
    assert run(main(False)) == [[(b"half", TEXT | CONTINUES)], strict]
    assert run(main(True)) == [[(b"half", TEXT | CONTINUES)], [(b"", TEXT)], [(b"b", BINARY)]]


def test_hangups() -> None:
    async def main() -> None:
        a, b = Node(), Node()
        assert tee(a, [b]).hangup is None  # by default a node's hangup is not the tee's
        first = tee(a, [b], use_first_hangup=True)
        assert first.hangup is a.hangup
        anyone = tee(a, [b], use_hangups=True)
        assert anyone.hangup is not None and not anyone.hangup.is_set()
        b.hangup.set()
        await asyncio.wait_for(anyone.hangup.wait(), 1)
        await anyone.aclose()

    run(main())
