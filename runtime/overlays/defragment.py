"""defragment: (websocat4's defragment_writes): fragments of a message written to it are
held until the final one, then written to the socket under it as one message.

Reads pass through as they come.  Control messages (ping, pong, close) are written at
once.  A message growing past ``max_size`` (--defragment-max-size) fails the session
with one line, as websocat4's "Too large datagram".
"""

from __future__ import annotations

from websocat.runtime.errors import ProtocolError
from websocat.runtime.sockets import CONTINUES, CONTROL, Message, MessageSocket

__all__ = ["Defragmented", "DEFAULT_MAX_SIZE", "defragment"]

DEFAULT_MAX_SIZE = 1 << 20  # the manual's default for --defragment-max-size


class Defragmented(MessageSocket):
    """A message socket whose written fragments reach the socket under it as whole messages."""

    name = "defragment"

    def __init__(self, sock: MessageSocket, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.sock = sock
        self.readable = sock.readable
        self.writable = sock.writable
        self.hangup = sock.hangup
        self.recv_batch = sock.recv_batch  # type: ignore[method-assign]
        self.max_size = max_size
        self._parts: list[bytes] = []
        self._held = 0

    async def send_batch(self, batch: list[Message]) -> None:
        out: list[Message] = []
        for data, flags in batch:
            if flags & CONTROL:
                out.append((data, flags))
                continue
            self._held += len(data)
            if self._held > self.max_size:
                raise ProtocolError(f"defragment: a message over --defragment-max-size ({self.max_size} bytes)")
            if flags & CONTINUES:
                self._parts.append(data)
                continue
            if self._parts:
                self._parts.append(data)
                data = b"".join(self._parts)
                self._parts = []
            self._held = 0
            out.append((data, flags))
        if out:
            await self.sock.send_batch(out)

    async def send_eof(self) -> None:
        await self.sock.send_eof()

    async def aclose(self) -> None:
        await self.sock.aclose()


def defragment(sock: MessageSocket, *, max_size: int = DEFAULT_MAX_SIZE) -> Defragmented:
    """defragment: written fragments held until the message is whole (at most ``max_size`` bytes)."""
    return Defragmented(sock, max_size)
