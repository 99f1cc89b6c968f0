"""log:, the overlay that prints what passes through it on stderr (runtime/overlays/log.py).

--log-traffic puts one in by itself (fixups.insert_log).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from websocat.planner.model import Kind, Overlay
from websocat.planner.specs import Rendered, option, register


@register("log:")
@dataclass(frozen=True)
class Log(Overlay):
    """Print encountered data to stderr for debugging: a line per read ("READ ") and per
    write ("WRITE "), with its size and content; over a byte stream or over messages (one
    line per message, with "+" marks for fragments).  --log-omit-content leaves out the
    content, --log-hex shows it in hex, --log-timestamps adds the time since the start,
    --log-verbose adds buffer sizes, message flags and socket lifetime lines."""

    verbose: bool = option("--log-verbose", default=False)
    omit_content: bool = option("--log-omit-content", default=False)
    hex: bool = option("--log-hex", default=False)
    timestamps: bool = option("--log-timestamps", default=False)
    accepts: ClassVar[Kind | None] = None
    provides: ClassVar[Kind | None] = None
    render: ClassVar = Rendered("overlays.log", "log", "logged")
