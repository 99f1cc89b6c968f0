"""UNIX stream sockets: connect and listen by path, in the Linux abstract namespace, or on
an inherited listening socket (socket activation); serve one session per connection."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, AsyncIterator, Unpack

from websocat.runtime import serving
from websocat.runtime.endpoints.fds import inherited_name, inherited_socket
from websocat.runtime.errors import ConnectError, os_error_text
from websocat.runtime.sockets import ByteStream, StreamProtocol, TransportStream, opening

Stream = ByteStream
Path = str | bytes

BACKLOG = 1024
SEND_BUFFER = 1 << 20  # the kernel's default for UNIX sockets (about 200 KB) costs 20% in bulk


def _roomy(protocol: StreamProtocol) -> None:
    """A send buffer of SEND_BUFFER bytes (UNIX sockets do not autotune as TCP does);
    where the limit (net.core.wmem_max) is lower, the kernel takes what it allows."""
    if protocol.transport is not None:
        sock = protocol.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)


def abstract_address(name: Path) -> bytes:
    """The socket address of NAME in the Linux abstract namespace (a leading NUL byte)."""
    return b"\0" + os.fsencode(name)


def bind(address: Path, kind: int, shown: str, *, unlink: bool = False, chmod: int | None = None) -> socket.socket:
    """A listening AF_UNIX socket of type ``kind`` bound to ``address``.

    ``unlink``: remove a file left at the path first (errors ignored, as websocat4).
    ``chmod``: the socket file's mode, set before listening, so that no client connects
    through the wider mode the umask gave at bind.  The file stays when serving ends,
    as with websocat4 (``--unlink`` replaces it next time).
    """
    is_path = not os.fsencode(address).startswith(b"\0")
    sock = socket.socket(socket.AF_UNIX, kind)
    try:
        if unlink and is_path:
            try:
                os.unlink(address)
            except OSError:
                pass
        sock.bind(address)
        if chmod is not None and is_path:
            os.chmod(address, chmod)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ConnectError(f"{shown}: {os_error_text(exc)}") from None
    return sock


class UnixListener:
    """A listening UNIX socket, as runtime/serving.py drives it."""

    def __init__(self, close: Callable[[], None], shown: str) -> None:
        self.close = close
        self.shown = shown

    def announcements(self) -> list[str]:
        return ["proto=unix"]  # websocat4 prints no address for UNIX sockets

    def addresses(self) -> list[str]:
        return [self.shown]


async def _open(address: Path, shown: str) -> TransportStream:
    loop = asyncio.get_running_loop()
    try:
        _transport, protocol = await loop.create_unix_connection(StreamProtocol, os.fsdecode(address))
    except OSError as exc:
        raise ConnectError(f"{shown}: {os_error_text(exc)}") from None
    _roomy(protocol)
    return TransportStream(protocol, shown)


@opening
async def connect(path: Path) -> TransportStream:
    """Connect to the specified UNIX socket path using stream socket."""
    return await _open(path, f"unix:{os.fsdecode(path)}")


@opening
async def connect_abstract(name: Path) -> TransportStream:
    """Connect to the specified abstract-namespaced UNIX socket (Linux)."""
    return await _open(abstract_address(name), f"abstract:{os.fsdecode(name)}")


def _announce(announce: bool) -> None:
    if announce:
        sys.stdout.write("LISTEN proto=unix\n")
        sys.stdout.flush()


@asynccontextmanager
async def _accept_one(
    sock: socket.socket, shown: str, announce: bool, exec_after_listen: str | None
) -> AsyncIterator[TransportStream]:
    """Accept one connection on a listening socket, then stop listening (a listener on the right)."""
    loop = asyncio.get_running_loop()
    _announce(announce)
    try:
        if exec_after_listen is not None:
            await serving.after_listen(exec_after_listen)  # a UNIX socket has no port to append
        conn, _address = await loop.sock_accept(sock)
    finally:
        sock.close()
    _transport, protocol = await loop.connect_accepted_socket(StreamProtocol, conn)
    _roomy(protocol)
    stream = TransportStream(protocol, shown)
    stream.managed = True
    try:
        yield stream
    finally:
        await stream.aclose()


def accept_one(
    path: Path,
    *,
    unlink: bool = False,
    chmod: int | None = None,
    announce: bool = False,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
) -> AbstractAsyncContextManager[TransportStream]:
    """Listen on a UNIX socket path, accept one connection, stop listening."""
    shown = f"unix-listen:{os.fsdecode(path)}"
    sock = bind(path, socket.SOCK_STREAM, shown, unlink=unlink, chmod=chmod)
    return _accept_one(sock, shown, announce, exec_after_listen)


def accept_one_abstract(
    name: Path,
    *,
    announce: bool = False,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
) -> AbstractAsyncContextManager[TransportStream]:
    """Listen on an abstract UNIX socket name (Linux), accept one connection, stop listening."""
    shown = f"abstract-listen:{os.fsdecode(name)}"
    return _accept_one(bind(abstract_address(name), socket.SOCK_STREAM, shown), shown, announce, exec_after_listen)


def accept_one_fd(
    fd: int | str,
    *,
    announce: bool = False,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
) -> AbstractAsyncContextManager[TransportStream]:
    """Accept one connection on an inherited listening UNIX socket (a number, or a LISTEN_FDNAMES name)."""
    shown = inherited_name("unix-listen", fd)
    sock = inherited_socket(fd, shown, (socket.AF_UNIX,), socket.SOCK_STREAM)
    return _accept_one(sock, shown, announce, exec_after_listen)


async def _serve(
    sock: socket.socket,
    shown: str,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    **serving_options: Unpack[serving.Options],
) -> None:
    async def open_listener(accept: Callable[[ByteStream], None]) -> UnixListener:
        def made(protocol: StreamProtocol) -> None:
            _roomy(protocol)
            accept(TransportStream(protocol, shown))

        loop = asyncio.get_running_loop()
        try:
            server = await loop.create_unix_server(lambda: StreamProtocol(on_made=made), sock=sock, backlog=BACKLOG)
        except BaseException:
            sock.close()
            raise
        return UnixListener(server.close, shown)

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
    **serving_options: Unpack[serving.Options],
) -> None:
    """Listen on a UNIX socket path and run `session(stream, *args)` for each connection
    (runtime/serving.py: --oneshot, --exit-after-one-session, announcements, errors)."""
    shown = f"unix-listen:{os.fsdecode(path)}"
    sock = bind(path, socket.SOCK_STREAM, shown, unlink=unlink, chmod=chmod)
    await _serve(
        sock,
        shown,
        session,
        *args,
        **serving_options,
    )


async def serve_abstract(
    name: Path,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Listen on an abstract UNIX socket name (Linux) and run `session(stream, *args)` for each connection."""
    shown = f"abstract-listen:{os.fsdecode(name)}"
    sock = bind(abstract_address(name), socket.SOCK_STREAM, shown)
    await _serve(
        sock,
        shown,
        session,
        *args,
        **serving_options,
    )


async def serve_fd(
    fd: int | str,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Run `session(stream, *args)` for each connection to an inherited listening UNIX
    socket: ``fd`` is its number, or its name in LISTEN_FDNAMES (runtime/endpoints/fds.py)."""
    shown = inherited_name("unix-listen", fd)
    sock = inherited_socket(fd, shown, (socket.AF_UNIX,), socket.SOCK_STREAM)
    await _serve(
        sock,
        shown,
        session,
        *args,
        **serving_options,
    )


__all__ = [
    "Stream",
    "abstract_address",
    "accept_one",
    "accept_one_abstract",
    "accept_one_fd",
    "bind",
    "connect",
    "connect_abstract",
    "serve",
    "serve_abstract",
    "serve_fd",
]
