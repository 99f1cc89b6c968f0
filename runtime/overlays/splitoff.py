"""Sockets whose read half and write half come from different sockets: write-splitoff:
(websocat4's combine_read_and_write_*) and the --filter / --filter-reverse wiring
(websocat4's swap_writers / swap_readers and a copy per filter).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, overload

from websocat.runtime.copying import copy_bytes, copy_packets
from websocat.runtime.errors import UsageError
from websocat.runtime.sockets import ByteStream, MessageSocket

__all__ = ["SplitMessages", "SplitStream", "any_hangup", "through_filters", "write_splitoff"]


def any_hangup(*events: asyncio.Event | None) -> tuple[asyncio.Event | None, list[asyncio.Future[Any]]]:
    """An event set when any of ``events`` is, and the watchers to cancel when done with it."""
    present = [event for event in events if event is not None]
    if len(present) <= 1:
        return (present[0] if present else None), []
    either = asyncio.Event()
    watchers: list[asyncio.Future[Any]] = [asyncio.ensure_future(event.wait()) for event in present]
    for watcher in watchers:
        watcher.add_done_callback(lambda done: None if done.cancelled() else either.set())
    return either, watchers


class SplitStream(ByteStream):
    """A byte stream that reads from ``reader`` and writes to ``writer``.

    ``shut_reader``: entering it (``async with``) first shuts down the reader's write half.
    Its hangup is either half's, or ``hangup_of``'s when given.
    """

    name = "write-splitoff"

    def __init__(
        self, reader: ByteStream, writer: ByteStream, *, shut_reader: bool = False, hangup_of: ByteStream | None = None
    ) -> None:
        self.reader, self.writer = reader, writer
        self.readable, self.writable = reader.readable, writer.writable
        self.read = reader.read  # type: ignore[method-assign]
        self.write = writer.write  # type: ignore[method-assign]
        self.write_eof = writer.write_eof  # type: ignore[method-assign]
        self._watchers: list[asyncio.Future[Any]] = []
        if hangup_of is not None:
            self.hangup = hangup_of.hangup
        else:
            self.hangup, self._watchers = any_hangup(reader.hangup, writer.hangup)
        self._shut_reader = shut_reader

    async def __aenter__(self) -> SplitStream:
        if self._shut_reader and self.reader.writable:
            await self.reader.write_eof()
        await super().__aenter__()
        return self

    async def aclose(self) -> None:
        for watcher in self._watchers:
            watcher.cancel()
        await asyncio.gather(self.reader.aclose(), self.writer.aclose(), return_exceptions=True)


class SplitMessages(MessageSocket):
    """A message socket that receives from ``reader`` and sends to ``writer`` (as SplitStream)."""

    name = "write-splitoff"

    def __init__(
        self,
        reader: MessageSocket,
        writer: MessageSocket,
        *,
        shut_reader: bool = False,
        hangup_of: MessageSocket | None = None,
    ) -> None:
        self.reader, self.writer = reader, writer
        self.readable, self.writable = reader.readable, writer.writable
        self.recv_batch = reader.recv_batch  # type: ignore[method-assign]
        self.send_batch = writer.send_batch  # type: ignore[method-assign]
        self._watchers: list[asyncio.Future[Any]] = []
        if hangup_of is not None:
            self.hangup = hangup_of.hangup
        else:
            self.hangup, self._watchers = any_hangup(reader.hangup, writer.hangup)
        self._shut_reader = shut_reader

    async def send_eof(self) -> None:
        await self.writer.send_eof()

    async def __aenter__(self) -> SplitMessages:
        if self._shut_reader and self.reader.writable:
            await self.reader.send_eof()
        await super().__aenter__()
        return self

    async def aclose(self) -> None:
        for watcher in self._watchers:
            watcher.cancel()
        await asyncio.gather(self.reader.aclose(), self.writer.aclose(), return_exceptions=True)


@overload
def write_splitoff(sock: ByteStream, writer: ByteStream, *, omit_shutdown: bool = False) -> SplitStream: ...


@overload
def write_splitoff(sock: MessageSocket, writer: MessageSocket, *, omit_shutdown: bool = False) -> SplitMessages: ...


def write_splitoff(
    sock: ByteStream | MessageSocket, writer: ByteStream | MessageSocket, *, omit_shutdown: bool = False
) -> SplitStream | SplitMessages:
    """write-splitoff: read from ``sock``, write to ``writer``; entering it shuts down ``sock``'s
    write half (``omit_shutdown``: left open). ``writer`` is never read."""
    if isinstance(sock, ByteStream) and isinstance(writer, ByteStream):
        return SplitStream(sock, writer, shut_reader=not omit_shutdown)
    if isinstance(sock, MessageSocket) and isinstance(writer, MessageSocket):
        return SplitMessages(sock, writer, shut_reader=not omit_shutdown)
    raise UsageError("write-splitoff: the read and the write socket must both carry bytes or both messages")


@overload
def through_filters(
    sock: ByteStream, *, forward: Sequence[ByteStream] = (), reverse: Sequence[ByteStream] = (), race: bool = False
) -> contextlib.AbstractAsyncContextManager[SplitStream]: ...


@overload
def through_filters(
    sock: MessageSocket,
    *,
    forward: Sequence[MessageSocket] = (),
    reverse: Sequence[MessageSocket] = (),
    race: bool = False,
) -> contextlib.AbstractAsyncContextManager[SplitMessages]: ...


def through_filters(
    sock: Any, *, forward: Sequence[Any] = (), reverse: Sequence[Any] = (), race: bool = False
) -> contextlib.AbstractAsyncContextManager[Any]:
    """--filter / --filter-reverse: ``sock`` as the session sees it when what is written goes
    through each ``forward`` socket in turn before ``sock``, and what ``sock`` sends through each
    ``reverse`` socket before it is read.

    A copy per filter runs while the block runs; leaving the block waits for them to end
    (``race``, for -E: stops them), and a failing copy fails the block.
    """
    return _through_filters(sock, list(forward), list(reverse), race)


@contextlib.asynccontextmanager
async def _through_filters(sock: Any, forward: list[Any], reverse: list[Any], race: bool) -> AsyncIterator[Any]:
    messages = isinstance(sock, MessageSocket)
    copy: Any = copy_packets if messages else copy_bytes
    # left -> forward[0] -> forward[1] -> ... -> sock -> reverse[0] -> ... -> reverse[-1] -> left
    hops = [*zip(forward, forward[1:] + [sock])] if forward else []
    hops += [*zip([sock] + reverse[:-1], reverse)] if reverse else []
    reader = reverse[-1] if reverse else sock
    writer = forward[0] if forward else sock
    # The right side's hangup, as websocat4's swaps keep it.
    wired: Any = (SplitMessages if messages else SplitStream)(reader, writer, hangup_of=sock)
    wired.managed = True  # the halves belong to the blocks that opened them
    try:
        async with asyncio.TaskGroup() as group:
            copies = [group.create_task(copy(src, dst)) for src, dst in hops]
            yield wired
            if race:
                for task in copies:
                    task.cancel()
    except BaseExceptionGroup as failed:
        raise _first(failed) from None


def _first(group: BaseExceptionGroup[Any]) -> BaseException:
    """The first error of a task group, unwrapped, so that it reports as one line."""
    error = group.exceptions[0]
    return _first(error) if isinstance(error, BaseExceptionGroup) else error
