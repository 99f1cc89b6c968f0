"""reuse-raw: (websocat4's SimpleReuser): one message socket shared by every session.

The script's ``main()`` holds a `Reuser` (``async with reuse.listener(upstream2) as
reuser2``); each session takes its own view of it (``async with reuse.connect(reuser2)``).
The first session to connect runs ``upstream2(slot)``, the coroutine that opens the stack
under reuse-raw: and hands its socket over with ``await slot.share(sock)``; the socket
stays open, for later sessions too, until main() leaves the ``async with``.  An opening
that fails fails that session only; the next one tries again (websocat4's
``connect_again``).

What the sessions share, as websocat4 does:

- Writes: a session holds the socket from the first fragment of a message to its final
  one, so messages never interleave mid-message.  A session's EOF is not passed on.  A
  session that leaves in the middle of a message tears it: by default the socket's
  writing is shut down (EOF sent) and every later write fails with one line;
  ``tolerate_torn_msgs`` (--reuser-tolerate-torn-msgs) ends the message with an empty
  final fragment instead (a trimmed message) and goes on.
- Reads: each batch read goes to one session, whichever asked first (a fragmented
  message to the same session until its final fragment).  The rest of a message whose
  reader left is dropped.  EOF from the socket reaches every session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Self

from websocat.runtime.errors import ProtocolError
from websocat.runtime.running import report
from websocat.runtime.sockets import CONTINUES, CONTROL, Message, MessageSocket, opening

__all__ = ["Reuser", "ReuserClient", "Slot", "after_message", "connect", "listener"]

TORN = "reuse-raw: a session left in the middle of a message, so the shared connection takes no more writes"
TORN_HINT = " (--reuser-tolerate-torn-msgs: trim such a message instead)"


class Slot:
    """What the upstream coroutine hands the socket to share to."""

    def __init__(self) -> None:
        self.socket: asyncio.Future[MessageSocket] = asyncio.get_running_loop().create_future()
        self.closing = asyncio.Event()

    async def share(self, sock: MessageSocket) -> None:
        """Give ``sock`` to every session; returns when the listener closes, so that the
        ``async with`` blocks around this call close it then."""
        if not self.socket.done():
            self.socket.set_result(sock)
        await self.closing.wait()


def _in_message(batch: list[Message]) -> int | None:
    """The flags of the last data message of ``batch`` if it is not a final fragment."""
    for _data, flags in reversed(batch):
        if not flags & CONTROL:
            return flags if flags & CONTINUES else None
    return None


def after_message(batch: list[Message]) -> tuple[list[Message], bool]:
    """``batch`` without the fragments of a message begun before it (control messages
    kept), and whether that message's final fragment was in it."""
    for at, (_data, flags) in enumerate(batch):
        if not flags & CONTROL and not flags & CONTINUES:
            return [m for m in batch[: at + 1] if m[1] & CONTROL] + batch[at + 1 :], True
    return [m for m in batch if m[1] & CONTROL], False


class Reuser:
    """The shared state of reuse-raw: for all sessions (websocat4's SimpleReuserListener)."""

    def __init__(
        self, upstream: Callable[..., Coroutine[Any, Any, None]], args: tuple[Any, ...], tolerate_torn_msgs: bool
    ) -> None:
        self.upstream = upstream
        self.args = args
        self.tolerate_torn_msgs = tolerate_torn_msgs
        self.sock: MessageSocket | None = None
        self._slot: Slot | None = None
        self._task: asyncio.Task[None] | None = None
        self._opening = asyncio.Lock()
        self.read_lock = asyncio.Lock()  # held by the session reading, until a message's final fragment
        self.write_lock = asyncio.Lock()  # held by the session writing, until a message's final fragment
        self.read_eof = False
        self.discard = False  # drop the rest of a message whose reader left
        self.write_closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        await self.aclose(exc)

    async def shared(self) -> MessageSocket:
        """The shared socket, opened now by the first caller (and again after a failure)."""
        async with self._opening:
            if self.sock is not None:
                return self.sock
            slot = Slot()
            task = asyncio.create_task(self.upstream(slot, *self.args))
            try:
                waiting: set[asyncio.Future[Any]] = {slot.socket, task}
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                task.cancel()
                raise
            if not slot.socket.done():
                task.result()  # the upstream's own error: could not connect, ...
                raise ProtocolError("reuse-raw: the connection to share ended before it was opened")
            self.sock, self._slot, self._task = slot.socket.result(), slot, task
            return self.sock

    async def torn(self, flags: int) -> None:
        """A session left in the middle of writing a message with these flags."""
        assert self.sock is not None
        try:
            if self.tolerate_torn_msgs:
                report("warning: reuse-raw: a session left in the middle of a message; it was sent trimmed")
                await self.sock.send_batch([(b"", flags & ~CONTINUES)])
                return
            report("warning: " + TORN + TORN_HINT)
            self.write_closed = True
            await self.sock.send_eof()
        except OSError:
            pass  # the shared connection is gone too: nothing is left to mend or shut

    async def aclose(self, ending: BaseException | None = None) -> None:
        """Close the shared socket: the upstream coroutine's blocks close it, as after
        ``ending`` (cancelled by SIGTERM, say: a WebSocket is closed with 1001)."""
        if self._slot is not None and self._task is not None:
            if ending is None:
                self._slot.closing.set()
            else:
                self._task.cancel()
            await asyncio.wait({self._task})  # how it ended matters no more: the sessions are over
            if not self._task.cancelled():
                self._task.exception()  # retrieved, so asyncio does not log it
        self._slot = self._task = None
        self.sock = None


