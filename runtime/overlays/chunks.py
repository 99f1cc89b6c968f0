"""Chunks overlay (``chunks:``): each read of a byte stream is one message.

Message boundaries fall wherever the stream's reads happened to end, as websocat4's
``stream_chunks``; writing puts message bytes on the stream with nothing added.
"""

from __future__ import annotations

from ..sockets import BINARY, CONTINUES, DEFAULT_READ, TEXT, ByteStream, Message, MessageSocket

# Data messages (text or binary, final or not) are written; control messages are not
# stream data and are dropped.
_DATA_FLAGS = frozenset((BINARY, TEXT, BINARY | CONTINUES, TEXT | CONTINUES))


class ChunkMessages(MessageSocket):
    """A message socket over a byte stream: one message per read, messages written raw."""

    name = "chunks"

    def __init__(self, stream: ByteStream, *, max_bytes: int = DEFAULT_READ, text: bool = False) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        self.stream = stream
        self.readable = stream.readable
        self.writable = stream.writable
        self.hangup = stream.hangup
        self.max_bytes = max_bytes
        self.text = text
        self._flags = TEXT if text else BINARY

    async def recv_batch(self) -> list[Message]:
        """The next read as a batch of one message; [] at EOF."""
        data = await self.stream.read(self.max_bytes)
        if not data:
            return []
        return [(data, self._flags)]

    async def send_batch(self, batch: list[Message]) -> None:
        """Write the messages' bytes back to back, in one stream write."""
        if len(batch) == 1:
            data, flags = batch[0]
            if flags in _DATA_FLAGS and data:
                await self.stream.write(data)
            return
        if not batch:
            return
        datas, flag_values = zip(*batch)
        if not set(flag_values) <= _DATA_FLAGS:
            datas = tuple(data for data, flag in batch if flag in _DATA_FLAGS)
        out = b"".join(datas)
        if out:
            await self.stream.write(out)

    async def send_eof(self) -> None:
        """Shut the stream's write half."""
        await self.stream.write_eof()

    async def aclose(self) -> None:
        await self.stream.aclose()


def framed(stream: ByteStream, *, max_bytes: int = DEFAULT_READ, text: bool = False) -> ChunkMessages:
    """Turn a byte stream into messages, one per read (websocat4 ``chunks:``).

    max_bytes: the largest message a read produces (``-B``/``--buffer-size``).
    text: mark messages read as text (else binary).
    Writing concatenates the messages' bytes; control messages are dropped.
    """
    return ChunkMessages(stream, max_bytes=max_bytes, text=text)
