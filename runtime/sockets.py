"""Stream and datagram sockets: the two kinds every endpoint and overlay speaks.

A *stream socket* carries bytes: a read half, a write half and an optional hangup
signal.  A *datagram socket* carries messages, each a ``(data, flags)`` tuple whose
flags say text or binary, whether more fragments follow, and whether it is a control
message.  Either half of a socket may be missing (an *incomplete* socket): ``readable``
and ``writable`` say which halves exist.

Hot paths move whole batches: ``ByteStream.read`` returns everything buffered (up to
``max_bytes``), ``MessageSocket.recv_batch`` returns every message a read produced and
``send_batch`` writes them in one go.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Generator
from typing import Any, ClassVar, Generic, ParamSpec, TypeVar

__all__ = [
    "BINARY",
    "CLOSE",
    "CONTINUES",
    "CONTROL",
    "DEFAULT_READ",
    "PING",
    "PONG",
    "TEXT",
    "ByteStream",
    "Message",
    "MessageSocket",
    "Opening",
    "Socket",
    "StreamProtocol",
    "TransportStream",
    "UnsupportedDirection",
    "opening",
]

# -- message flags ---------------------------------------------------------------
# A message is a plain tuple (data, flags): creating one costs ~50 ns, a dataclass 4x that.
TEXT = 1  # text message (UTF-8); without TEXT or a control bit a message is binary
BINARY = 0
CONTINUES = 2  # not the final fragment: more fragments of this message follow
PING = 4
PONG = 8
CLOSE = 16
CONTROL = PING | PONG | CLOSE

Message = tuple[bytes, int]

DEFAULT_READ = 1 << 16  # 64 KiB: below glibc's mmap threshold, so buffers are reused, not mapped per read


class ByteStream:
    """A stream socket: ``read`` returns b"" at EOF; ``write_eof`` shuts the write half.

    ``managed``: the script opened it with ``async with``, which closes it; the copy
    loops then leave it open, for code after the exchange.
    """

    managed: bool = False

    readable: bool = True
    writable: bool = True
    hangup: asyncio.Event | None = None
    name: ClassVar[str] = "stream"

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        """Up to ``max_bytes`` bytes, as soon as some are there; b"" at EOF."""
        raise UnsupportedDirection(f"{self.name} cannot be read")

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Write all of ``data``; waits while the peer is slow to read."""
        raise UnsupportedDirection(f"{self.name} cannot be written")

    async def write_eof(self) -> None:
        """Shut down the write half; reading goes on."""

    async def aclose(self) -> None:
        """Release the socket; idempotent."""

    async def __aenter__(self) -> ByteStream:
        self.managed = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class MessageSocket:
    """A datagram socket: ``recv_batch`` returns [] at EOF; ``send_eof`` ends sending.

    ``managed``: as for ByteStream.
    """

    managed: bool = False

    readable: bool = True
    writable: bool = True
    hangup: asyncio.Event | None = None
    name: ClassVar[str] = "datagrams"
    # Messages sent come back on receive, unchanged (mirror:): a session between a socket
    # and this one may have the socket echo its own messages (echo_back) instead.
    mirrors: ClassVar[bool] = False

    async def recv_batch(self) -> list[Message]:
        """Every message one read produced (at least one); [] at EOF."""
        raise UnsupportedDirection(f"{self.name} cannot be read")

    async def send_batch(self, batch: list[Message]) -> None:
        """Send messages in order, in one write where the socket allows."""
        raise UnsupportedDirection(f"{self.name} cannot be written")

    async def recv(self) -> Message | None:
        """One message, or None at EOF (convenience for edited scripts; slower)."""
        pending = getattr(self, "_pending", None)
        if not pending:
            pending = await self.recv_batch()
            if not pending:
                return None
            pending.reverse()
            self._pending = pending
        return pending.pop()

    async def send(self, data: bytes, flags: int = BINARY) -> None:
        """Send one message (``flags``: TEXT, BINARY, ...)."""
        await self.send_batch([(data, flags)])

    async def send_eof(self) -> None:
        """No more messages will be sent."""

    async def echo_back(self) -> None:
        """Send every message received back, until EOF: a session with a mirror, in one loop.

        A socket may do it faster (a WebSocket over TCP answers inside the data callback).
        """
        recv, send = self.recv_batch, self.send_batch
        while True:
            batch = await recv()
            if not batch:
                break
            await send(batch)

    async def aclose(self) -> None:
        """Release the socket; idempotent."""

    async def __aenter__(self) -> MessageSocket:
        self.managed = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


Socket = ByteStream | MessageSocket


class UnsupportedDirection(Exception):
    """A half of an incomplete socket was used."""


