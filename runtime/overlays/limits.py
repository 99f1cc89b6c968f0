"""Chunk limiters and a write buffer over byte streams: read_chunk_limiter:,
write_chunk_limiter: and write_buffer:.

The limiters are websocat4's tools for tests: they force short reads (at most
--read-buffer-limit bytes each, 1 by default) or short writes (each write split into
pieces of --write-buffer-limit bytes, each its own write on the stream under it), so
that overlays above them (lines:, the WebSocket framer) meet data cut anywhere.
write_buffer: does the opposite: writes made in one turn of the event loop reach the
stream under it as one.
"""

from __future__ import annotations

import asyncio

from websocat.runtime.errors import UsageError
from websocat.runtime.sockets import DEFAULT_READ, ByteStream

__all__ = ["ReadChunkLimited", "WriteBuffered", "WriteChunkLimited", "buffer_writes", "limit_reads", "limit_writes"]


def _positive(limit: int, option: str) -> int:
    if limit < 1:
        raise UsageError(f"{option}: {limit} is not a positive number of bytes")
    return limit


class _Over(ByteStream):
    """A byte stream that passes everything to the one under it, unless a subclass says otherwise."""

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.readable = stream.readable
        self.writable = stream.writable
        self.hangup = stream.hangup

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        return await self.stream.read(max_bytes)

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        await self.stream.write(data)

    async def write_eof(self) -> None:
        await self.stream.write_eof()

    async def aclose(self) -> None:
        await self.stream.aclose()


class ReadChunkLimited(_Over):
    """Reads of at most ``limit`` bytes, cut from the stream's own (larger) reads."""

    name = "read_chunk_limiter"

    def __init__(self, stream: ByteStream, limit: int) -> None:
        super().__init__(stream)
        self.limit = _positive(limit, "--read-buffer-limit")
        self._held = b""
        self._offset = 0

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        if self._offset >= len(self._held):
            self._held, self._offset = await self.stream.read(DEFAULT_READ), 0
            if not self._held:
                return b""
        end = self._offset + min(max_bytes, self.limit)
        piece = self._held[self._offset : end]
        self._offset = end
        return piece


class WriteChunkLimited(_Over):
    """Each write split into writes of at most ``limit`` bytes, a turn of the event loop apart."""

    name = "write_chunk_limiter"

    def __init__(self, stream: ByteStream, limit: int) -> None:
        super().__init__(stream)
        self.limit = _positive(limit, "--write-buffer-limit")

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        data = bytes(data)
        for start in range(0, len(data), self.limit):
            if start:
                await asyncio.sleep(0)  # a short write: the rest comes later
            await self.stream.write(data[start : start + self.limit])


class WriteBuffered(_Over):
    """Writes collected until the writer yields to the event loop (or ``size`` bytes are
    held), then written to the stream under it as one."""

    name = "write_buffer"

    def __init__(self, stream: ByteStream, size: int = DEFAULT_READ) -> None:
        super().__init__(stream)
        self.size = size
        self._parts: list[bytes] = []
        self._held = 0
        self._flushing: asyncio.Future[None] | None = None

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        await self._settled()
        self._parts.append(bytes(data))
        self._held += len(data)
        if self._held >= self.size:
            await self.flush()
        elif self._flushing is None:
            self._flushing = asyncio.ensure_future(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(0)  # other writes of this turn join the buffer
        await self.flush()

    async def _settled(self) -> None:
        """Wait for a scheduled flush (raising its error, if any)."""
        flushing, self._flushing = self._flushing, None
        if flushing is not None and flushing is not asyncio.current_task():
            await flushing

    async def flush(self) -> None:
        """Write what is held, as one write."""
        if self._parts:
            data = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
            self._parts, self._held = [], 0
            await self.stream.write(data)

    async def write_eof(self) -> None:
        await self._settled()
        await self.flush()
        await self.stream.write_eof()

    async def aclose(self) -> None:
        try:
            await self._settled()
            await self.flush()
        except (OSError, ConnectionError):
            pass  # closing anyway
        finally:
            await self.stream.aclose()


def limit_reads(stream: ByteStream, *, limit: int = 1) -> ReadChunkLimited:
    """read_chunk_limiter: reads of at most ``limit`` bytes (--read-buffer-limit)."""
    return ReadChunkLimited(stream, limit)


def limit_writes(stream: ByteStream, *, limit: int = 1) -> WriteChunkLimited:
    """write_chunk_limiter: writes cut into pieces of at most ``limit`` bytes (--write-buffer-limit)."""
    return WriteChunkLimited(stream, limit)


def buffer_writes(stream: ByteStream) -> WriteBuffered:
    """write_buffer: the writes of one turn of the event loop combined into one."""
    return WriteBuffered(stream)
