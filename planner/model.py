"""The planner's data model: specifiers, specifier stacks and the invocation."""

from __future__ import annotations

import argparse
import enum
import shlex
from dataclasses import dataclass, field, fields, replace
from collections.abc import Callable
from typing import Any, ClassVar, Self


class Kind(enum.Enum):
    """What a socket carries: a byte stream or datagrams (messages with flags)."""

    BYTES = "bytes"
    MESSAGES = "messages"


class Var(str):
    """A variable name of the generated script (rendered bare, not as a literal)."""


class Octal(int):
    """An integer the script shows in octal, such as a file mode (``0o600``)."""


class SpecError(ValueError):
    """A positional argument that cannot be understood; the message names it."""


class NotImplementedYet(SpecError):
    """A recognised prefix or option that this version cannot run yet."""


class Role(enum.Enum):
    """What a stack is for in a session: the two sides, and the stacks that options add
    (--filter, --filter-reverse, --tee, --write-splitoff), each used by one layer."""

    LEFT = "left"
    RIGHT = "right"
    FILTER = "filter"
    FILTER_REVERSE = "filter-reverse"
    TEE = "tee"
    WRITE_SPLITOFF = "write-splitoff"

    @property
    def label(self) -> str:
        """How messages and script comments name a stack of this role."""
        return self.value if self in (Role.LEFT, Role.RIGHT) else f"--{self.value}"


