"""Sockets for tests, and the conformance checks every socket kind runs.

``MemoryStream`` tries overlays without any I/O.  ``tcp_pair`` and ``stacked`` make
pairs of connected sockets; ``check_byte_stream`` and ``check_message_socket`` (or the
checks one by one, from ``BYTE_STREAM_CHECKS`` and ``MESSAGE_SOCKET_CHECKS``) hold a
socket kind to its interface over such pairs.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from .sockets import (
    BINARY,
    CONTINUES,
    CONTROL,
    DEFAULT_READ,
    PING,
    PONG,
    TEXT,
    ByteStream,
    Message,
    MessageSocket,
    StreamProtocol,
    TransportStream,
)


class MemoryStream(ByteStream):
    """A ByteStream that reads the given chunks, then EOF, and collects what is written.

    Each chunk is returned by exactly one ``read`` (split further only when it is longer
    than ``max_bytes``), so a test controls where read boundaries fall.  Empty chunks are
    skipped: ``read`` returns b"" only at EOF, as the interface requires.
    """

    name = "memory"

    def __init__(self, chunks: Iterable[bytes] = ()) -> None:
        # Reversed so that taking the next chunk is a cheap pop() from the end.
        self._chunks = [bytes(c) for c in chunks if c][::-1]
        self.written = bytearray()
        self.writes: list[bytes] = []  # one entry per write call, to check batching
        self.eof_written = False
        self.closed = False

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        if not self._chunks:
            return b""
        chunk = self._chunks.pop()
        if len(chunk) > max_bytes:
            self._chunks.append(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        return chunk

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.eof_written:
            raise BrokenPipeError("write after write_eof")
        data = bytes(data)
        self.writes.append(data)
        self.written += data

    async def write_eof(self) -> None:
        self.eof_written = True

    async def aclose(self) -> None:
        self.closed = True


# -- socket pairs ----------------------------------------------------------------
# A pair factory is called with no arguments and returns an async context manager that
# yields two connected sockets (a, b) and cleans up after them, so a factory is usually
# an @asynccontextmanager function.  What a writes b reads, and the other way round;
# a loopback kind (mirror:) yields one socket twice: what it is sent it gives back.

StreamPair = tuple[ByteStream, ByteStream]
MessagePair = tuple[MessageSocket, MessageSocket]
StreamPairFactory = Callable[[], AbstractAsyncContextManager[StreamPair]]
MessagePairFactory = Callable[[], AbstractAsyncContextManager[MessagePair]]
Connect = Callable[[str, int], AbstractAsyncContextManager[ByteStream]]
S = TypeVar("S", ByteStream, MessageSocket)
T = TypeVar("T", ByteStream, MessageSocket)


KERNEL_BUFFER = 1 << 16  # SO_SNDBUF and SO_RCVBUF of test connections (Linux doubles them)


def small_kernel_buffers(stream: ByteStream) -> None:
    """Shrink the kernel's socket buffers under a TransportStream (else they autotune to MiBs).

    Then what a writer gets ahead of a stalled reader is mostly the runtime's buffering,
    which the backpressure check bounds, and the same on every machine.
    """
    if isinstance(stream, TransportStream) and stream.protocol.transport is not None:
        sock = stream.protocol.transport.get_extra_info("socket")
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            sock.setsockopt(socket.SOL_SOCKET, option, KERNEL_BUFFER)


@asynccontextmanager
async def tcp_pair(connect: Connect | None = None) -> AsyncIterator[StreamPair]:
    """The two ends of a real TCP connection on 127.0.0.1: (connecting end, accepted end).

    ``connect(host, port)`` opens the connecting end (e.g. ``tcp.connect``); by default
    it is a ``TransportStream`` like the accepted end.  The kernel's buffers are small
    (see ``small_kernel_buffers``).  Both ends are closed on exit.
    """
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[StreamProtocol] = loop.create_future()

    def made(protocol: StreamProtocol) -> None:
        if not accepted.done():
            accepted.set_result(protocol)

    server = await loop.create_server(lambda: StreamProtocol(on_made=made), "127.0.0.1", 0)
    async with AsyncExitStack() as stack:
        try:
            port = server.sockets[0].getsockname()[1]
            if connect is None:
                _transport, protocol = await loop.create_connection(StreamProtocol, "127.0.0.1", port)
                a: ByteStream = TransportStream(protocol)
                stack.push_async_callback(a.aclose)
            else:
                a = await stack.enter_async_context(connect("127.0.0.1", port))
            b = TransportStream(await accepted)
            stack.push_async_callback(b.aclose)
            small_kernel_buffers(a)
            small_kernel_buffers(b)
        finally:
            server.close()
        yield a, b


@asynccontextmanager
async def stacked(
    make_pair: StreamPairFactory,
    left: Callable[[ByteStream], Awaitable[S] | S],
    right: Callable[[ByteStream], Awaitable[S] | S] | None = None,
) -> AsyncIterator[tuple[S, S]]:
    """An overlay pair: ``left`` over one end of ``make_pair()``, ``right`` (or ``left``) over the other.

    The two overlays are opened concurrently, so handshakes (ws.connect with ws.accept)
    can meet; both are closed on exit, before the pair under them.
    """
    async with make_pair() as (a, b):

        async def open_one(wrap: Callable[[ByteStream], Awaitable[S] | S], stream: ByteStream) -> S:
            made = wrap(stream)
            return await made if inspect.isawaitable(made) else made

        top_a, top_b = await asyncio.gather(open_one(left, a), open_one(right or left, b))
        try:
            yield top_a, top_b
        finally:
            await top_a.aclose()
            if top_b is not top_a:
                await top_b.aclose()


# -- conformance checks ----------------------------------------------------------
# Every socket kind runs the checks of its interface over pairs of its own.  Where kinds
# legitimately differ, a traits object says how this kind behaves, and the checks hold
# the kind to that (a kind that declares no hangup event must have none), so nothing is
# skipped silently.  Each check opens fresh pairs and fails after CHECK_TIMEOUT seconds
# instead of hanging.  A test module runs them one by one for readable reports:
#
#     KINDS = {"tcp": (tcp_pair, StreamTraits()), "tls": (tls_pair, StreamTraits(half_close=False))}
#
#     @pytest.mark.parametrize("check", BYTE_STREAM_CHECKS)
#     @pytest.mark.parametrize("kind", KINDS)
#     def test_byte_stream(kind: str, check: str) -> None:
#         make_pair, traits = KINDS[kind]
#         asyncio.run(run_check(check, BYTE_STREAM_CHECKS[check](make_pair, traits)))

CHECK_TIMEOUT = 10.0
SETTLE = 0.05  # seconds in which a socket that would act on its own has done so
WRITE_SIZE = 1 << 16  # bytes per write in the bulk checks


class ConformanceError(AssertionError):
    """A socket kind does not behave as its interface (and its declared traits) say."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


