"""broadcast: (websocat v1's BroadcastReuser): one message socket shared by every
session, whose every message goes to every session.

It is reuse-raw: (runtime/overlays/reuse.py) with another read side: the script's
``main()`` holds a `Broadcaster` (``async with broadcast.listener(upstream2) as
broadcaster2``), each session takes its view (``async with broadcast.connect(broadcaster2)``),
and the first session to connect opens the shared socket.  Writes are reuse-raw:'s: a
session holds the socket from a message's first fragment to its final one.

Reads: one task reads the shared socket and hands each batch to every connected session,
which takes it from its own queue.  A session joining in the middle of a message gets the
messages after it.  Messages are dropped while no session is connected.  A session that
falls ``queue_len`` messages behind (--broadcast-queue-len) is dropped: one line on
stderr, its queue emptied, and it reads EOF, so that the others never wait for it and
memory stays bounded.  EOF of the shared socket reaches every session.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

from websocat.runtime.overlays.reuse import Reuser, ReuserClient, Slot, after_message
from websocat.runtime.running import describe_error, report
from websocat.runtime.sockets import CONTINUES, CONTROL, Message, MessageSocket, opening

__all__ = ["Broadcaster", "BroadcastClient", "DEFAULT_QUEUE_LEN", "Slot", "connect", "listener"]

DEFAULT_QUEUE_LEN = 16  # websocat v1's --queue-len default


class Broadcaster(Reuser):
    """The shared state of broadcast: for all sessions."""

    def __init__(
        self,
        upstream: Callable[..., Coroutine[Any, Any, None]],
        args: tuple[Any, ...],
        tolerate_torn_msgs: bool,
        queue_len: int,
    ) -> None:
        super().__init__(upstream, args, tolerate_torn_msgs)
        self.queue_len = queue_len
        self.clients: set[BroadcastClient] = set()
        self.numbers = itertools.count(1)
        self.in_message = False  # the last message handed out was not a final fragment
        self.ended = False
        self._pump: asyncio.Task[None] | None = None

    async def shared(self) -> MessageSocket:
        sock = await super().shared()
        if self._pump is None or self._pump.done():
            self.ended = False
            self._pump = asyncio.create_task(self._fan_out(sock))
        return sock

    async def _fan_out(self, sock: MessageSocket) -> None:
        """Read the shared socket until EOF; every batch to every session."""
        try:
            while batch := await sock.recv_batch():
                for client in list(self.clients):
                    client.deliver(batch)
                last = next((flags for _data, flags in reversed(batch) if not flags & CONTROL), None)
                if last is not None:
                    self.in_message = bool(last & CONTINUES)
        except Exception as exc:  # noqa: BLE001 - said once; every session then reads EOF
            report(f"broadcast: the shared connection failed: {describe_error(exc)[0]}")
        finally:
            self.ended = True
            for client in self.clients:
                client.wake.set()

    async def aclose(self, ending: BaseException | None = None) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None
        await super().aclose(ending)


class BroadcastClient(ReuserClient):
    """One session's view: the shared socket's messages, from this session's queue."""

    name = "broadcast:"

    def __init__(self, broadcaster: Broadcaster, sock: MessageSocket) -> None:
        super().__init__(broadcaster, sock)
        self.broadcaster = broadcaster
        self.number = next(broadcaster.numbers)
        self.pending: list[Message] = []
        self.wake = asyncio.Event()
        self.skipping = broadcaster.in_message  # joined mid-message: from the next one on
        self.dropped = False
        broadcaster.clients.add(self)

    def deliver(self, batch: list[Message]) -> None:
        """Queue a batch of the shared socket's messages for this session."""
        if self.skipping:
            batch, found = after_message(batch)
            self.skipping = not found
            if not batch:
                return
        if len(self.pending) >= self.broadcaster.queue_len:
            self._drop()
            return
        self.pending += batch
        self.wake.set()

    def _drop(self) -> None:
        report(
            f"broadcast: session {self.number} fell {len(self.pending)} messages behind"
            " (--broadcast-queue-len): dropped"
        )
        self.dropped = True
        self.pending = []
        self.broadcaster.clients.discard(self)
        self.wake.set()

    async def recv_batch(self) -> list[Message]:
        while not self.pending:
            if self.dropped or self.broadcaster.ended:
                return []
            self.wake.clear()
            await self.wake.wait()
        batch, self.pending = self.pending, []
        return batch

    async def aclose(self) -> None:
        self.broadcaster.clients.discard(self)
        await self._leave_message()  # a message it was writing is torn, as in reuse-raw:


@opening
async def connect(broadcaster: Broadcaster) -> BroadcastClient:
    """This session's view of the shared socket of broadcast: (opened by the first session)."""
    return BroadcastClient(broadcaster, await broadcaster.shared())


def listener(
    upstream: Callable[..., Coroutine[Any, Any, None]],
    *args: Any,
    tolerate_torn_msgs: bool = False,
    queue_len: int = DEFAULT_QUEUE_LEN,
) -> Broadcaster:
    """Share one message socket among all sessions and send its messages to every one
    (broadcast:): ``upstream(slot, *args)`` opens it, once, when the first session
    connects.  A session ``queue_len`` messages behind is dropped.  Use it with ``async
    with``, which closes the socket."""
    return Broadcaster(upstream, args, tolerate_torn_msgs, queue_len)
