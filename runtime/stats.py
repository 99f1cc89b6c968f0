"""--stats and --stats-json: one summary line on stderr at the end of each session.

A session's `Stats` lives in a context variable: run() makes one for the scenario, the
listener's serve() one per accepted connection.  The stages note how long they took
(TCP connect, TLS handshake, WebSocket upgrade: `note`), each WebSocket registers
itself (for the close codes both ways), and the exchange counts what it copies through
`Watched`, a wrapper that it puts around each reading side only when --stats or
--idle-timeout-ms is given: without them nothing on the data path changes.
"""

from __future__ import annotations

import contextvars
import json
import sys
import time
from typing import Any

from operator import itemgetter

from websocat.runtime.sockets import CONTINUES, TEXT

__all__ = ["CURRENT", "MODE", "Stats", "Watched", "note", "session"]

_data, _flags = itemgetter(0), itemgetter(1)

MODE: str | None = None  # "text" (--stats) or "json" (--stats-json); set by run()
CURRENT: contextvars.ContextVar[Stats | None] = contextvars.ContextVar("websocat_stats", default=None)


class Stats:
    """What one session did; `line()` is what --stats prints."""

    def __init__(self, peer: str = "") -> None:
        self.peer = peer
        self.started = time.monotonic()
        # messages and bytes: left to right, then right to left (a read counts as a message on byte streams)
        self.counts = [0, 0, 0, 0]
        self.stages: dict[str, float] = {}  # "connect", "tls", "upgrade" -> milliseconds
        self.websockets: list[Any] = []
        self.used = False

    def fields(self, error: str | None = None) -> dict[str, Any]:
        c = self.counts
        out: dict[str, Any] = {}
        if self.peer:
            out["peer"] = self.peer
        out.update(
            left_to_right_messages=c[0],
            left_to_right_bytes=c[1],
            right_to_left_messages=c[2],
            right_to_left_bytes=c[3],
            duration_ms=round((time.monotonic() - self.started) * 1000, 3),
        )
        for stage in ("connect", "tls", "upgrade"):
            if stage in self.stages:
                out[f"{stage}_ms"] = round(self.stages[stage], 3)
        for ws in self.websockets:
            if ws.sent_close is not None:
                out["close_sent"] = {"code": ws.sent_close[0], "reason": ws.sent_close[1]}
            if ws.received_close is not None:
                out["close_received"] = {"code": ws.received_close[0], "reason": ws.received_close[1]}
        if error:
            out["error"] = error
        return out

    def line(self, error: str | None = None) -> str:
        f = self.fields(error)
        if MODE == "json":
            return json.dumps(f, ensure_ascii=False)
        parts = [
            f"left->right {f['left_to_right_messages']} msgs {f['left_to_right_bytes']} B",
            f"right->left {f['right_to_left_messages']} msgs {f['right_to_left_bytes']} B",
            f"{f['duration_ms']:.1f} ms",
        ]
        parts += [f"{stage} {f[stage + '_ms']:.1f} ms" for stage in ("connect", "tls", "upgrade") if stage + "_ms" in f]
        for key, words in (("close_sent", "close sent"), ("close_received", "close received")):
            if key in f:
                reason = f" {f[key]['reason']!r}" if f[key]["reason"] else ""
                parts.append(f"{words} {f[key]['code']}{reason}")
        if error:
            parts.append(f"error: {error}")
        where = f"{self.peer}: " if self.peer else ""
        return f"stats: {where}" + ", ".join(parts)

    def report(self, error: str | None = None) -> None:
        """The line on stderr: 'websocat: stats: ...', or the JSON object alone (--stats-json)."""
        line = self.line(error)
        sys.stderr.write(f"{line}\n" if MODE == "json" else f"websocat: {line}\n")
        sys.stderr.flush()


def session(peer: str = "") -> Stats | None:
    """A new Stats for the session starting in this context (None without --stats)."""
    if MODE is None:
        return None
    stats = Stats(peer)
    CURRENT.set(stats)
    return stats


def note(stage: str, started: float) -> None:
    """A stage of the current session took from ``started`` (time.monotonic()) until now."""
    if MODE is not None:
        stats = CURRENT.get()
        if stats is not None:
            stats.stages[stage] = (time.monotonic() - started) * 1000
            stats.used = True


def register(ws: Any) -> None:
    """A WebSocket of the current session: its close codes go in the line."""
    if MODE is not None:
        stats = CURRENT.get()
        if stats is not None:
            stats.websockets.append(ws)
            stats.used = True


class Watched:
    """A socket's reading half, counted (``counts``, at index ``at``) and/or timed
    (``clock[0]``: time.monotonic() of the last data read), once per read or batch."""

    def __init__(self, sock: Any, counts: list[int] | None, at: int, clock: list[float] | None) -> None:
        self._sock = sock
        self._counts = counts
        self._at = at
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        if name == "protocol":
            raise AttributeError(name)  # no splice(2): the bytes must pass through read()
        return getattr(self._sock, name)

    async def read(self, max_bytes: int) -> bytes:
        data: bytes = await self._sock.read(max_bytes)
        if data:
            if self._counts is not None:
                self._counts[self._at] += 1
                self._counts[self._at + 1] += len(data)
            if self._clock is not None:
                self._clock[0] = time.monotonic()
        return data

    async def recv_batch(self) -> list[Any]:
        batch: list[Any] = await self._sock.recv_batch()
        if batch:
            counts = self._counts
            if counts is not None:
                # C-level passes over the batch, no Python code per message: a message
                # counts once, at its final fragment (flags without CONTINUES).
                flags = list(map(_flags, batch))
                counts[self._at] += len(batch) - flags.count(CONTINUES) - flags.count(CONTINUES | TEXT)
                counts[self._at + 1] += sum(map(len, map(_data, batch)))
            if self._clock is not None:
                self._clock[0] = time.monotonic()
        return batch
