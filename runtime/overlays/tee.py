"""tee: (websocat4's tee): one datagram socket over several nodes, the socket under tee:
first and then each --tee stack.

Writing sends each batch to every node, concurrently, and returns when all have taken
it, so the slowest node paces the session.  A node that fails a write is dropped and
the others go on receiving everything; the write fails only when the last node fails
(``propagate_failures``: at the first failure).

Reading merges the nodes: each batch comes whole from one node, the first that has one
(in node order when several do).  A node that starts a fragmented message is read alone
until the message's final fragment, so fragments of two messages never mix.  A node at
EOF is dropped; reading ends when every node has ended (``propagate_eof``: at the first
EOF).  A node that ends in the middle of a message ends the reading side
(``tolerate_torn_msgs``: the message is cut short with an empty final fragment and the
other nodes go on).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

from websocat.runtime.errors import UsageError
from websocat.runtime.overlays.splitoff import any_hangup
from websocat.runtime.sockets import CONTINUES, Message, MessageSocket

__all__ = ["Tee", "tee"]


class Tee(MessageSocket):
    """A message socket that writes to every node and reads from any of them."""

    name = "tee"

    def __init__(
        self,
        nodes: list[MessageSocket],
        *,
        propagate_failures: bool = False,
        propagate_eof: bool = False,
        tolerate_torn_msgs: bool = False,
        use_hangups: bool = False,
        use_first_hangup: bool = False,
    ) -> None:
        if use_hangups and use_first_hangup:
            raise UsageError("tee: use_hangups and use_first_hangup cannot be used together")
        self.nodes = nodes
        self.propagate_failures = propagate_failures
        self.propagate_eof = propagate_eof
        self.tolerate_torn_msgs = tolerate_torn_msgs
        self._writers = [node for node in nodes if node.writable]
        self._readers = [node for node in nodes if node.readable]
        self.readable = bool(self._readers)
        self.writable = bool(self._writers)
        # One pending recv_batch per node being read: a batch that arrives while another
        # node's is returned waits in its task, never lost.
        self._reads: dict[MessageSocket, asyncio.Future[list[Message]]] = {}
        self._chosen: MessageSocket | None = None  # the node in the middle of a message
        self._chosen_flags = 0
        self._watchers: list[asyncio.Future[Any]] = []
        if use_first_hangup:
            self.hangup = nodes[0].hangup
        elif use_hangups:
            self.hangup, self._watchers = any_hangup(*(node.hangup for node in nodes))

    # -- writing

    async def send_batch(self, batch: list[Message]) -> None:
        writers = self._writers
        if len(writers) == 1:
            await writers[0].send_batch(batch)  # the last node: its failure is the tee's
            return
        if not writers:
            return  # every node has gone (each failure was reported when it happened)
        # Each node gets its own list: a socket may keep the one it is given (mirror:).
        results = await asyncio.gather(
            *(writer.send_batch(batch if i == 0 else list(batch)) for i, writer in enumerate(writers)),
            return_exceptions=True,
        )
        self._after_writes(writers, results)

    async def send_eof(self) -> None:
        writers = self._writers
        results = await asyncio.gather(*(writer.send_eof() for writer in writers), return_exceptions=True)
        self._after_writes(writers, results)

    def _after_writes(self, writers: list[MessageSocket], results: Sequence[object]) -> None:
        """Drop the nodes whose write failed; raise when that was every node (or any, with propagate_failures)."""
        failures = [result for result in results if isinstance(result, BaseException)]
        if not failures:
            return
        if self.propagate_failures:
            raise failures[0]
        self._writers = [w for w, result in zip(writers, results) if not isinstance(result, BaseException)]
        if not self._writers:
            raise failures[0]

    # -- reading

    async def recv_batch(self) -> list[Message]:
        while True:
            node = self._chosen
            if node is not None:
                outcome = await self._next_of(node)
            elif not self._readers:
                return []
            elif len(self._readers) == 1 and not self._reads:
                node = self._readers[0]
                outcome = await _outcome(node.recv_batch())
            else:
                node, outcome = await self._next_of_any()
            if isinstance(outcome, list) and outcome:
                last_flags = outcome[-1][1]
                self._chosen = node if last_flags & CONTINUES else None
                self._chosen_flags = last_flags
                return outcome
            # The node ended: EOF ([]) or an error.
            self._readers.remove(node)
            torn = self._chosen is node
            self._chosen = None
            if torn:
                if not self.tolerate_torn_msgs or (outcome == [] and self.propagate_eof):
                    if isinstance(outcome, BaseException):
                        raise outcome
                    return []  # websocat4: the reading side ends with the torn message
                return [(b"", self._chosen_flags & ~CONTINUES)]  # the message cut short
            if isinstance(outcome, BaseException):
                if self.propagate_failures or not self._readers:
                    raise outcome
            elif self.propagate_eof or not self._readers:
                return []

    async def _next_of(self, node: MessageSocket) -> list[Message] | BaseException:
        pending = self._reads.pop(node, None)
        if pending is None:
            return await _outcome(node.recv_batch())
        return await _outcome(pending)

    async def _next_of_any(self) -> tuple[MessageSocket, list[Message] | BaseException]:
        """The first node (in node order) with a batch or an ending ready, waiting if none is."""
        reads = self._reads
        ready = next((node for node in self._readers if node in reads and reads[node].done()), None)
        if ready is None:
            for node in self._readers:
                if node not in reads:
                    reads[node] = asyncio.ensure_future(node.recv_batch())
            await asyncio.wait([reads[node] for node in self._readers], return_when=asyncio.FIRST_COMPLETED)
            ready = next(node for node in self._readers if reads[node].done())
        return ready, await _outcome(reads.pop(ready))

    async def aclose(self) -> None:
        for task in (*self._reads.values(), *self._watchers):
            task.cancel()
        await asyncio.gather(*self._reads.values(), *self._watchers, return_exceptions=True)
        self._reads.clear()
        await asyncio.gather(*(node.aclose() for node in self.nodes), return_exceptions=True)


async def _outcome(read: Awaitable[list[Message]]) -> list[Message] | BaseException:
    """What a read gave: its batch, or the exception it raised (a node's failure is data here)."""
    try:
        return await read
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return exc


def tee(
    sock: MessageSocket,
    nodes: list[MessageSocket],
    *,
    propagate_failures: bool = False,
    propagate_eof: bool = False,
    tolerate_torn_msgs: bool = False,
    use_hangups: bool = False,
    use_first_hangup: bool = False,
) -> Tee:
    """tee: write every message to ``sock`` and each of ``nodes``; read from any of them."""
    return Tee(
        [sock, *nodes],
        propagate_failures=propagate_failures,
        propagate_eof=propagate_eof,
        tolerate_torn_msgs=tolerate_torn_msgs,
        use_hangups=use_hangups,
        use_first_hangup=use_first_hangup,
    )