@dataclass(frozen=True)
class Spec:
    """One layer of a specifier stack: an endpoint (leaf) or an overlay."""

    prefixes: ClassVar[tuple[str, ...]] = ()
    doc: ClassVar[str] = ""
    implemented: ClassVar[bool] = True
    is_overlay: ClassVar[bool] = False
    # Options a fixup reads to choose or fill this layer (not bound to a field): the
    # unused-option lint and the unimplemented-option check count them as this layer's.
    consumes: ClassVar[tuple[str, ...]] = ()
    # How the unused-option lint names this kind when it has no prefix of its own.
    applies_to: ClassVar[str] = ""

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
    single: ClassVar[bool] = False  # see prefers_being_single

    def prefers_being_single(self, opts: argparse.Namespace) -> bool:
        """websocat4's word: opened by each session of a listener it would be chaotic
        (stdio:, a bound UDP port, a file written to), so one is shared (reuse-raw:)."""
        return self.single

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
    """A specifier that wraps the socket of the specifier under it.

    ``accepts`` None: it works over either kind (log:, tee:), and ``provides`` None: it
    gives what it gets.
    """

    is_overlay: ClassVar[bool] = True
    accepts: ClassVar[Kind | None] = Kind.BYTES
    provides: ClassVar[Kind | None] = Kind.BYTES
    # The option-added stacks this layer is handed (tee: the --tee stacks): the renderer
    # opens them first and passes their sockets through `stack_arguments`.
    uses: ClassVar[tuple[Role, ...]] = ()

    def stack_arguments(self, sockets: dict[Role, list[Var]]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Arguments of the runtime call that carry the used stacks' sockets (after the inner one)."""
        return (), {}

    def stack_comment(self, inner: Var, sockets: dict[Role, list[Var]]) -> str:
        """A comment for the script: where the data goes between ``inner`` and the used stacks."""
        return ""

    def step_comment(self) -> str:
        """A comment for the script above this layer's step, when what it does needs saying."""
        return ""


# -- kind rules: read by Stack.provides, the chunker fixup and check_plan


def fits(overlay: Overlay, inner: Kind) -> bool:
    """Whether ``overlay`` can sit on a socket of kind ``inner``."""
    return overlay.accepts is None or overlay.accepts is inner


def gives(overlay: Overlay, inner: Kind) -> Kind:
    """What ``overlay`` carries when its inner socket carries ``inner``."""
    return inner if overlay.provides is None else overlay.provides


# Where one side gives `key[0]` and the other `key[1]`, the planner wraps the first side
# in the named bridge (fixups.insert_chunker picks lines: or chunks: by -t/-b).
BRIDGES: dict[tuple[Kind, Kind], str] = {(Kind.BYTES, Kind.MESSAGES): "chunker"}


@dataclass(frozen=True)
class Stack:
    """An endpoint and the overlays over it, outermost overlay first."""

    endpoint: Endpoint
    overlays: tuple[Overlay, ...] = ()
    source: str = ""  # the argument this stack came from, for messages

    @property
    def provides(self) -> Kind:
        """What the outermost layer carries."""
        kind = self.endpoint.provides
        for overlay in reversed(self.overlays):
            kind = gives(overlay, kind)
        return kind

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
    """Everything the planner knows about one run: options and its role-tagged stacks."""

    opts: argparse.Namespace
    argv: tuple[str, ...]
    spec1: str | None = None
    spec2: str | None = None
    stacks: tuple[tuple[Role, Stack], ...] = ()
    warnings: tuple[str, ...] = field(default=())
    # Process-level options, bound like a spec's fields (planner/session.py)
    exchange: Any = None
    serving: Any = None
    running: Any = None

    def stack(self, role: Role) -> Stack | None:
        """The (first) stack with this role."""
        return next((stack for r, stack in self.stacks if r is role), None)

    def stacks_of(self, role: Role) -> list[Stack]:
        """Every stack with this role, in command-line order."""
        return [stack for r, stack in self.stacks if r is role]

    def map_stacks(self, fn: Callable[[Role, Stack], Stack]) -> Invocation:
        """A copy with every stack replaced by ``fn(role, stack)``."""
        return replace(self, stacks=tuple((role, fn(role, stack)) for role, stack in self.stacks))

    @property
    def left(self) -> Stack | None:
        return self.stack(Role.LEFT)

    @property
    def right(self) -> Stack | None:
        return self.stack(Role.RIGHT)

    def with_(self, **changes: Any) -> Invocation:
        """A copy with fields changed; ``left=``/``right=`` replace (or add, or with None
        remove) the stack of that role."""
        stacks = list(self.stacks)
        for role in (Role.LEFT, Role.RIGHT):
            if role.value not in changes:
                continue
            new = changes.pop(role.value)
            at = next((i for i, (r, _s) in enumerate(stacks) if r is role), None)
            if at is not None:
                del stacks[at]
            if new is not None:
                stacks.insert(at if at is not None else len(stacks), (role, new))
        return replace(self, stacks=tuple(stacks), **changes)

    def warn(self, message: str) -> Invocation:
        return replace(self, warnings=(*self.warnings, message))


# ---------------------------------------------------------------- composition (--compose)


@dataclass(frozen=True)
class Parallel:
    """``A & B``: run together, in one TaskGroup; done when all are."""

    parts: tuple[Composition, ...]
    operator: ClassVar[str] = "&"


@dataclass(frozen=True)
class Sequence:
    """``A ; B``: one after the other."""

    parts: tuple[Composition, ...]
    operator: ClassVar[str] = ";"


@dataclass(frozen=True)
class Race:
    """``A ^ B``: run together; the first to finish cancels the others."""

    parts: tuple[Composition, ...]
    operator: ClassVar[str] = "^"


Composition = Invocation | Parallel | Sequence | Race
"""What one command line plans: one invocation, or with --compose a tree of them;
parentheses nest."""


def describe_tree(node: Composition, describe: Callable[[Invocation], list[str]]) -> list[str]:
    """Lines for a phase dump: an invocation as ``describe`` gives it; a --compose tree as
    each operator with its parts indented under it, each part under its number and words."""
    if isinstance(node, Invocation):
        return describe(node)
    numbered = iter(range(1, 1 << 30))

    def lines(node: Composition, pad: str) -> list[str]:
        if isinstance(node, Invocation):
            head = f"{pad}part {next(numbered)}: {shlex.join(node.argv)}"
            return [head, *(f"{pad}  {line}" for line in describe(node))]
        found = [f"{pad}{type(node).__name__.lower()} ({node.operator})"]
        for part in node.parts:
            found += lines(part, pad + "  ")
        return found

    return lines(node, "")
