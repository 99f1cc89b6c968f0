"""UNIX SOCK_SEQPACKET sockets: one datagram is one message, boundaries kept (0-byte
messages too); connect and listen by path, abstract name or inherited socket.

A 0-byte datagram and EOF both read as 0 bytes on Linux.  With SO_PASSCRED every
datagram arrives with its sender's credentials and EOF with none, which tells them
apart (websocat4 reads a 0-byte datagram as EOF).
"""

from __future__ import annotations

import asyncio
import errno
import mmap
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, AsyncIterator, Unpack

from websocat.runtime import serving
from websocat.runtime.endpoints.fds import inherited_name, inherited_socket
from websocat.runtime.endpoints.unix import UnixListener, abstract_address, bind
from websocat.runtime.errors import ConnectError, ProtocolError, os_error_text
from websocat.runtime.sockets import BINARY, CONTINUES, CONTROL, TEXT, Message, MessageSocket

__all__ = [
    "MAX_SEND_DATAGRAM_SIZE",
    "RECV_LIMIT",
    "SeqpacketSocket",
    "Socket",
    "accept_one",
    "accept_one_abstract",
    "accept_one_fd",
    "connect",
    "connect_abstract",
    "serve",
    "serve_abstract",
    "serve_fd",
]

MAX_SEND_DATAGRAM_SIZE = 1 << 20  # --seqpacket-max-send-datagram-size's default
RECV_LIMIT = 1 << 23  # the largest datagram received whole; pages are used only as needed
BATCH_BYTES = 1 << 20  # recv_batch returns once a batch holds this much
_CREDENTIALS = socket.CMSG_SPACE(12)  # struct ucred: pid, uid, gid


class SeqpacketSocket(MessageSocket):
    """A connected SOCK_SEQPACKET socket as a message socket.

    Received messages are binary (``text``: text).  A message sent in CONTINUES pieces
    goes out as one datagram once its last piece is there, at most
    ``max_send_datagram_size`` bytes; control messages (ping, pong) are not sent.
    """

    name = "seqpacket"

    def __init__(
        self,
        sock: socket.socket,
        peer: str = "",
        *,
        text: bool = False,
        max_send_datagram_size: int = MAX_SEND_DATAGRAM_SIZE,
    ) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self._sock = sock
        self.peer = peer
        self._flags = TEXT if text else BINARY
        self._max_send = max_send_datagram_size
        self._buffer: mmap.mmap | None = None
        self._pieces: list[bytes] = []  # pieces of a message not complete yet
        self._pieces_size = 0
        self._eof = False
        self._loop = asyncio.get_running_loop()

    # -- waiting for the kernel
    async def _ready(self, add: Callable[..., None], remove: Callable[[int], object]) -> None:
        fd = self._sock.fileno()
        if fd < 0:
            raise ConnectionResetError("socket closed")
        waiter: asyncio.Future[None] = self._loop.create_future()
        add(fd, _wake, waiter)
        try:
            await waiter
        finally:
            remove(fd)

    # -- receiving
    async def recv_batch(self) -> list[Message]:
        if self._eof:
            return []
        if self._buffer is None:
            self._buffer = mmap.mmap(-1, RECV_LIMIT)
        buffer, recvmsg, flags = self._buffer, self._sock.recvmsg_into, self._flags
        batch: list[Message] = []
        size = 0
        while size < BATCH_BYTES:
            try:
                count, ancillary, msg_flags, _address = recvmsg([buffer], _CREDENTIALS)
            except BlockingIOError:
                if batch:
                    break
                await self._ready(self._loop.add_reader, self._loop.remove_reader)
                continue
            except ConnectionResetError:
                count, ancillary, msg_flags = 0, [], 0
            if not count and not ancillary:  # EOF: a datagram, even empty, has credentials
                self._eof = True
                break
            if msg_flags & socket.MSG_TRUNC:
                raise ProtocolError(f"{self.name}: a datagram longer than {RECV_LIMIT} bytes was truncated")
            batch.append((buffer[:count], flags))
            size += count
        return batch

    # -- sending
    async def send_batch(self, batch: list[Message]) -> None:
        for data, flags in batch:
            if flags & CONTROL:
                continue
            if flags & CONTINUES or self._pieces:
                self._pieces.append(bytes(data))
                self._pieces_size += len(data)
                if self._pieces_size > self._max_send:
                    self._pieces.clear()
                    raise ProtocolError(
                        f"{self.name}: a message longer than {self._max_send} bytes "
                        "(--seqpacket-max-send-datagram-size)"
                    )
                if flags & CONTINUES:
                    continue
                data = b"".join(self._pieces)
                self._pieces.clear()
                self._pieces_size = 0
            elif len(data) > self._max_send:
                raise ProtocolError(
                    f"{self.name}: a message of {len(data)} bytes is longer than {self._max_send} "
                    "(--seqpacket-max-send-datagram-size)"
                )
            await self._send(data)

    async def _send(self, data: bytes) -> None:
        while True:
            try:
                self._sock.send(data)
                return
            except BlockingIOError:
                await self._ready(self._loop.add_writer, self._loop.remove_writer)
            except OSError as exc:
                if exc.errno != errno.EMSGSIZE or not self._grow_send_buffer(len(data)):
                    raise

    def _grow_send_buffer(self, size: int) -> bool:
        """Make room for a datagram of ``size`` bytes in the kernel's send buffer (the
        default holds about 200 KB); False when it cannot grow enough (net.core.wmem_max)."""
        before = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size + (64 << 10))
        return self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) > before

    async def send_eof(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # already gone

    async def aclose(self) -> None:
        self._sock.close()
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


Socket = SeqpacketSocket
Path = str | bytes


async def _connect(address: Path, shown: str, text: bool, max_send_datagram_size: int) -> SeqpacketSocket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, address)
    except OSError as exc:
        sock.close()
        raise ConnectError(f"{shown}: {os_error_text(exc)}") from None
    return SeqpacketSocket(sock, shown, text=text, max_send_datagram_size=max_send_datagram_size)


