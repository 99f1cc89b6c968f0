"""Sharing one connection among all sessions: reuse-raw: (runtime/overlays/reuse.py).

The overlay is what the command line says (or the planner inserts, see
fixups.insert_reuser); the planner then turns the stack under it into the shared stack
of a `SimpleReuserEndpoint` (websocat4's name), which each session connects to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from websocat.planner.model import Endpoint, Invocation, Kind, Overlay, Role, SpecError, Stack, Var
from websocat.planner.specs import Rendered, Setup, Shared, internal, option, register


@register("reuse-raw:", "raw-reuse:")
@dataclass(frozen=True)
class SimpleReuser(Overlay):
    """Share underlying datagram connection between multiple outer users.

    All users can write messages to the socket, messages would be interleaved (though
    each individual message should be atomic). Messages coming from inner socket will be
    delivered to some one arbitrary connected user. If that users disconnect, they will
    route to some other user. A message can be lost when user disconnects. User
    disconnections while writing a message may abort the whole reuser (or result in a
    broken, trimmed message, depending on settings).

    The connection is opened when the first session starts and stays open for the
    later ones (an opening that fails is tried again by the next session).  A listener
    on the left whose other side prefers being single (stdio:, udp-bind:, appendfile:,
    ...) gets it inserted, for messages (--less-fixups: not).
    """

    tolerate_torn_msgs: bool = option("--reuser-tolerate-torn-msgs", default=False)
    accepts: ClassVar[Kind | None] = Kind.MESSAGES
    provides: ClassVar[Kind | None] = Kind.MESSAGES

    def as_endpoint(self, under: Stack, inv: Invocation, role: Role | None) -> Endpoint:
        """The endpoint each session connects to, sharing ``under`` (see fixups.share_reused)."""
        return SimpleReuserEndpoint(shared=under, tolerate_torn_msgs=self.tolerate_torn_msgs)


@dataclass(frozen=True)
class SimpleReuserEndpoint(Endpoint):
    """Implementation detail of reuse-raw: overlay: each session's view of the stack
    ``shared``, opened once in a coroutine of its own."""

    shared: Stack = field(default=None, repr=False, metadata={"internal": True})  # type: ignore[assignment]
    tolerate_torn_msgs: bool = internal(False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.reuse", "connect", "reuse")
    setup: ClassVar = Setup(
        "overlays.reuse",
        "listener",
        "reuser",
        "reuse.Reuser",
        "reuse-raw: one connection for all sessions, opened by the first",
        form="with",
    )
    shares: ClassVar = Shared("upstream", "slot", "reuse.Slot", "share", "opened once and shared (reuse-raw:)")

    def setup_keywords(self) -> dict[str, Any]:
        return {"tolerate_torn_msgs": True} if self.tolerate_torn_msgs else {}

    def call_arguments(self, setup_var: str = "reuser") -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (Var(setup_var),), {}

    def describe(self) -> str:
        return (
            f"SimpleReuserEndpoint(tolerate_torn_msgs={self.tolerate_torn_msgs!r}) sharing [{self.shared.describe()}]"
        )


def _queue_len(given: int | None, v1_spelling: int | None) -> int:
    value = given if given is not None else v1_spelling
    assert value is not None  # bound only when one is given
    if value < 1:
        raise SpecError(f"option '--broadcast-queue-len': {value} is not a positive number of messages")
    return value


@register("broadcast:", "reuse:", "reuse-broadcast:", "broadcast-reuse:")
@dataclass(frozen=True)
class BroadcastReuser(SimpleReuser):
    """Reuse this connection for serving multiple clients, sending replies to all clients
    (websocat v1's broadcast:). Messages from any client go to the inner connection, one
    whole message at a time; each message from it goes to every connected client (and
    nowhere while none is). A client --broadcast-queue-len messages behind is dropped,
    with a line on stderr."""

    queue_len: int = option("--broadcast-queue-len", "--queue-len", default=16, convert=_queue_len)

    def as_endpoint(self, under: Stack, inv: Invocation, role: Role | None) -> Endpoint:
        return BroadcastReuserEndpoint(
            shared=under, tolerate_torn_msgs=self.tolerate_torn_msgs, queue_len=self.queue_len
        )


@dataclass(frozen=True)
class BroadcastReuserEndpoint(SimpleReuserEndpoint):
    """Implementation detail of broadcast: each session's view of the stack ``shared``,
    opened once in a coroutine of its own, its messages sent to every session."""

    queue_len: int = internal(16)
    render: ClassVar = Rendered("overlays.broadcast", "connect", "broadcast")
    setup: ClassVar = Setup(
        "overlays.broadcast",
        "listener",
        "broadcaster",
        "broadcast.Broadcaster",
        "broadcast: one connection for all sessions, its messages to every one",
        form="with",
    )
    shares: ClassVar = Shared(
        "upstream", "slot", "broadcast.Slot", "share", "opened once, its messages to every session"
    )

    def setup_keywords(self) -> dict[str, Any]:
        found = super().setup_keywords()
        return {**found, "queue_len": self.queue_len} if self.queue_len != 16 else found

    def describe(self) -> str:
        return (
            f"BroadcastReuserEndpoint(tolerate_torn_msgs={self.tolerate_torn_msgs!r}, queue_len={self.queue_len!r})"
            f" sharing [{self.shared.describe()}]"
        )
