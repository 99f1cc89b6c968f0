"""Message kinds as lines: websocat v1's --text-prefix, --binary-prefix, --base64 and
--base64-text (runtime/overlays/kinds.py).  No prefix of its own: `fixups.insert_kinds`
puts it right over each WebSocket of the two sides when one of the options is given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from websocat.planner.model import Kind, Overlay
from websocat.planner.specs import Rendered, option
from websocat.planner.values import os_value


@dataclass(frozen=True)
class TaggedKinds(Overlay):
    """Mark each WebSocket message with its kind for a line-oriented other side: received
    ones get --text-prefix or --binary-prefix in front, binary ones (with --base64-text text
    ones too) become one line of base64 (--base64); lines sent that start with a prefix go
    out as that kind, the prefix stripped, and base64 of an encoded kind is decoded."""

    text_prefix: str | bytes | None = option("--text-prefix", default=None, convert=os_value)
    binary_prefix: str | bytes | None = option("--binary-prefix", default=None, convert=os_value)
    base64: bool = option("--base64", default=False)
    base64_text: bool = option("--base64-text", default=False)
    accepts: ClassVar[Kind] = Kind.MESSAGES
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.kinds", "tagged", "tagged")
    applies_to: ClassVar[str] = "WebSocket (ws://, ws-l:, -s, ws-c:, ws-upgrade:, ws-ll-*:)"

    def step_comment(self) -> str:
        given = [
            name
            for name, value in (
                ("--text-prefix", self.text_prefix is not None),
                ("--binary-prefix", self.binary_prefix is not None),
                ("--base64", self.base64),
                ("--base64-text", self.base64_text),
            )
            if value
        ]
        return f"message kinds marked in the data ({', '.join(given)})"


__all__ = ["TaggedKinds"]