@asynccontextmanager
async def _managed(opening: Awaitable[SeqpacketSocket]) -> AsyncIterator[SeqpacketSocket]:
    sock = await opening
    async with sock:
        yield sock


def connect(
    path: Path, *, text: bool = False, max_send_datagram_size: int = MAX_SEND_DATAGRAM_SIZE
) -> AbstractAsyncContextManager[SeqpacketSocket]:
    """Connect to specified UNIX SOCK_SEQPACKET socket by path."""
    return _managed(_connect(path, f"seqpacket:{os.fsdecode(path)}", text, max_send_datagram_size))


def connect_abstract(
    name: Path, *, text: bool = False, max_send_datagram_size: int = MAX_SEND_DATAGRAM_SIZE
) -> AbstractAsyncContextManager[SeqpacketSocket]:
    """Connect to specified UNIX SOCK_SEQPACKET socket by abstract (Linux) name."""
    shown = f"seqpacket-abstract:{os.fsdecode(name)}"
    return _managed(_connect(abstract_address(name), shown, text, max_send_datagram_size))


async def _accept(
    sock: socket.socket, shown: str, announce: bool, text: bool, max_send: int, exec_after_listen: str | None
) -> SeqpacketSocket:
    if announce:
        print("LISTEN proto=unix", flush=True)
    try:
        if exec_after_listen is not None:
            await serving.after_listen(exec_after_listen)  # a UNIX socket has no port to append
        conn, _address = await asyncio.get_running_loop().sock_accept(sock)
    finally:
        sock.close()
    return SeqpacketSocket(conn, shown, text=text, max_send_datagram_size=max_send)


def accept_one(
    path: Path,
    *,
    unlink: bool = False,
    chmod: int | None = None,
    text: bool = False,
    max_send_datagram_size: int = MAX_SEND_DATAGRAM_SIZE,
    announce: bool = False,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
) -> AbstractAsyncContextManager[SeqpacketSocket]:
    """Listen on a SOCK_SEQPACKET socket path, accept one connection, stop listening."""
    shown = f"seqpacket-listen:{os.fsdecode(path)}"
    sock = bind(path, socket.SOCK_SEQPACKET, shown, unlink=unlink, chmod=chmod)
    return _managed(_accept(sock, shown, announce, text, max_send_datagram_size, exec_after_listen))


