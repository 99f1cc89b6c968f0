"""Every message socket kind runs the conformance checks of runtime/testing.py.

A new kind is one more line in KINDS: a pair factory (an async context manager yielding
two connected sockets) and the traits it declares.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path

import pytest

from websocat.runtime.endpoints import seqpacket, trivial, udp
from websocat.runtime.overlays import chunks, kinds, lengthprefixed, limits, lines, log, splitoff, tee, ws
from websocat.runtime.sockets import BINARY, TEXT, ByteStream
from websocat.runtime.testing import (
    MESSAGE_SOCKET_CHECKS,
    MessagePair,
    MessagePairFactory,
    MessageTraits,
    run_check,
    stacked,
    tcp_pair,
)


@asynccontextmanager
async def seqpacket_pair(abstract: bool = False) -> AsyncIterator[MessagePair]:
    """(seqpacket: client, the end seqpacket.accept_one accepted), over a real listening socket."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "s")
        name = f"websocat-conformance-{os.getpid()}-{id(folder)}"
        server = seqpacket.accept_one_abstract(name) if abstract else seqpacket.accept_one(path)
        async with AsyncExitStack() as stack:
            accepting = asyncio.ensure_future(stack.enter_async_context(server))
            await asyncio.sleep(0)
            client = seqpacket.connect_abstract(name) if abstract else seqpacket.connect(path)
            a = await stack.enter_async_context(client)
            yield a, await accepting


@asynccontextmanager
async def mirror_pair() -> AsyncIterator[MessagePair]:
    mirror = trivial.message_mirror()
    yield mirror, mirror
    await mirror.aclose()


def _ws_client(stream: ByteStream) -> ws.WsSocket:
    return ws.framed(stream, client=True)


def _logged_ws_client(stream: ByteStream) -> log.LoggedMessages:
    return log.log(_ws_client(stream), omit_content=True)


@asynccontextmanager
async def logged_mirror_pair() -> AsyncIterator[MessagePair]:
    mirror = log.log(trivial.message_mirror(), omit_content=True)
    yield mirror, mirror
    await mirror.aclose()


def _ws_server(stream: ByteStream) -> ws.WsSocket:
    return ws.framed(stream, client=False)


def _tagged_ws(client: bool, stream: ByteStream) -> kinds.Tagged:
    """The kinds overlay with an empty --binary-prefix: every message sent goes out binary,
    and each one received is handed on as it came (--text-prefix and base64 change bytes:
    test_kinds.py)."""
    return kinds.tagged(ws.framed(stream, client=client), binary_prefix=b"")


def _tee_alone(stream: ByteStream) -> tee.Tee:
    """tee: with no --tee nodes: the socket under it, read and written through the tee."""
    return tee.tee(ws.framed(stream, client=True), [])


@asynccontextmanager
async def splitoff_pair() -> AsyncIterator[MessagePair]:
    """(x, y) over two WebSocket connections: x reads the first and writes the second,
    y the other way round (write-splitoff: over messages)."""
    async with (
        stacked(tcp_pair, _ws_client, _ws_server) as (a1, b1),
        stacked(tcp_pair, _ws_client, _ws_server) as (a2, b2),
    ):
        yield splitoff.write_splitoff(a1, a2, omit_shutdown=True), splitoff.write_splitoff(b2, b1, omit_shutdown=True)


UDP_MAX = 65507  # the longest UDP payload over IPv4
UDP_BUFFER = 4 << 20  # the checks send bursts of up to 1 MB: room for them in the receiver


def _roomy(*socks: udp.UdpSocket) -> None:
    for sock in socks:
        sock.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)


async def _primed(a: udp.UdpSocket, b: udp.UdpSocket) -> None:
    """a sends first, so that b (which learns its peer from the first datagram) can answer."""
    await a.send(b"hello")
    assert await b.recv() == (b"hello", BINARY)


@asynccontextmanager
async def udp_connect_bind_pair() -> AsyncIterator[MessagePair]:
    """udp: to a udp-bind: that takes the first sender as its peer (no target given)."""
    async with udp.bind("127.0.0.1", 0, max_send_datagram_size=UDP_MAX) as b:
        port = b.sock.getsockname()[1]
        async with udp.connect("127.0.0.1", port, max_send_datagram_size=UDP_MAX) as a:
            _roomy(a, b)
            await _primed(a, b)
            yield a, b


@asynccontextmanager
async def udp_bind_target_pair() -> AsyncIterator[MessagePair]:
    """Two udp-bind: sockets, each restricted to the other as its target."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port_a = probe.getsockname()[1]
    async with udp.bind("127.0.0.1", 0, max_send_datagram_size=UDP_MAX) as b:
        port_b = b.sock.getsockname()[1]
        options = {"restrict_to_one_address": True, "max_send_datagram_size": UDP_MAX}
        async with udp.bind("127.0.0.1", port_a, target=("127.0.0.1", port_b), **options) as a:
            _roomy(a, b)
            await _primed(a, b)
            yield a, b


@asynccontextmanager
async def udp_server_pair() -> AsyncIterator[MessagePair]:
    """udp: to a udp-server: session (accept_one: the first client's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    accepting = asyncio.ensure_future(
        udp.accept_one("127.0.0.1", port, qlen=10_000, buffer_size=UDP_MAX, max_send_datagram_size=UDP_MAX)
    )
    await asyncio.sleep(0.01)
    async with udp.connect("127.0.0.1", port, max_send_datagram_size=UDP_MAX) as a:
        _roomy(a)
        await a.send(b"hello")
        async with await accepting as b:
            assert isinstance(b, udp.UdpPeer)
            _roomy(b)
            assert await b.recv() == (b"hello", BINARY)
            yield a, b


