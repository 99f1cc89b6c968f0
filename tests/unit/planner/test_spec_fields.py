"""Spec classes against the runtime: each rendered field's declared default is the
runtime function's own, so leaving a keyword out of the script changes nothing.

A keyword behind ``**options: Unpack[SomeTypedDict]`` (runtime/keywords.py) has its
default where the function hands it on: RECEIVERS."""

from __future__ import annotations

import importlib
import inspect
import typing
from dataclasses import MISSING, fields
from typing import Any

import pytest

from websocat.planner.model import Spec
from websocat.planner.options import option_by_dest
from websocat.planner.session import PROCESS_LEVEL
from websocat.planner.specs import all_spec_classes, bound_options
from websocat.runtime.endpoints import process
from websocat.runtime.overlays import ws, ws_access, ws_handshake

RENDERED = [cls for cls in all_spec_classes() if getattr(cls, "render", None) is not None]


# The receivers of keyword families, whose signatures hold the defaults.
RECEIVERS = (
    ws.SocketOptions,
    ws.deflate_options,
    ws_handshake.ClientOptions,
    ws_handshake.ServerOptions,
    ws_access.Access,
    process.ProcessStream,
)


def _family_defaults(function: Any) -> dict[str, Any]:
    """The defaults of the keywords of ``function``'s ``**options: Unpack[...]``, if any."""
    hints = typing.get_type_hints(function, include_extras=True)
    found: dict[str, Any] = {}
    for param in inspect.signature(function).parameters.values():
        hint = hints.get(param.name)
        if param.kind is not param.VAR_KEYWORD or typing.get_origin(hint) is not typing.Unpack:
            continue
        for name in typing.get_type_hints(typing.get_args(hint)[0]):
            receivers = [r for r in RECEIVERS if name in inspect.signature(r).parameters]
            assert receivers, f"{function.__name__}: no receiver holds the default of {name!r}"
            found[name] = inspect.signature(receivers[0]).parameters[name].default
    return found


def _runtime_defaults(cls: type[Spec]) -> dict[str, Any]:
    """Each keyword the runtime function takes, with its default."""
    render = cls.render  # type: ignore[attr-defined]
    module = importlib.import_module(f"websocat.runtime.{render.module}")
    function = getattr(module, render.function)
    params = inspect.signature(function).parameters.values()
    explicit = {p.name: p.default for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    return {**_family_defaults(function), **explicit}


@pytest.mark.parametrize("cls", RENDERED, ids=lambda c: c.__name__)
def test_keyword_defaults_are_the_runtimes(cls: type[Spec]) -> None:
    defaults = _runtime_defaults(cls)
    for f in fields(cls):
        if f.metadata.get("internal") or f.metadata.get("positional"):
            continue
        assert f.name in defaults, f"{cls.__name__}.{f.name} is not a keyword of the runtime function"
        runtime_default = defaults[f.name]
        if f.metadata.get("always"):
            continue  # always written out, so its default is never relied on
        assert f.default is not MISSING
        assert runtime_default == f.default or (
            f.default == () and runtime_default == ()
        ), f"{cls.__name__}.{f.name}: declared {f.default!r}, runtime {runtime_default!r}"


@pytest.mark.parametrize("cls", [*all_spec_classes(), *PROCESS_LEVEL], ids=lambda c: c.__name__)
def test_bound_options_exist(cls: type) -> None:
    for f, dests in bound_options(cls):
        for dest in dests:
            assert option_by_dest(dest) is not None, f"{cls.__name__}.{f.name}: no option {dest!r}"
