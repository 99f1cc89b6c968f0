"""Endpoints with no outside world: literal:, devnull:, empty:, zero:, random:, mirror:."""

from __future__ import annotations

import asyncio

from websocat.runtime.sockets import CONTINUES, CONTROL, DEFAULT_READ, TEXT, ByteStream, Message, MessageSocket

__all__ = [
    "LiteralReply",
    "literal_reply",
    "ByteMirror",
    "DevNull",
    "DummyDatagrams",
    "LiteralStream",
    "MessageMirror",
    "RandomStream",
    "ZeroStream",
    "devnull",
    "empty",
    "literal",
    "message_mirror",
    "mirror",
    "random_bytes",
    "zero",
]


def _hangup(signal: bool) -> asyncio.Event | None:
    """--dummy-hangup: the socket signals hangup at once."""
    if not signal:
        return None
    event = asyncio.Event()
    event.set()
    return event


class LiteralStream(ByteStream):
    """Byte stream socket that produces specified content and ignores incoming data."""

    name = "literal:"

    def __init__(self, data: bytes, hangup: bool = False) -> None:
        self._data: bytes | None = data
        self.hangup = _hangup(hangup)

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        data = self._data
        if not data:
            return b""
        self._data = data[max_bytes:]
        return data[:max_bytes]

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        pass  # ignores incoming data


def literal(data: bytes, *, hangup: bool = False) -> ByteStream:
    """Byte stream socket that produces `data` and ignores incoming data."""
    return LiteralStream(data, hangup)


class DevNull(LiteralStream):
    """Byte stream socket that ignores all incoming data and immediately EOF-s read attempts."""

    name = "devnull:"


def devnull(*, hangup: bool = False) -> ByteStream:
    """Byte stream socket that ignores all incoming data and immediately EOF-s read attempts."""
    return DevNull(b"", hangup)


class DummyDatagrams(MessageSocket):
    """Datagram socket that ignores all incoming data and signals EOF immediately."""

    name = "empty:"

    def __init__(self, hangup: bool = False) -> None:
        self.hangup = _hangup(hangup)

    async def recv_batch(self) -> list[Message]:
        return []

    async def send_batch(self, batch: list[Message]) -> None:
        pass


def empty(*, hangup: bool = False) -> MessageSocket:
    """Datagram socket that ignores all incoming data and signals EOF immediately."""
    return DummyDatagrams(hangup)


class ZeroStream(ByteStream):
    """Endless zero bytes; ignores writes."""

    name = "zero:"

    def __init__(self, hangup: bool = False) -> None:
        self.hangup = _hangup(hangup)
        self._zeros = bytes(DEFAULT_READ)

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        await asyncio.sleep(0)  # an endless source must still let other tasks run
        return self._zeros if max_bytes >= len(self._zeros) else bytes(max_bytes)

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        pass


def zero(*, hangup: bool = False) -> ByteStream:
    """Generate zero bytes."""
    return ZeroStream(hangup)


class RandomStream(ByteStream):
    """Endless random bytes (os.urandom, or seeded with --random-seed); ignores writes."""

    name = "random:"

    def __init__(self, fast: bool = False) -> None:
        self._fast = fast

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        from websocat.runtime import rng

        await asyncio.sleep(0)
        return rng.random_bytes(min(max_bytes, 65536), fast=self._fast)

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        pass


def random_bytes(*, fast: bool = False) -> ByteStream:
    """Generate random bytes (--random-fast: a faster, non-cryptographic generator)."""
    return RandomStream(fast)


class ByteMirror(ByteStream):
    """Bytes written come back on read; writers wait while `bufsize` bytes are unread."""

    name = "mirror:"

    def __init__(self, bufsize: int = 1024) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._bufsize = bufsize
        self._eof = False
        self._changed = asyncio.Event()

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        while not self._chunks:
            if self._eof:
                return b""
            self._changed.clear()
            await self._changed.wait()
        data = b"".join(self._chunks)
        self._chunks.clear()
        if len(data) > max_bytes:
            self._chunks.append(data[max_bytes:])
            data = data[:max_bytes]
        self._size -= len(data)
        self._changed.set()
        return data

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return  # an empty chunk would read as EOF
        while self._size >= self._bufsize and self._chunks:
            self._changed.clear()
            await self._changed.wait()
        self._chunks.append(bytes(data))
        self._size += len(data)
        self._changed.set()

    async def write_eof(self) -> None:
        self._eof = True
        self._changed.set()


def mirror(*, bufsize: int = 1024) -> ByteStream:
    """Read data that is written to this endpoint (a byte stream)."""
    return ByteMirror(bufsize)


class MessageMirror(MessageSocket):
    """Messages sent come back on receive, whole and with their flags; one batch in flight."""

    name = "mirror:"
    mirrors = True

    def __init__(self, bufsize: int = 1024) -> None:
        self._queue: asyncio.Queue[list[Message]] = asyncio.Queue(maxsize=max(1, bufsize // 1024))
        self._eof = False

    async def recv_batch(self) -> list[Message]:
        if self._eof:
            return []  # EOF stays EOF
        batch = await self._queue.get()
        if not batch:
            self._eof = True
        return batch

    async def send_batch(self, batch: list[Message]) -> None:
        if batch:
            await self._queue.put(batch)

    async def send_eof(self) -> None:
        await self._queue.put([])


def message_mirror(*, bufsize: int = 1024) -> MessageSocket:
    """Read messages that are sent to this endpoint, each whole with its flags."""
    return MessageMirror(bufsize)


class LiteralReply(MessageSocket):
    """Each whole message sent is answered on receive with ``data`` (same type)."""

    name = "literalreply:"

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._replies: list[Message] = []
        self._eof = False
        self._changed = asyncio.Event()

    async def recv_batch(self) -> list[Message]:
        while not self._replies:
            if self._eof:
                return []
            self._changed.clear()
            await self._changed.wait()
        batch, self._replies = self._replies, []
        return batch

    async def send_batch(self, batch: list[Message]) -> None:
        data = self.data
        replies = [(data, flags & TEXT) for _data, flags in batch if not flags & (CONTROL | CONTINUES)]
        if replies:
            self._replies += replies
            self._changed.set()

    async def send_eof(self) -> None:
        self._eof = True
        self._changed.set()


def literal_reply(data: bytes) -> MessageSocket:
    """Reply with a specified string for each input message (websocat v1's literalreply:)."""
    return LiteralReply(data)
