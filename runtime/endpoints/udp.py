"""UDP endpoints: udp: (a connected socket), udp-bind: (a bound socket whose peer the
options choose) and udp-server: (one session per peer address).

One datagram is one message, a 0-byte one included.  Datagrams are received as binary
messages (text with ``text=True``, -t), as websocat4 tags them.  A message sent in
CONTINUES pieces leaves as one datagram once whole; one longer than
``max_send_datagram_size`` fails the session; control messages (ping, pong) are not sent.
UDP has no EOF: ``send_eof`` sends nothing, and only a udp-server: session ends by itself
(timeout, or evicted by a newer client).
"""

from __future__ import annotations

import asyncio
import collections
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Unpack

from websocat.runtime import serving, socket_options
from websocat.runtime.endpoints import fds
from websocat.runtime.errors import ConnectError, UsageError, WebsocatError, os_error_text
from websocat.runtime.sockets import BINARY, CONTINUES, CONTROL, TEXT, Message, MessageSocket, opening

Socket = MessageSocket
SockOpts = Mapping[str, Any] | None  # socket options by name (runtime/socket_options.py)
Address = Any  # a socket address as the socket module gives it: (host, port) or (host, port, flow, scope)

RECV_SIZE = 65536  # more than any UDP payload: an incoming datagram is never cut
BURST = 256  # datagrams read per wakeup at most (Python has no recvmmsg)
YIELD_EVERY = 32  # datagrams sent before other tasks get a turn (a reader in this process)


