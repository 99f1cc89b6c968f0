"""Keyword families: a runtime call's ``**options: Unpack[SomeTypedDict]``, handed on in parts.

A family of keywords that several public calls take (ws.Framing, process.ChildOptions)
is a TypedDict, listed once; its defaults live in the one place that receives the
keywords (a dataclass such as ws.SocketOptions, or a function), so a call hands each
receiver the part of ``options`` it takes.  ``-x`` checks a script's keywords against
the TypedDict (src/websocat/checks.py).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["check", "take"]


def check(function: str, options: Mapping[str, object], family: Any) -> None:
    """Raise TypeError, worded as Python's own, for a keyword that ``family`` (a TypedDict) does not list."""
    allowed = family.__required_keys__ | family.__optional_keys__
    for name in options:
        if name not in allowed:
            raise TypeError(f"{function}() got an unexpected keyword argument {name!r}")


def take(options: Mapping[str, Any], receiver: Callable[..., Any]) -> dict[str, Any]:
    """The keywords among ``options`` that ``receiver`` (a dataclass or a function) takes."""
    names = _keywords(receiver)
    return {name: value for name, value in options.items() if name in names}


@functools.cache
def _keywords(receiver: Callable[..., Any]) -> frozenset[str]:
    parameters = inspect.signature(receiver).parameters.values()
    return frozenset(p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
