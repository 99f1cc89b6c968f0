"""Length-prefixed messages and whole messages: lengthprefixed: (runtime/overlays/
lengthprefixed.py) and defragment: (runtime/overlays/defragment.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from websocat.planner.model import Kind, Overlay, SpecError
from websocat.planner.specs import Rendered, option, register


def prefix_size(value: int) -> int:
    """--lengthprefixed-nbytes: 1 to 8, as websocat4's planner requires."""
    if not 1 <= value <= 8:
        raise SpecError(f"option '--lengthprefixed-nbytes': expected a number from 1 to 8, got {value}")
    return value


def message_size(value: int) -> int:
    if value < 0:
        raise SpecError(f"option '--lengthprefixed-max-message-size': expected a size in bytes, got {value}")
    return value


@register("lengthprefixed:")
@dataclass(frozen=True)
class LengthPrefixedChunks(Overlay):
    """Convert downstream stream-oriented socket to packet-oriented socket by prefixing each
    message with its length (and maybe other flags, depending on options).

    Flag bits come from the prefix's top in this order, each only when its option is on:
    non-final fragment (--lengthprefixed-continuations), control message
    (--lengthprefixed-include-control: the opcode is the body's first byte), text
    (--lengthprefixed-tag-text); the length fills the bits below, as in websocat4.
    """

    nbytes: int = option("--lengthprefixed-nbytes", default=4, convert=prefix_size)
    little_endian: bool = option("--lengthprefixed-little-endian", default=False)
    continuations: bool = option("--lengthprefixed-continuations", default=False)
    include_control: bool = option("--lengthprefixed-include-control", default=False)
    tag_text: bool = option("--lengthprefixed-tag-text", default=False)
    max_message_size: int = option("--lengthprefixed-max-message-size", default=1048576, convert=message_size)
    skip_read_direction: bool = option("--lengthprefixed-skip-read-direction", default=False)
    skip_write_direction: bool = option("--lengthprefixed-skip-write-direction", default=False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.lengthprefixed", "framed", "prefixed")


@register("defragment:")
@dataclass(frozen=True)
class Defragment(Overlay):
    """Defragment potential partial messages into complete messages: fragments written to
    it are held until the final one (at most --defragment-max-size bytes), then written
    as one message."""

    max_size: int = option("--defragment-max-size", default=1048576)
    accepts: ClassVar[Kind | None] = Kind.MESSAGES
    provides: ClassVar[Kind | None] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.defragment", "defragment", "whole")
