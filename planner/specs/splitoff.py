"""write-splitoff: (--write-splitoff) and the --filter / --filter-reverse wiring: sockets
whose read half and write half come from different stacks (runtime/overlays/splitoff.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from websocat.planner.model import Invocation, Kind, Overlay, Role, SpecError, Stack, Var
from websocat.planner.specs import Rendered, option, register
from websocat.planner.specs.chunking import LineChunks, StreamChunks


@register("write-splitoff:", "write-divert:", "wrdvrt:")
@dataclass(frozen=True)
class WriteSplitoff(Overlay):
    """Only read from inner specifier, route writes to other, CLI-specified Socket.

    The other socket is --write-splitoff's specifier; the inner socket's write half is
    shut down at the start (--write-splitoff-omit-shutdown: left alone). Inserted over the
    right side when --write-splitoff is given without this overlay.
    """

    omit_shutdown: bool = option("--write-splitoff-omit-shutdown", default=False)
    accepts: ClassVar[Kind | None] = None
    provides: ClassVar[Kind | None] = None
    uses: ClassVar[tuple[Role, ...]] = (Role.WRITE_SPLITOFF,)
    render: ClassVar = Rendered("overlays.splitoff", "write_splitoff", "splitoff")

    def stack_arguments(self, sockets: dict[Role, list[Var]]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return tuple(sockets.get(Role.WRITE_SPLITOFF, [])[:1]), {}

    def stack_comment(self, inner: Var, sockets: dict[Role, list[Var]]) -> str:
        return f"reads from {inner}, writes to {', '.join(sockets.get(Role.WRITE_SPLITOFF, []))}"


@dataclass(frozen=True)
class Filters(Overlay):
    """The right side as the session sees it with --filter / --filter-reverse: what the left
    side sends passes through each --filter stack in turn before the right side gets it, and
    what the right side sends through each --filter-reverse stack before the left side."""

    race: bool = option("--exit-on-eof", default=False)  # -E: the session does not wait for the filters
    accepts: ClassVar[Kind | None] = None
    provides: ClassVar[Kind | None] = None
    uses: ClassVar[tuple[Role, ...]] = (Role.FILTER, Role.FILTER_REVERSE)
    render: ClassVar = Rendered("overlays.splitoff", "through_filters", "filtered")

    def stack_arguments(self, sockets: dict[Role, list[Var]]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        kwargs = {"forward": sockets.get(Role.FILTER), "reverse": sockets.get(Role.FILTER_REVERSE)}
        return (), {name: value for name, value in kwargs.items() if value}

    def stack_comment(self, inner: Var, sockets: dict[Role, list[Var]]) -> str:
        forward, reverse = sockets.get(Role.FILTER, []), sockets.get(Role.FILTER_REVERSE, [])
        return "; ".join(
            f"{' -> '.join(path)} ({option})"
            for path, option, given in (
                (["left", *forward, inner], "--filter", forward),
                ([inner, *reverse, "left"], "--filter-reverse", reverse),
            )
            if given
        )


def _splitoff_count(stack: Stack) -> int:
    return sum(isinstance(layer, WriteSplitoff) for layer in stack.overlays)


def insert_write_splitoff(inv: Invocation) -> Invocation:
    """--write-splitoff without a write-splitoff: overlay puts one over the right side (not
    with --less-fixups); where the read and the write socket differ in kind, the byte one gets
    lines: (-b: chunks:), as in websocat4."""
    count = sum(_splitoff_count(stack) for _role, stack in inv.stacks)
    writers = inv.stacks_of(Role.WRITE_SPLITOFF)
    if count > 1 or any(_splitoff_count(stack) for stack in writers):
        raise SpecError("more than one write-splitoff: overlay; only one is supported")
    if count == 0:
        if not writers or inv.opts.less_fixups:
            return inv
        assert inv.right is not None
        inv = inv.with_(right=inv.right.wrapped(WriteSplitoff()))
    elif not writers:
        raise SpecError("write-splitoff: needs --write-splitoff (the specifier its writes go to)")
    writer = writers[0]
    chunker = StreamChunks() if inv.opts.binary else LineChunks()
    reads = next(
        Stack(s.endpoint, s.overlays[i + 1 :])
        for _r, s in inv.stacks
        for i, layer in enumerate(s.overlays)
        if isinstance(layer, WriteSplitoff)
    ).provides
    if (reads, writer.provides) == (Kind.MESSAGES, Kind.BYTES):
        return inv.map_stacks(lambda role, s: s.wrapped(chunker) if role is Role.WRITE_SPLITOFF else s)
    if (reads, writer.provides) == (Kind.BYTES, Kind.MESSAGES):

        def under(role: Role, s: Stack) -> Stack:
            at = next((i for i, layer in enumerate(s.overlays) if isinstance(layer, WriteSplitoff)), None)
            if at is None:
                return s
            return replace(s, overlays=(*s.overlays[: at + 1], chunker, *s.overlays[at + 1 :]))

        return inv.map_stacks(under)
    return inv


def insert_filters(inv: Invocation) -> Invocation:
    """--filter / --filter-reverse: the right side wrapped in `Filters`, which the exchange
    talks to (always, as websocat4 wires them outside its fixups)."""
    if not (inv.stacks_of(Role.FILTER) or inv.stacks_of(Role.FILTER_REVERSE)):
        return inv
    assert inv.right is not None
    if getattr(inv.right.endpoint, "takes_over", False):
        raise SpecError(
            "--filter and --filter-reverse do not work when the right side takes the left socket itself"
            " (--exec-dup2, registry-send:)"
        )
    return inv.with_(right=inv.right.wrapped(Filters()))
