"""permessage-deflate (RFC 7692): the negotiation and the per-message codec.

``DeflateOptions`` is what we ask for (--compress-no-context-takeover,
--compress-window-bits).  A client sends ``offer()`` in Sec-WebSocket-Extensions and
reads the server's answer with ``agreed()``; a server picks an offer with ``answer()``.
Both end with a ``Deflate``: the parameters in force, from which the frame parser gets an
``Inflater`` and the frame builder a ``Deflater``.

zlib works on raw deflate streams (``wbits`` negative).  Each message ends with a sync
flush whose 0x00 0x00 0xff 0xff tail is stripped when sending and appended again when
receiving.  Context takeover keeps one compressor (decompressor) for the connection;
without it a fresh one starts each message.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from websocat.runtime.errors import ProtocolError

__all__ = [
    "DEFAULT_INFLATED_LIMIT",
    "DEFAULT_LEVEL",
    "Deflate",
    "DeflateOptions",
    "Deflater",
    "Inflater",
    "MessageTooBig",
    "agreed",
    "answer",
]

# A compressed message inflating to more than this (without --max-ws-message-length)
# fails with close code 1009: a few KiB of deflate can carry gigabytes of zeros.
DEFAULT_INFLATED_LIMIT = 64 << 20

_NAME = "permessage-deflate"
_TAIL = b"\x00\x00\xff\xff"
DEFAULT_LEVEL = 6  # zlib's default: as websockets and browsers compress


@dataclass(frozen=True, slots=True)
class DeflateOptions:
    """What we ask of permessage-deflate.

    ``no_context_takeover``: each message compressed on its own, both ways (less memory
    and CPU state kept, worse ratio).  ``window_bits`` (9-15): the LZ77 window of both
    directions; None leaves it at 15 (32 KiB).  ``level``: zlib's compression level for
    what we send, 0 (stored) to 9 (smallest, slowest); not negotiated.
    """

    no_context_takeover: bool = False
    window_bits: int | None = None
    level: int = DEFAULT_LEVEL

    def offer(self) -> str:
        """The Sec-WebSocket-Extensions value a client sends."""
        parts = [_NAME]
        if self.no_context_takeover:
            parts += ["server_no_context_takeover", "client_no_context_takeover"]
        if self.window_bits is not None:
            parts += [f"server_max_window_bits={self.window_bits}", f"client_max_window_bits={self.window_bits}"]
        else:
            parts.append("client_max_window_bits")  # we accept whatever the server asks
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Deflate:
    """The permessage-deflate parameters in force on one connection, from our side."""

    client: bool
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15
    level: int = DEFAULT_LEVEL  # ours, for what we send

    def deflater(self) -> Deflater:
        """Our compressor: its window and context rules are those of our side."""
        if self.client:
            return Deflater(self.client_max_window_bits, self.client_no_context_takeover, self.level)
        return Deflater(self.server_max_window_bits, self.server_no_context_takeover, self.level)

    def inflater(self, limit: int | None) -> Inflater:
        """Our decompressor for the peer's messages, failing (1009) past ``limit`` bytes."""
        reset = self.server_no_context_takeover if self.client else self.client_no_context_takeover
        return Inflater(DEFAULT_INFLATED_LIMIT if limit is None else limit, reset)