@dataclass(frozen=True)
class StreamTraits:
    """How a byte stream kind behaves where kinds legitimately differ.

    half_close: after ``a.write_eof()`` bytes still flow from b to a (TCP); False when
      EOF may end both directions (TLS: close_notify, which peers answer by closing).
    hangup: the kind has a ``hangup`` event; it is set once the peer is gone and this
      end has noticed (read EOF, written into the void), and not before.
    loopback: the pair is one socket that reads back what it is written (``mirror:``),
      so there is only one direction.
    buffered: the most bytes a writer may get ahead of a reader that does not read,
      besides the one write in progress (the memory bound of the backpressure check).
    """

    half_close: bool = True
    hangup: bool = True
    loopback: bool = False
    buffered: int = 1 << 20

    def __post_init__(self) -> None:
        if self.loopback and self.half_close:
            raise ValueError("a loopback kind has one direction: it cannot half-close")


@dataclass(frozen=True)
class MessageTraits:
    """How a message socket kind behaves where kinds legitimately differ.

    boundaries: each message arrives whole and alone, as sent; False when only the
      bytes arrive in order, split anywhere (``chunks:``; empty messages vanish).
    reads_as: None when flags arrive as sent; else the flags every data message is read
      with (``lines:`` reads text, ``chunks:`` binary), fragments joined.
    fragments: CONTINUES pieces arrive as the pieces sent; False when they are joined
      into one message (``lines:``).
    control: PING and PONG messages arrive as sent; False when the kind consumes them
      (a WebSocket answers pings) or drops them (``lines:``), so the reader never sees them.
    any_bytes: a message may hold any bytes; False when CR and LF are not data (``lines:``).
    half_close: after ``a.send_eof()`` messages still flow from b to a; False when EOF
      ends both directions (a WebSocket Close): the checks then end both sides.
    loopback: the pair is one socket that gives back what it is sent (``mirror:``).
    eof: ``send_eof`` reaches the peer, whose ``recv_batch`` then returns []; False for a
      kind with no EOF on the wire (UDP): the checks then require that nothing arrives
      after the messages sent before it.
    max_size: the longest message the kind carries (a UDP datagram); the checks' longer
      messages are cut to it.  None: no limit.
    """

    boundaries: bool = True
    reads_as: int | None = None
    fragments: bool = True
    control: bool = True
    any_bytes: bool = True
    half_close: bool = True
    loopback: bool = False
    eof: bool = True
    max_size: int | None = None

    def __post_init__(self) -> None:
        if self.loopback and self.half_close:
            raise ValueError("a loopback kind has one direction: it cannot half-close")


