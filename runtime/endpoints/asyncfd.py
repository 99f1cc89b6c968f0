"""async-fd: any inherited file descriptor (a socket, a pipe, a terminal) as a byte stream,
read and written when the event loop says it is ready.

A descriptor that cannot be polled (a regular file: epoll refuses it) is an error,
unless ``force``: then a read or write that would block is retried every 77 ms (as
websocat4's --async-fd-force).  The descriptor is put in non-blocking mode while in use
and given back in the mode it had; it is not closed, as it is not ours.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat

from websocat.runtime.errors import ConnectError, os_error_text
from websocat.runtime.sockets import DEFAULT_READ, ByteStream, opening

__all__ = ["FORCED_RETRY", "FdStream", "open"]

FORCED_RETRY = 0.077  # seconds between attempts on a descriptor that cannot be polled


class FdStream(ByteStream):
    """A byte stream over a descriptor we did not open."""

    name = "async-fd:"

    def __init__(self, fd: int, pollable: bool, was_blocking: bool) -> None:
        self.fd = fd
        self._pollable = pollable
        self._was_blocking = was_blocking
        self._closed = False
        self._loop = asyncio.get_running_loop()
        self._is_socket = stat.S_ISSOCK(os.fstat(fd).st_mode)
        self.gone = asyncio.Event()  # the peer is gone: a write met EPIPE, or the connection was reset
        self.hangup = self.gone

    async def _wait(self, writing: bool) -> None:
        if self._closed:
            raise ConnectionResetError(f"async-fd:{self.fd} is closed")
        if not self._pollable:
            await asyncio.sleep(FORCED_RETRY)
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        add, remove = (
            (self._loop.add_writer, self._loop.remove_writer)
            if writing
            else (self._loop.add_reader, self._loop.remove_reader)
        )
        add(self.fd, _wake, waiter)
        try:
            await waiter
        finally:
            remove(self.fd)

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        while True:
            try:
                return os.read(self.fd, max_bytes)
            except BlockingIOError:
                await self._wait(False)
            except ConnectionResetError:
                self.gone.set()
                return b""

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        while view:
            try:
                written = os.write(self.fd, view)
            except BlockingIOError:
                await self._wait(True)
                continue
            except (BrokenPipeError, ConnectionResetError):
                self.gone.set()
                raise
            view = view[written:]

    async def write_eof(self) -> None:
        """A socket's write half is shut down; other descriptors have no half-close (as websocat4)."""
        if self._is_socket and not self._closed:
            sock = socket.socket(fileno=os.dup(self.fd))
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the peer is gone
            finally:
                sock.close()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._was_blocking:
            try:
                os.set_blocking(self.fd, True)
            except OSError:
                pass


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _pollable(loop: asyncio.AbstractEventLoop, fd: int) -> bool:
    """Whether the event loop can wait for this descriptor (epoll refuses regular files)."""
    try:
        loop.add_reader(fd, lambda: None)
    except PermissionError:
        return False
    loop.remove_reader(fd)
    return True


@opening
async def open(fd: int, *, force: bool = False) -> FdStream:
    """Use specified inherited file descriptor for reading and writing."""
    loop = asyncio.get_running_loop()
    try:
        was_blocking = os.get_blocking(fd)
        os.set_blocking(fd, False)
    except OSError as exc:
        raise ConnectError(f"async-fd:{fd}: {os_error_text(exc)}") from None
    pollable = _pollable(loop, fd)
    if not pollable and not force:
        if was_blocking:
            os.set_blocking(fd, True)
        raise ConnectError(f"async-fd:{fd}: cannot be polled (a regular file?); --async-fd-force uses it anyway")
    return FdStream(fd, pollable, was_blocking)
