"""stdio: (and `-`): read bytes from stdin, write bytes to stdout.

Pipes, sockets and terminals go through asyncio's pipe transports (non-blocking, no
thread per read); regular files and /dev/null are read and written directly.
Blocking mode is restored on exit, since the terminal's file description is shared.
"""

from __future__ import annotations

import asyncio
import os
import select
import stat
import sys

from websocat.runtime.sockets import DEFAULT_READ, ByteStream, StreamProtocol


def _pollable(fd: int) -> bool:
    """True when the event loop can watch fd (not a regular file, not /dev/null)."""
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        poller = select.epoll()
    except (OSError, AttributeError):
        return False
    try:
        poller.register(fd, select.EPOLLIN | select.EPOLLOUT)
        return True
    except OSError:
        return False
    finally:
        poller.close()


class StdioStream(ByteStream):
    """Console, terminal: read bytes from stdin, write bytes to stdout."""

    name = "stdio:"

    def __init__(self, stdin: int = 0, stdout: int = 1) -> None:
        self._in_fd, self._out_fd = stdin, stdout
        self._reader: StreamProtocol | None = None
        self._writer: StreamProtocol | None = None
        self._transports: list[asyncio.BaseTransport] = []
        self._eof_written = False

    async def __aenter__(self) -> StdioStream:
        self.managed = True
        loop = asyncio.get_running_loop()
        sys.stdout.flush()
        if _pollable(self._in_fd):
            try:
                pipe = os.fdopen(os.dup(self._in_fd), "rb", buffering=0)
                transport, self._reader = await loop.connect_read_pipe(StreamProtocol, pipe)
                self._transports.append(transport)
            except (OSError, ValueError):
                self._reader = None  # e.g. stdin closed: reads give EOF
        if _pollable(self._out_fd):
            try:
                pipe = os.fdopen(os.dup(self._out_fd), "wb", buffering=0)
                write_transport, self._writer = await loop.connect_write_pipe(StreamProtocol, pipe)
                self._transports.append(write_transport)
            except (OSError, ValueError):
                self._writer = None
        return self

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        if self._reader is not None:
            return await self._reader.read(max_bytes)
        try:
            return os.read(self._in_fd, max_bytes)
        except OSError:
            return b""

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._writer is not None:
            await self._writer.write(data)
            return
        view = memoryview(data)
        while view:
            view = view[os.write(self._out_fd, view) :]

    async def write_eof(self) -> None:
        if self._eof_written:
            return
        self._eof_written = True
        if self._writer is not None:
            await self._writer.write_eof()

    async def aclose(self) -> None:
        for transport in self._transports:
            transport.close()
        if self._writer is not None and not self._writer.closed.is_set():
            try:
                await asyncio.wait_for(self._writer.closed.wait(), 5)
            except TimeoutError:
                pass
        self._transports.clear()
        for fd in (self._in_fd, self._out_fd):
            try:
                os.set_blocking(fd, True)
            except OSError:
                pass


def open() -> StdioStream:  # noqa: A001 - reads as stdio.open() in scripts
    """Console, terminal: read bytes from stdin, write bytes to stdout."""
    return StdioStream()
