"""Phase 1: turn positional argument strings into specifier stacks via the prefix table."""

from __future__ import annotations

import re
from dataclasses import replace

from websocat.planner.model import BareAddress, Endpoint, Invocation, NotImplementedYet, Overlay, Role, SpecError, Stack
from websocat.planner.specs import PREFIXES
from websocat.planner.suggest import closest

# Longest prefix first, so that 'ws-l:' is not taken for a shorter prefix of it.
_ORDERED = sorted(PREFIXES, key=len, reverse=True)
_LOOKS_PREFIXED = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):")


def _match_prefix(text: str) -> str | None:
    if text == "-":
        return "-"
    for prefix in _ORDERED:
        if prefix != "-" and text.startswith(prefix):
            return prefix
    return None


_BARE_ADDRESS = re.compile(r"^(\d+|[^:/]+:\d+|\[[0-9A-Fa-f:.]+\]:\d+)$")


def _unknown(text: str) -> SpecError:
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme:
        return SpecError(f"unsupported URL scheme '{scheme.group(1)}://': expected ws:// or wss://")
    head = _LOOKS_PREFIXED.match(text)
    if head is None:
        return SpecError(f"no prefix in {text!r}: expected a specifier such as ws://host:port, tcp:host:port or -")
    word = head.group(1) + ":"
    close = closest(word, [p for p in PREFIXES if p != "-"])
    hint = f"; did you mean '{close}'?" if close else "; see --help for the list"
    return SpecError(f"unknown prefix '{word}'{hint}")


def parse_stack(text: str) -> Stack:
    """'lines:tcp:127.0.0.1:1' -> Stack(TcpConnectByIp, (LineChunks,))."""
    overlays: list[Overlay] = []
    rest = text
    while True:
        prefix = _match_prefix(rest)
        if prefix is None:
            if not overlays and _BARE_ADDRESS.match(rest):
                return Stack(BareAddress(rest), source=text)  # the -s fixup takes it
            raise _unknown(rest)
        cls = PREFIXES[prefix]
        if not cls.implemented:
            raise NotImplementedYet(f"{cls.prefixes[0]} is not implemented yet")
        value = rest[len(prefix) :] if prefix != "-" else ""
        if cls.is_overlay:
            assert issubclass(cls, Overlay)
            overlays.append(cls())
            rest = value
            continue
        assert issubclass(cls, Endpoint)
        return Stack(cls.from_value(value), tuple(overlays), source=text)


# Options whose value is a whole specifier, parsed like SPEC1/SPEC2, with the role of its stack.
STACK_OPTIONS: tuple[tuple[str, Role], ...] = (
    ("filter", Role.FILTER),
    ("filter_reverse", Role.FILTER_REVERSE),
    ("tee", Role.TEE),
    ("write_splitoff", Role.WRITE_SPLITOFF),
)


def parse(inv: Invocation) -> Invocation:
    """Parse SPEC1 and SPEC2 (a missing SPEC2 stays None until the fixups), then the
    specifiers of --filter, --filter-reverse, --tee and --write-splitoff."""
    if inv.spec1 is None:
        raise SpecError("missing SPEC1: expected an endpoint such as ws://127.0.0.1:1234 (see --help)")
    left = _parse_arg(inv.spec1, "argument 1")
    right = _parse_arg(inv.spec2, "argument 2") if inv.spec2 is not None else None
    inv = inv.with_(left=left, right=right)
    extra: list[tuple[Role, Stack]] = []
    for dest, role in STACK_OPTIONS:
        value = getattr(inv.opts, dest, None)
        for text in [value] if isinstance(value, str) else value or ():
            extra.append((role, _parse_arg(text, f"option '{role.label}'")))
    return replace(inv, stacks=(*inv.stacks, *extra)) if extra else inv


def _parse_arg(text: str, where: str) -> Stack:
    try:
        return parse_stack(text)
    except NotImplementedYet:
        raise
    except SpecError as exc:
        raise type(exc)(f"{where} {text!r}: {exc}") from None
