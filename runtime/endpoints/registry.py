"""The intra-process registry: virtual addresses that connect the parts of one process
(``--compose``), the way TCP ports connect processes.

An address is any text.  A listener (``registry-stream-listen:``,
``registry-datagram-listen:``) takes the sockets sent to its address; a connector
(``registry-stream-connect:``, ``registry-datagram-connect:``) makes an in-memory pair,
sends one end and keeps the other; ``registry-send:`` sends the socket of its own
session.  Sending is a rendezvous, as websocat4's: it waits until a listener takes the
socket, and a socket of the wrong kind is refused back to its sender.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Unpack

from websocat.runtime import serving
from websocat.runtime.endpoints.trivial import ByteMirror, MessageMirror
from websocat.runtime.sockets import ByteStream, Message, MessageSocket, Socket, opening

__all__ = [
    "DEFAULT_BUFSIZE",
    "Datagrams",
    "Stream",
    "accept_one_datagrams",
    "accept_one_stream",
    "connect_datagrams",
    "connect_stream",
    "send",
    "serve_datagrams",
    "serve_stream",
]

# What a listener's session gets: a connector's end, or a socket sent by registry-send:
Stream = ByteStream
Datagrams = MessageSocket

DEFAULT_BUFSIZE = 1024  # --registry-connect-bufsize: bytes in flight each way before a writer waits


class _Offer:
    """A socket sent to an address, until a listener takes it (or refuses it)."""

    def __init__(self, sock: Socket) -> None:
        self.sock = sock
        self.taken: asyncio.Future[None] = asyncio.get_running_loop().create_future()


# One table per event loop: a slot's queue belongs to the loop that made it.
_TABLES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Queue[_Offer]]] = (
    weakref.WeakKeyDictionary()
)


def _slot(address: str) -> asyncio.Queue[_Offer]:
    table = _TABLES.setdefault(asyncio.get_running_loop(), {})
    slot = table.get(address)
    if slot is None:
        slot = table[address] = asyncio.Queue()
    return slot


async def _offer(address: str, sock: Socket) -> None:
    """Send ``sock`` to ``address``; return once a listener has taken it."""
    offer = _Offer(sock)
    await _slot(address).put(offer)
    await offer.taken  # cancelled: the listener sees the offer withdrawn and skips it


async def _take(address: str, kind: type[ByteStream] | type[MessageSocket], shown: str) -> Socket:
    """The next socket sent to ``address``; one of the wrong kind is refused to its sender."""
    slot = _slot(address)
    while True:
        offer = await slot.get()
        if offer.taken.done():
            continue  # its sender gave up waiting
        if not isinstance(offer.sock, kind):
            what = "byte streams" if kind is ByteStream else "datagrams"
            offer.taken.set_exception(ConnectionRefusedError(f"{shown} takes {what}, not {offer.sock.name}"))
            continue
        offer.taken.set_result(None)
        return offer.sock


# -- in-memory pairs: two mirrors, crossed


class _Buffer(ByteMirror):
    """One direction of a pair: a mirror whose reader may go away (writes then fail)."""

    abandoned = False

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.abandoned:
            raise BrokenPipeError("the other end of the registry connection is closed")
        await super().write(data)

    def abandon(self) -> None:
        self.abandoned = True
        self._chunks.clear()
        self._size = 0
        self._changed.set()  # a writer waiting for room goes on, and fails next time


class _Queue(MessageMirror):
    """One direction of a datagram pair, likewise; its end never waits for room."""

    abandoned = False
    ended = False

    async def recv_batch(self) -> list[Message]:
        if self.ended and self._queue.empty():
            return []
        return await super().recv_batch()

    async def send_batch(self, batch: list[Message]) -> None:
        if self.abandoned:
            raise BrokenPipeError("the other end of the registry connection is closed")
        await super().send_batch(batch)

    async def send_eof(self) -> None:
        if not self.ended:
            self.ended = True
            if not self._queue.full():
                self._queue.put_nowait([])  # wakes a waiting reader; else it sees `ended` next

    def abandon(self) -> None:
        self.abandoned = True
        while not self._queue.empty():
            self._queue.get_nowait()  # a sender waiting for room goes on


class Pipe(ByteStream):
    """One end of an in-memory byte-stream pair: reads what the other end writes."""

    name = "registry stream"

    def __init__(self, incoming: _Buffer, outgoing: _Buffer, peer: str) -> None:
        self.incoming = incoming
        self.outgoing = outgoing
        self.peer = peer
        self.read = incoming.read  # type: ignore[method-assign]
        self.write = outgoing.write  # type: ignore[method-assign]
        self.write_eof = outgoing.write_eof  # type: ignore[method-assign]

    async def aclose(self) -> None:
        await self.outgoing.write_eof()  # the other end reads EOF
        self.incoming.abandon()


class MessagePipe(MessageSocket):
    """One end of an in-memory datagram pair: receives what the other end sends."""

    name = "registry datagrams"

    def __init__(self, incoming: _Queue, outgoing: _Queue, peer: str) -> None:
        self.incoming = incoming
        self.outgoing = outgoing
        self.peer = peer
        self.recv_batch = incoming.recv_batch  # type: ignore[method-assign]
        self.send_batch = outgoing.send_batch  # type: ignore[method-assign]
        self.send_eof = outgoing.send_eof  # type: ignore[method-assign]

    async def aclose(self) -> None:
        await self.outgoing.send_eof()  # the other end receives EOF
        self.incoming.abandon()


def _stream_pair(address: str, bufsize: int) -> tuple[Pipe, Pipe]:
    there, back = _Buffer(bufsize), _Buffer(bufsize)
    shown = f"registry:{address}"
    return Pipe(back, there, shown), Pipe(there, back, shown)


def _datagram_pair(address: str) -> tuple[MessagePipe, MessagePipe]:
    there, back = _Queue(), _Queue()
    shown = f"registry:{address}"
    return MessagePipe(back, there, shown), MessagePipe(there, back, shown)


@opening
async def connect_stream(address: str, *, bufsize: int = DEFAULT_BUFSIZE) -> ByteStream:
    """Connect to a virtual intra-Websocat address using a stream socket; ``bufsize``
    bytes may be in flight each way (--registry-connect-bufsize)."""
    mine, theirs = _stream_pair(address, bufsize)
    await _offer(address, theirs)
    return mine


@opening
async def connect_datagrams(address: str) -> MessageSocket:
    """Connect to a virtual intra-Websocat address using a datagram socket."""
    mine, theirs = _datagram_pair(address)
    await _offer(address, theirs)
    return mine


async def send(sock: Socket, address: str) -> None:
    """registry-send: hand ``sock`` (the session's other side) to the listener at
    ``address``, and wait until that listener's session is done with it."""
    lent = _LentMessages(sock) if isinstance(sock, MessageSocket) else _LentStream(sock)
    await _offer(address, lent)
    await lent.returned.wait()


class _LentStream(ByteStream):
    """A byte stream lent to another session: the same halves; aclose() hands it back."""

    def __init__(self, sock: ByteStream) -> None:
        self.read = sock.read  # type: ignore[method-assign]
        self.write = sock.write  # type: ignore[method-assign]
        self.write_eof = sock.write_eof  # type: ignore[method-assign]
        self.readable, self.writable, self.hangup = sock.readable, sock.writable, sock.hangup
        self.peer = getattr(sock, "peer", "")
        self.name = sock.name  # type: ignore[misc]
        self.returned = asyncio.Event()

    async def aclose(self) -> None:
        self.returned.set()


class _LentMessages(MessageSocket):
    """A datagram socket lent to another session, likewise."""

    def __init__(self, sock: MessageSocket) -> None:
        self.recv_batch = sock.recv_batch  # type: ignore[method-assign]
        self.send_batch = sock.send_batch  # type: ignore[method-assign]
        self.send_eof = sock.send_eof  # type: ignore[method-assign]
        self.readable, self.writable, self.hangup = sock.readable, sock.writable, sock.hangup
        self.peer = getattr(sock, "peer", "")
        self.name = sock.name  # type: ignore[misc]
        self.returned = asyncio.Event()

    async def aclose(self) -> None:
        self.returned.set()


# -- listening


class RegistryListener:
    """A listening address: stops taking sockets when closed."""

    def __init__(self, task: asyncio.Task[None], address: str) -> None:
        self.task = task
        self.address = address

    def close(self) -> None:
        self.task.cancel()

    def announcements(self) -> list[str]:
        return []  # no port to tell anyone: the address is in the command line

    def addresses(self) -> list[str]:
        return [self.address]


async def _serve(
    address: str,
    kind: type[ByteStream] | type[MessageSocket],
    shown: str,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    **serving_options: Any,
) -> None:
    async def open_listener(accept: Callable[[Socket], None]) -> RegistryListener:
        async def take_all() -> None:
            while True:
                accept(await _take(address, kind, shown))

        return RegistryListener(asyncio.create_task(take_all()), address)

    await serving.serve(open_listener, session, *args, **serving_options)


async def serve_stream(
    address: str,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Listen for intra-Websocat stream connections at ``address`` and run
    ``session(stream, *args)`` for each (runtime/serving.py: --oneshot and the rest)."""
    await _serve(
        address,
        ByteStream,
        f"registry-stream-listen:{address}",
        session,
        *args,
        **serving_options,
    )


async def serve_datagrams(
    address: str,
    session: Callable[..., Awaitable[None]],
    *args: Any,
    **serving_options: Unpack[serving.Options],
) -> None:
    """Listen for intra-Websocat datagram connections at ``address`` and run
    ``session(socket, *args)`` for each."""
    await _serve(
        address,
        MessageSocket,
        f"registry-datagram-listen:{address}",
        session,
        *args,
        **serving_options,
    )


@asynccontextmanager
async def _accepted(address: str, kind: type[ByteStream] | type[MessageSocket], shown: str) -> AsyncIterator[Any]:
    sock = await _take(address, kind, shown)
    try:
        yield sock
    finally:
        await sock.aclose()


def accept_one_stream(address: str) -> Any:
    """Take one stream connection at ``address`` (a registry listener on the right)."""
    return _accepted(address, ByteStream, f"registry-stream-listen:{address}")


def accept_one_datagrams(address: str) -> Any:
    """Take one datagram connection at ``address`` (a registry listener on the right)."""
    return _accepted(address, MessageSocket, f"registry-datagram-listen:{address}")
