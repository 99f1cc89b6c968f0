"""WebSocket overlays: ``ws.connect`` (ws-c:), ``ws.accept`` (ws-upgrade:), ``ws.framed`` (ws-ll-*:).

Each turns a stream socket into a datagram socket of ``(data, flags)`` messages.  Pings
are answered and pongs dropped; a Close frame is answered and reads as EOF, while the
underlying stream stays open until ``aclose`` (as in websocat4).

The upgrade without framing (``ws.request``, ``ws.accept_upgrade``) lives in
ws_upgrade.py, the handshake in ws_handshake.py, the frames in ws_framing.py and the
mirror's echo fast path in ws_echo.py; this module re-exports what scripts call.
"""

from __future__ import annotations

import asyncio
import struct
import sys
import time
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from websocat.runtime import stats
from websocat.runtime.context import note_request
from websocat.runtime.keywords import check, take
from websocat.runtime.timeouts import within
from websocat.runtime.errors import TimeoutExpired, note_abnormal_close
from websocat.runtime.overlays import ws_echo
from websocat.runtime.overlays.ws_deflate import DEFAULT_LEVEL, Deflate, DeflateOptions
from websocat.runtime.overlays.ws_framing import (
    FrameBuilder,
    FrameError,
    FrameParser,
    close_payload,
    parse_close,
)
from websocat.runtime.overlays.ws_access import Users, read_users
from websocat.runtime.overlays.ws_handshake import HandshakeRequest, client_upgrade, server_handshake
from websocat.runtime.overlays.ws_upgrade import (
    ClientHandshake,
    ServerHandshake,
    Upgraded,
    accept_upgrade,
    client_options,
    request,
    server_options,
    upgrade_of,
)
from websocat.runtime.sockets import (
    BINARY,
    CLOSE,
    CONTINUES,
    PING,
    PONG,
    TEXT,
    ByteStream,
    Message,
    MessageSocket,
    Opening,
    TransportStream,
    opening,
)

__all__ = [
    "SETTLE_PING",
    "SETTLE_TIMEOUT",
    "AcceptOptions",
    "ClientHandshake",
    "Compression",
    "ConnectOptions",
    "Framing",
    "Opening",
    "ServerHandshake",
    "SocketOptions",
    "Upgraded",
    "Users",
    "WsSocket",
    "accept",
    "accept_upgrade",
    "connect",
    "deflate_options",
    "framed",
    "read_users",
    "request",
    "socket_options",
]

SETTLE_PING = b"websocat: eof"  # the payload of the Ping sent before our Close at EOF
SETTLE_TIMEOUT = 1.0  # seconds to wait for its Pong (a peer that ignores pings)
SETTLE_QUIET = 0.02  # then read on until the peer was quiet this long, or twice the Pong's round trip


@dataclass(frozen=True, slots=True)
class SocketOptions:
    """How a WsSocket frames, answers pings and closes.

    ``no_close``: ``send_eof`` sends no Close frame.  ``ignore_masks``: accept frames
    masked the wrong way.  ``max_pongs``: stop answering pings after this many pongs.
    ``shutdown_on_eof``: ``send_eof`` also shuts the stream's write half.  ``settle``:
    before the Close at EOF, when messages were sent and someone reads, send a Ping and
    wait (up to SETTLE_TIMEOUT) for its Pong, so a peer that answers each message has
    answered before it sees our Close.  ``close_delay_ms``: instead, keep reading that
    long after EOF before the Close.  ``verbose``: control frames on stderr.
    ``ping_interval``: send a Ping every so many seconds (at most ``max_sent_pings``).
    ``ping_timeout``: no Pong for so many seconds while someone reads: the peer is
    dead, the connection is dropped and reading raises TimeoutExpired.
    ``print_ping_rtts``: print the round trip of each Pong of ours on stderr.
    ``max_message_length``: a longer incoming message (inflated, when compressed) fails
    the connection with close code 1009.
    ``close_code``, ``close_reason``: the Close we send at EOF or at a normal end
    (--close-status-code, --close-reason; default: an empty Close, 1005 for the peer).
    """

    no_close: bool = False
    ignore_masks: bool = False
    max_pongs: int | None = None
    shutdown_on_eof: bool = False
    settle: bool = False
    close_delay_ms: int | None = None
    verbose: bool = False
    ping_interval: float | None = None
    ping_timeout: float | None = None
    print_ping_rtts: bool = False
    max_sent_pings: int | None = None
    max_message_length: int | None = None
    close_code: int | None = None
    close_reason: str = ""