def _show(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _show_address(address: Address) -> str:
    return _show(str(address[0]), int(address[1]))


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class UdpSocket(MessageSocket):
    """What udp: and udp-bind: give: one UDP socket, sending to one peer at a time."""

    name = "udp"

    def __init__(
        self,
        sock: socket.socket,
        label: str,
        *,
        target: Address | None = None,
        allow_other_addresses: bool = False,
        redirect_to_last_seen_address: bool = False,
        connect_to_first_seen_address: bool = False,
        inhibit_send_errors: bool = False,
        text: bool = False,
        max_send_datagram_size: int = 4096,
    ) -> None:
        self.sock = sock
        self.label = label  # "udp:127.0.0.1:1234", for error messages
        self._loop = asyncio.get_running_loop()
        # None: the socket is connected (send/recv); else sendto this (or drop: neutral).
        self._target = target
        self._allow_other = allow_other_addresses
        self._redirect = redirect_to_last_seen_address
        self._connect_first = connect_to_first_seen_address
        self._inhibit = inhibit_send_errors
        self._flags = TEXT if text else BINARY
        self._max = max_send_datagram_size
        self._pieces: list[bytes] = []
        self._joined_size = 0
        self._waiter: asyncio.Future[None] | None = None
        self._error: ConnectError | None = None
        self._closed = False

    # -- receiving
    async def recv_batch(self) -> list[Message]:
        while not self._closed:
            if self._error is not None:
                raise self._error
            batch = self._drain()
            if batch:
                return batch
            await self._wait(self._loop.add_reader, self._loop.remove_reader)
        return []

    def _drain(self) -> list[Message]:
        """Every datagram waiting (up to BURST), as messages."""
        out: list[Message] = []
        flags = self._flags
        try:
            if self._target is None:
                recv = self.sock.recv
                for _ in range(BURST):
                    out.append((recv(RECV_SIZE), flags))
            else:
                for _ in range(BURST):
                    data, address = self.sock.recvfrom(RECV_SIZE)
                    if self._accepts(address):
                        out.append((data, flags))
                        if self._target is None:
                            break  # connected now: the rest comes by recv
        except BlockingIOError:
            pass
        except OSError as exc:  # ICMP "port unreachable" on a connected socket, say
            self._error = ConnectError(f"{self.label}: {os_error_text(exc)}")
            if not out:  # else after these messages, at the next read
                raise self._error from None
        return out

    def _accepts(self, address: Address) -> bool:
        """Whether a datagram from ``address`` is delivered; follows the peer (udp-bind: options)."""
        if self._connect_first:
            self.sock.connect(address)  # the kernel filters other senders from now on
            self._target = None
            return True
        target = self._target
        if target is not None and address[:2] == target[:2]:  # IPv6 ones come with flow info and scope
            return True
        if not self._allow_other:
            return False  # --udp-bind-restrict-to-one-address
        if self._redirect:
            self._target = address
        return True

    # -- sending
    async def send_batch(self, batch: list[Message]) -> None:
        sent = 0
        for data in self._datagrams(batch):
            while not self._send_now(data):
                await self._wait(self._loop.add_writer, self._loop.remove_writer)
            sent += 1
            if sent % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    def _datagrams(self, batch: list[Message]) -> Iterator[bytes]:
        """The datagrams a batch makes: fragments joined, control messages left out."""
        for data, flags in batch:
            if flags & CONTROL:
                continue
            if flags & CONTINUES or self._pieces:
                self._pieces.append(data)
                self._joined_size += len(data)
                if self._joined_size > self._max:
                    self._too_long(self._joined_size)
                if flags & CONTINUES:
                    continue
                data = b"".join(self._pieces)
                self._pieces.clear()
                self._joined_size = 0
            elif len(data) > self._max:
                self._too_long(len(data))
            yield data

    def _too_long(self, size: int) -> None:
        self._pieces.clear()
        self._joined_size = 0
        raise WebsocatError(
            f"{self.label}: a message of {size}+ bytes is longer than --udp-max-send-datagram-size ({self._max})"
        )

    def _send_now(self, data: bytes) -> bool:
        """Send one datagram; False when the socket's buffer is full (wait, then again)."""
        try:
            if self._target is None:
                self.sock.send(data)
            elif self._target[1] == 0:
                return True  # no peer yet (neutral address): dropped, as websocat4 does
            else:
                self.sock.sendto(data, self._target)
        except BlockingIOError:
            return False
        except OSError as exc:
            if self._closed:
                raise ConnectError(f"{self.label}: closed") from None
            if not self._inhibit:
                raise ConnectError(f"{self.label}: {os_error_text(exc)}") from None
        return True

    async def _wait(self, add: Callable[..., None], remove: Callable[[int], object]) -> None:
        waiter = self._waiter = self._loop.create_future()
        fd = self.sock.fileno()
        add(fd, _wake, waiter)
        try:
            await waiter
        finally:
            remove(fd)
            self._waiter = None

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._waiter is not None:
            _wake(self._waiter)
        self.sock.close()


def _socket_for(family: int, label: str) -> socket.socket:
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError as exc:
        raise ConnectError(f"{label}: {os_error_text(exc)}") from None
    sock.setblocking(False)
    return sock


def _bound(host: str, port: int, label: str, sockopts: SockOpts = None) -> socket.socket:
    """A UDP socket bound to host:port, with the socket options set around bind()."""
    socket_options.check(sockopts)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = _socket_for(family, label)
    try:
        socket_options.apply_bind(sock, sockopts)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ConnectError(f"{label}: {os_error_text(exc)}") from None
        socket_options.apply_datagram(sock, sockopts)
    except BaseException:
        sock.close()
        raise
    return sock


@opening
async def connect(
    host: str, port: int, *, text: bool = False, max_send_datagram_size: int = 4096, sockopts: SockOpts = None
) -> UdpSocket:
    """Connect to this UDP socket (a hostname is resolved now, the first address taken).

    Not affected by the udp-bind: options.  An ICMP "port unreachable" answer fails the
    session with "Connection refused", as websocat4's connected socket does.
    """
    label = f"udp:{_show(host, port)}"
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise ConnectError(f"{label}: cannot resolve {host!r}: {exc.strerror}") from None
    family, _type, _proto, _canon, address = infos[0]
    socket_options.check(sockopts)
    sock = _socket_for(family, label)
    try:
        socket_options.apply_bind(sock, sockopts)
        try:
            sock.connect(address)
        except OSError as exc:
            raise ConnectError(f"{label}: {os_error_text(exc)}") from None
        socket_options.apply_datagram(sock, sockopts)
    except BaseException:
        sock.close()
        raise
    return UdpSocket(sock, label, text=text, max_send_datagram_size=max_send_datagram_size)


@opening
async def bind(
    host: str,
    port: int,
    *,
    target: tuple[str, int] | None = None,
    restrict_to_one_address: bool = False,
    redirect_to_last_seen_address: bool = False,
    connect_to_first_seen_address: bool = False,
    inhibit_send_errors: bool = False,
    text: bool = False,
    max_send_datagram_size: int = 4096,
    sockopts: SockOpts = None,
    inherited: int | str | None = None,
) -> UdpSocket:
    """Bind a UDP socket to host:port; where replies go is up to the options.
    ``inherited``: use this inherited bound socket (an fd, or a LISTEN_FDNAMES name) instead.

    Messages go to ``target`` (none: dropped until a datagram arrives).  Datagrams from
    any address are received, unless ``restrict_to_one_address`` (from ``target`` only).
    ``redirect_to_last_seen_address``: replies go to whoever sent the last datagram.
    ``connect_to_first_seen_address`` (implied without ``target``): the first datagram's
    sender becomes the only peer, as with udp:.  ``inhibit_send_errors``: a failed
    sendto is ignored.
    """
    if restrict_to_one_address and target is None:
        raise UsageError("--udp-bind-restrict-to-one-address needs --udp-bind-target-addr")
    if restrict_to_one_address and (redirect_to_last_seen_address or connect_to_first_seen_address):
        raise UsageError(
            "--udp-bind-restrict-to-one-address cannot be combined with an option that follows new addresses"
        )
    if inherited is not None:
        label = fds.inherited_name("udp", inherited)
        sock = _inherited(inherited, label, sockopts)
        host = str(sock.getsockname()[0])
    else:
        label = f"udp-bind:{_show(host, port)}"
        sock = _bound(host, port, label, sockopts)
    connect_first = connect_to_first_seen_address or target is None
    return UdpSocket(
        sock,
        label,
        target=target if target is not None else (host, 0),
        allow_other_addresses=not restrict_to_one_address,
        redirect_to_last_seen_address=redirect_to_last_seen_address or connect_first,
        connect_to_first_seen_address=connect_first,
        inhibit_send_errors=inhibit_send_errors,
        text=text,
        max_send_datagram_size=max_send_datagram_size,
    )


# -- udp-server: one session per peer address


class UdpPeer(UdpSocket):
    """One client of a udp-server: its datagrams, and replies to it over the shared socket."""

    def __init__(self, server: UdpServer, address: Address) -> None:
        super().__init__(
            server.sock,
            f"udp-server:{server.shown}",
            target=address,
            inhibit_send_errors=server.inhibit_send_errors,
            text=server.text,
            max_send_datagram_size=server.max_send_datagram_size,
        )
        self.server = server
        self.address = address
        self.peer = _show_address(address)  # serving names a failed session by it
        self.queue: list[Message] = []
        self.last_seen = self._loop.time()
        self.timer: asyncio.TimerHandle | None = None
        self.ended = False
        self.gone = self.hangup = asyncio.Event()  # timed out or evicted

    async def recv_batch(self) -> list[Message]:
        while not self.queue:
            if self.ended:
                return []
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        batch, self.queue = self.queue, []
        self.server.taken()
        return batch

    def deliver(self, data: bytes) -> bool:
        """Queue a datagram from this peer; False when the queue was full (not queued)."""
        self.last_seen = self._loop.time()
        if len(self.queue) >= self.server.qlen and not self.server.backpressure:
            return False  # a slow session: dropped, as websocat4 does
        self.queue.append((data, self._flags))
        if self._waiter is not None:
            _wake(self._waiter)
        return len(self.queue) < self.server.qlen

    def end(self) -> None:
        """Timed out or evicted: EOF after what is queued, and hangup."""
        self.ended = True
        self.gone.set()
        if self.timer is not None:
            self.timer.cancel()
        if self._waiter is not None:
            _wake(self._waiter)

    def _send_now(self, data: bytes) -> bool:
        if self.ended:
            return True  # the session is over for this peer: nothing more goes out
        return super()._send_now(data)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self.end()
            self.server.forget(self)


class UdpServer:
    """A bound UDP socket that starts a session (``accept``) for each new peer address.

    ``timeout_ms``: a session ends when its peer sent nothing for that long.
    ``max_clients``: a new peer beyond that many evicts the one silent the longest.
    ``buffer_size``: the receive buffer; a longer datagram is cut to it.
    ``qlen``: datagrams queued per session; more are dropped, or with ``backpressure``
    reading stops until the session takes them.
    """

    def __init__(
        self,
        sock: socket.socket,
        accept: Callable[[UdpPeer], None],
        *,
        timeout_ms: int | None = None,
        max_clients: int | None = None,
        buffer_size: int = 4096,
        qlen: int = 1,
        backpressure: bool = False,
        text: bool = False,
        inhibit_send_errors: bool = False,
        max_send_datagram_size: int = 4096,
    ) -> None:
        if max_clients is not None and max_clients < 1:
            raise UsageError("--udp-server-max-clients must be at least 1")
        if buffer_size < 1 or qlen < 1:
            raise UsageError("--udp-server-buffer-size and --udp-server-qlen must be at least 1")
        self.sock = sock
        self.shown = _show_address(sock.getsockname())
        self.accept = accept
        self.timeout = timeout_ms / 1000 if timeout_ms is not None else None
        self.max_clients = max_clients
        self.buffer_size = buffer_size
        self.qlen = qlen
        self.backpressure = backpressure
        self.text = text
        self.inhibit_send_errors = inhibit_send_errors
        self.max_send_datagram_size = max_send_datagram_size
        self.peers: collections.OrderedDict[Address, UdpPeer] = collections.OrderedDict()  # least recent first
        self.accepting = True
        self.reading = False
        self.closed = False
        self.loop = asyncio.get_running_loop()
        self._resume()

    def port(self) -> int:
        """The bound port (the one port 0 got), for --exec-after-listen-append-port."""
        return int(self.sock.getsockname()[1])

    def _resume(self) -> None:
        if not self.reading and not self.closed:
            self.loop.add_reader(self.sock.fileno(), self._readable)
            self.reading = True

    def _pause(self) -> None:
        if self.reading:
            self.loop.remove_reader(self.sock.fileno())
            self.reading = False

    def _readable(self) -> None:
        recvfrom, size, peers = self.sock.recvfrom, self.buffer_size, self.peers
        for _ in range(BURST):
            try:
                data, address = recvfrom(size)
            except BlockingIOError:
                return
            except OSError:
                continue  # an ICMP error about an earlier reply: the socket goes on
            peer = peers.get(address)
            if peer is None:
                if not self.accepting:
                    continue
                peer = self._new_peer(address)
            else:
                peers.move_to_end(address)
            if not peer.deliver(data) and self.backpressure:
                self._pause()  # until that session takes its queue
                return

    def _new_peer(self, address: Address) -> UdpPeer:
        if self.max_clients is not None and len(self.peers) >= self.max_clients:
            _address, oldest = self.peers.popitem(last=False)
            oldest.end()
        peer = self.peers[address] = UdpPeer(self, address)
        if self.timeout is not None:
            peer.timer = self.loop.call_later(self.timeout, self._check_idle, peer)
        self.accept(peer)
        return peer

    def _check_idle(self, peer: UdpPeer) -> None:
        assert self.timeout is not None
        idle = self.loop.time() - peer.last_seen
        if idle >= self.timeout:
            self.forget(peer)
            peer.end()
        else:
            peer.timer = self.loop.call_later(self.timeout - idle, self._check_idle, peer)

    def taken(self) -> None:
        """A session took its queue: reading may go on (backpressure)."""
        if not self.reading:
            self._resume()

    def forget(self, peer: UdpPeer) -> None:
        """The session is over: a new datagram from that address starts a new one."""
        if self.peers.get(peer.address) is peer:
            del self.peers[peer.address]
        if not self.reading and not self.closed:
            self._resume()  # it may have been the session that held reading up
        if not self.accepting and not self.peers:
            self._shutdown()

    def close(self) -> None:
        """Accept no new peers; the socket closes when the last session ends."""
        self.accepting = False
        if not self.peers:
            self._shutdown()

    def _shutdown(self) -> None:
        if not self.closed:
            self._pause()
            self.closed = True
            self.sock.close()

    def announcements(self) -> list[str]:
        host, port = self.sock.getsockname()[:2] if not self.closed else ("", 0)
        return [f"proto=udp,ip={host},port={port}"]

    def addresses(self) -> list[str]:
        return [self.shown]


def _inherited(fd: int | str, label: str, sockopts: SockOpts) -> socket.socket:
    """An inherited UDP socket, bound already: only the options set after bind apply (as websocat4)."""
    socket_options.check(sockopts)
    sock = fds.inherited_socket(fd, label, (socket.AF_INET, socket.AF_INET6), socket.SOCK_DGRAM, listening=False)
    try:
        socket_options.apply_datagram(sock, sockopts)
    except BaseException:
        sock.close()
        raise
    return sock


def _server(
    host: str,
    port: int,
    accept: Callable[[UdpPeer], None],
    sockopts: SockOpts = None,
    inherited: int | str | None = None,
    **options: Any,
) -> UdpServer:
    if inherited is not None:
        sock = _inherited(inherited, fds.inherited_name("udp-server", inherited), sockopts)
    else:
        sock = _bound(host, port, f"udp-server:{_show(host, port)}", sockopts)
    try:
        return UdpServer(sock, accept, **options)
    except BaseException:
        sock.close()
        raise


@opening
async def accept_one(
    host: str,
    port: int,
    *,
    announce: bool = False,
    timeout_ms: int | None = None,
    max_clients: int | None = None,
    buffer_size: int = 4096,
    qlen: int = 1,
    backpressure: bool = False,
    text: bool = False,
    inhibit_send_errors: bool = False,
    max_send_datagram_size: int = 4096,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
    sockopts: SockOpts = None,
    inherited: int | str | None = None,
) -> UdpPeer:
    """Bind, and give the session of the first peer that sends a datagram; others are ignored
    (a udp-server: used on the right side).  ``exec_after_listen``: run once bound.
    ``inherited``: use this inherited bound socket (an fd, or a LISTEN_FDNAMES name) instead."""
    loop = asyncio.get_running_loop()
    first: asyncio.Future[UdpPeer] = loop.create_future()

    def accept(peer: UdpPeer) -> None:
        if not first.done():
            first.set_result(peer)

    server = _server(
        host,
        port,
        accept,
        timeout_ms=timeout_ms,
        max_clients=max_clients,
        buffer_size=buffer_size,
        qlen=qlen,
        backpressure=backpressure,
        text=text,
        inhibit_send_errors=inhibit_send_errors,
        max_send_datagram_size=max_send_datagram_size,
        sockopts=sockopts,
        inherited=inherited,
    )
    if announce:
        sys.stdout.write("".join(f"LISTEN {text}\n" for text in server.announcements()))
        sys.stdout.flush()
    try:
        if exec_after_listen is not None:
            await serving.after_listen(exec_after_listen, server.port() if exec_after_listen_append_port else None)
        peer = await first
    finally:
        server.close()  # no other peer: the socket stays for this session
    return peer


async def serve(
    host: str,
    port: int,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    timeout_ms: int | None = None,
    max_clients: int | None = None,
    buffer_size: int = 4096,
    qlen: int = 1,
    backpressure: bool = False,
    text: bool = False,
    inhibit_send_errors: bool = False,
    max_send_datagram_size: int = 4096,
    sockopts: SockOpts = None,
    inherited: int | str | None = None,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Bind a UDP socket and run `session(peer, *args)` for each new peer address, concurrently
    (runtime/serving.py: --oneshot, --exit-after-one-session, announcements, errors,
    --exec-after-listen).  ``inherited``: as for accept_one."""

    async def open_listener(accept: Callable[[UdpPeer], None]) -> UdpServer:
        return _server(
            host,
            port,
            accept,
            timeout_ms=timeout_ms,
            max_clients=max_clients,
            buffer_size=buffer_size,
            qlen=qlen,
            backpressure=backpressure,
            text=text,
            inhibit_send_errors=inhibit_send_errors,
            max_send_datagram_size=max_send_datagram_size,
            sockopts=sockopts,
            inherited=inherited,
        )

    await serving.serve(
        open_listener,
        session,
        *args,
        **serving_options,
    )


def bind_fd(
    fd: int | str,
    *,
    target: tuple[str, int] | None = None,
    restrict_to_one_address: bool = False,
    redirect_to_last_seen_address: bool = False,
    connect_to_first_seen_address: bool = False,
    inhibit_send_errors: bool = False,
    text: bool = False,
    max_send_datagram_size: int = 4096,
    sockopts: SockOpts = None,
) -> Any:
    """udp-fd:/udp-fdname: bind() over an inherited bound socket (an fd, or a LISTEN_FDNAMES name)."""
    return bind(
        "",
        0,
        target=target,
        restrict_to_one_address=restrict_to_one_address,
        redirect_to_last_seen_address=redirect_to_last_seen_address,
        connect_to_first_seen_address=connect_to_first_seen_address,
        inhibit_send_errors=inhibit_send_errors,
        text=text,
        max_send_datagram_size=max_send_datagram_size,
        sockopts=sockopts,
        inherited=fd,
    )


def accept_one_fd(
    fd: int | str,
    *,
    announce: bool = False,
    timeout_ms: int | None = None,
    max_clients: int | None = None,
    buffer_size: int = 4096,
    qlen: int = 1,
    backpressure: bool = False,
    text: bool = False,
    inhibit_send_errors: bool = False,
    max_send_datagram_size: int = 4096,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
    sockopts: SockOpts = None,
) -> Any:
    """udp-server-fd:/udp-server-fdname: on the right: accept_one() over an inherited socket."""
    return accept_one(
        "",
        0,
        announce=announce,
        timeout_ms=timeout_ms,
        max_clients=max_clients,
        buffer_size=buffer_size,
        qlen=qlen,
        backpressure=backpressure,
        text=text,
        inhibit_send_errors=inhibit_send_errors,
        max_send_datagram_size=max_send_datagram_size,
        exec_after_listen=exec_after_listen,
        exec_after_listen_append_port=exec_after_listen_append_port,
        sockopts=sockopts,
        inherited=fd,
    )


async def serve_fd(
    fd: int | str,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    timeout_ms: int | None = None,
    max_clients: int | None = None,
    buffer_size: int = 4096,
    qlen: int = 1,
    backpressure: bool = False,
    text: bool = False,
    inhibit_send_errors: bool = False,
    max_send_datagram_size: int = 4096,
    sockopts: SockOpts = None,
    **serving_options: Unpack[serving.Options],
) -> None:
    """udp-server-fd:/udp-server-fdname: on the left: serve() over an inherited socket."""
    await serve(
        "",
        0,
        session,
        *args,
        timeout_ms=timeout_ms,
        max_clients=max_clients,
        buffer_size=buffer_size,
        qlen=qlen,
        backpressure=backpressure,
        text=text,
        inhibit_send_errors=inhibit_send_errors,
        max_send_datagram_size=max_send_datagram_size,
        sockopts=sockopts,
        inherited=fd,
        **serving_options,
    )


__all__ = [
    "Socket",
    "accept_one_fd",
    "bind_fd",
    "serve_fd",
    "UdpPeer",
    "UdpServer",
    "UdpSocket",
    "accept_one",
    "bind",
    "connect",
    "serve",
]
