"""In-memory sockets for tests and for trying overlays without any I/O."""

from __future__ import annotations

from collections.abc import Iterable

from .sockets import DEFAULT_READ, ByteStream


class MemoryStream(ByteStream):
    """A ByteStream that reads the given chunks, then EOF, and collects what is written.

    Each chunk is returned by exactly one ``read`` (split further only when it is longer
    than ``max_bytes``), so a test controls where read boundaries fall.  Empty chunks are
    skipped: ``read`` returns b"" only at EOF, as the interface requires.
    """

    name = "memory"

    def __init__(self, chunks: Iterable[bytes] = ()) -> None:
        # Reversed so that taking the next chunk is a cheap pop() from the end.
        self._chunks = [bytes(c) for c in chunks if c][::-1]
        self.written = bytearray()
        self.writes: list[bytes] = []  # one entry per write call, to check batching
        self.eof_written = False
        self.closed = False

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        if not self._chunks:
            return b""
        chunk = self._chunks.pop()
        if len(chunk) > max_bytes:
            self._chunks.append(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        return chunk

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.eof_written:
            raise BrokenPipeError("write after write_eof")
        data = bytes(data)
        self.writes.append(data)
        self.written += data

    async def write_eof(self) -> None:
        self.eof_written = True

    async def aclose(self) -> None:
        self.closed = True
