"""autoreconnect: and foreachmsg: (websocat v1's overlays): the stack under them opened again.

The script holds the stack under the overlay in a coroutine of its own,
``async def connect2(slot: reconnect.Slot, ...)``, which opens it and hands the socket over
with ``await slot.use(sock)``; ``use`` returns when the overlay is done with that
connection, so the coroutine's ``async with`` blocks close it.  The overlay runs the
coroutine again for each connection it needs:

- `autoreconnect` (autoreconnect:): whenever the connection fails or ends, after a delay
  that doubles from ``delay_millis`` up to ``max_delay_millis``, with jitter from the
  runtime's random source (--random-seed makes it reproducible).  ``max_attempts`` failed
  openings in a row end the session with one line.
- `foreachmsg` (foreachmsg:): one connection per message written.

Messages are never torn across connections.  Writing: a message is handed whole to one
connection or not at all; a write that fails is sent again on the next connection (the
batch it was in too), unless it began in the middle of a message, whose remaining
fragments are then dropped.  What a connection accepted before its peer went away is
lost: nothing acknowledges it.  Reading: a fragmented message is passed on once its final
fragment arrived; the fragments of one cut by a lost connection are dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Self

from websocat.runtime import rng
from websocat.runtime.copying import _preamble_messages
from websocat.runtime.errors import ConnectError, WebsocatError, os_error_text
from websocat.runtime.running import report
from websocat.runtime.sockets import CONTINUES, CONTROL, Message, MessageSocket

__all__ = ["AutoReconnect", "ForEachMessage", "Slot", "autoreconnect", "foreachmsg"]

Opener = Callable[..., Coroutine[Any, Any, None]]
FAILURES = (OSError, EOFError, WebsocatError)  # what ends one connection, not the session
CLOSE_WAIT = 1.0  # seconds a connection given up on may take to close before it is cancelled


class Slot:
    """What the coroutine opening the inner stack hands its socket to."""

    def __init__(self) -> None:
        self.socket: asyncio.Future[MessageSocket] = asyncio.get_running_loop().create_future()
        self.done = asyncio.Event()

    async def use(self, sock: MessageSocket) -> None:
        """Give ``sock`` to the overlay; returns when it is done with it, so that the
        ``async with`` blocks around this call close it."""
        if not self.socket.done():
            self.socket.set_result(sock)
        await self.done.wait()


class Connection:
    """One opening of the inner stack: its socket and the task holding it open."""

    def __init__(self, sock: MessageSocket, slot: Slot, task: asyncio.Task[None]) -> None:
        self.sock, self.slot, self.task = sock, slot, task

    async def close(self) -> None:
        self.slot.done.set()
        done, _pending = await asyncio.wait({self.task}, timeout=CLOSE_WAIT)
        if not done:
            self.task.cancel()
            await asyncio.wait({self.task})
        if not self.task.cancelled():
            self.task.exception()  # retrieved: how a connection given up on ended matters no more


async def open_once(opener: Opener, args: tuple[Any, ...], slot: Slot | None = None) -> Connection:
    """Run ``opener(slot, *args)`` until it hands its socket over; its failure is raised.
    ``slot``: a `Slot` carrying more for the opener (redirects.Hop); a new one if None."""
    slot = Slot() if slot is None else slot
    task = asyncio.create_task(opener(slot, *args))
    waiting: set[asyncio.Future[Any]] = {slot.socket, task}
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not slot.socket.done():
        task.result()  # its own error: could not connect, bad handshake, ...
        raise ConnectError("the connection ended before it was opened")
    return Connection(slot.socket.result(), slot, task)


def _why(exc: BaseException | None) -> str:
    if exc is None:
        return "the connection ended"
    if isinstance(exc, WebsocatError):
        return exc.message
    if isinstance(exc, OSError):
        return os_error_text(exc)
    return str(exc) or type(exc).__name__


def _split_incomplete(batch: list[Message]) -> int:
    """Where the fragments of a message not finished in ``batch`` begin (len(batch): none)."""
    end = len(batch)
    for at in range(end - 1, -1, -1):
        flags = batch[at][1]
        if flags & CONTROL:
            continue
        if not flags & CONTINUES:
            return end if at == end - 1 or _only_control(batch, at + 1) else at + 1
        end = at  # a fragment: the message begins here or before
    return end


def _only_control(batch: list[Message], start: int) -> bool:
    return all(flags & CONTROL for _data, flags in batch[start:])


def _after_message(batch: list[Message]) -> tuple[list[Message], bool]:
    """``batch`` without the fragments of a message begun before it, and whether its end was there."""
    for at, (_data, flags) in enumerate(batch):
        if not flags & CONTROL and not flags & CONTINUES:
            return batch[at + 1 :], True
    return [], False


class AutoReconnect(MessageSocket):
    """A message socket over connections opened one after another (autoreconnect:)."""

    name = "autoreconnect:"
    half_close = True

    def __init__(
        self,
        opener: Opener,
        args: tuple[Any, ...],
        *,
        delay_millis: int,
        max_delay_millis: int,
        max_attempts: int | None,
        preamble: Sequence[str | bytes],
        verbose: bool,
    ) -> None:
        self.opener, self.args = opener, args
        self.delay_millis, self.max_delay_millis, self.max_attempts = delay_millis, max_delay_millis, max_attempts
        self.preamble = _preamble_messages(preamble)
        self.verbose = verbose
        self.conn: Connection | None = None
        self.generation = 0  # counts connections: a failure seen on an old one is not news
        self.failures = 0  # openings failed, or connections that carried nothing, in a row
        self.carried = False  # the current connection carried a message
        self.closed = False
        self.eof_sent = False
        self._lock = asyncio.Lock()
        self._held: list[Message] = []  # fragments of a message read but not finished
        self._skip_rest = False  # the rest of a message cut by a reconnect is not sent
        self._writing_mid = False  # the last batch sent ended in the middle of a message

    async def __aenter__(self) -> Self:
        await self._connect(None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _current(self) -> tuple[MessageSocket, int]:
        while self.conn is None:
            await self._reconnect(self.generation, None)
        return self.conn.sock, self.generation

    async def _reconnect(self, generation: int, exc: BaseException | None) -> None:
        """Replace connection number ``generation`` (if it still is the current one)."""
        async with self._lock:
            if generation != self.generation or self.closed:
                return
            old, self.conn = self.conn, None
            if old is not None:
                lost = f"; {len(self._held)} fragments of a message being read dropped" if self._held else ""
                report(f"autoreconnect: connection lost ({_why(exc)}){lost}; reconnecting")
                self._held = []
                if self._writing_mid:
                    self._skip_rest, self._writing_mid = True, False
                await old.close()
            if not self.carried:
                self.failures += 1
            await self._connect(exc)

    def _delay(self) -> float:
        """Seconds before the next attempt: doubling from --autoreconnect-delay-millis up to
        --autoreconnect-max-delay-millis, with half of it random (seeded by --random-seed)."""
        if self.failures == 0:
            return self.delay_millis / 1000
        exponent = min(self.failures - 1, 30)
        full = min(self.max_delay_millis, self.delay_millis * (1 << exponent))
        return (full / 2 + full / 2 * rng.fraction()) / 1000

    async def _connect(self, exc: BaseException | None) -> None:
        """Open the inner stack, after a delay when this is not the first opening; gives up
        after ``max_attempts`` failures in a row."""
        first = self.generation == 0 and exc is None and self.conn is None and self.failures == 0
        while True:
            if not first:
                await asyncio.sleep(self._delay())
            first = False
            try:
                conn = await open_once(self.opener, self.args)
                if self.preamble and self.generation > 0:
                    await conn.sock.send_batch(self.preamble)  # -p again: the exchange sent it to the first
            except FAILURES as failed:
                self.failures += 1
                if self.max_attempts is not None and self.failures >= self.max_attempts:
                    raise ConnectError(
                        f"autoreconnect: gave up after {self.failures} failed attempts in a row: {_why(failed)}"
                    ) from None
                if self.verbose:
                    report(f"autoreconnect: attempt {self.failures} failed: {_why(failed)}")
                continue
            self.conn, self.carried = conn, False
            self.generation += 1
            if self.generation > 1 and self.verbose:
                report(f"autoreconnect: connection {self.generation} open")
            self.readable, self.writable = conn.sock.readable, conn.sock.writable
            self.half_close = getattr(conn.sock, "half_close", True)  # a WebSocket's Close ends both ways
            return

    def _carried(self) -> None:
        if not self.carried:
            self.carried, self.failures = True, 0

    async def recv_batch(self) -> list[Message]:
        while not self.closed:
            sock, generation = await self._current()
            try:
                batch = await sock.recv_batch()
            except FAILURES as exc:
                if self.eof_sent:
                    return []  # nothing more to send: a lost connection is the end
                await self._reconnect(generation, exc)
                continue
            if not batch:
                if self.eof_sent:
                    return []  # the end we asked for: our EOF was answered
                await self._reconnect(generation, None)
                continue
            if generation != self.generation:
                continue  # read from a connection given up on while waiting
            self._carried()
            if self._held:
                batch = self._held + batch
                self._held = []
            cut = _split_incomplete(batch)
            if cut < len(batch):
                self._held = batch[cut:]
                batch = batch[:cut]
                if not batch:
                    continue
            return batch
        return []

    async def send_batch(self, batch: list[Message]) -> None:
        while not self.closed:
            if self._skip_rest:
                batch, found = _after_message(batch)
                if not found:
                    return
                self._skip_rest = False
                if not batch:
                    return
            sock, generation = await self._current()
            if sock.hangup is not None and sock.hangup.is_set():
                await self._reconnect(generation, None)  # the peer went away: not this one
                continue
            try:
                await sock.send_batch(batch)
            except FAILURES as exc:
                await self._reconnect(generation, exc)
                continue  # sent again whole on the next connection (or its rest dropped)
            self._carried()
            last = next((flags for _data, flags in reversed(batch) if not flags & CONTROL), None)
            if last is not None:
                self._writing_mid = bool(last & CONTINUES)
            return

    async def send_eof(self) -> None:
        """Our EOF goes to the current connection; after it, that connection's end (or
        loss) is the end: there is nothing left to send again."""
        self.eof_sent = True
        if self.conn is not None:
            try:
                await self.conn.sock.send_eof()
            except FAILURES:
                pass

    async def aclose(self) -> None:
        self.closed = True
        conn, self.conn = self.conn, None
        if conn is not None:
            await conn.close()


class ForEachMessage(MessageSocket):
    """A message socket that opens a new connection for each message written (foreachmsg:)."""

    name = "foreachmsg:"

    def __init__(self, opener: Opener, args: tuple[Any, ...], *, wait_read: bool) -> None:
        self.opener, self.args, self.wait_read = opener, args, wait_read
        self._parts: list[Message] = []  # fragments of the message being written
        self._replies: asyncio.Queue[list[Message]] = asyncio.Queue()
        self.readable = wait_read  # replies are read only with --foreachmsg-wait-read
        self._eof = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def send_batch(self, batch: list[Message]) -> None:
        parts = self._parts
        for message in batch:
            if message[1] & CONTROL:
                continue  # pings and the like are between this side and its peer
            parts.append(message)
            if not message[1] & CONTINUES:
                self._parts = []
                await self._deliver(parts)
                parts = self._parts

    async def _deliver(self, message: list[Message]) -> None:
        """Open a connection, write the message whole, end it, (read the replies), close it."""
        conn = await open_once(self.opener, self.args)
        sock = conn.sock
        try:
            await sock.send_batch(message)
            reading = self.wait_read and sock.readable
            if not reading or getattr(sock, "half_close", True):
                await sock.send_eof()  # not to a WebSocket read from: its Close would end both ways
            if reading:
                while batch := await sock.recv_batch():
                    await self._replies.put(batch)
        finally:
            await conn.close()

    async def recv_batch(self) -> list[Message]:
        if self._eof and self._replies.empty():
            return []
        batch = await self._replies.get()
        if not batch:
            self._eof = True
        return batch

    async def send_eof(self) -> None:
        """No more messages: reading ends once the replies are passed on."""
        self._replies.put_nowait([])

    async def aclose(self) -> None:
        self._replies.put_nowait([])


def autoreconnect(
    opener: Opener,
    *args: Any,
    delay_millis: int = 20,
    max_delay_millis: int = 5000,
    max_attempts: int | None = None,
    preamble: Sequence[str | bytes] = (),
    verbose: bool = False,
) -> AutoReconnect:
    """A message socket over ``opener(slot, *args)``'s connections, opened again whenever one
    fails or ends (autoreconnect:).  ``preamble``: -p's messages, sent again on each new
    connection.  Use it with ``async with``: it opens the first connection."""
    return AutoReconnect(
        opener,
        args,
        delay_millis=delay_millis,
        max_delay_millis=max_delay_millis,
        max_attempts=max_attempts,
        preamble=preamble,
        verbose=verbose,
    )


def foreachmsg(opener: Opener, *args: Any, wait_read: bool = False) -> ForEachMessage:
    """A message socket that runs ``opener(slot, *args)`` for each message written, sends
    it that message whole and closes it (``wait_read``: after reading its replies until
    EOF, which are what this socket gives)."""
    return ForEachMessage(opener, args, wait_read=wait_read)
