"""TCP endpoints: connect (by IP, by resolved addresses raced, by late hostname), listen, serve."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Unpack

from websocat.runtime import serving, stats
from websocat.runtime.timeouts import within
from websocat.runtime import socket_options
from websocat.runtime.errors import ConnectError, WebsocatError, os_error_text
from websocat.runtime.sockets import ByteStream, StreamProtocol, TransportStream

Stream = ByteStream
Addrs = list[tuple[str, int]]
SockOpts = Mapping[str, Any] | None  # socket options by name (runtime/socket_options.py)


def _show(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def resolve(host: str, port: int) -> Addrs:
    """Resolve a hostname to every address it has (IPv6 and IPv4), in the resolver's order."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectError(f"cannot resolve {host!r}: {exc.strerror}") from None
    addrs: Addrs = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = (str(sockaddr[0]), int(sockaddr[1]))
        if addr not in addrs:
            addrs.append(addr)
    return addrs


async def _open(host: str, port: int, sockopts: SockOpts = None) -> TransportStream:
    loop = asyncio.get_running_loop()
    try:
        if not sockopts:
            _transport, protocol = await loop.create_connection(StreamProtocol, host, port)
        else:
            _transport, protocol = await loop.create_connection(
                StreamProtocol, sock=await _connected(host, port, sockopts)
            )
    except OSError as exc:
        raise ConnectError(f"tcp:{_show(host, port)}: {os_error_text(exc)}") from None
    return TransportStream(protocol, _show(host, port))