class WsSocket(MessageSocket):
    """A WebSocket over a stream socket: messages in and out, pings answered.

    ``client``: mask outgoing frames and expect unmasked ones.  ``leftover``: bytes read
    past the handshake, parsed first.  ``options``: see SocketOptions.  After the
    connection closed, ``close_code`` and ``close_reason`` say how (1005: no code; 1006:
    the stream ended without a Close).  ``deflate``: the permessage-deflate parameters
    negotiated (messages are compressed and inflated), or None.
    """

    name = "websocket"
    half_close = False  # a Close ends both directions: -u/-U leave it to the session's end

    def __init__(
        self,
        stream: ByteStream,
        *,
        client: bool,
        leftover: bytes = b"",
        options: SocketOptions = SocketOptions(),
        deflate: Deflate | None = None,
    ) -> None:
        self.stream = stream
        self.options = options
        self._verbose = options.verbose
        self.readable = stream.readable
        self.writable = stream.writable
        # Set when the peer's Close arrives: nothing more can be sent either way.
        self._closed = self.hangup = asyncio.Event()
        self._peer_close: bytes | None = None  # the payload of the peer's Close frame
        self.request: HandshakeRequest | None = None  # set by accept()
        self.close_code: int | None = None
        self.close_reason = ""
        self.deflate = deflate
        self.sent_close: tuple[int, str] | None = None  # (code, reason) of the Close we sent
        self.received_close: tuple[int, str] | None = None  # the peer's Close, if one arrived
        self._parser = FrameParser(
            expect_masked=None if options.ignore_masks else not client,
            inflater=None if deflate is None else deflate.inflater(options.max_message_length),
            max_size=options.max_message_length,
        )
        self._builder = FrameBuilder(mask=client, deflater=None if deflate is None else deflate.deflater())
        self._buf = bytes(leftover)
        self._control: list[Message] = []
        self._eof = False
        self._pongs_left = options.max_pongs
        self._sent_data = False  # a data message went out: the peer may still answer it
        self._reading = False  # recv_batch was called: a Pong would be seen
        self._settled: asyncio.Future[None] | None = None  # our settle Ping's Pong arrived
        self._batches = 0  # batches of data messages read: tells _let_peer_answer the peer is replying
        # Pongs and Close replies are written from recv_batch while another task may be
        # in send_batch: frames must not interleave on streams whose writes can suspend.
        self._write_lock = asyncio.Lock()
        # Control frames for the task holding the lock to write next: reading must not
        # wait for a writer stalled by a peer that itself waits for us to read.
        self._queued: list[Message] = []
        self._pending_error: FrameError | None = None
        self._checked_size = 0  # bytes of the arriving text frame at its last UTF-8 check
        # --ping-interval / --ping-timeout: one timer task, nothing on the data path.
        self._dead: TimeoutExpired | None = None  # set when the peer stopped answering pings
        self._last_pong = self._started = time.monotonic()
        self._keepalive: asyncio.Task[None] | None = None
        if options.ping_interval is not None or options.ping_timeout is not None:
            self._keepalive = asyncio.ensure_future(self._keep_alive())
        if stats.MODE is not None:
            stats.register(self)  # --stats: the close codes go in the session's line

    async def recv_batch(self) -> list[Message]:
        """Every data message the next read(s) produced; [] at EOF or after a Close frame."""
        if self._pending_error is not None:
            exc, self._pending_error = self._pending_error, None
            await asyncio.sleep(0)  # let the messages handed on before the bad frame go out first
            await self._fail(exc)
            raise exc
        if self._eof:
            return []
        self._reading = True
        parser = self._parser
        read = self.stream.read
        out: list[Message] = []
        buf = self._buf
        while True:
            if buf and len(buf) >= parser.need:
                try:
                    used = parser.parse(buf, out, self._control)
                except FrameError as exc:
                    keep = len(out)
                    while keep and out[keep - 1][1] & CONTINUES:
                        keep -= 1  # not the first fragments of the message that failed
                    del out[keep:]
                    if out:  # deliver what came before the bad frame; fail on the next call
                        self._pending_error = exc
                        self._buf = b""
                        return out
                    await self._fail(exc)
                    raise
                buf = self._buf = buf[used:]
                if self._control:
                    await self._answer_control(out)
                if out or self._eof:
                    self._batches += 1
                    return out
            # Kept in self._buf across every await: a cancelled read loses no bytes.
            self._buf = buf
            chunk = await read()
            if not chunk:
                break
            if not buf:
                buf = chunk  # the common case: no partial frame waiting, no copy
                continue
            # Read on until the partial frame can be complete, then join once: appending
            # to a growing buffer and re-parsing after each read would be quadratic.
            parts = [buf, chunk]
            size = len(buf) + len(chunk)
            if size < parser.need and self._partial_check_due(size) and parser.partial_is_text(buf):
                await self._check_partial(parts)
            try:
                while size < parser.need:
                    chunk = await read()
                    if not chunk:
                        break
                    parts.append(chunk)
                    size += len(chunk)
                    if size < parser.need and self._partial_check_due(size) and parser.partial_is_text(buf):
                        await self._check_partial(parts)
            finally:
                buf = self._buf = b"".join(parts)
            if not chunk:
                break
        self._buf = b""
        self._eof = True
        if self.close_code is None:
            self.close_code = 1006
        if self._dead is not None:
            raise self._dead
        return []

    async def echo_back(self) -> None:
        """Send every message back as it arrives, until EOF or the peer's Close (answered).

        Over a plain TCP connection this runs inside the event loop's data callback
        (see ws_echo.py); otherwise it is the recv_batch/send_batch loop.
        """
        if ws_echo.can_echo_inline(self):
            await ws_echo.echo_inline(self)
        else:
            await super().echo_back()

    def stop_reading(self) -> None:
        """Nobody reads this socket any more (-1, --max-messages): wait for no Pong at EOF."""
        self._reading = False
        settled = self._settled
        if settled is not None and not settled.done():
            settled.set_result(None)

    def _partial_check_due(self, size: int) -> bool:
        """Whether to re-check a text frame still arriving, now that `size` bytes are here.

        Small frames are checked on every arrival (fail fast); larger ones each time they
        grew by half, so a frame that trickles in byte by byte costs O(n), not O(n^2).
        """
        if size < 4096 or size >= self._checked_size * 3 // 2 or size < self._checked_size:
            self._checked_size = size  # (smaller than last time: a new frame)
            return True
        return False

    async def _check_partial(self, parts: list[bytes]) -> None:
        """Fail at once on invalid UTF-8 in a text frame still arriving (RFC 6455: fail fast).

        Only text frames that span reads get here; they are re-checked from their start
        on each read, which is fine for frames up to STREAM_FRAME_OVER (larger ones are
        delivered, and checked, piece by piece).
        """
        try:
            self._parser.check_partial(b"".join(parts))
        except FrameError as exc:
            self._buf = b"".join(parts)
            await self._fail(exc)
            raise

    async def send_batch(self, batch: list[Message]) -> None:
        """Send messages as frames in one write; dropped once a Close frame went out.

        A whole text message that is not valid UTF-8 (e.g. stdin bytes under -t) goes out
        as a binary message with its bytes unchanged, and a warning is printed once:
        a peer must fail a connection on invalid text (RFC 6455, close code 1007).
        """
        builder = self._builder
        if builder.closed:
            return
        for index, (data, flags) in enumerate(batch):
            if flags == TEXT and not data.isascii():  # whole text messages; fragments pass as they are
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    batch = _text_to_binary(batch, index)
                    break
        self._sent_data = True
        try:
            async with self._write_lock:
                await self._write_frames(batch)
        except ConnectionError:
            if self._dead is not None:
                raise self._dead from None
            raise

    async def send_eof(self) -> None:
        """Send a Close frame: the reply to the peer's Close (its code echoed), else an empty
        one, as websocat4 does (the peer sees 1005, no status); none with ``no_close``.

        The Close goes out in a write of its own, after the peer had its chance to answer
        what we sent (``settle``, ``close_delay_ms``).
        """
        if not self._builder.closed and self.writable and (self._peer_close is not None or not self.options.no_close):
            await self._let_peer_answer()
            await self._send_close()
        if self.options.shutdown_on_eof and self.writable:
            await self.stream.write_eof()

    async def _let_peer_answer(self) -> None:
        """Before our Close at EOF: give a peer that replies to each message time to do so.

        A peer that reads our last message and our Close together (one TCP segment, or
        two read at once) closes before its reply is sent: `echo hi | websocat URL`
        would print nothing.  Frames are handled in order, so once the Pong of a Ping
        sent after our data is back, the peer has read all of it; then reading on until
        it has been quiet for SETTLE_QUIET (or twice the Pong's round trip, if longer)
        lets its handler send the replies.  Costs one round trip and 20 ms, only when
        data was sent and the reading direction is running; the peer's Close ends it.
        """
        if self._peer_close is not None or not self.readable:
            return
        delay: float | None = None
        pinged = 0.0
        if self.options.close_delay_ms:
            delay = self.options.close_delay_ms / 1000
            waiter: asyncio.Future[Any] = asyncio.ensure_future(self._closed.wait())
        elif self.options.settle and self._sent_data and self._reading and not self._eof:
            delay = SETTLE_TIMEOUT
            waiter = self._settled = asyncio.get_running_loop().create_future()
            pinged = time.monotonic()
            try:
                await self._send_control([(SETTLE_PING, PING)])
            except ConnectionError:
                return
        if delay is None:
            return
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait((waiter, closed), timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            if self._settled is not None and waiter.done() and self._reading:
                # A peer slow to answer a Ping (a busy machine) is slow to reply too.
                quiet = max(SETTLE_QUIET, 2 * (time.monotonic() - pinged))
                await self._until_quiet(closed, quiet, time.monotonic() + SETTLE_TIMEOUT)
        finally:
            for future in (waiter, closed):
                future.cancel()
            self._settled = None

    async def _until_quiet(self, closed: asyncio.Future[Any], quiet: float, deadline: float) -> None:
        """After the settle Pong: read on while replies arrive, until ``quiet`` seconds without any.

        A peer whose handler runs in a thread of its own (websockets' sync server) has read
        our data when its Pong comes back, but may not have sent its replies yet.
        """
        seen = -1
        while seen != self._batches and not closed.done() and time.monotonic() < deadline:
            seen = self._batches
            await asyncio.wait((closed,), timeout=quiet)

    async def _send_close(self, payload: bytes | None = None) -> None:
        """Send a Close: ``payload``, else the reply to the peer's Close, else ours
        (--close-status-code, --close-reason), else an empty one."""
        if payload is None:
            if self._peer_close is not None:
                payload = self._peer_close[:2]
            elif self.options.close_code is not None or self.options.close_reason:
                payload = close_payload(self.options.close_code or 1000, self.options.close_reason)
            else:
                payload = b""
        self._note_sent(payload)
        try:
            async with self._write_lock:  # after any write in progress, and before write_eof
                await self._write_frames([(payload, CLOSE)])
        except ConnectionError:
            pass  # the peer is gone: nothing left to close politely

    async def aclose(self) -> None:
        """Close the WebSocket: a Close frame first if none went out yet, then the stream."""
        await self.close_for(None)

    async def close_for(self, exc: BaseException | None) -> None:
        """Close the WebSocket after a session that ended the way ``exc`` says; idempotent.

        A Close frame goes out first if none did: the reply to the peer's Close (its code
        echoed); else, when the session ended normally, an empty one (as at EOF); when it
        was cancelled (SIGTERM, Ctrl-C), 1001 going away; after an error, 1011 with the
        error's gist as the reason, e.g. ``upstream: connection refused``.  With
        ``no_close`` only the peer's Close is answered.
        """
        if self._keepalive is not None:
            self._keepalive.cancel()
        if not self._builder.closed and self.writable and (self._peer_close is not None or not self.options.no_close):
            payload = None
            if exc is not None and getattr(exc, "normal_end", False):
                exc = None  # e.g. --exit-on-hangup ending the process
            if self._peer_close is None and exc is not None:
                if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
                    payload = close_payload(1001)
                elif hasattr(exc, "close_code"):  # e.g. IdleTimeout: 1001 'idle timeout'
                    payload = close_payload(exc.close_code, getattr(exc, "close_reason", ""))
                else:
                    payload = close_payload(1011, _reason(exc))
            await self._send_close(payload)
        await self.stream.aclose()

    async def __aexit__(self, *exc: object) -> None:
        await self.close_for(exc[1] if len(exc) > 1 and isinstance(exc[1], BaseException) else None)

    def _may_pong(self) -> bool:
        """Whether to answer a ping (--inhibit-pongs: only so many times); counts the pong."""
        if self._pongs_left is None:
            return True
        if self._pongs_left > 0:
            self._pongs_left -= 1
            return True
        return False

    async def _answer_control(self, out: list[Message]) -> None:
        """Answer the control frames a parse produced: pongs for pings, Close for Close.

        A ping not answered (--inhibit-pongs) is handed on to ``out`` instead, as websocat4
        passes it upstream (after the data messages of the same read).
        """
        replies: list[Message] = []
        if self._verbose:
            _show_control("<", self._control)
        for payload, flags in self._control:
            if flags & PONG:
                self._last_pong = time.monotonic()
                if self.options.print_ping_rtts and len(payload) == 12:
                    self._print_rtt(payload)
                settled = self._settled
                if settled is not None and payload == SETTLE_PING and not settled.done():
                    settled.set_result(None)
            elif flags & PING:
                if self._may_pong():
                    replies.append((payload, PONG))
                else:
                    out.append((payload, flags))
            elif flags & CLOSE:
                self._eof = True
                # EOF for reading; the reply (echoing the code, as RFC 6455 suggests) goes
                # out with send_eof, after whatever the session still has to send, or at
                # aclose.  The manual: the framer "only signals EOF" on a Close frame.
                self._closed_by_peer(payload)
        self._control.clear()
        if replies and self.writable and not self._builder.closed:
            try:
                await self._send_control(replies)
            except ConnectionError:
                pass  # reading goes on: it reports the end of the connection its own way

    async def _keep_alive(self) -> None:
        """--ping-interval / --ping-timeout: send Pings on time; drop a peer that stopped answering.

        The deadline runs from the last Pong (or the start), as in websocat v1; it only
        counts while someone reads this socket (under -u nobody would see the Pongs).
        """
        interval = self.options.ping_interval
        timeout = self.options.ping_timeout
        pings_left = self.options.max_sent_pings
        next_ping = None if interval is None else self._started + interval
        sending: asyncio.Future[None] | None = None
        try:
            while True:
                deadline = None if timeout is None else self._last_pong + timeout
                wake = min(t for t in (next_ping, deadline, float("inf")) if t is not None)
                await asyncio.sleep(max(0.0, wake - time.monotonic()) if wake != float("inf") else 3600)
                if self._eof:
                    return
                now = time.monotonic()
                if timeout is not None and now >= self._last_pong + timeout:
                    if self._reading:
                        self._die(timeout)
                        return
                    self._last_pong = now
                if self._builder.closed or not self.writable:
                    next_ping = None  # our Close went out: the timeout still waits for the peer's
                if next_ping is not None and interval is not None and now >= next_ping:
                    next_ping = now + interval
                    if pings_left is not None:
                        if pings_left <= 0:
                            next_ping = None  # --max-sent-pings reached; the timeout still counts
                            continue
                        pings_left -= 1
                    # Not awaited here: a write stalled by a peer that does not read must
                    # not hold up the timeout.  A Ping still pending is not doubled.
                    if sending is None or sending.done():
                        elapsed = now - self._started
                        secs = int(elapsed)
                        payload = struct.pack(">QI", secs, int((elapsed - secs) * 1e9))
                        sending = asyncio.ensure_future(self._send_ping(payload))
        finally:
            if sending is not None and not sending.done():
                sending.cancel()

    async def _send_ping(self, payload: bytes) -> None:
        try:
            await self._send_control([(payload, PING)])
        except ConnectionError:
            pass  # reading reports the end of the connection

    def _die(self, timeout: float) -> None:
        """The peer answered no Ping for ``timeout`` seconds: drop the connection now."""
        self._dead = TimeoutExpired(f"no WebSocket pong for {timeout:g} s (--ping-timeout): the peer stopped answering")
        self._closed.set()
        stream = self.stream
        transport = stream.protocol.transport if isinstance(stream, TransportStream) else None
        if transport is not None:
            transport.abort()  # type: ignore[attr-defined]  # nothing queued for a dead peer is worth flushing
        else:
            asyncio.ensure_future(stream.aclose())

    def _print_rtt(self, payload: bytes) -> None:
        """--print-ping-rtts: the round trip of one of our Pings, as websocat v1 prints it."""
        secs, nanos = struct.unpack(">QI", payload)
        rtt = max(0.0, time.monotonic() - self._started - secs - nanos / 1e9)
        whole = int(rtt)
        sys.stderr.write(f"RTT {whole}.{int((rtt - whole) * 1e6):06d} s\n")

    def _closed_by_peer(self, payload: bytes) -> None:
        """Record the peer's close code; report an unusual one on stderr."""
        code, reason = parse_close(payload)  # the parser has validated it
        self._peer_close = payload
        self._closed.set()
        self.close_code, self.close_reason = code, reason
        self.received_close = (code, reason)
        echo = self.sent_close is not None and self.sent_close[0] == code  # the answer to our Close
        if code not in (1000, 1005) and not echo:
            detail = f": {reason}" if reason else ""
            print(f"websocat: peer closed the WebSocket with code {code}{detail}", file=sys.stderr)
            if code != 1001:
                note_abnormal_close()  # exit status EXIT_PEER_CLOSED for a run that went well otherwise

    def _note_sent(self, payload: bytes) -> None:
        if self.sent_close is None:
            self.sent_close = parse_close(payload) if len(payload) != 1 else (1005, "")

    async def _fail(self, exc: FrameError) -> None:
        """Send a Close frame with the error's code after a protocol violation."""
        self._eof = True
        self.close_code = exc.code
        if self.writable and not self._builder.closed:
            self._note_sent(close_payload(exc.code))
            try:
                await self._send_control([(close_payload(exc.code), CLOSE)])
            except OSError:
                pass  # the error being raised says more than a failed write

    async def _send_control(self, batch: list[Message]) -> None:
        """Write control frames now, or queue them behind a write in progress."""
        if self._write_lock.locked():
            self._queued += batch
            return
        async with self._write_lock:
            await self._write_frames(batch)

    async def _write_frames(self, batch: list[Message]) -> None:
        """Write ``batch`` and any queued control frames; the caller holds the write lock."""
        if self._verbose:
            _show_control(">", batch)
        data = self._builder.build(batch)
        if data:
            await self.stream.write(data)
        while self._queued:
            queued, self._queued = self._queued, []
            data = self._builder.build(queued)
            if data:
                await self.stream.write(data)


class Framing(TypedDict, total=False):
    """The framing, ping and close keywords of ws.connect, ws.accept and ws.framed.

    Their defaults and meaning are SocketOptions': ``no_close``, ``ignore_masks``,
    ``max_pongs``, ``shutdown_on_eof``, ``close_delay_ms``, ``verbose``,
    ``ping_interval``, ``ping_timeout``, ``print_ping_rtts``, ``max_sent_pings``,
    ``max_message_length``, ``close_code``, ``close_reason``.
    """

    no_close: bool
    ignore_masks: bool
    max_pongs: int | None
    shutdown_on_eof: bool
    close_delay_ms: int | None
    verbose: bool
    ping_interval: float | None
    ping_timeout: float | None
    print_ping_rtts: bool
    max_sent_pings: int | None
    max_message_length: int | None
    close_code: int | None
    close_reason: str


class Compression(TypedDict, total=False):
    """permessage-deflate (--compress), for ws.connect and ws.accept; see deflate_options().

    ``compress``: a client offers it, a server accepts an offer (default False);
    ``compress_no_context_takeover`` (False), ``compress_window_bits`` (None: 15): the
    parameters a client asks for, or a server imposes; ``compress_level`` (6): zlib's
    level, 0-9, for what we send.
    """

    compress: bool
    compress_no_context_takeover: bool
    compress_window_bits: int | None
    compress_level: int


class ConnectOptions(ClientHandshake, Framing, Compression, total=False):
    """ws.connect's keywords besides ``connect_timeout_ms``: ClientHandshake, Framing, Compression."""


class AcceptOptions(ServerHandshake, Framing, Compression, total=False):
    """ws.accept's keywords: ServerHandshake, Framing, Compression."""


def deflate_options(
    compress: bool = False,
    compress_no_context_takeover: bool = False,
    compress_window_bits: int | None = None,
    compress_level: int = DEFAULT_LEVEL,
) -> DeflateOptions | None:
    """The permessage-deflate parameters of the Compression keywords; None without ``compress``."""
    if not compress:
        return None
    return DeflateOptions(compress_no_context_takeover, compress_window_bits, compress_level)


def socket_options(options: Framing, settle: bool = False) -> SocketOptions:
    """The SocketOptions of the Framing keywords (others in ``options`` are ignored)."""
    return SocketOptions(settle=settle, **take(options, SocketOptions))


@opening
async def connect(
    stream: ByteStream, *, connect_timeout_ms: int | None = None, **options: Unpack[ConnectOptions]
) -> WsSocket:
    """Connect a WebSocket client over ``stream``: HTTP upgrade, then framing.

    The keywords: ClientHandshake (the request: ``uri``, ``host``, ``headers``...),
    Framing (pings and the close) and Compression (``compress`` offers
    permessage-deflate; a server that declines gets uncompressed messages).
    ``connect_timeout_ms``: fail with TimeoutExpired when the upgrade takes longer.
    Raises ProtocolError when the server refuses the upgrade.
    """
    check("connect", options, ConnectOptions)
    handshake = client_options(options, deflate_options(**take(options, deflate_options)))
    started = time.monotonic()
    leftover, deflate = await within(client_upgrade(stream, handshake), connect_timeout_ms, upgrade_of(stream))
    stats.note("upgrade", started)
    framing = socket_options(options, settle=True)
    return WsSocket(stream, client=True, leftover=leftover, options=framing, deflate=deflate)


@opening
async def accept(stream: ByteStream, **options: Unpack[AcceptOptions]) -> WsSocket:
    """Accept a WebSocket client on ``stream``: answer its upgrade request, then framing.

    The keywords: ServerHandshake (``headers``: extra reply headers; ``protocol``: the
    Sec-WebSocket-Protocol to require and answer with; who is let in), Framing and
    Compression (``compress`` accepts a permessage-deflate offer; a client that offers
    none gets uncompressed messages).  The request is kept as ``.request``.  Raises
    ProtocolError (after replying 400) on a bad request.
    """
    check("accept", options, AcceptOptions)
    handshake = server_options(options, deflate_options(**take(options, deflate_options)))
    accepted, leftover = await server_handshake(stream, handshake)
    note_request(accepted.target, accepted.headers)  # for the session's exec:/cmd: (-e)
    framing = socket_options(options, settle=True)
    sock = WsSocket(stream, client=False, leftover=leftover, options=framing, deflate=accepted.deflate)
    sock.request = accepted
    return sock


def framed(stream: ByteStream, *, client: bool, **options: Unpack[Framing]) -> WsSocket:
    """WebSocket framing over ``stream`` with no HTTP handshake (ws-lowlevel-client/server:).

    ``client=True`` masks outgoing frames and expects unmasked ones.  The other keywords:
    Framing.
    """
    check("framed", options, Framing)
    return WsSocket(stream, client=client, options=socket_options(options))


def _reason(exc: BaseException) -> str:
    """The reason sent with Close 1011: what went wrong, without addresses or paths."""
    from websocat.runtime.running import describe_error  # noqa: PLC0415 - running imports the copy loops

    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    message = describe_error(exc)[0]
    gist = message.rpartition(": ")[2] or message
    return f"upstream: {gist[:1].lower()}{gist[1:]}"


def _show_control(direction: str, batch: list[Message]) -> None:
    """-v: control frames on stderr, '>' sent and '<' received."""
    for payload, flags in batch:
        if flags & (PING | PONG | CLOSE):
            kind = "ping" if flags & PING else "pong" if flags & PONG else "close"
            detail = f" code {parse_close(payload)[0]}" if flags & CLOSE and len(payload) >= 2 else ""
            sys.stderr.write(f"websocat: {direction} {kind}{detail} {payload[:125]!r}\n")


_warned_binary = False


def _text_to_binary(batch: list[Message], start: int) -> list[Message]:
    """The batch with each invalid UTF-8 text message from `start` on turned binary."""
    global _warned_binary
    out = batch[:start]
    for data, flags in batch[start:]:
        if flags == TEXT and not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                flags = BINARY
                if not _warned_binary:
                    _warned_binary = True
                    print("websocat: warning: text that is not UTF-8 is sent as binary messages", file=sys.stderr)
        out.append((data, flags))
    return out
