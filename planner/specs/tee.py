"""tee: and --tee: one datagram socket written to several, read from any of them
(runtime/overlays/tee.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from websocat.planner.model import Invocation, Kind, Overlay, Role, SpecError, Stack, Var
from websocat.planner.specs import Rendered, option, register
from websocat.planner.specs.chunking import LineChunks, StreamChunks


def first_hangup(first: bool, any_node: bool) -> bool:
    """--tee-use-first-hangup, refused together with --tee-use-hangups (websocat4 refuses both)."""
    if first and any_node:
        raise SpecError("options '--tee-use-hangups' and '--tee-use-first-hangup' cannot be used together")
    return first


@register("tee:")
@dataclass(frozen=True)
class Tee(Overlay):
    """Use both this underlying datagram specifier and also additional ones specified by
    --tee command line option.

    Each write is copied to all of the nodes, each node can also produce a message. A node
    that fails is dropped and the others go on (--tee-propagate-failures: the first failure
    fails the session); reading ends when every node has ended (--tee-propagate-eof: at the
    first EOF). Inserted over the right side when --tee is given without a tee: overlay.
    """

    propagate_failures: bool = option("--tee-propagate-failures", default=False)
    propagate_eof: bool = option("--tee-propagate-eof", default=False)
    tolerate_torn_msgs: bool = option("--tee-tolerate-torn-msgs", default=False)
    use_hangups: bool = option("--tee-use-hangups", default=False)
    use_first_hangup: bool = option("--tee-use-first-hangup", "--tee-use-hangups", default=False, convert=first_hangup)
    accepts: ClassVar[Kind | None] = Kind.MESSAGES
    provides: ClassVar[Kind | None] = Kind.MESSAGES
    uses: ClassVar[tuple[Role, ...]] = (Role.TEE,)
    render: ClassVar = Rendered("overlays.tee", "tee", "tee")

    def stack_arguments(self, sockets: dict[Role, list[Var]]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (sockets.get(Role.TEE, []),), {}

    def stack_comment(self, inner: Var, sockets: dict[Role, list[Var]]) -> str:
        nodes = [inner, *sockets.get(Role.TEE, [])]
        listed = " and ".join([", ".join(nodes[:-1]), nodes[-1]]) if len(nodes) > 1 else nodes[0]
        return f"messages written go to {listed}; messages read come from any of them"


def _tee_count(stack: Stack) -> int:
    return sum(isinstance(layer, Tee) for layer in stack.overlays)


def insert_tee(inv: Invocation) -> Invocation:
    """--tee without a tee: overlay puts one over the right side (not with --less-fixups);
    a byte stream under tee: or given to --tee gets lines: (-b: chunks:), as in websocat4."""
    count = sum(_tee_count(stack) for _role, stack in inv.stacks)
    if count > 1:
        raise SpecError("more than one tee: overlay; only one is supported (give --tee once per node)")
    if any(_tee_count(stack) for stack in inv.stacks_of(Role.TEE)):
        raise SpecError("option '--tee': its specifier cannot itself contain a tee: overlay")
    nodes = inv.stacks_of(Role.TEE)
    if count == 0:
        if not nodes or inv.opts.less_fixups:
            return inv
        assert inv.right is not None
        inv = inv.with_(right=inv.right.wrapped(Tee()))
    elif not nodes:
        inv = inv.warn("tee: without --tee: it has only the one node under it")
    chunker = StreamChunks() if inv.opts.binary else LineChunks()

    def chunked(role: Role, stack: Stack) -> Stack:
        if role is Role.TEE:
            return stack.wrapped(chunker) if stack.provides is Kind.BYTES else stack
        at = next((i for i, layer in enumerate(stack.overlays) if isinstance(layer, Tee)), None)
        if at is None:
            return stack
        under = Stack(stack.endpoint, stack.overlays[at + 1 :])
        if under.provides is not Kind.BYTES:
            return stack
        return replace(stack, overlays=(*stack.overlays[: at + 1], chunker, *stack.overlays[at + 1 :]))

    return inv.map_stacks(chunked)
