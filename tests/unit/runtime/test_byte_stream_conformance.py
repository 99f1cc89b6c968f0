"""Every byte stream kind runs the conformance checks of runtime/testing.py.

A new kind is one more line in KINDS: a pair factory (an async context manager yielding
two connected sockets) and the traits it declares.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import ipaddress
import os
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from websocat.runtime.endpoints import asyncfd, process, tcp, trivial, unix
from websocat.runtime.overlays import limits, log, splitoff, tls, ws
from websocat.runtime.sockets import ByteStream, StreamProtocol, TransportStream
from websocat.runtime import copying
from websocat.runtime.testing import (
    BYTE_STREAM_CHECKS,
    KERNEL_BUFFER,
    StreamPair,
    StreamPairFactory,
    StreamTraits,
    run_check,
    small_kernel_buffers,
    stacked,
    tcp_pair,
)


@asynccontextmanager
async def socketpair_pair() -> AsyncIterator[StreamPair]:
    """TransportStream over a Unix socketpair (the transport the unix: family will use)."""
    loop = asyncio.get_running_loop()
    left, right = socket.socketpair()
    _t, a = await loop.create_connection(StreamProtocol, sock=left)
    _t, b = await loop.create_connection(StreamProtocol, sock=right)
    ends = TransportStream(a), TransportStream(b)
    for end in ends:
        small_kernel_buffers(end)
    try:
        yield ends
    finally:
        for end in ends:
            await end.aclose()


@asynccontextmanager
async def unix_pair(abstract: bool = False) -> AsyncIterator[StreamPair]:
    """(unix: or abstract: client, the end unix.accept_one accepted), over a real listening socket."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "s")
        name = f"websocat-conformance-{os.getpid()}-{id(folder)}"
        server = unix.accept_one_abstract(name) if abstract else unix.accept_one(path)
        async with AsyncExitStack() as stack:
            accepting = asyncio.ensure_future(stack.enter_async_context(server))
            await asyncio.sleep(0)
            client = await stack.enter_async_context(unix.connect_abstract(name) if abstract else unix.connect(path))
            accepted = await accepting
            for end in (client, accepted):
                small_kernel_buffers(end)
            yield client, accepted


@asynccontextmanager
async def async_fd_pair() -> AsyncIterator[StreamPair]:
    """(async-fd: over one end of a socketpair, a TransportStream over the other)."""
    loop = asyncio.get_running_loop()
    left, right = socket.socketpair()
    for sock in (left, right):
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            sock.setsockopt(socket.SOL_SOCKET, option, 1 << 16)
    _t, protocol = await loop.create_connection(StreamProtocol, sock=right)
    other = TransportStream(protocol)
    try:
        async with asyncfd.open(left.fileno()) as stream:
            yield stream, other
    finally:
        await other.aclose()
        left.close()


@asynccontextmanager
async def mirror_pair() -> AsyncIterator[StreamPair]:
    mirror = trivial.mirror()
    yield mirror, mirror
    await mirror.aclose()


