"""Inherited descriptors (systemd socket activation): find a socket passed by number or
by LISTEN_FDNAMES name (`inherited_fd`), check it is the socket the endpoint needs
(`inherited_socket`: the UNIX, seqpacket and TCP listeners use it), and serve TCP
connections on it (tcp-listen-fd:, tcp-listen-fdname:).

systemd passes sockets as descriptors 3, 4, ... with LISTEN_FDS (how many), LISTEN_PID
(the process they are for) and LISTEN_FDNAMES (colon-separated names, in order).
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Unpack

from websocat.runtime import serving, socket_options
from websocat.runtime.endpoints.tcp import TcpListener
from websocat.runtime.errors import ConnectError, WebsocatError, os_error_text
from websocat.runtime.sockets import ByteStream, StreamProtocol, TransportStream

__all__ = [
    "LISTEN_FDS_START",
    "Stream",
    "accept_one_tcp",
    "activation_fds",
    "inherited_fd",
    "inherited_name",
    "inherited_socket",
    "serve_tcp",
]

Stream = ByteStream
LISTEN_FDS_START = 3  # SD_LISTEN_FDS_START: the first descriptor systemd passes


def inherited_name(stem: str, fd: int | str) -> str:
    """How an endpoint on an inherited socket is shown: 'unix-listen-fd:3', 'unix-listen-fdname:web'."""
    return f"{stem}-fd:{fd}" if isinstance(fd, int) else f"{stem}-fdname:{fd}"


def activation_fds() -> range:
    """The descriptors socket activation passed to this process (LISTEN_FDS, LISTEN_PID),
    or an error saying why there are none."""
    count = os.environ.get("LISTEN_FDS")
    if count is None:
        raise ConnectError("LISTEN_FDS is not set: no sockets were passed to this process (socket activation)")
    pid = os.environ.get("LISTEN_PID")
    if pid is None:
        raise ConnectError("LISTEN_PID is not set: the sockets of LISTEN_FDS are not known to be for this process")
    if pid != str(os.getpid()):
        raise ConnectError(f"LISTEN_PID={pid} is not this process ({os.getpid()}): the sockets are for another process")
    if not count.isdigit():
        raise ConnectError(f"LISTEN_FDS={count!r} is not a number")
    return range(LISTEN_FDS_START, LISTEN_FDS_START + int(count))


def inherited_fd(fd: int | str) -> int:
    """The descriptor number of an inherited socket: ``fd`` itself, or the one named
    ``fd`` in LISTEN_FDNAMES.  A number needs no environment (any inherited descriptor,
    as websocat4), but where LISTEN_FDS or LISTEN_PID is set it must be one of this
    process's activation sockets."""
    if isinstance(fd, int):
        if "LISTEN_FDS" in os.environ or "LISTEN_PID" in os.environ:
            passed = activation_fds()
            if fd not in passed:
                raise ConnectError(f"fd {fd} is not one of the sockets of LISTEN_FDS ({_show_range(passed)})")
        return fd
    passed = activation_fds()
    names = os.environ.get("LISTEN_FDNAMES")
    if names is None:
        raise ConnectError(f"LISTEN_FDNAMES is not set: no socket is named {fd!r}")
    for number, name in zip(passed, names.split(":")):
        if name == fd:
            return number
    raise ConnectError(f"no socket named {fd!r} in LISTEN_FDNAMES={names!r}")


def _show_range(fds: range) -> str:
    if not fds:
        return "none"
    return str(fds.start) if len(fds) == 1 else f"{fds.start} to {fds.stop - 1}"


_TYPES: dict[int, str] = {
    socket.SOCK_STREAM: "stream",
    socket.SOCK_DGRAM: "datagram",
    socket.SOCK_SEQPACKET: "seqpacket",
}
_FAMILIES: dict[int, str] = {socket.AF_UNIX: "UNIX", socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}


def _describe(family: int, kind: int) -> str:
    return f"{_FAMILIES.get(family, f'family {family}')} {_TYPES.get(kind, f'type {kind}')}"


def _article(word: str) -> str:
    return "an" if word.startswith("IP") else "a"