class StreamProtocol(asyncio.Protocol):
    """An asyncio protocol that exposes its transport as a ByteStream.

    Reads hand over whole chunks as asyncio delivered them (no copy when one chunk is
    waiting); writes go straight to the transport and wait only when its buffer passes
    the high-water mark.
    """

    def __init__(
        self, read_limit: int = 4 * DEFAULT_READ, on_made: Callable[[StreamProtocol], None] | None = None
    ) -> None:
        self.transport: asyncio.BaseTransport | None = None
        self._on_made = on_made
        # When set, incoming bytes go straight to this callback (b"" at EOF) instead of
        # the read buffer: a consumer that answers inside the event loop's callback.
        self.feed: Callable[[bytes], None] | None = None
        self._chunks: list[bytes] = []
        self._size = 0
        self._limit = read_limit
        self._eof = False
        self._error: BaseException | None = None
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused_reading = False
        self._write_paused = False
        self.closed = asyncio.Event()

    # -- asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if getattr(transport, "max_size", 0) > DEFAULT_READ:
            # asyncio reads 256 KiB at a time; glibc maps and unmaps each such buffer
            # (page faults, system time), while 64 KiB ones are reused from the heap.
            transport.max_size = DEFAULT_READ  # type: ignore[attr-defined]
        if self._on_made is not None:
            self._on_made(self)  # e.g. a listener starting the session: the transport is ready

    def data_received(self, data: bytes) -> None:
        if self.feed is not None:
            self.feed(data)
            return
        self._chunks.append(data)
        self._size += len(data)
        if self._size > self._limit and not self._paused_reading:
            try:
                self.transport.pause_reading()  # type: ignore[union-attr]
                self._paused_reading = True
            except (AttributeError, RuntimeError):
                pass
        self._wake_reader()

    def eof_received(self) -> bool:
        self._eof = True
        if self.feed is not None:
            self.feed(b"")
        self._wake_reader()
        return True  # keep the write half open

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        if exc is not None and self._error is None:
            self._error = exc
        if self.feed is not None:
            self.feed(b"")
        self._wake_reader()
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)
        self.closed.set()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self.feed is not None and self._paused_reading:
            self._paused_reading = False
            self.transport.resume_reading()  # type: ignore[union-attr]
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def unread(self, data: bytes) -> None:
        """Put ``data`` back in front of what ``read`` returns next (bytes a handshake read past its end)."""
        if data:
            self._chunks.insert(0, data)
            self._size += len(data)

    def take_buffered(self) -> tuple[list[bytes], bool]:
        """Hand over what was received but not read yet, and whether EOF came (for a feed consumer)."""
        chunks, self._chunks = self._chunks, []
        self._size = 0
        if self._paused_reading and self.transport is not None:
            self._paused_reading = False
            self.transport.resume_reading()  # type: ignore[attr-defined]
        return chunks, self._eof

    def pause_reading_until_drained(self) -> None:
        """For a feed consumer: stop reading while the peer does not read our replies."""
        if self._write_paused and not self._paused_reading:
            self._paused_reading = True
            self.transport.pause_reading()  # type: ignore[union-attr]

    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- ByteStream half
    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        while not self._chunks:
            if self._eof:
                if self._error is not None and not isinstance(self._error, ConnectionResetError):
                    raise self._error
                return b""
            self._read_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._read_waiter
            finally:
                self._read_waiter = None
        chunks = self._chunks
        if len(chunks) == 1 and len(chunks[0]) <= max_bytes:
            data = chunks[0]
            chunks.clear()
        else:
            joined = b"".join(chunks)
            data, rest = joined[:max_bytes], joined[max_bytes:]
            chunks.clear()
            if rest:
                chunks.append(rest)
        self._size -= len(data)
        if self._paused_reading and self._size <= self._limit // 2:
            self._paused_reading = False
            self.transport.resume_reading()  # type: ignore[union-attr]
        return data

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            if self._error is not None:
                raise self._error
            raise ConnectionResetError("connection closed")
        transport.write(data)  # type: ignore[attr-defined]
        if self._write_paused:
            await self._drain()

    async def _drain(self) -> None:
        while self._write_paused and not self.closed.is_set():
            self._drain_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._drain_waiter
            finally:
                self._drain_waiter = None

    async def write_eof(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._write_paused:
            await self._drain()
        if transport.can_write_eof():  # type: ignore[attr-defined]
            transport.write_eof()  # type: ignore[attr-defined]
        else:
            transport.close()

    async def aclose(self) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.close()
        if transport is not None and not self.closed.is_set():
            try:
                await asyncio.wait_for(self.closed.wait(), 5)
            except TimeoutError:
                transport.abort()  # type: ignore[attr-defined]


class TransportStream(ByteStream):
    """ByteStream facade over a StreamProtocol (one object per connection)."""

    name = "connection"

    def __init__(self, protocol: StreamProtocol, peer: str = "") -> None:
        self.protocol = protocol
        self.peer = peer
        self.read = protocol.read  # type: ignore[method-assign]
        self.write = protocol.write  # type: ignore[method-assign]
        self.write_eof = protocol.write_eof  # type: ignore[method-assign]
        self.aclose = protocol.aclose  # type: ignore[method-assign]
        self.hangup = protocol.closed  # the connection is gone (reset, or closed both ways)


T = TypeVar("T", ByteStream, MessageSocket)
P = ParamSpec("P")


class Opening(Generic[T]):
    """What an opening function returns: ``await`` it for the socket, or enter it with
    ``async with`` to have the socket closed (its ``__aexit__``) when the block is left."""

    __slots__ = ("_opening", "_socket")

    def __init__(self, opening: Coroutine[Any, Any, T]) -> None:
        self._opening: Coroutine[Any, Any, T] = opening
        self._socket: T | None = None

    def __await__(self) -> Generator[Any, None, T]:
        return self._opening.__await__()

    async def __aenter__(self) -> T:
        self._socket = await self._opening
        await self._socket.__aenter__()
        return self._socket

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if self._socket is not None:
            await self._socket.__aexit__(exc_type, exc, tb)


def opening(open_socket: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Opening[T]]:
    """An async function that opens a socket, as one whose result may be awaited or entered."""

    @functools.wraps(open_socket)
    def start(*args: P.args, **kwargs: P.kwargs) -> Opening[T]:
        return Opening(open_socket(*args, **kwargs))

    return start
