"""The manual's kinds not implemented yet: one row each, recognised by the parser and
refused with '... is not implemented yet'.

Implementing a kind means deleting its row and writing its class in
``planner/specs/<family>.py`` (the row's family), with its runtime module and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from websocat.planner.model import Endpoint, Kind, Overlay, Spec
from websocat.planner.specs import register


class Row(NamedTuple):
    name: str  # the manual's class name
    family: str  # the planner/specs and runtime module it will live in
    kind: tuple[bool, Kind]  # (is an overlay, what it gives)
    grammar: str  # what the value after the prefix looks like
    doc: str
    prefixes: tuple[str, ...]  # canonical first


ENDPOINT = (False, Kind.BYTES)
ENDPOINT_M = (False, Kind.MESSAGES)
OVERLAY = (True, Kind.BYTES)
OVERLAY_M = (True, Kind.MESSAGES)
ADDR = "host:port"
FD = "a file descriptor number"
FDNAME = "a name from LISTEN_FDNAMES"

# fmt: off
TABLE: tuple[Row, ...] = (
)
# fmt: on


def declare(row: Row) -> type[Spec]:
    """A recognised class for a row: the parser refuses it as not implemented yet."""
    is_overlay, provides = row.kind
    base: type[Spec] = Overlay if is_overlay else Endpoint
    attrs = {
        "__doc__": row.doc,
        "implemented": False,
        "provides": provides,
        "grammar": row.grammar,
        "family": row.family,
        "__module__": __name__,
    }
    return register(*row.prefixes)(dataclass(frozen=True)(type(row.name, (base,), attrs)))


for _row in TABLE:
    declare(_row)