def _directions(a: T, b: T, loopback: bool) -> list[tuple[T, T]]:
    """(writer, reader) pairs to check: a to b and b to a, or the one way of a loopback."""
    return [(a, b)] if loopback else [(a, b), (b, a)]


def _require_same(got: bytes, want: bytes, what: str) -> None:
    if got != want:
        at = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
        raise ConformanceError(f"{what}: {len(got)} bytes instead of {len(want)}, first difference at byte {at}")


async def _pending(awaitable: Awaitable[Any]) -> asyncio.Future[Any]:
    """Start `awaitable` and give it SETTLE seconds; it is returned still running, or done."""
    task = asyncio.ensure_future(awaitable)
    await asyncio.wait([task], timeout=SETTLE)
    return task


async def _read_all(reader: ByteStream, size: int | None = None) -> bytes:
    """Read until EOF, or until `size` bytes came (then EOF is not awaited)."""
    out = bytearray()
    while size is None or len(out) < size:
        data = await reader.read()
        if not data:
            _require(size is None, f"EOF after {len(out)} of {size} bytes")
            break
        out += data
    return bytes(out)


async def _expect_eof(reader: ByteStream, what: str) -> None:
    _require(await reader.read() == b"", f"{what}: data after EOF")
    _require(await reader.read() == b"", f"{what}: read after EOF did not return b'' again")


# -- byte stream checks


async def stream_eof(make_pair: StreamPairFactory, traits: StreamTraits) -> None:
    """EOF each way: bytes written before ``write_eof`` arrive, then reads return b"" (and again)."""
    for index in range(1 if traits.loopback else 2):
        async with make_pair() as (a, b):
            writer, reader = _directions(a, b, traits.loopback)[index]
            words = b"last words %d" % index
            reading = asyncio.ensure_future(_read_all(reader))
            await writer.write(words)
            await writer.write_eof()
            got = await reading
            _require(got == words, f"before EOF: {got!r} instead of {words!r}")
            await _expect_eof(reader, "at EOF")


