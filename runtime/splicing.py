"""Zero-copy byte relays: between two plain kernel sockets, bytes move with splice(2)
through a pipe and never enter Python.

copy_bytes() asks `raw_ends(src, dst)` first; when both sides are plain connected
sockets (TCP or UNIX, no TLS, nobody consuming them in the event loop's callbacks), the
direction is handed to `splice_copy()`.  The asyncio transports stay the sockets'
owners (shutdown and close go through them); the source's transport stops reading,
and each direction waits for readiness on its own duplicate of the descriptors, since
asyncio refuses readers on a descriptor that a transport holds.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
from typing import Any

__all__ = ["raw_ends", "splice_copy"]

_PIPE_SIZE = 1 << 20  # asked for; the kernel may grant less (/proc/sys/fs/pipe-max-size)
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)
_FLAGS = getattr(os, "SPLICE_F_MOVE", 1) | getattr(os, "SPLICE_F_NONBLOCK", 2)
_YIELD_EVERY = 16 << 20  # bytes moved between two turns of the event loop for others


def _plain_transport(sock: Any) -> Any:
    """The asyncio transport of a TransportStream over a plain socket, else None."""
    protocol: Any = getattr(sock, "protocol", None)
    transport: Any = getattr(protocol, "transport", None)
    if transport is None or transport.is_closing() or protocol.feed is not None:
        return None
    raw = transport.get_extra_info("socket")
    if raw is None or transport.get_extra_info("sslcontext") is not None:
        return None
    if raw.type != socket.SOCK_STREAM or transport.get_write_buffer_size():
        return None
    return transport


def raw_ends(src: Any, dst: Any) -> tuple[Any, Any] | None:
    """(src transport, dst transport) when bytes from src to dst can be spliced."""
    if not hasattr(os, "splice"):
        return None
    src_transport, dst_transport = _plain_transport(src), _plain_transport(dst)
    if src_transport is None or dst_transport is None:
        return None
    return src_transport, dst_transport


async def _ready(fd: int, writing: bool) -> None:
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    add, remove = (loop.add_writer, loop.remove_writer) if writing else (loop.add_reader, loop.remove_reader)
    add(fd, waiter.set_result, None)
    try:
        await waiter
    finally:
        remove(fd)


async def splice_copy(src: Any, dst: Any, src_transport: Any, dst_transport: Any) -> bool:
    """Move src's bytes to dst until EOF; False when dst went away (reset) first.

    What src's protocol had already received but not handed out is written first.
    """
    chunks, eof = src.protocol.take_buffered()
    src_transport.pause_reading()
    for chunk in chunks:
        await dst.write(chunk)
    if eof:
        return True
    src_fd = os.dup(src_transport.get_extra_info("socket").fileno())
    dst_fd = os.dup(dst_transport.get_extra_info("socket").fileno())
    pipe_r, pipe_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        try:
            fcntl.fcntl(pipe_w, _F_SETPIPE_SZ, _PIPE_SIZE)
        except OSError:
            pass  # the default (64 KiB) still works
        capacity = fcntl.fcntl(pipe_w, _F_GETPIPE_SZ)
        return await _pump(src_fd, dst_fd, pipe_r, pipe_w, capacity, dst_transport)
    finally:
        for fd in (src_fd, dst_fd, pipe_r, pipe_w):
            os.close(fd)


async def _pump(src_fd: int, dst_fd: int, pipe_r: int, pipe_w: int, capacity: int, dst_transport: Any) -> bool:
    held = 0  # bytes in the pipe
    eof = False
    since_yield = 0
    while True:
        if not eof and held < capacity:
            try:
                moved = os.splice(src_fd, pipe_w, capacity - held, flags=_FLAGS)
            except BlockingIOError:
                if not held:
                    await _ready(src_fd, writing=False)
                    continue
            except (ConnectionResetError, ConnectionAbortedError):
                eof = True  # as a read of a reset connection: the end of its data
            else:
                held += moved
                eof = moved == 0
        if held:
            try:
                moved = os.splice(pipe_r, dst_fd, held, flags=_FLAGS)
            except BlockingIOError:
                await _ready(dst_fd, writing=True)
                continue
            except (BrokenPipeError, ConnectionResetError):
                dst_transport.abort()  # its peer is gone: the session sees the hangup
                return False
            held -= moved
            since_yield += moved
            if since_yield >= _YIELD_EVERY:
                since_yield = 0
                await asyncio.sleep(0)  # other sessions, and the other direction
        elif eof:
            return True
