"""The library generated scenarios call: sockets, endpoints, overlays and copy loops.

Scripts import what they use, e.g. ``from websocat.runtime import exchange_bytes, run``.
"""

from websocat.runtime.copying import exchange_bytes, exchange_packets
from websocat.runtime.running import run

__all__ = ["exchange_bytes", "exchange_packets", "run"]