async def stream_half_close(make_pair: StreamPairFactory, traits: StreamTraits) -> None:
    """After a's ``write_eof`` and b reading EOF, b to a still flows (half_close), then ends too."""
    if traits.loopback:
        return await stream_eof(make_pair, traits)  # one direction: its EOF is all there is
    for first, second in ((0, 1), (1, 0)):
        async with make_pair() as pair:
            a, b = pair[first], pair[second]
            await a.write(b"a to b")
            await a.write_eof()
            got = await _read_all(b)
            _require(got == b"a to b", f"{got!r} before EOF")
            if not traits.half_close:
                continue  # EOF may have ended both directions; closing must still work
            if traits.hangup:
                _require(a.hangup is not None and not a.hangup.is_set(), "hangup set by the peer's half-close")
            payload = random.Random(first).randbytes(256 << 10)
            reading = asyncio.ensure_future(_read_all(a))
            for start in range(0, len(payload), WRITE_SIZE):
                await b.write(payload[start : start + WRITE_SIZE])
            await b.write_eof()
            got = await reading
            _require_same(got, payload, "b to a after a's EOF")


async def stream_hangup(make_pair: StreamPairFactory, traits: StreamTraits) -> None:
    """``hangup``: unset while the peer is there, set once it closed and this end noticed."""
    async with make_pair() as (a, b):
        if not traits.hangup:
            _require(a.hangup is None and b.hangup is None, "a hangup event, but the kind declares none")
            return
        for end in (a, b):
            _require(end.hangup is not None, f"{end.name}: no hangup event")
        assert a.hangup is not None
        await b.write(b"x")
        _require(await a.read() == b"x", "no data before the hangup")
        _require(not a.hangup.is_set(), "hangup set while the peer is there")
        await b.aclose()
        _require(await _read_all(a) == b"", "data after the peer closed")
        # A peer gone without a word (TCP FIN) looks like a half-close until a write
        # meets the reset; writing into the void must fail or be dropped, never hang.
        deadline = asyncio.get_running_loop().time() + 2
        while not a.hangup.is_set() and asyncio.get_running_loop().time() < deadline:
            try:
                await a.write(b"anyone?")
            except OSError:
                pass
            await asyncio.wait([asyncio.ensure_future(a.hangup.wait())], timeout=0.01)
        _require(a.hangup.is_set(), "hangup not set after the peer closed and a write met the void")


async def stream_backpressure(make_pair: StreamPairFactory, traits: StreamTraits) -> None:
    """A large write while the reader does not read stalls within ``buffered``; then all arrives in order."""
    total = traits.buffered + 4 * WRITE_SIZE  # more than the writer may get ahead
    async with make_pair() as (a, b):
        for index, (writer, reader) in enumerate(_directions(a, b, traits.loopback)):
            payload = random.Random(index).randbytes(total)
            written = 0

            async def write_all() -> None:
                nonlocal written
                view = memoryview(payload)
                for start in range(0, total, WRITE_SIZE):
                    await writer.write(view[start : start + WRITE_SIZE])
                    written = start + WRITE_SIZE

            writing = asyncio.ensure_future(write_all())
            try:
                last = -1
                while written != last and not writing.done():  # until the writer stalls
                    last = written
                    await asyncio.wait([writing], timeout=SETTLE)
                _require(not writing.done(), f"all {total} bytes written while nobody read: no backpressure")
                _require(
                    written <= traits.buffered + WRITE_SIZE,
                    f"the writer got {written} bytes ahead of a stalled reader (bound {traits.buffered})",
                )
                got = bytearray(await reader.read(1000))  # a small read first
                _require(0 < len(got) <= 1000, f"read(1000) returned {len(got)} bytes")
                got += await _read_all(reader, total - len(got))
                await writing
            finally:
                writing.cancel()
            _require_same(bytes(got), payload, "bulk transfer")