def inherited_socket(
    fd: int | str, shown: str, families: tuple[int, ...], kind: int, *, listening: bool = True
) -> socket.socket:
    """The inherited socket ``fd`` (a number, or a name in LISTEN_FDNAMES), checked to be of
    one of ``families``, of type ``kind`` and, with ``listening``, to listen (a UDP one
    does not); non-blocking, and not inherited further (close-on-exec).  Every failure is
    a ConnectError naming ``shown`` (e.g. 'tcp-listen-fd:3')."""
    number = inherited_fd(fd)
    try:
        sock = socket.socket(fileno=number)
    except OSError as exc:
        if exc.errno == errno.ENOTSOCK:
            raise ConnectError(f"{shown}: fd {number} is not a socket") from None
        if exc.errno == errno.EBADF:
            raise ConnectError(f"{shown}: fd {number} is not open") from None
        raise ConnectError(f"{shown}: fd {number}: {os_error_text(exc)}") from None
    if sock.family not in families or sock.type != kind:
        got = _describe(sock.family, sock.type)
        sock.detach()
        want = _describe(families[0], kind)
        raise ConnectError(f"{shown}: fd {number} is {_article(got)} {got} socket, not {_article(want)} {want} one")
    if listening and not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        sock.detach()
        raise ConnectError(f"{shown}: fd {number} is not a listening socket")
    sock.set_inheritable(False)
    sock.setblocking(False)
    return sock


_INET = (socket.AF_INET, socket.AF_INET6)


def _peer(protocol: StreamProtocol) -> str:
    peer = protocol.transport.get_extra_info("peername") if protocol.transport else None
    if not peer:
        return ""
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _announce(sock: socket.socket) -> None:
    host, port = sock.getsockname()[:2]
    sys.stdout.write(f"LISTEN proto=tcp,ip={host},port={port}\n")
    sys.stdout.flush()


@asynccontextmanager
async def accept_one_tcp(
    fd: int | str,
    *,
    announce: bool = False,
    sockopts: Mapping[str, Any] | None = None,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
) -> AsyncIterator[TransportStream]:
    """Accept one connection on an inherited listening TCP socket, then stop listening."""
    sock = inherited_socket(fd, inherited_name("tcp-listen", fd), _INET, socket.SOCK_STREAM)
    loop = asyncio.get_running_loop()
    if announce:
        _announce(sock)
    try:
        if exec_after_listen is not None:
            port = int(sock.getsockname()[1])
            await serving.after_listen(exec_after_listen, port if exec_after_listen_append_port else None)
        conn, _address = await loop.sock_accept(sock)
    finally:
        sock.close()
    try:
        socket_options.apply_stream(conn, sockopts)
    except WebsocatError:
        conn.close()
        raise
    _transport, protocol = await loop.connect_accepted_socket(StreamProtocol, conn)
    stream = TransportStream(protocol, _peer(protocol))
    stream.managed = True
    try:
        yield stream
    finally:
        await stream.aclose()


async def serve_tcp(
    fd: int | str,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    sockopts: Mapping[str, Any] | None = None,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Run `session(stream, *args)` for each connection to an inherited listening TCP
    socket: ``fd`` is its number, or its name in LISTEN_FDNAMES."""
    sock = inherited_socket(fd, inherited_name("tcp-listen", fd), _INET, socket.SOCK_STREAM)

    async def open_listener(accept: Callable[[ByteStream], None]) -> TcpListener:
        def made(protocol: StreamProtocol) -> None:
            peer = _peer(protocol)
            if sockopts and protocol.transport is not None:
                try:
                    socket_options.apply_stream(protocol.transport.get_extra_info("socket"), sockopts)
                except WebsocatError as exc:  # this connection only: one line, and it is dropped
                    sys.stderr.write(f"websocat: {peer}: {exc.message}\n")
                    protocol.transport.abort()  # type: ignore[attr-defined]
                    return
            accept(TransportStream(protocol, peer))

        loop = asyncio.get_running_loop()
        try:
            server = await loop.create_server(lambda: StreamProtocol(on_made=made), sock=sock, backlog=1024)
        except BaseException:
            sock.close()
            raise
        return TcpListener(server)

    await serving.serve(
        open_listener,
        session,
        *args,
        **serving_options,
    )
