"""lines: and chunks:, the overlays that turn a byte stream into messages
(runtime/overlays/lines.py, chunks.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from websocat.planner.model import Kind, Overlay, SpecError
from websocat.planner.specs import Rendered, keyword, option, register

MAX_SEPARATOR_N = 1 << 16  # a separator longer than a read buffer makes no sense


def separator_byte(value: str | None, null_terminated: bool) -> bytes:
    """--separator takes one character or a byte value (decimal or 0x..); -0 means NUL."""
    if null_terminated:
        return b"\0"
    if value is None:
        return b"\n"
    if len(value) == 1 and not value.isdigit():
        code = ord(value)
        if code > 255:
            raise SpecError(f"option '--separator': {value!r} is not a single byte")
        return bytes((code,))
    try:
        code = int(value, 0)
    except ValueError:
        raise SpecError(f"option '--separator': expected one character or a byte value, got {value!r}") from None
    if not 0 <= code <= 255:
        raise SpecError(f"option '--separator': {code} is not a byte value (0-255)")
    return bytes((code,))


def separator_count(value: int) -> int:
    if not 1 <= value <= MAX_SEPARATOR_N:
        raise SpecError(f"option '--separator-n': expected a number from 1 to {MAX_SEPARATOR_N}, got {value}")
    return value


@register("lines:")
@dataclass(frozen=True)
class LineChunks(Overlay):
    """Convert downstream stream-oriented socket to packet-oriented socket by using newline byte as a packet separator.

    Written data get modified to ensure that one line = one message. May be
    automatically inserted in text (-t) mode.
    """

    separator: bytes = option("--separator", "--null-terminated", default=b"\n", convert=separator_byte)
    separator_n: int = option("--separator-n", default=1, convert=separator_count)
    substitute: bool = option("--separator-inhibit-substitution", default=True, convert=lambda inhibit: not inhibit)
    inline: bool = option("--separator-inline", default=False)
    text: bool = keyword(True)  # False: lines read are binary messages (-b with --base64 or a prefix)
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.lines", "framed", "lines")


@register("chunks:")
@dataclass(frozen=True)
class StreamChunks(Overlay):
    """Converts downstream stream-oriented socket to packet-oriented socket by chunking the stream arbitrarily.

    May be automatically inserted in binary (-b) mode.
    """

    max_bytes: int = option("--buffer-size", default=65536)
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.chunks", "framed", "chunks")