@asynccontextmanager
async def process_pair() -> AsyncIterator[StreamPair]:
    """exec:cat: what is written to its stdin comes back on its stdout (a loopback)."""
    async with process.spawn("cat") as proc:
        yield proc, proc


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@functools.cache
def _contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for 127.0.0.1, and a client context trusting it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(_name("127.0.0.1"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "cert.pem").write_bytes(pem)
        (Path(folder) / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        server.load_cert_chain(Path(folder) / "cert.pem", Path(folder) / "key.pem")
    client = tls.client_context()
    client.load_verify_locations(cadata=pem.decode())
    return server, client


@asynccontextmanager
async def tls_pair() -> AsyncIterator[StreamPair]:
    """(tls: client over a TCP connection, the accepted end of an asyncio TLS server)."""
    server_context, client_context = _contexts()
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[StreamProtocol] = loop.create_future()

    def made(protocol: StreamProtocol) -> None:  # after the server's side of the handshake
        if not accepted.done():
            accepted.set_result(protocol)

    # tls: sends no close_notify when it closes: the server would wait for one 30 s.
    server = await loop.create_server(
        lambda: StreamProtocol(on_made=made), "127.0.0.1", 0, ssl=server_context, ssl_shutdown_timeout=0.2
    )
    port = server.sockets[0].getsockname()[1]
    try:
        async with tcp.connect("127.0.0.1", port) as stream:
            client = tls.TlsStream(stream, client_context, "127.0.0.1")  # what tls.connect makes
            _done, protocol = await asyncio.gather(client.handshake(), accepted)
            server.close()
            accepted_end = TransportStream(protocol)
            small_kernel_buffers(stream)
            try:
                yield client, accepted_end
            finally:
                await client.aclose()
                await accepted_end.aclose()
    finally:
        server.close()


async def _tls_client(stream: ByteStream) -> tls.TlsStream:
    return await tls.connect(stream, _contexts()[1], domain="127.0.0.1")


async def _tls_server(stream: ByteStream) -> tls.TlsStream:
    return await tls.accept(stream, _contexts()[0])


@asynccontextmanager
async def relayed_pair(make_pair: StreamPairFactory) -> AsyncIterator[StreamPair]:
    """(a, d) of a -- b ==relay== c -- d: exchange_bytes(b, c) relays two connections,
    with splice(2) when both are plain sockets (runtime/splicing.py)."""
    async with make_pair() as (a, b), make_pair() as (c, d):
        relay = asyncio.ensure_future(copying.exchange_bytes(b, c))
        try:
            yield a, d
        finally:
            relay.cancel()
            await asyncio.gather(relay, return_exceptions=True)


@asynccontextmanager
async def splitoff_pair() -> AsyncIterator[StreamPair]:
    """(x, y) over two TCP connections: x reads the first and writes the second, y the
    other way round (write-splitoff:)."""
    async with tcp_pair() as (a1, b1), tcp_pair() as (a2, b2):
        yield splitoff.write_splitoff(a1, a2, omit_shutdown=True), splitoff.write_splitoff(b2, b1, omit_shutdown=True)


# The relay holds up to a pipe's worth (1 MiB) and its two sockets' kernel buffers.
RELAYED = StreamTraits(buffered=(1 << 20) + 4 * KERNEL_BUFFER)

KINDS: dict[str, tuple[StreamPairFactory, StreamTraits]] = {
    "tcp": (partial(tcp_pair, tcp.connect), StreamTraits()),
    "socketpair": (socketpair_pair, StreamTraits()),
    "unix": (unix_pair, StreamTraits()),
    "abstract": (partial(unix_pair, abstract=True), StreamTraits()),
    "async-fd": (async_fd_pair, StreamTraits()),
    # The accepted end is asyncio's TLS transport, which queues MiBs of its writes.
    "tls": (tls_pair, StreamTraits(half_close=False, buffered=6 << 20)),
    # tls: against tls-accept: over TCP, both ends our TlsStream (TLS has no half-close).
    "tls-accept": (
        partial(stacked, partial(tcp_pair, tcp.connect), _tls_client, _tls_server),
        StreamTraits(half_close=False),
    ),
    "ws-upgraded": (partial(stacked, tcp_pair, ws.request, ws.accept_upgrade), StreamTraits()),
    "mirror": (mirror_pair, StreamTraits(half_close=False, hangup=False, loopback=True, buffered=1024)),
    # Two 1 MiB pipes, cat's buffer and our read buffer lie between the writer and the reader.
    "process": (process_pair, StreamTraits(half_close=False, loopback=True, buffered=3 << 20)),
    "tcp-relayed": (partial(relayed_pair, tcp_pair), RELAYED),
    # read_chunk_limiter:, write_chunk_limiter:, write_buffer: (limits 7 and 509: the checks
    # move megabytes, which 1-byte pieces would take minutes over; 13-byte writes took
    # seconds, over the check's deadline on a loaded machine)
    "read-chunk-limited": (partial(stacked, tcp_pair, partial(limits.limit_reads, limit=7)), StreamTraits()),
    "write-chunk-limited": (partial(stacked, tcp_pair, partial(limits.limit_writes, limit=509)), StreamTraits()),
    "write-buffered": (partial(stacked, tcp_pair, limits.buffer_writes), StreamTraits()),
    "socketpair-relayed": (partial(relayed_pair, socketpair_pair), RELAYED),
    "write-splitoff": (splitoff_pair, StreamTraits()),
    # log: (sizes only: the checks move megabytes, whose escaped text would fill the capture)
    "logged": (partial(stacked, tcp_pair, partial(log.log, omit_content=True)), StreamTraits()),
}


@pytest.mark.parametrize("check", BYTE_STREAM_CHECKS)
@pytest.mark.parametrize("kind", KINDS)
def test_byte_stream(kind: str, check: str) -> None:
    make_pair, traits = KINDS[kind]
    asyncio.run(run_check(check, BYTE_STREAM_CHECKS[check](make_pair, traits)))


def test_mirror_empty_write_is_not_eof() -> None:
    """Found by the zero_length check: an empty write woke a waiting read, which returned b''."""

    async def main() -> bytes | None:
        mirror = trivial.mirror()
        reading = asyncio.ensure_future(mirror.read())
        await asyncio.sleep(0)
        await mirror.write(b"")
        await asyncio.sleep(0.01)
        return reading.result() if reading.done() else None

    assert asyncio.run(main()) is None  # still waiting: nothing was written