async def _connected(host: str, port: int, sockopts: Mapping[str, Any]) -> socket.socket:
    """A socket connected to an IP address, with the socket options set around connect()."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        socket_options.apply_bind(sock, sockopts)
        local = socket_options.bind_address(sockopts)
        if local is not None:
            try:
                sock.bind(local)
            except OSError as exc:
                raise ConnectError(f"--bind-before-connect {_show(*local)}: {os_error_text(exc)}") from None
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        socket_options.apply_stream(sock, sockopts)
    except BaseException:
        sock.close()
        raise
    return sock


async def _race(addrs: Addrs, interval_ms: int, sockopts: SockOpts = None) -> TransportStream:
    """Start a connection to each address in turn, `interval_ms` apart; the first to connect wins."""
    if not addrs:
        raise ConnectError("no addresses to connect to")
    if len(addrs) == 1:
        return await _open(*addrs[0], sockopts)
    attempts: list[asyncio.Task[TransportStream]] = []
    errors: list[BaseException] = []
    winner: TransportStream | None = None
    try:
        for index, addr in enumerate(addrs):
            attempts.append(asyncio.ensure_future(_open(*addr, sockopts)))
            if index + 1 < len(addrs):
                done, _ = await asyncio.wait(
                    [a for a in attempts if not a.done() or a.exception() is None],
                    timeout=interval_ms / 1000,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                winner = next((t.result() for t in done if t.exception() is None), None)
                if winner is not None:
                    return winner
        while winner is None:
            pending = [a for a in attempts if not a.done()]
            for attempt in attempts:
                if attempt.done() and attempt.exception() is None:
                    winner = attempt.result()
                    return winner
            if not pending:
                errors = [a.exception() for a in attempts if a.exception() is not None]  # type: ignore[misc]
                raise errors[0] if errors else ConnectError("connection failed")
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        return winner
    finally:
        for attempt in attempts:
            if not attempt.done():
                attempt.cancel()
            elif attempt.exception() is None and attempt.result() is not winner:
                await attempt.result().aclose()


@asynccontextmanager
async def _closing(opening: Awaitable[TransportStream]) -> AsyncIterator[TransportStream]:
    stream = await opening
    stream.managed = True
    try:
        yield stream
    finally:
        await stream.aclose()


def connect(host: str, port: int, *, sockopts: SockOpts = None, connect_timeout_ms: int | None = None) -> Any:
    """Connected to a TCP socket using one explicitly specified IPv4 or IPv6 socket address.

    ``sockopts``: socket options by name (runtime/socket_options.py), e.g. ``{"socket_nodelay": True}``.
    ``connect_timeout_ms``: fail with TimeoutExpired when connecting takes longer.
    """
    socket_options.check(sockopts)
    return _closing(_timed(_open(host, port, sockopts), connect_timeout_ms, f"{_show(host, port)}: TCP connect"))


def connect_any(
    addrs: Addrs, *, race_interval_ms: int = 20, sockopts: SockOpts = None, connect_timeout_ms: int | None = None
) -> Any:
    """Connect to the first of several addresses that answers (started `race_interval_ms` apart)."""
    socket_options.check(sockopts)
    where = _show(*addrs[0]) if len(addrs) == 1 else ", ".join(_show(*addr) for addr in addrs[:3])
    return _closing(_timed(_race(addrs, race_interval_ms, sockopts), connect_timeout_ms, f"{where}: TCP connect"))


def connect_late(
    host: str,
    port: int,
    *,
    race_interval_ms: int = 20,
    sockopts: SockOpts = None,
    connect_timeout_ms: int | None = None,
) -> Any:
    """Connect to a TCP socket by hostname, resolving it now (--late-resolve)."""
    socket_options.check(sockopts)

    async def opening() -> TransportStream:
        addrs = await resolve(host, port)
        return await _timed(
            _race(addrs, race_interval_ms, sockopts), connect_timeout_ms, f"{_show(host, port)}: TCP connect"
        )

    return _closing(opening())


async def _timed(opening: Awaitable[TransportStream], timeout_ms: int | None, stage: str) -> TransportStream:
    """The connect stage: --connect-timeout-ms, and its time for --stats; ``stage`` is what
    the error names, '127.0.0.1:80: TCP connect' (or a proxy tunnel)."""
    started = time.monotonic()
    stream = await within(opening, timeout_ms, stage)
    stats.note("connect", started)
    return stream


def _announcements(server: asyncio.base_events.Server) -> list[str]:
    return [f"proto=tcp,ip={sock.getsockname()[0]},port={sock.getsockname()[1]}" for sock in server.sockets]


class TcpListener:
    """A listening TCP socket, as runtime/serving.py drives it."""

    def __init__(self, server: asyncio.base_events.Server) -> None:
        self.server = server

    def close(self) -> None:
        self.server.close()

    def announcements(self) -> list[str]:
        return _announcements(self.server)

    def addresses(self) -> list[str]:
        return [_show(*sock.getsockname()[:2]) for sock in self.server.sockets]

    def port(self) -> int:
        """The bound port (the one port 0 got), for --exec-after-listen-append-port."""
        return int(self.server.sockets[0].getsockname()[1])


async def _listen(
    host: str, port: int, factory: Callable[[], asyncio.Protocol], sockopts: SockOpts = None
) -> asyncio.base_events.Server:
    loop = asyncio.get_running_loop()
    backlog = socket_options.listen_backlog(sockopts)
    try:
        if not sockopts:
            return await loop.create_server(factory, host, port, reuse_address=True, backlog=backlog)
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # --reuseaddr false turns it off
            socket_options.apply_bind(sock, sockopts)
            sock.bind((host, port))
            sock.setblocking(False)
            sock.listen(backlog)
            return await loop.create_server(factory, sock=sock)
        except BaseException:
            sock.close()
            raise
    except OSError as exc:
        raise ConnectError(f"tcp-listen:{_show(host, port)}: {os_error_text(exc)}") from None


def _accepted(protocol: StreamProtocol, sockopts: SockOpts) -> TransportStream | None:
    """The stream of an accepted connection, its stream options set; None (and the
    connection dropped, with one line) when the OS refuses one."""
    transport = protocol.transport
    peer = transport.get_extra_info("peername") if transport else None
    shown = _show(*peer[:2]) if peer else ""
    if sockopts and transport is not None:
        try:
            socket_options.apply_stream(transport.get_extra_info("socket"), sockopts)
        except WebsocatError as exc:
            sys.stderr.write(f"websocat: {shown}: {exc.message}\n")
            transport.abort()  # type: ignore[attr-defined]
            return None
    return TransportStream(protocol, shown)


@asynccontextmanager
async def accept_one(
    host: str,
    port: int,
    *,
    announce: bool = False,
    sockopts: SockOpts = None,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
) -> AsyncIterator[TransportStream]:
    """Listen, accept one connection, stop listening (a listener used on the right side)."""
    socket_options.check(sockopts)
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[StreamProtocol] = loop.create_future()

    def made(protocol: StreamProtocol) -> None:
        if accepted.done():
            protocol.transport.close()  # type: ignore[union-attr]  # only one is accepted
        else:
            accepted.set_result(protocol)

    def factory() -> StreamProtocol:
        return StreamProtocol(on_made=made)

    server = await _listen(host, port, factory, sockopts)
    if announce:
        sys.stdout.write("".join(f"LISTEN {text}\n" for text in _announcements(server)))
        sys.stdout.flush()
    try:
        if exec_after_listen is not None:
            bound = int(server.sockets[0].getsockname()[1])
            await serving.after_listen(exec_after_listen, bound if exec_after_listen_append_port else None)
        while True:
            stream = _accepted(await accepted, sockopts)
            if stream is not None:
                break
            accepted = loop.create_future()
    finally:
        server.close()
    stream.managed = True
    try:
        yield stream
    finally:
        await stream.aclose()


async def serve(
    host: str,
    port: int,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    sockopts: SockOpts = None,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Listen for TCP connections and run `session(stream, *args)` for each, concurrently
    (runtime/serving.py: --oneshot, --exit-after-one-session, announcements, errors)."""
    socket_options.check(sockopts)

    async def open_listener(accept: Callable[[ByteStream], None]) -> TcpListener:
        def made(protocol: StreamProtocol) -> None:
            stream = _accepted(protocol, sockopts)
            if stream is not None:
                accept(stream)

        return TcpListener(await _listen(host, port, lambda: StreamProtocol(on_made=made), sockopts))

    await serving.serve(
        open_listener,
        session,
        *args,
        **serving_options,
    )


__all__ = [
    "Addrs",
    "Stream",
    "WebsocatError",
    "accept_one",
    "connect",
    "connect_any",
    "connect_late",
    "resolve",
    "serve",
]
