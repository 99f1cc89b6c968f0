"""The library generated scenarios call: sockets, endpoints, overlays and copy loops.

Scripts import what they use, e.g. ``from websocat.runtime import exchange_bytes, run``.
These names are imported on first use, so that importing a light module of the package
(``websocat.runtime.errors``, for the command's exit codes) does not import asyncio.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from websocat.runtime.copying import exchange_bytes, exchange_packets
    from websocat.runtime.running import run

__all__ = ["exchange_bytes", "exchange_packets", "run"]

_HOMES = {
    "exchange_bytes": "websocat.runtime.copying",
    "exchange_packets": "websocat.runtime.copying",
    "run": "websocat.runtime.running",
}


def __getattr__(name: str) -> object:
    """``from websocat.runtime import run``: the name from its module, imported now."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
