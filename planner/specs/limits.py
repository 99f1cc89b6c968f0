"""Chunk limiters and the write buffer: read_chunk_limiter:, write_chunk_limiter:,
write_buffer: (runtime/overlays/limits.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from websocat.planner.model import Overlay
from websocat.planner.specs import Rendered, option, register


@register("read_chunk_limiter:")
@dataclass(frozen=True)
class ReadChunkLimiter(Overlay):
    """Limit this stream's read buffer size to --read-buffer-limit. By splitting reads to
    many (e.g. single byte) chunks, we can test and debug trickier code paths in various overlays."""

    limit: int = option("--read-buffer-limit", default=1)
    render: ClassVar = Rendered("overlays.limits", "limit_reads", "limited")


@register("write_chunk_limiter:")
@dataclass(frozen=True)
class WriteChunkLimiter(Overlay):
    """Limit this stream's write buffer size to --write-buffer-limit. By enforcing short
    writes, we can test and debug trickier code paths in various overlays."""

    limit: int = option("--write-buffer-limit", default=1)
    render: ClassVar = Rendered("overlays.limits", "limit_writes", "limited")


@register("write_buffer:")
@dataclass(frozen=True)
class WriteBuffer(Overlay):
    """Insert write buffering layer that combines multiple write calls to one bigger."""

    render: ClassVar = Rendered("overlays.limits", "buffer_writes", "buffered")