async def stream_zero_length(make_pair: StreamPairFactory, traits: StreamTraits) -> None:
    """``write(b"")`` is harmless and wakes no reader; ``read`` returns b"" only at EOF."""
    async with make_pair() as (a, b):
        for writer, reader in _directions(a, b, traits.loopback):
            reading = await _pending(reader.read())
            if reading.done():
                raise ConformanceError(f"read returned {reading.result()!r} with nothing written")
            await writer.write(b"")
            await writer.write(bytearray())
            await writer.write(memoryview(b""))
            await asyncio.wait([reading], timeout=SETTLE)
            if reading.done():
                raise ConformanceError(f"an empty write made read return {reading.result()!r}")
            await writer.write(bytearray(b"ab"))
            got = await reading
            got += await _read_all(reader, 2 - len(got))
            _require(got == b"ab", f"{got!r} instead of b'ab'")
            await writer.write(memoryview(b"xyz"))
            got = await reader.read(1)
            _require(got == b"x", f"read(1) returned {got!r}")
            got += await _read_all(reader, 2)
            _require(got == b"xyz", f"{got!r} instead of b'xyz'")
        for writer, reader in _directions(a, b, traits.loopback):
            await writer.write_eof()
            await _expect_eof(reader, "EOF after empty writes")


BYTE_STREAM_CHECKS: dict[str, Callable[[StreamPairFactory, StreamTraits], Awaitable[None]]] = {
    "eof": stream_eof,
    "half_close": stream_half_close,
    "hangup": stream_hangup,
    "backpressure": stream_backpressure,
    "zero_length": stream_zero_length,
}


async def check_byte_stream(make_pair: StreamPairFactory, traits: StreamTraits = StreamTraits()) -> None:
    """Run every byte stream check over pairs from `make_pair`; raise ConformanceError on the first failure."""
    for name, check in BYTE_STREAM_CHECKS.items():
        await run_check(name, check(make_pair, traits))


async def run_check(name: str, check: Awaitable[None]) -> None:
    """Await one check with a deadline; failures name the check."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await check
    except TimeoutError:
        raise ConformanceError(f"{name}: no progress in {CHECK_TIMEOUT} s") from None
    except ConformanceError as exc:
        raise ConformanceError(f"{name}: {exc}") from None
    except Exception as exc:  # e.g. a write that fails: the kind broke its interface
        raise ConformanceError(f"{name}: {type(exc).__name__}: {exc}") from exc


# -- message socket checks


def _text(rng: random.Random, size: int) -> bytes:
    return bytes(rng.choices(range(32, 127), k=size))


def _binary(rng: random.Random, size: int, traits: MessageTraits) -> bytes:
    data = rng.randbytes(size)
    return data if traits.any_bytes else data.translate(_NO_NEWLINES)


_NO_NEWLINES = bytes.maketrans(b"\r\n", b"rn")


def _as_read(sent: list[Message], traits: MessageTraits) -> list[Message]:
    """The messages a reader gets for `sent`, by the kind's traits (with boundaries)."""
    out: list[Message] = []
    joined: list[bytes] = []
    for data, flags in sent:
        if flags & CONTROL:
            if traits.control:
                out.append((data, flags))
            continue
        if traits.reads_as is not None:
            flags = traits.reads_as | (flags & CONTINUES)
        if traits.fragments:
            out.append((data, flags))
        elif flags & CONTINUES:
            joined.append(data)
        else:
            out.append((b"".join([*joined, data]), flags))
            joined.clear()
    return out


async def _receive(reader: MessageSocket, count: int | None, size: int | None = None) -> list[Message]:
    """Messages until `count` came (or `size` bytes of them), or until EOF when both are None."""
    got: list[Message] = []
    received = 0
    while (count is None or len(got) < count) and (size is None or received < size):
        batch = await reader.recv_batch()
        if not batch:
            _require(count is None and size is None, f"EOF after {len(got)} messages ({received} bytes): {got[-3:]!r}")
            break
        got += batch
        received += sum(len(data) for data, _flags in batch)
    return got


def _show(messages: list[Message]) -> str:
    return repr([(data if len(data) <= 20 else data[:20] + b"...", flags) for data, flags in messages])


