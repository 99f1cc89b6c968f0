"""The mirror's fast path: a WebSocket over TCP that echoes every message back (ws-l: mirror:).

``exchange_packets(sock, mirror)`` would wake a task per message and pass each batch
through the mirror's queue.  Here frames are parsed, and their echoes built and written,
inside the event loop's data callback (``StreamProtocol.feed``): the echo-server and conc
benchmarks measure this path.  The functions work on a WsSocket's state directly; the
socket calls them from ``WsSocket.echo_back``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from websocat.runtime.overlays.ws_framing import FrameError, close_payload
from websocat.runtime.sockets import CLOSE, CONTINUES, CONTROL, PING, PONG, Message, TransportStream

if TYPE_CHECKING:
    from websocat.runtime.overlays.ws import WsSocket

__all__ = ["can_echo_inline", "echo_inline"]


def can_echo_inline(sock: WsSocket) -> bool:
    """Whether echo_inline() may serve this socket (a plain TCP connection, nothing pending)."""
    return (
        isinstance(sock.stream, TransportStream)
        and sock.stream.protocol.transport is not None
        and not sock._verbose
        and sock._keepalive is None  # pings of ours: their Pongs are read by recv_batch
        and not sock._eof
        and sock._pending_error is None
        and not sock._queued
        and not sock._write_lock.locked()
    )


async def echo_inline(sock: WsSocket) -> None:
    """Send every message back as it arrives, inside the event loop's data callback.

    What ``exchange_packets(sock, mirror)`` does, without a task wake-up per message:
    frames are parsed and the echoes built and written in ``data_received``.  Returns
    at EOF or after the peer's Close (answered); raises after a protocol violation
    (answered with its close code), like recv_batch.
    """
    assert isinstance(sock.stream, TransportStream)
    protocol = sock.stream.protocol
    transport = protocol.transport
    parser, builder = sock._parser, sock._builder
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    parts: list[bytes] = [sock._buf] if sock._buf else []
    size = len(sock._buf)
    sock._buf = b""

    def fail(exc: BaseException) -> None:
        if not finished.done():
            finished.set_exception(exc)

    def feed(data: bytes) -> None:
        nonlocal parts, size
        if finished.done():
            return
        if not data:
            finished.set_result(None)  # EOF, or the connection is gone
            return
        parts.append(data)
        size += len(data)
        if size < parser.need:
            if sock._partial_check_due(size) and parser.partial_is_text(parts[0]):
                try:
                    parser.check_partial(b"".join(parts))
                except FrameError as exc:
                    _fail_now(sock, exc, [])
                    fail(exc)
            return
        buf = parts[0] if len(parts) == 1 else b"".join(parts)
        out: list[Message] = []
        try:
            used = parser.parse(buf, out)  # control frames stay in order among the messages
        except FrameError as exc:
            keep = len(out)
            while keep and out[keep - 1][1] & CONTINUES:
                keep -= 1  # not the first fragments of the message that failed
            _fail_now(sock, exc, out[:keep])
            fail(exc)
            return
        rest = buf[used:]
        parts, size = ([rest] if rest else []), len(rest)
        for _data, flags in out:
            if flags & CONTROL:
                out = _answer_in_order(sock, out)
                break
        frames = builder.build(out) if out else b""
        if frames:
            transport.write(frames)  # type: ignore[union-attr]
            protocol.pause_reading_until_drained()
        if sock._eof:  # the peer's Close arrived: answer it, and the session is over
            if not builder.closed and sock._peer_close is not None:
                transport.write(builder.build([(sock._peer_close[:2], CLOSE)]))  # type: ignore[union-attr]
            finished.set_result(None)

    buffered, at_eof = protocol.take_buffered()  # bytes that arrived before the feed was set
    protocol.feed = feed
    try:
        pending, parts, size = parts + buffered, [], 0
        for chunk in pending:
            feed(chunk)
        if at_eof:
            feed(b"")
        await finished
    finally:
        protocol.feed = None
        sock._eof = True


def _answer_in_order(sock: WsSocket, parsed: list[Message]) -> list[Message]:
    """The echo of a parse with control frames in it: pings become pongs in place (or,
    not answered, are echoed as pings), pongs are dropped, a Close ends it (recorded; its
    reply follows the echoes)."""
    answer: list[Message] = []
    for payload, flags in parsed:
        if not flags & CONTROL:
            answer.append((payload, flags))
        elif flags & PING:
            # a ping not answered (--inhibit-pongs) reaches the mirror, which sends it back
            answer.append((payload, PONG if sock._may_pong() else PING))
        elif flags & CLOSE:
            sock._eof = True
            sock._closed_by_peer(payload)
            break
    return answer


def _fail_now(sock: WsSocket, exc: FrameError, before: list[Message]) -> None:
    """Echo what came before a bad frame, then the Close with the error's code."""
    sock._eof = True
    sock.close_code = exc.code
    if not sock._builder.closed:
        sock.stream.protocol.transport.write(  # type: ignore[attr-defined]
            sock._builder.build([*before, (close_payload(exc.code), CLOSE)])
        )
