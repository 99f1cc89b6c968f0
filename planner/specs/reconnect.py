"""autoreconnect: and foreachmsg:, websocat v1's overlays that open the stack under them
again and again (runtime/overlays/reconnect.py).

The overlay is what the command line says; after the lints the planner turns the stack
under it into the ``reopened`` stack of an endpoint (`AutoReconnectEndpoint`,
`ForEachMsgEndpoint`) whose ``reopens`` declaration makes the renderer write that stack
as a coroutine of its own, which the endpoint's runtime call runs once per connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from websocat.planner.model import Endpoint, Invocation, Kind, Overlay, Role, SpecError, Stack, Var
from websocat.planner.specs import Rendered, Shared, keyword, option, register
from websocat.planner.specs.chunking import LineChunks, StreamChunks


def _attempts(value: int) -> int:
    if value < 1:
        raise SpecError(f"option '--autoreconnect-max-attempts': {value} is not a positive number of attempts")
    return value


def _not_a_listener(overlay: Overlay, under: Stack) -> None:
    if under.endpoint.listener:
        raise SpecError(f"'{overlay.prefix}' cannot be over a listener: it opens connections")


@register("autoreconnect:")
@dataclass(frozen=True)
class AutoReconnect(Overlay):
    """Re-establish the underlying connection on any error or EOF (websocat v1's
    autoreconnect:).

    The first attempt waits --autoreconnect-delay-millis; each failed one doubles the
    delay, half of it random (--random-seed makes it reproducible), up to
    --autoreconnect-max-delay-millis. --autoreconnect-max-attempts failed attempts in a
    row end the session with one line (a connection that carried no message counts as
    failed). A lost connection prints one line on stderr (-v: each attempt too). -p
    messages go to each new connection. Messages are not torn: each goes whole to one
    connection; one whose write failed is sent again on the next, but what a connection
    took before its peer went away is lost. A byte stream under it gets lines: (-b:
    chunks:), so a message is a line.
    """

    delay_millis: int = option("--autoreconnect-delay-millis", default=20)
    max_delay_millis: int = option("--autoreconnect-max-delay-millis", default=5000)
    max_attempts: int | None = option("--autoreconnect-max-attempts", default=None, convert=_attempts)
    verbose: bool = option("--verbose", default=False)
    accepts: ClassVar[Kind | None] = Kind.MESSAGES
    provides: ClassVar[Kind | None] = Kind.MESSAGES

    def as_endpoint(self, under: Stack, inv: Invocation, role: Role | None) -> Endpoint:
        """The endpoint its stack's sessions open: ``under`` reopened, -p's messages (-P's
        on the left) sent to each connection after the first (the exchange sends them to the first)."""
        _not_a_listener(self, under)
        exchange = inv.exchange
        preamble = exchange.preamble if role is Role.RIGHT else exchange.preamble_reverse if role is Role.LEFT else ()
        values = {name: getattr(self, name) for name in ("delay_millis", "max_delay_millis", "max_attempts", "verbose")}
        return AutoReconnectEndpoint(reopened=under, preamble=preamble, **values)


@register("foreachmsg:")
@dataclass(frozen=True)
class ForEachMsg(Overlay):
    """Open the underlying connection anew for each message written, send it that message
    and close it (websocat v1's foreachmsg:; somewhat the reverse of autoreconnect:).

    --foreachmsg-wait-read: read the connection's replies until it ends, and pass them
    on, before closing it (a WebSocket is not sent its Close first: the peer ends it);
    without it the connection is ended right after the message and nothing is read. A
    byte stream under it gets lines: (-b: chunks:).
    """

    wait_read: bool = option("--foreachmsg-wait-read", default=False)
    accepts: ClassVar[Kind | None] = Kind.MESSAGES
    provides: ClassVar[Kind | None] = Kind.MESSAGES

    def as_endpoint(self, under: Stack, inv: Invocation, role: Role | None) -> Endpoint:
        _not_a_listener(self, under)
        return ForEachMsgEndpoint(reopened=under, wait_read=self.wait_read)


@dataclass(frozen=True)
class ReopeningEndpoint(Endpoint):
    """An endpoint whose runtime call is handed the coroutine that opens the stack
    ``reopened`` (its ``reopens`` declaration), and runs it as often as it needs."""

    reopened: Stack = field(default=None, repr=False, metadata={"internal": True})  # type: ignore[assignment]

    def call_arguments(self, *handed: Var) -> tuple[tuple[Any, ...], dict[str, Any]]:
        _args, kwargs = super().call_arguments()
        return handed, kwargs

    def describe(self) -> str:
        return f"{super().describe()} reopening [{self.reopened.describe()}]"


@dataclass(frozen=True)
class AutoReconnectEndpoint(ReopeningEndpoint):
    """Implementation detail of autoreconnect:: the stack ``reopened``, opened again
    whenever its connection fails or ends."""

    delay_millis: int = keyword(20)
    max_delay_millis: int = keyword(5000)
    max_attempts: int | None = keyword(None)
    preamble: tuple[str | bytes, ...] = keyword(())
    verbose: bool = keyword(False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.reconnect", "autoreconnect", "reconnect")
    reopens: ClassVar = Shared("connect", "slot", "reconnect.Slot", "use", "opened again after each failure or end")


@dataclass(frozen=True)
class ForEachMsgEndpoint(ReopeningEndpoint):
    """Implementation detail of foreachmsg:: the stack ``reopened``, opened for each message."""

    wait_read: bool = keyword(False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.reconnect", "foreachmsg", "foreach")
    reopens: ClassVar = Shared("connect", "slot", "reconnect.Slot", "use", "opened for each message")


REOPENERS = (AutoReconnect, ForEachMsg)


def chunk_under_reopeners(inv: Invocation) -> Invocation:
    """A byte stream under autoreconnect: or foreachmsg: gets lines: (-b: chunks:), so
    that what is sent again or per connection is a whole message; none over a listener."""
    chunker = StreamChunks() if inv.opts.binary else LineChunks()

    def chunked(_role: Role, stack: Stack) -> Stack:
        at = next((i for i, layer in enumerate(stack.overlays) if isinstance(layer, REOPENERS)), None)
        if at is None:
            return stack
        _not_a_listener(stack.overlays[at], stack)
        under = Stack(stack.endpoint, stack.overlays[at + 1 :])
        if under.provides is not Kind.BYTES:
            return stack
        return replace(stack, overlays=(*stack.overlays[: at + 1], chunker, *stack.overlays[at + 1 :]))

    return inv.map_stacks(chunked)