def _lengthprefixed_all(stream: ByteStream) -> lengthprefixed.LengthPrefixed:
    """Every flag bit on: type, fragments and control messages kept."""
    return lengthprefixed.framed(stream, continuations=True, include_control=True, tag_text=True)


def _lengthprefixed_short(stream: ByteStream) -> lengthprefixed.LengthPrefixed:
    """Over 61-byte reads and 29-byte writes: prefixes and bodies split across reads (1-byte reads:
    test_lengthprefixed.py and the functional tests)."""
    return _lengthprefixed_all(limits.limit_writes(limits.limit_reads(stream, limit=61), limit=29))


# A datagram has no type (binary when read), fragments go out joined, pings are not
# sent, and UDP has no EOF.
DATAGRAMS = MessageTraits(reads_as=BINARY, fragments=False, control=False, eof=False, max_size=UDP_MAX)

# Pings are answered by the socket, not delivered.  After our Close the peer's messages
# still arrive until its Close (RFC 6455 7.1.2), though WsSocket.half_close tells the copy
# loops not to count on it.
WEBSOCKET = MessageTraits(control=False)

KINDS: dict[str, tuple[MessagePairFactory, MessageTraits]] = {
    "ws-framed": (partial(stacked, tcp_pair, _ws_client, _ws_server), WEBSOCKET),
    "ws-connect-accept": (partial(stacked, tcp_pair, ws.connect, ws.accept), WEBSOCKET),
    "lines": (
        partial(stacked, tcp_pair, lines.framed),
        MessageTraits(reads_as=TEXT, fragments=False, control=False, any_bytes=False),
    ),
    "chunks": (
        partial(stacked, tcp_pair, chunks.framed),
        MessageTraits(boundaries=False, reads_as=BINARY, control=False),
    ),
    # One datagram per message: binary unless --text, pieces joined, no pings on the wire.
    "seqpacket": (seqpacket_pair, MessageTraits(reads_as=BINARY, fragments=False, control=False)),
    "seqpacket-abstract": (
        partial(seqpacket_pair, abstract=True),
        MessageTraits(reads_as=BINARY, fragments=False, control=False),
    ),
    # Messages whole and binary by default; with every flag bit, as sent.
    "lengthprefixed": (
        partial(stacked, tcp_pair, lengthprefixed.framed),
        MessageTraits(reads_as=BINARY, fragments=False, control=False),
    ),
    "lengthprefixed-all-flags": (partial(stacked, tcp_pair, _lengthprefixed_all), MessageTraits()),
    "lengthprefixed-short-reads": (partial(stacked, tcp_pair, _lengthprefixed_short), MessageTraits()),
    "mirror": (mirror_pair, MessageTraits(half_close=False, loopback=True)),
    "tee": (partial(stacked, tcp_pair, _tee_alone, _ws_server), WEBSOCKET),
    # Each direction is its own connection: a Close ends only the one it is sent on.
    "write-splitoff": (splitoff_pair, MessageTraits(control=False)),
    "udp-connect-bind": (udp_connect_bind_pair, DATAGRAMS),
    "udp-bind-target": (udp_bind_target_pair, DATAGRAMS),
    "udp-server": (udp_server_pair, DATAGRAMS),
    # log: over a WebSocket client (the server end bare) and over the message mirror
    "logged-ws": (partial(stacked, tcp_pair, _logged_ws_client, _ws_server), WEBSOCKET),
    "logged-mirror": (logged_mirror_pair, MessageTraits(half_close=False, loopback=True)),
    # the kinds overlay (--binary-prefix '') over both ends of a WebSocket: all binary
    "tagged-ws": (
        partial(stacked, tcp_pair, partial(_tagged_ws, True), partial(_tagged_ws, False)),
        MessageTraits(reads_as=BINARY, control=False),
    ),
}


@pytest.mark.parametrize("check", MESSAGE_SOCKET_CHECKS)
@pytest.mark.parametrize("kind", KINDS)
def test_message_socket(kind: str, check: str) -> None:
    make_pair, traits = KINDS[kind]
    asyncio.run(run_check(check, MESSAGE_SOCKET_CHECKS[check](make_pair, traits)))


def test_message_mirror_stays_at_eof() -> None:
    """Found by the eof check: a second recv_batch after EOF waited forever."""

    async def main() -> list[list[tuple[bytes, int]]]:
        mirror = trivial.message_mirror()
        await mirror.send_eof()
        return [await asyncio.wait_for(mirror.recv_batch(), 0.5) for _ in range(2)]

    assert asyncio.run(main()) == [[], []]
