"""Trivial endpoints: stdio, literal data, sinks, generators and mirrors (runtime/endpoints/trivial.py, stdio.py)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import ClassVar, Self

from websocat.planner.model import Endpoint, Kind, SpecError
from websocat.planner.specs import Rendered, option, positional, register
from websocat.planner.values import os_bytes


@register("stdio:", "-")
@dataclass(frozen=True)
class Stdio(Endpoint):
    """Console, terminal: read bytes from stdin, write bytes to stdout."""

    single: ClassVar[bool] = True
    render: ClassVar = Rendered("endpoints.stdio", "open", "stdio")


@register("literal:")
@dataclass(frozen=True)
class Literal(Endpoint):
    """Byte stream socket that produces specified content and ignores incoming data."""

    data: bytes = positional(b"")
    hangup: bool = option("--dummy-hangup", default=False)
    grammar: ClassVar[str] = "any text (the bytes to produce)"
    render: ClassVar = Rendered("endpoints.trivial", "literal", "literal")

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(os_bytes(value))


@register("literalreply:")
@dataclass(frozen=True)
class LiteralReply(Endpoint):
    """Reply with a specified string for each input message (websocat v1's literalreply:):
    each whole message written to it is answered with the literal, text for text, binary
    for binary."""

    data: bytes = positional(b"")
    grammar: ClassVar[str] = "any text (the reply)"
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("endpoints.trivial", "literal_reply", "reply")

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(os_bytes(value))


@register("literal-base64:")
@dataclass(frozen=True)
class LiteralBase64(Literal):
    """Byte stream socket that produces specified content (base64-encoded) and ignores incoming data."""

    grammar: ClassVar[str] = "base64 text"

    @classmethod
    def from_value(cls, value: str) -> Self:
        try:
            return cls(base64.b64decode(value.encode("ascii"), validate=True))
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise SpecError(f"'literal-base64:' value is not valid base64: {exc}") from None


@register("devnull:", "dummy-stream:")
@dataclass(frozen=True)
class DummyStream(Endpoint):
    """Byte stream socket that ignores all incoming data and immediately EOF-s read attempts."""

    hangup: bool = option("--dummy-hangup", default=False)
    render: ClassVar = Rendered("endpoints.trivial", "devnull", "devnull")


@register("empty:", "null:", "dummy-datagrams:", "dummy:")
@dataclass(frozen=True)
class DummyDatagrams(Endpoint):
    """Datagram socket that ignores all incoming data and signals EOF immediately."""

    hangup: bool = option("--dummy-hangup", default=False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("endpoints.trivial", "empty", "empty")


@register("zero:")
@dataclass(frozen=True)
class Zero(Endpoint):
    """Generate zero bytes."""

    hangup: bool = option("--dummy-hangup", default=False)
    render: ClassVar = Rendered("endpoints.trivial", "zero", "zero")


@register("random:")
@dataclass(frozen=True)
class Random(Endpoint):
    """Generate random bytes."""

    fast: bool = option("--random-fast", default=False)
    render: ClassVar = Rendered("endpoints.trivial", "random_bytes", "random")


@register("mirror:")
@dataclass(frozen=True)
class Mirror(Endpoint):
    """Read data that is written to this endpoint.

    A byte mirror when its peer carries bytes; the message mirror (flags kept) when its
    peer carries messages, as the planner infers it.
    """

    bufsize: int = option("--mirror-bufsize", default=1024)
    render: ClassVar = Rendered("endpoints.trivial", "mirror", "mirror")


@dataclass(frozen=True)
class MessageMirror(Mirror):
    """Mirror whose peer carries messages: each message comes back whole, flags kept."""

    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("endpoints.trivial", "message_mirror", "mirror")
