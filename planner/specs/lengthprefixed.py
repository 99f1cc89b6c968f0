"""Messages made whole: defragment: (runtime/overlays/defragment.py).  lengthprefixed:
comes to this family with issue 12."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from websocat.planner.model import Kind, Overlay
from websocat.planner.specs import Rendered, option, register


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
