"""Copy loops: exchange data between the two sides of a session, in both directions.

EOF read in one direction shuts down the write half on the other side (`write_eof` /
`send_eof`); the session ends when every running direction has ended, or at the first
one with `exit_on_eof` (-E), or when either socket signals hangup.  A side whose read
half is missing (an incomplete socket) has no direction out of it: nothing is shut
down on its behalf.

Closing both sides ends a session.  Errors from closing are ignored, except a
``ProtocolError`` when the session itself went well: that is a check that only closing
can make, such as a ``mock_stream_socket:`` whose scenario was not played to the end.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from websocat.runtime import splicing, stats
from websocat.runtime.errors import IdleTimeout, ProtocolError
from websocat.runtime.sockets import BINARY, CONTINUES, DEFAULT_READ, TEXT, ByteStream, Message, MessageSocket

__all__ = [
    "HANGUP_EXITS",
    "HANGUP_GRACE",
    "HangupExit",
    "close_both",
    "copy_bytes",
    "copy_packets",
    "exchange_bytes",
    "exchange_packets",
]

# Set by run(exit_on_hangup=True): a hangup ends the whole process, not just the session.
HANGUP_EXITS = False
HANGUP_GRACE = 0.5  # seconds a direction may go on writing to a side that hung up


class HangupExit(Exception):
    """A socket hung up and --exit-on-hangup asked the process to end."""

    normal_end = True  # sockets closed on the way out close as after a normal end


async def copy_bytes(
    src: ByteStream, dst: ByteStream, buffer_size: int = DEFAULT_READ, shut: bool = True, limit: int | None = None
) -> None:
    """Copy src's read half into dst's write half until EOF, then shut dst's write half (if ``shut``).

    Between two plain kernel sockets the bytes move with splice(2) (runtime/splicing.py).
    ``limit``: stop after that many reads (--max-messages counts reads on byte streams,
    as websocat v1 does).
    """
    if limit is not None:
        read, write = src.read, dst.write
        for _ in range(limit):
            data = await read(buffer_size)
            if not data:
                break
            await write(data)
        if shut:
            await dst.write_eof()
        return
    ends = splicing.raw_ends(src, dst)
    if ends is not None:
        if await splicing.splice_copy(src, dst, *ends) and shut:
            await dst.write_eof()
        return
    read, write = src.read, dst.write
    while True:
        data = await read(buffer_size)
        if not data:
            break
        await write(data)
    if shut:
        await dst.write_eof()


async def copy_packets(src: MessageSocket, dst: MessageSocket, shut: bool = True, limit: int | None = None) -> None:
    """Copy message batches from src to dst until EOF, then end dst's sending (if ``shut``).

    ``limit``: stop after that many whole messages (-1, --max-messages); src is read no more.
    """
    recv, send = src.recv_batch, dst.send_batch
    if limit is None:
        while True:
            batch = await recv()
            if not batch:
                break
            await send(batch)
    else:
        await _copy_messages(src, dst, limit)
    if shut:
        await dst.send_eof()


async def _copy_messages(src: MessageSocket, dst: MessageSocket, limit: int) -> None:
    """copy_packets for the first ``limit`` messages (a fragmented one counts once)."""
    left = limit
    while left > 0:
        batch = await src.recv_batch()
        if not batch:
            return
        for index, (_data, flags) in enumerate(batch):
            if not flags & CONTINUES:
                left -= 1
                if left == 0:
                    batch = batch[: index + 1]
                    break
        await dst.send_batch(batch)
    stop_reading = getattr(src, "stop_reading", None)
    if stop_reading is not None:
        stop_reading()  # e.g. a WebSocket waiting for a Pong nobody will read now


def _preamble_bytes(items: Sequence[str | bytes]) -> list[bytes]:
    return [item.encode() if isinstance(item, str) else item for item in items]


def _preamble_messages(items: Sequence[str | bytes]) -> list[Message]:
    """-p/-P values as messages: text for str, binary for bytes (the planner's choice under -b)."""
    return [(item.encode(), TEXT) if isinstance(item, str) else (item, BINARY) for item in items]


async def _send_preambles(
    left: Any, right: Any, preamble: Sequence[str | bytes], preamble_reverse: Sequence[str | bytes], messages: bool
) -> None:
    """-p to the right side and -P to the left one, before any data goes either way."""
    for sock, items in ((right, preamble), (left, preamble_reverse)):
        if not items or not sock.writable:
            continue
        if messages:
            await sock.send_batch(_preamble_messages(items))
        else:
            for data in _preamble_bytes(items):
                await sock.write(data)


async def exchange_bytes(
    left: ByteStream,
    right: ByteStream,
    *,
    unidirectional: bool = False,
    unidirectional_reverse: bool = False,
    late_drop: bool = False,
    exit_on_eof: bool = False,
    pass_right_eof: bool = True,
    preamble: Sequence[str | bytes] = (),
    preamble_reverse: Sequence[str | bytes] = (),
    one_message: bool = False,
    max_messages: int | None = None,
    max_messages_rev: int | None = None,
    buffer_size: int | None = None,
    idle_timeout_ms: int | None = None,
) -> None:
    """Copy bytes left->right and right->left (the manual's exchange_bytes).

    ``pass_right_eof=False``: EOF read from the right side (stdin shared by the sessions
    of a listener) does not shut the left side; the session goes on until the left ends.
    ``preamble``: written to the right side first (-p), ``preamble_reverse`` to the left
    (-P).  ``max_messages``: left->right ends after that many reads, ``max_messages_rev``:
    right->left; ``one_message``: one each way (-1).  ``idle_timeout_ms``: end the session
    with IdleTimeout when no data was read either way for so long.
    """
    size = buffer_size or DEFAULT_READ
    await _exchange(
        left,
        right,
        lambda a, b, shut=True, limit=None: copy_bytes(a, b, size, shut, limit),
        lambda s: s.write_eof(),
        unidirectional,
        unidirectional_reverse,
        late_drop,
        exit_on_eof,
        pass_right_eof,
        _Extras(preamble, preamble_reverse, *_limits(one_message, max_messages, max_messages_rev), messages=False),
        idle_timeout_ms,
    )


async def exchange_packets(
    left: MessageSocket,
    right: MessageSocket,
    *,
    unidirectional: bool = False,
    unidirectional_reverse: bool = False,
    late_drop: bool = False,
    exit_on_eof: bool = False,
    pass_right_eof: bool = True,
    preamble: Sequence[str | bytes] = (),
    preamble_reverse: Sequence[str | bytes] = (),
    one_message: bool = False,
    max_messages: int | None = None,
    max_messages_rev: int | None = None,
    idle_timeout_ms: int | None = None,
) -> None:
    """Copy messages left->right and right->left, batch by batch (the manual's exchange_packets).

    ``pass_right_eof``: as for exchange_bytes.  ``preamble``: messages sent to the right
    side before any data (-p; text, or binary when given as bytes), ``preamble_reverse``:
    to the left side (-P).  ``max_messages``: left->right ends after that many messages,
    ``max_messages_rev``: right->left; ``one_message``: one each way (-1).
    ``idle_timeout_ms``: as for exchange_bytes.
    """
    extras = _Extras(preamble, preamble_reverse, *_limits(one_message, max_messages, max_messages_rev), messages=True)
    watched = idle_timeout_ms or (stats.MODE is not None and stats.CURRENT.get() is not None)
    if right.mirrors and not (unidirectional or unidirectional_reverse or exit_on_eof or extras.any() or watched):
        await _echo(left, right)  # the same data flow, without a queue and a second task per message
        return
    await _exchange(
        left,
        right,
        copy_packets,
        lambda s: s.send_eof(),
        unidirectional,
        unidirectional_reverse,
        late_drop,
        exit_on_eof,
        pass_right_eof,
        extras,
        idle_timeout_ms,
    )


class _Extras:
    """What -p, -P, -1 and --max-messages(-rev) add to an exchange."""

    __slots__ = ("limit", "limit_rev", "messages", "preamble", "preamble_reverse")

    def __init__(
        self,
        preamble: Sequence[str | bytes],
        preamble_reverse: Sequence[str | bytes],
        limit: int | None,
        limit_rev: int | None,
        *,
        messages: bool,
    ) -> None:
        self.preamble, self.preamble_reverse = preamble, preamble_reverse
        self.limit, self.limit_rev, self.messages = limit, limit_rev, messages

    def any(self) -> bool:
        return bool(self.preamble or self.preamble_reverse) or self.limit is not None or self.limit_rev is not None


def _limits(one_message: bool, max_messages: int | None, max_messages_rev: int | None) -> tuple[int | None, int | None]:
    """Each direction's message limit: the smaller of -1's one and --max-messages(-rev)."""
    if one_message:
        max_messages = 1 if max_messages is None else min(1, max_messages)
        max_messages_rev = 1 if max_messages_rev is None else min(1, max_messages_rev)
    return max_messages, max_messages_rev


async def _echo(sock: MessageSocket, mirror: MessageSocket) -> None:
    """What exchange_packets(sock, mirror) does, in one loop: each batch goes straight back."""
    try:
        await sock.echo_back()
        await sock.send_eof()
    finally:
        failure = await close_both(sock, mirror, sys.exc_info()[1])
    if failure is not None:
        raise failure


async def close_both(left: Any, right: Any, ending: BaseException | None) -> ProtocolError | None:
    """Close both sides of a session that ended with ``ending`` (None: normally), but
    not a side the script manages (opened with ``async with``, which closes it, after
    whatever code the script has after the exchange).

    Returns the first ProtocolError raised while closing (a mock scenario not played to
    its end, say), for a session that went well to fail with.
    """
    if isinstance(ending, HangupExit):
        ending = None  # a normal end, reported as such

    async def closing(sock: Any) -> None:
        if sock.managed:
            return
        close_for = getattr(sock, "close_for", None)  # a WebSocket tells its peer why
        await (close_for(ending) if close_for is not None else sock.aclose())

    results = await asyncio.gather(closing(left), closing(right), return_exceptions=True)
    return next((r for r in results if isinstance(r, ProtocolError)), None)


async def _exchange(
    left: Any,
    right: Any,
    copy: Callable[..., Awaitable[None]],
    shut: Callable[[Any], Awaitable[None]],
    unidirectional: bool,
    unidirectional_reverse: bool,
    late_drop: bool,
    exit_on_eof: bool,
    pass_right_eof: bool = True,
    extras: _Extras | None = None,
    idle_timeout_ms: int | None = None,
) -> None:
    forward = not unidirectional_reverse and left.readable and right.writable
    backward = not unidirectional and right.readable and left.writable
    limit = limit_rev = None
    if extras is not None and extras.any():
        limit, limit_rev = extras.limit, extras.limit_rev
        if extras.preamble or extras.preamble_reverse:
            # Before -u/-U shut a direction, as websocat v1: `-U -p subscribe` subscribes, then listens.
            try:
                await _send_preambles(left, right, extras.preamble, extras.preamble_reverse, extras.messages)
            except BaseException as exc:
                await close_both(left, right, exc)
                raise
    if not late_drop:
        # -u / -U: the unused direction is shut at once (the manual's default), but not
        # on a socket with no half-close: a WebSocket's Close would end the direction
        # still reading from it.  That one is closed with the session.
        if unidirectional and left.writable and getattr(left, "half_close", True):
            await shut(left)
        if unidirectional_reverse and right.writable and getattr(right, "half_close", True):
            await shut(right)
    # --stats / --idle-timeout-ms: each reading side is wrapped to count and/or time its
    # reads, once per read or batch; without them the sockets are copied as they are.
    session_stats = stats.CURRENT.get() if stats.MODE is not None else None
    clock = [time.monotonic()] if idle_timeout_ms else None
    if session_stats is not None or clock is not None:
        counts = None
        if session_stats is not None:
            counts, session_stats.used = session_stats.counts, True
        unwatched = copy

        def copy(src: Any, dst: Any, *rest: Any) -> Awaitable[None]:
            return unwatched(stats.Watched(src, counts, 0 if src is left else 2, clock), dst, *rest)

    idle = asyncio.ensure_future(_idle_watch(clock, idle_timeout_ms)) if clock and idle_timeout_ms else None
    if limit is None and limit_rev is None:
        forward_task: asyncio.Future[Any] | None = asyncio.ensure_future(copy(left, right)) if forward else None
        backward_task: asyncio.Future[Any] | None = (
            asyncio.ensure_future(copy(right, left, pass_right_eof)) if backward else None
        )
    else:
        forward_task = asyncio.ensure_future(copy(left, right, True, limit)) if forward else None
        backward_task = asyncio.ensure_future(copy(right, left, pass_right_eof, limit_rev)) if backward else None
    tasks = {t for t in (forward_task, backward_task) if t is not None}
    # A side that hangs up can take no more data: stop the direction that writes to it;
    # the direction reading from it ends by itself, delivering what was already read.
    hangups: dict[asyncio.Future[Any], asyncio.Future[Any] | None] = {}
    for side, writer_task in ((left, backward_task), (right, forward_task)):
        if side.hangup is not None:
            hangups[asyncio.ensure_future(side.hangup.wait())] = writer_task
    try:
        pending = set(tasks)
        while pending:
            waiting = pending | {h for h in hangups if not h.done()}
            if idle is not None:
                waiting.add(idle)
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if idle in done:
                idle.result()  # raises IdleTimeout
            for task in done & tasks:
                if not task.cancelled():
                    task.result()  # raise the direction's error, if any
            pending -= done
            if exit_on_eof and done & tasks:
                break
            for hangup in done & hangups.keys():
                if HANGUP_EXITS:
                    raise HangupExit("a socket hung up (--exit-on-hangup)")
                stopped = hangups[hangup]
                if stopped is not None and not stopped.done():
                    # A grace period: what the session already holds for that side (a
                    # mirror's echo, say) still goes out before the direction is cut;
                    # none when it reads a socket shared with other sessions (reuse-raw:),
                    # whose next message is for a session still there.
                    source = right if stopped is backward_task else left
                    grace = 0 if getattr(source, "shared", False) else HANGUP_GRACE
                    asyncio.get_running_loop().call_later(grace, stopped.cancel)
    finally:
        watchers = (*hangups, idle) if idle is not None else tuple(hangups)
        for task in (*tasks, *watchers):
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, *watchers, return_exceptions=True)
        # The session is over: close both sides (a WebSocket answers a pending Close here,
        # or says why the session ended: cancelled, or an error on the other side).
        failure = await close_both(left, right, sys.exc_info()[1])
    if failure is not None:
        raise failure


async def _idle_watch(clock: list[float], timeout_ms: int) -> None:
    """--idle-timeout-ms: one timer per session, re-armed from the time of the last read."""
    timeout = timeout_ms / 1000
    while True:
        left = clock[0] + timeout - time.monotonic()
        if left <= 0:
            raise IdleTimeout(f"no data either way for {timeout_ms} ms (--idle-timeout-ms): session closed")
        await asyncio.sleep(left)
