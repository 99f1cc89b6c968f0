"""The intra-process registry: virtual addresses that connect the parts of a --compose
command line (runtime/endpoints/registry.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Self

from websocat.planner.model import Endpoint, Invocation, Kind, SpecError
from websocat.planner.specs import Listening, Rendered, option, positional, register


def _at_least_one(value: int) -> int:
    if value < 1:
        raise SpecError(f"option '--registry-connect-bufsize': {value} is not a positive number of bytes")
    return value


@dataclass(frozen=True)
class RegistryAddress(Endpoint):
    address: str = positional("")
    grammar: ClassVar[str] = "a registry address (any text)"

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(value)


@register("registry-stream-listen:", "regstr-l:")
@dataclass(frozen=True)
class RegistryStreamListen(RegistryAddress):
    """Listen for virtual intra-Websocat stream connections at specified address."""

    listener: ClassVar[bool] = True
    render: ClassVar = Rendered("endpoints.registry", "accept_one_stream", "registry")
    listening: ClassVar = Listening("endpoints.registry", "serve_stream", "registry.Stream")


@register("registry-stream-connect:", "regstr-c:")
@dataclass(frozen=True)
class RegistryStreamConnect(RegistryAddress):
    """Connect to a virtual intra-Websocat address using a stream socket; at most
    --registry-connect-bufsize bytes are in flight each way."""

    bufsize: int = option("--registry-connect-bufsize", default=1024, convert=_at_least_one)
    render: ClassVar = Rendered("endpoints.registry", "connect_stream", "registry")


@register("registry-datagram-listen:", "regdg-l:")
@dataclass(frozen=True)
class RegistryDatagramListen(RegistryAddress):
    """Listen for virtual intra-Websocat datagram connections at specified address."""

    provides: ClassVar[Kind] = Kind.MESSAGES
    listener: ClassVar[bool] = True
    render: ClassVar = Rendered("endpoints.registry", "accept_one_datagrams", "registry")
    listening: ClassVar = Listening("endpoints.registry", "serve_datagrams", "registry.Datagrams")


@register("registry-datagram-connect:", "regdg-c:")
@dataclass(frozen=True)
class RegistryDatagramConnect(RegistryAddress):
    """Connect to a virtual intra-Websocat address using a datagram socket."""

    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("endpoints.registry", "connect_datagrams", "registry")


@register("registry-send:", "regsend:")
@dataclass(frozen=True)
class RegistrySend(RegistryAddress):
    """Send the socket this endpoint is paired with to a virtual intra-Websocat address
    (a registry-stream-listen: or registry-datagram-listen: there serves it)."""

    render: ClassVar = Rendered("endpoints.registry", "send", "registry")
    # Rendered as ``await registry.send(left, ADDRESS)`` in place of the exchange.
    takes_over: ClassVar[bool] = True
    handover: ClassVar[str] = "sent there as it is, no copying"


@dataclass(frozen=True)
class RegistrySendMessages(RegistrySend):
    """registry-send: paired with a side that gives messages: it sends a datagram socket."""

    provides: ClassVar[Kind] = Kind.MESSAGES


def sender_kind(inv: Invocation) -> Invocation:
    """registry-send: sends what the left side gives, so it takes the left side's kind; it
    sends the socket itself, so it has no overlays and is not on the left (websocat4)."""
    left, right = inv.left, inv.right
    if left is not None and isinstance(left.endpoint, RegistrySend):
        raise SpecError("registry-send: sends the other side's socket: give it as the right side (SPEC2)")
    if right is None or not isinstance(right.endpoint, RegistrySend):
        return inv
    if right.overlays:
        raise SpecError("registry-send: sends the other side's socket as it is: it takes no overlays")
    if left is not None and left.provides is Kind.MESSAGES and type(right.endpoint) is RegistrySend:
        return inv.with_(right=replace(right, endpoint=RegistrySendMessages(right.endpoint.address)))
    return inv