def _parse(values: list[str]) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Sec-WebSocket-Extensions values as (name, [(param, value or None)]) items."""
    items = []
    for value in values:
        for item in value.split(","):
            fields = [f.strip() for f in item.split(";")]
            if not fields[0]:
                continue
            params: list[tuple[str, str | None]] = []
            for field in fields[1:]:
                if not field:
                    continue
                key, eq, val = field.partition("=")
                params.append((key.strip().lower(), val.strip().strip('"') if eq else None))
            items.append((fields[0].lower(), params))
    return items


def _bits(value: str | None, lowest: int = 8) -> int:
    if value is None or not value.isdigit() or not lowest <= int(value) <= 15 or value != str(int(value)):
        raise ValueError(f"window bits {value!r} outside {lowest}-15")
    return int(value)


def answer(values: list[str], ours: DeflateOptions) -> tuple[str, Deflate] | None:
    """A server's choice among a client's offers: its reply value and the parameters, or
    None when no offer can be accepted (the connection goes on without compression).

    An offer is declined when its parameters are unknown, repeated or invalid, or when
    it asks for a server window of 8 bits (zlib compresses with 9 at least).
    """
    for name, params in _parse(values):
        if name != _NAME:
            continue
        keys = [key for key, _ in params]
        if len(set(keys)) != len(keys):
            continue
        offered = dict(params)
        try:
            if set(offered) - {
                "server_no_context_takeover",
                "client_no_context_takeover",
                "server_max_window_bits",
                "client_max_window_bits",
            }:
                raise ValueError(offered)
            for flag in ("server_no_context_takeover", "client_no_context_takeover"):
                if flag in offered and offered[flag] is not None:
                    raise ValueError(flag)
            server_bits = 15
            if "server_max_window_bits" in offered:
                server_bits = _bits(offered["server_max_window_bits"], 9)
            client_bits: int | None = None  # None: the client did not say it can limit its window
            if "client_max_window_bits" in offered:
                raw = offered["client_max_window_bits"]
                client_bits = 15 if raw is None else _bits(raw)
        except ValueError:
            continue
        server_nct = "server_no_context_takeover" in offered or ours.no_context_takeover
        client_nct = "client_no_context_takeover" in offered or ours.no_context_takeover
        reply = [_NAME]
        if server_nct:
            reply.append("server_no_context_takeover")
        if client_nct:
            reply.append("client_no_context_takeover")
        if ours.window_bits is not None:
            server_bits = min(server_bits, ours.window_bits)
        if "server_max_window_bits" in offered or ours.window_bits is not None:
            reply.append(f"server_max_window_bits={server_bits}")
        if client_bits is not None and (ours.window_bits is not None or offered["client_max_window_bits"] is not None):
            client_bits = min(client_bits, ours.window_bits or 15)
            reply.append(f"client_max_window_bits={client_bits}")
        deflate = Deflate(False, server_nct, client_nct, server_bits, client_bits or 15, ours.level)
        return "; ".join(reply), deflate
    return None


def agreed(values: list[str], ours: DeflateOptions) -> Deflate | None:
    """A client's reading of the server's answer to ``ours.offer()``: the parameters in
    force, or None when the server did not accept compression.

    Raises ProtocolError when the answer is not one our offer allows.
    """
    items = _parse(values)
    if not items:
        return None
    if len(items) > 1 or items[0][0] != _NAME:
        names = ", ".join(name for name, _ in items)
        raise ProtocolError(f"websocket handshake failed: server chose extensions {names!r}, only {_NAME} was offered")
    params = items[0][1]
    got = dict(params)
    try:
        if len(got) != len(params):
            raise ValueError("a parameter given twice")
        unknown = set(got) - {
            "server_no_context_takeover",
            "client_no_context_takeover",
            "server_max_window_bits",
            "client_max_window_bits",
        }
        if unknown:
            raise ValueError(f"unknown parameter {sorted(unknown)[0]}")
        for flag in ("server_no_context_takeover", "client_no_context_takeover"):
            if flag in got and got[flag] is not None:
                raise ValueError(f"{flag} with a value")
        server_bits = 15
        if "server_max_window_bits" in got:
            server_bits = _bits(got["server_max_window_bits"])
            if ours.window_bits is not None and server_bits > ours.window_bits:
                raise ValueError(f"server_max_window_bits={server_bits} above the {ours.window_bits} offered")
        elif ours.window_bits is not None:
            raise ValueError("server_max_window_bits missing")
        if ours.no_context_takeover and "server_no_context_takeover" not in got:
            raise ValueError("server_no_context_takeover missing")
        client_bits = ours.window_bits or 15
        if "client_max_window_bits" in got:
            client_bits = min(client_bits, _bits(got["client_max_window_bits"], 9))
    except ValueError as exc:
        raise ProtocolError(f"websocket handshake failed: bad {_NAME} answer ({exc})") from None
    return Deflate(
        True,
        "server_no_context_takeover" in got,
        "client_no_context_takeover" in got or ours.no_context_takeover,
        server_bits,
        client_bits,
        ours.level,
    )


class MessageTooBig(Exception):
    """A compressed message inflated past the limit."""


class Deflater:
    """Compress outgoing messages; ``compress(data, final)`` per message or fragment."""

    __slots__ = ("wbits", "reset", "level", "_z")

    def __init__(self, window_bits: int = 15, no_context_takeover: bool = False, level: int = DEFAULT_LEVEL) -> None:
        self.wbits = -window_bits
        self.reset = no_context_takeover
        self.level = level
        self._z = zlib.compressobj(level, zlib.DEFLATED, self.wbits)

    def compress(self, data: bytes | bytearray | memoryview, final: bool) -> bytes:
        """The payload of a frame carrying ``data``; ``final``: the message ends here.

        Every fragment is flushed (a stream is not held back); the last one loses the
        0x00 0x00 0xff 0xff tail of its flush.
        """
        z = self._z
        out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
        if final:
            if out.endswith(_TAIL):
                out = out[:-4]
            if self.reset:
                self._z = zlib.compressobj(self.level, zlib.DEFLATED, self.wbits)
        return out


class Inflater:
    """Decompress incoming messages, none inflating past ``limit`` bytes.

    Whatever window the peer compresses with, a 15-bit window inflates it.
    """

    __slots__ = ("limit", "reset", "room", "_z")

    def __init__(self, limit: int, no_context_takeover: bool = False) -> None:
        self.limit = limit
        self.reset = no_context_takeover
        self.room = limit  # bytes the message being received may still inflate to
        self._z = zlib.decompressobj(-15)

    def inflate(self, data: bytes, final: bool) -> bytes:
        """The inflated bytes of one frame's payload; ``final``: the message ends with it.

        Raises MessageTooBig past the limit (having inflated at most one byte more) and
        zlib.error on data that is not deflate.
        """
        z = self._z
        room = self.room
        out = z.decompress(data, room + 1)
        if len(out) > room:
            raise MessageTooBig
        if final:
            tail = z.decompress(_TAIL, room - len(out) + 1)
            if tail:
                out += tail
                if len(out) > room:
                    raise MessageTooBig
            if self.reset or z.eof:  # (a final deflate block ends the peer's stream)
                self._z = zlib.decompressobj(-15)
            self.room = self.limit
        else:
            self.room = room - len(out)
        return out