async def _transfer(
    writer: MessageSocket, reader: MessageSocket, batches: list[list[Message]], traits: MessageTraits
) -> None:
    """Send each batch with one send_batch while the reader receives; check what arrives."""
    want = _as_read([message for batch in batches for message in batch], traits)
    if traits.boundaries:
        receiving = asyncio.ensure_future(_receive(reader, len(want)))
    else:
        receiving = asyncio.ensure_future(_receive(reader, None, sum(len(data) for data, _flags in want)))
    try:
        for batch in batches:
            await writer.send_batch(list(batch))
        got = await receiving
    finally:
        receiving.cancel()
    if traits.boundaries:
        _require(got == want, f"received {_show(got)}, expected {_show(want)}")
        return
    flags = {flag for _data, flag in got}
    _require(traits.reads_as is None or flags <= {traits.reads_as}, f"read with flags {flags}")
    data, expected = b"".join(d for d, _f in got), b"".join(d for d, _f in want)
    _require_same(data, expected, "received bytes")


def _size(size: int, traits: MessageTraits) -> int:
    """``size``, or the kind's longest message if that is shorter."""
    return size if traits.max_size is None else min(size, traits.max_size)


async def _no_more(reader: MessageSocket, what: str) -> None:
    """Nothing arrives within SETTLE (a kind without EOF, after the last message)."""
    more = await _pending(reader.recv_batch())
    if more.done():
        raise ConformanceError(f"{what}: received {more.result()!r}")
    more.cancel()


async def message_text_and_binary(make_pair: MessagePairFactory, traits: MessageTraits) -> None:
    """Text and binary messages, empty ones included, arrive with their bytes and flags."""
    rng = random.Random(1)
    sent: list[Message] = [
        (b"hello", TEXT),
        ("h\u00e9llo w\u00f6rld \u2713".encode(), TEXT),
        (_binary(rng, 256, traits), BINARY),
        (_binary(rng, _size(70_000, traits), traits), BINARY),  # longer than a 16-bit WebSocket length
        (b"", TEXT),
        (b"", BINARY),
        (_text(rng, 126), TEXT),
    ]
    async with make_pair() as (a, b):
        for writer, reader in _directions(a, b, traits.loopback):
            await _transfer(writer, reader, [[message] for message in sent], traits)


async def message_flags(make_pair: MessagePairFactory, traits: MessageTraits) -> None:
    """Control messages (PING, PONG) among data ones: delivered as sent, or never seen by the reader."""
    sent: list[Message] = [(b"before", TEXT), (b"ping", PING), (b"pong", PONG), (b"after", BINARY)]
    async with make_pair() as (a, b):
        for writer, reader in _directions(a, b, traits.loopback):
            await _transfer(writer, reader, [sent, [(b"ping 2", PING)], [(b"last", TEXT)]], traits)


async def message_fragments(make_pair: MessagePairFactory, traits: MessageTraits) -> None:
    """A message sent in CONTINUES pieces arrives in pieces or joined, never mixed with the next."""
    rng = random.Random(2)
    big = _text(rng, _size(100_000, traits))
    half = len(big) // 2
    sent: list[list[Message]] = [
        [(b"frag", TEXT | CONTINUES)],
        [(b"ments", TEXT | CONTINUES), (b" in order", TEXT)],
        [(_binary(rng, 3, traits), BINARY | CONTINUES), (_binary(rng, 5, traits), BINARY)],
        [(big[:half], TEXT | CONTINUES)],
        [(big[half:], TEXT)],
        [(b"whole", BINARY)],
    ]
    async with make_pair() as (a, b):
        for writer, reader in _directions(a, b, traits.loopback):
            await _transfer(writer, reader, sent, traits)


