"""The prefix table: every endpoint and overlay of the manual, declared once.

Each class carries its prefixes (all aliases), the grammar of its value, the socket
kind it gives, its doc text (the manual's), the options that fill its fields and how it
is rendered.  `PREFIXES` maps every prefix to its class; --help, docs/ and the parser
read it.  The classes live in one module per runtime family (`trivial`, `files`,
`mock`, `tcp`, `unix`, `fd`, `process`, `udp`, `ws`, `tls`, `chunking`, `log`, `reuse`, `tee`, `splitoff`, ...); the kinds not implemented yet are rows of
`unimplemented.TABLE`.

Options reach a layer one way: a field declared with `option(...)` names the option(s)
that fill it and its default, written once; `bind` fills every such field after the
fixups, and the renderer passes each field that differs from its default as a keyword
of the runtime call (fields declared with `positional()` come first, in order).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import Field, dataclass, field, fields, replace
from typing import Any, TypeVar

from websocat.planner.model import Spec, Stack

__all__ = [
    "PREFIXES",
    "SPECS",
    "Listening",
    "all_spec_classes",
    "Rendered",
    "Setup",
    "Shared",
    "bind_layer",
    "bind_stack",
    "bound_options",
    "check_option_values",
    "endpoint_prefixes",
    "internal",
    "keyword",
    "option",
    "overlay_prefixes",
    "positional",
    "register",
    "render_arguments",
]

SPECS: list[type[Spec]] = []
PREFIXES: dict[str, type[Spec]] = {}

S = TypeVar("S", bound=type[Spec])


def register(*prefixes: str) -> Callable[[S], S]:
    """Add a class to the table under each of its prefixes (the first is canonical)."""

    def add(cls: S) -> S:
        cls.prefixes = prefixes
        SPECS.append(cls)
        for prefix in prefixes:
            assert prefix not in PREFIXES, prefix
            PREFIXES[prefix] = cls
        return cls

    return add


@dataclass(frozen=True)
class Rendered:
    """How a layer appears in the script: ``async with MODULE.FUNCTION(...) as VAR:``, so
    the script shows each socket's lifetime (the block closes it); overlays get the inner
    socket as the first argument."""

    module: str  # runtime module, e.g. "endpoints.tcp"
    function: str  # function in that module, e.g. "connect"
    var: str  # stem of the variable that holds the socket, e.g. "tcp"


@dataclass(frozen=True)
class Listening:
    """How a listener serves on the left: ``await MODULE.FUNCTION(*args, session, ...)``
    starts one session per connection, each given a ``CONN_TYPE``."""

    module: str
    function: str
    conn_type: str  # the annotation of the session's connection parameter, e.g. "tcp.Stream"


@dataclass(frozen=True)
class Setup:
    """A step in main() before any session: ``VAR = await MODULE.FUNCTION(*args)``; the
    layer then receives VAR (of type VAR_TYPE) in place of its positional fields."""

    module: str
    function: str
    var: str  # stem, e.g. "addrs"
    var_type: str  # e.g. "tcp.Addrs"
    comment: str
    form: str = "await"  # "with": ``async with MODULE.FUNCTION(*args) as VAR:``, the rest of main() inside


@dataclass(frozen=True)
class Shared:
    """A layer whose ``shared`` stack is opened once for all sessions, in a coroutine of its
    own: ``async def FUNCTION(SLOT: SLOT_TYPE, ...)`` opens it and ends with ``await
    SLOT.METHOD(socket)``; the layer's setup step is given that coroutine (and the setup
    variables of the shared stack)."""

    function: str  # stem, e.g. "upstream"
    slot: str  # e.g. "slot"
    slot_type: str  # e.g. "reuse.Slot"
    method: str  # e.g. "share"
    comment: str


# ---------------------------------------------------------------- fields bound to options


def _dest(name: str) -> str:
    return name.removeprefix("--").replace("-", "_")


def option(*names: str, default: Any, convert: Callable[..., Any] | None = None, always: bool = False) -> Any:
    """A field filled from command-line options by `bind` (when given), else ``default``.

    ``convert`` receives the options' values (in order) and returns the field's value;
    without it the one option's value is taken as it is.  ``always``: shown in the script
    even at its default (a keyword the runtime requires), unless None.
    """
    metadata = {"options": tuple(_dest(n) for n in names), "convert": convert, "always": always}
    return field(default=default, metadata=metadata)


def positional(default: Any = None, *, repr: bool = True) -> Any:
    """A field passed as a positional argument of the runtime call (from the specifier's value)."""
    return field(default=default, repr=repr, metadata={"positional": True})


def keyword(default: Any = None, *, always: bool = False, repr: bool = True) -> Any:
    """A keyword argument of the runtime call set by the planner (not by an option);
    ``always``: shown in the script even at its default (``uri="/"``), unless None."""
    return field(default=default, repr=repr, metadata={"always": always})


def internal(default: Any = None, *, repr: bool = True) -> Any:
    """A field the planner uses that is not an argument of the runtime call."""
    return field(default=default, repr=repr, metadata={"internal": True})


def bound_options(cls: type) -> Iterator[tuple[Field[Any], tuple[str, ...]]]:
    """Each field of a spec (or options) class that options fill, with their dests."""
    for f in fields(cls):
        names = f.metadata.get("options")
        if names:
            yield f, names


def _given(opts: argparse.Namespace, dest: str) -> bool:
    from websocat.planner.options import option_by_dest

    spec = option_by_dest(dest)
    value = getattr(opts, dest)
    return value not in (spec.default, [], ()) if spec is not None else value is not None


def bind_layer(layer: Any, opts: argparse.Namespace) -> Any:
    """``layer`` with every option-bound field set from the options given."""
    changes = {}
    for f, dests in bound_options(type(layer)):
        if not any(_given(opts, d) for d in dests):
            continue
        values = [getattr(opts, d) for d in dests]
        convert = f.metadata["convert"]
        changes[f.name] = convert(*values) if convert is not None else values[0]
    return replace(layer, **changes) if changes else layer


def check_option_values(opts: argparse.Namespace, classes: list[type]) -> None:
    """Convert every given option once, whether or not a layer takes it: a bad value is
    an error even where it would have no effect (`--separator 300` with no lines:)."""
    seen: set[tuple[tuple[str, ...], object]] = set()
    for cls in classes:
        for f, dests in bound_options(cls):
            convert = f.metadata["convert"]
            if convert is None or (dests, convert) in seen or not any(_given(opts, d) for d in dests):
                continue
            seen.add((dests, convert))
            convert(*(getattr(opts, d) for d in dests))


def bind_stack(stack: Stack, opts: argparse.Namespace) -> Stack:
    """The stack with every layer's option-bound fields filled."""
    overlays = tuple(bind_layer(o, opts) for o in stack.overlays)
    return replace(stack, endpoint=bind_layer(stack.endpoint, opts), overlays=overlays)


def render_arguments(layer: Spec) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The runtime call's arguments (see `Spec.call_arguments`; a class may override it)."""
    return layer.call_arguments()


def all_spec_classes() -> list[type[Spec]]:
    """Every spec class, the ones the fixups choose (no prefix of their own) included."""
    found: list[type[Spec]] = []
    pending = [Spec]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                pending.append(sub)
    return found


def endpoint_prefixes() -> list[str]:
    """The manual's short list of endpoint prefixes: the canonical prefix of each kind."""
    return [cls.prefixes[0] for cls in sorted(SPECS, key=_manual_order) if not cls.is_overlay]


def overlay_prefixes() -> list[str]:
    return [cls.prefixes[0] for cls in sorted(SPECS, key=_manual_order) if cls.is_overlay]


def _manual_order(cls: type[Spec]) -> str:
    """The manual lists kinds by name."""
    return cls.__name__


# The families fill the table (they import the helpers above); then the kinds to come.
from websocat.planner.specs import (
    chunking,
    fd,
    files,
    kinds,
    lengthprefixed,
    limits,
    log,
    mock,
    process,
    proxy,
    redirects,
    registry,
    reconnect,
    reuse,
    splitoff,
    tcp,
    tee,
    tls,
    trivial,
    udp,
    unimplemented,
    unix,
    ws,
)  # noqa: E402,F401
