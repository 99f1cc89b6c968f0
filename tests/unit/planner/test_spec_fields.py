"""Spec classes against the runtime: each rendered field's declared default is the
runtime function's own, so leaving a keyword out of the script changes nothing."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import MISSING, fields

import pytest

from websocat.planner.model import Spec
from websocat.planner.options import option_by_dest
from websocat.planner.session import PROCESS_LEVEL
from websocat.planner.specs import all_spec_classes, bound_options

RENDERED = [cls for cls in all_spec_classes() if getattr(cls, "render", None) is not None]


def _runtime_function(cls: type[Spec]) -> inspect.Signature:
    render = cls.render  # type: ignore[attr-defined]
    module = importlib.import_module(f"websocat.runtime.{render.module}")
    return inspect.signature(getattr(module, render.function))


@pytest.mark.parametrize("cls", RENDERED, ids=lambda c: c.__name__)
def test_keyword_defaults_are_the_runtimes(cls: type[Spec]) -> None:
    params = _runtime_function(cls).parameters
    for f in fields(cls):
        if f.metadata.get("internal") or f.metadata.get("positional"):
            continue
        assert f.name in params, f"{cls.__name__}.{f.name} is not a keyword of the runtime function"
        runtime_default = params[f.name].default
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