class ReuserClient(MessageSocket):
    """One session's view of the shared socket."""

    name = "reuse-raw:"
    shared = True  # exchange: a session whose other side hung up stops reading at once

    def __init__(self, reuser: Reuser, sock: MessageSocket) -> None:
        self.reuser = reuser
        self.sock = sock
        self.readable = sock.readable
        self.writable = sock.writable
        self.hangup = sock.hangup
        self._reading = False  # holds the read lock
        self._mid_read = False  # ... in the middle of a message
        self._writing: int | None = None  # holds the write lock in a message with these flags
        self._holds_write = False

    async def recv_batch(self) -> list[Message]:
        r = self.reuser
        if not self._reading:
            await r.read_lock.acquire()
            self._reading = True
        while True:
            if r.read_eof:
                self._release_read()
                return []
            try:
                batch = await self.sock.recv_batch()
            except BaseException:
                if not self._mid_read:
                    self._release_read()  # cancelled (its session ends): others read on
                raise
            if not batch:
                r.read_eof = True
                self._release_read()
                return []
            if r.discard:
                batch = self._drop_torn(batch)
                if not batch:
                    continue
            self._mid_read = _in_message(batch) is not None
            if not self._mid_read:
                self._release_read()
            return batch

    def _drop_torn(self, batch: list[Message]) -> list[Message]:
        """The batch without the fragments left of a message whose reader left."""
        rest, found = after_message(batch)
        if found:
            self.reuser.discard = False
        return rest

    def _release_read(self) -> None:
        self._mid_read = False
        if self._reading:
            self._reading = False
            self.reuser.read_lock.release()

    async def send_batch(self, batch: list[Message]) -> None:
        r = self.reuser
        if not self._holds_write:
            await r.write_lock.acquire()
            self._holds_write = True
        if r.write_closed:
            self._writing = None
            self._release_write()
            raise ProtocolError(TORN + TORN_HINT)
        await self.sock.send_batch(batch)
        self._writing = _in_message(batch)
        if self._writing is None:
            self._release_write()

    def _release_write(self) -> None:
        if self._holds_write:
            self._holds_write = False
            self.reuser.write_lock.release()

    async def send_eof(self) -> None:
        """A session's EOF is not passed on: the socket is shared.  One that ends in the
        middle of a message tears it."""
        await self._leave_message()

    async def _leave_message(self) -> None:
        flags, self._writing = self._writing, None
        try:
            if flags is not None and not self.reuser.write_closed:
                await self.reuser.torn(flags)
        finally:
            self._release_write()

    async def aclose(self) -> None:
        """Leave: the locks go to the other sessions; the shared socket stays open."""
        if self._mid_read:
            self.reuser.discard = True  # the rest of the message it was reading goes nowhere
        self._release_read()
        await self._leave_message()


@opening
async def connect(reuser: Reuser) -> ReuserClient:
    """This session's view of the shared socket of reuse-raw: (opened by the first session)."""
    return ReuserClient(reuser, await reuser.shared())


def listener(
    upstream: Callable[..., Coroutine[Any, Any, None]], *args: Any, tolerate_torn_msgs: bool = False
) -> Reuser:
    """Share one message socket among all sessions (reuse-raw:): ``upstream(slot, *args)``
    opens it, once, when the first session connects, and hands it over with
    ``await slot.share(sock)``.  Use it with ``async with``, which closes the socket."""
    return Reuser(upstream, args, tolerate_torn_msgs)
