"""The planner's data model: specifiers, specifier stacks and the invocation."""

from __future__ import annotations

import argparse
import enum
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Self


class Kind(enum.Enum):
    """What a socket carries: a byte stream or datagrams (messages with flags)."""

    BYTES = "bytes"
    MESSAGES = "messages"


class Var(str):
    """A variable name of the generated script (rendered bare, not as a literal)."""


class SpecError(ValueError):
    """A positional argument that cannot be understood; the message names it."""


class NotImplementedYet(SpecError):
    """A recognised prefix or option that this version cannot run yet."""


@dataclass(frozen=True)
class Spec:
    """One layer of a specifier stack: an endpoint (leaf) or an overlay."""

    prefixes: ClassVar[tuple[str, ...]] = ()
    doc: ClassVar[str] = ""
    implemented: ClassVar[bool] = True
    is_overlay: ClassVar[bool] = False

    @property
    def prefix(self) -> str:
        """The canonical prefix, as the manual lists it first."""
        return self.prefixes[0] if self.prefixes else f"<{type(self).__name__}>"

    def call_arguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Literal arguments of this layer's runtime call (overlays get the inner socket first).

        Fields declared `positional` come first, in order; every other field whose value
        differs from its declared default is a keyword (the runtime's default is the
        same), so scripts show only what the command line changed.  Fields declared
        `internal` are the planner's own.
        """
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for f in fields(self):
            if f.metadata.get("internal"):
                continue
            value = getattr(self, f.name)
            if f.metadata.get("positional"):
                args.append(value)
            elif value != f.default or (f.metadata.get("always") and value is not None):
                kwargs[f.name] = value
        return tuple(args), kwargs

    def describe(self) -> str:
        """Compact text for phase dumps: prefix plus the non-default fields."""
        parts = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr]
        return f"{type(self).__name__}({', '.join(parts)})"


@dataclass(frozen=True)
class Endpoint(Spec):
    """A leaf specifier that creates a socket (or listens and creates many)."""

    provides: ClassVar[Kind] = Kind.BYTES
    listener: ClassVar[bool] = False
    grammar: ClassVar[str] = ""  # what the value after the prefix looks like, for docs and errors

    @classmethod
    def from_value(cls, value: str) -> Self:
        """Build from the text after the prefix; raise SpecError when it does not fit."""
        if value:
            raise SpecError(f"'{cls.prefixes[0]}' takes no value, got {value!r}")
        return cls()


@dataclass(frozen=True)
class BareAddress(Endpoint):
    """A port or host:port with no prefix: `-s` makes it a `ws-l:` server, otherwise an error."""

    text: str = ""


@dataclass(frozen=True)
class Overlay(Spec):
    """A specifier that wraps the socket of the specifier under it."""

    is_overlay: ClassVar[bool] = True
    accepts: ClassVar[Kind] = Kind.BYTES
    provides: ClassVar[Kind] = Kind.BYTES


@dataclass(frozen=True)
class Stack:
    """An endpoint and the overlays over it, outermost overlay first."""

    endpoint: Endpoint
    overlays: tuple[Overlay, ...] = ()
    source: str = ""  # the argument this stack came from, for messages

    @property
    def provides(self) -> Kind:
        """What the outermost layer carries."""
        return self.overlays[0].provides if self.overlays else self.endpoint.provides

    @property
    def listener(self) -> bool:
        return self.endpoint.listener

    def wrapped(self, overlay: Overlay) -> Stack:
        """This stack with one more overlay on top."""
        return replace(self, overlays=(overlay, *self.overlays))

    def layers(self) -> tuple[Spec, ...]:
        """Outermost first, endpoint last."""
        return (*self.overlays, self.endpoint)

    def describe(self) -> str:
        return " over ".join(layer.describe() for layer in self.layers())


@dataclass(frozen=True)
class Invocation:
    """Everything the planner knows about one run: options and the two stacks."""

    opts: argparse.Namespace
    argv: tuple[str, ...]
    spec1: str | None = None
    spec2: str | None = None
    left: Stack | None = None
    right: Stack | None = None
    warnings: tuple[str, ...] = field(default=())
    # Process-level options, bound like a spec's fields (planner/session.py)
    exchange: Any = None
    serving: Any = None
    running: Any = None

    def with_(self, **changes: Any) -> Invocation:
        return replace(self, **changes)

    def warn(self, message: str) -> Invocation:
        return replace(self, warnings=(*self.warnings, message))