async def message_eof(make_pair: MessagePairFactory, traits: MessageTraits) -> None:
    """EOF each way: messages sent before ``send_eof`` arrive, then ``recv_batch()`` returns [] (and again)."""
    for index in range(1 if traits.loopback else 2):
        async with make_pair() as (a, b):
            writer, reader = _directions(a, b, traits.loopback)[index]
            want = _as_read([(b"bye", TEXT)], traits)
            receiving = asyncio.ensure_future(_receive(reader, None if traits.eof else len(want)))
            await writer.send_batch([(b"bye", TEXT)])
            await writer.send_eof()
            got = await receiving
            _require(got == want, f"before EOF: {_show(got)} instead of {_show(want)}")
            if not traits.eof:
                await _no_more(reader, "after send_eof")
                continue
            again = await _pending(reader.recv_batch())
            _require(again.done() and again.result() == [], "recv_batch after EOF did not return [] again")


async def message_half_close(make_pair: MessagePairFactory, traits: MessageTraits) -> None:
    """After a's ``send_eof`` and b reading EOF, b to a still flows (half_close); then b's EOF reaches a."""
    if traits.loopback:
        return await message_eof(make_pair, traits)
    for first, second in ((0, 1), (1, 0)):
        async with make_pair() as pair:
            a, b = pair[first], pair[second]
            want = _as_read([(b"a to b", TEXT)], traits)
            await a.send_batch([(b"a to b", TEXT)])
            await a.send_eof()
            got = await _receive(b, None if traits.eof else len(want))
            _require(got == want, f"before EOF: {_show(got)}")
            if traits.half_close:
                await _transfer(b, a, [[(b"b to a", TEXT)], [(b"after a's EOF", BINARY)]], traits)
            await b.send_eof()
            if not traits.eof:
                await _no_more(a, "after b's send_eof")
                await _no_more(b, "after a's send_eof")
                continue
            got = await _receive(a, None)
            _require(got == [], f"after b's EOF: {_show(got)}")


async def message_batches(make_pair: MessagePairFactory, traits: MessageTraits) -> None:
    """Several messages per ``send_batch`` arrive in order, whatever ``recv_batch`` calls they come in."""
    rng = random.Random(3)
    small: list[Message] = [
        (_text(rng, i * 37 % 300), TEXT) if i % 2 else (_binary(rng, i * 53 % 3000, traits), BINARY) for i in range(50)
    ]
    large: list[Message] = [(_binary(rng, 10_000, traits), BINARY) for _ in range(100)]
    async with make_pair() as (a, b):
        for writer, reader in _directions(a, b, traits.loopback):
            await _transfer(writer, reader, [small, small[:3], [], large, small[3:5]], traits)


MESSAGE_SOCKET_CHECKS: dict[str, Callable[[MessagePairFactory, MessageTraits], Awaitable[None]]] = {
    "text_and_binary": message_text_and_binary,
    "flags": message_flags,
    "fragments": message_fragments,
    "eof": message_eof,
    "half_close": message_half_close,
    "batches": message_batches,
}


async def check_message_socket(make_pair: MessagePairFactory, traits: MessageTraits = MessageTraits()) -> None:
    """Run every message socket check over pairs from `make_pair`; raise ConformanceError on the first failure."""
    for name, check in MESSAGE_SOCKET_CHECKS.items():
        await run_check(name, check(make_pair, traits))


def sent_through(overlay: Callable[[MessageSocket], MessageSocket], batches: Iterable[list[Message]]) -> list[Message]:
    """What a message overlay sends down for ``batches`` written to it (then EOF):
    ``overlay`` wraps a message mirror, which is read while the batches are written
    (it holds one batch in flight)."""
    from .endpoints import trivial

    async def main() -> list[Message]:
        mirror = trivial.message_mirror()
        sock = overlay(mirror)

        async def write() -> None:
            for batch in batches:
                await sock.send_batch(batch)
            await sock.send_eof()

        async def read() -> list[Message]:
            got: list[Message] = []
            while batch := await mirror.recv_batch():
                got += batch
            return got

        _written, got = await asyncio.gather(write(), read())
        return got

    return asyncio.run(asyncio.wait_for(main(), 10))