def accept_one_abstract(
    name: Path,
    *,
    text: bool = False,
    max_send_datagram_size: int = MAX_SEND_DATAGRAM_SIZE,
    announce: bool = False,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
) -> AbstractAsyncContextManager[SeqpacketSocket]:
    """Listen on an abstract SOCK_SEQPACKET name (Linux), accept one connection, stop listening."""
    shown = f"seqpacket-abstract-listen:{os.fsdecode(name)}"
    sock = bind(abstract_address(name), socket.SOCK_SEQPACKET, shown)
    return _managed(_accept(sock, shown, announce, text, max_send_datagram_size, exec_after_listen))


def accept_one_fd(
    fd: int | str,
    *,
    text: bool = False,
    max_send_datagram_size: int = MAX_SEND_DATAGRAM_SIZE,
    announce: bool = False,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
) -> AbstractAsyncContextManager[SeqpacketSocket]:
    """Accept one connection on an inherited listening SOCK_SEQPACKET socket (a number, or a LISTEN_FDNAMES name)."""

    async def opening() -> SeqpacketSocket:
        shown = inherited_name("seqpacket-listen", fd)
        sock = inherited_socket(fd, shown, (socket.AF_UNIX,), socket.SOCK_SEQPACKET)
        return await _accept(sock, shown, announce, text, max_send_datagram_size, exec_after_listen)

    return _managed(opening())


async def _serve(
    sock: socket.socket,
    shown: str,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    text: bool,
    max_send_datagram_size: int,
    **serving_options: Unpack[serving.Options],
) -> None:
    loop = asyncio.get_running_loop()

    async def accepting(accept: Callable[[SeqpacketSocket], None]) -> None:
        while True:
            try:
                conn, _address = await loop.sock_accept(sock)
            except OSError as exc:  # out of descriptors, say: wait, as websocat4
                sys.stderr.write(f"websocat: {shown}: {os_error_text(exc)}\n")
                await asyncio.sleep(0.5)
                continue
            accept(SeqpacketSocket(conn, shown, text=text, max_send_datagram_size=max_send_datagram_size))

    async def open_listener(accept: Callable[[SeqpacketSocket], None]) -> UnixListener:
        task = asyncio.ensure_future(accepting(accept))

        def close() -> None:
            task.cancel()
            sock.close()

        return UnixListener(close, shown)

    await serving.serve(
        open_listener,
        session,
        *args,
        **serving_options,
    )


async def serve(
    path: Path,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    unlink: bool = False,
    chmod: int | None = None,
    text: bool = False,
    max_send_datagram_size: int = MAX_SEND_DATAGRAM_SIZE,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Listen on a SOCK_SEQPACKET socket path and run `session(socket, *args)` for each connection."""
    shown = f"seqpacket-listen:{os.fsdecode(path)}"
    sock = bind(path, socket.SOCK_SEQPACKET, shown, unlink=unlink, chmod=chmod)
    await _serve(
        sock,
        shown,
        session,
        *args,
        text=text,
        max_send_datagram_size=max_send_datagram_size,
        **serving_options,
    )


async def serve_abstract(
    name: Path,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    text: bool = False,
    max_send_datagram_size: int = MAX_SEND_DATAGRAM_SIZE,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Listen on an abstract SOCK_SEQPACKET name (Linux) and run `session(socket, *args)` for each connection."""
    shown = f"seqpacket-abstract-listen:{os.fsdecode(name)}"
    sock = bind(abstract_address(name), socket.SOCK_SEQPACKET, shown)
    await _serve(
        sock,
        shown,
        session,
        *args,
        text=text,
        max_send_datagram_size=max_send_datagram_size,
        **serving_options,
    )


async def serve_fd(
    fd: int | str,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    text: bool = False,
    max_send_datagram_size: int = MAX_SEND_DATAGRAM_SIZE,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Run `session(socket, *args)` for each connection to an inherited listening
    SOCK_SEQPACKET socket: ``fd`` is its number, or its name in LISTEN_FDNAMES."""
    shown = inherited_name("seqpacket-listen", fd)
    sock = inherited_socket(fd, shown, (socket.AF_UNIX,), socket.SOCK_SEQPACKET)
    await _serve(
        sock,
        shown,
        session,
        *args,
        text=text,
        max_send_datagram_size=max_send_datagram_size,
        **serving_options,
    )
