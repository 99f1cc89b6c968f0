"""-x checks a scenario file before running it: calls into the runtime must exist and fit.

An edited script that calls ``ws.conect(...)`` or ``ws.connect(tcp1, urii="/")`` would
otherwise fail only when that line runs, as a traceback deep in a session.  With libcst
the file is read once, every call through a name imported from ``websocat.runtime`` is
resolved against the installed runtime, and its arguments are bound to the function's
signature.  Each problem is one line naming the file, the line and the function.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from dataclasses import dataclass
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

__all__ = ["Problem", "check_script"]

RUNTIME = "websocat.runtime"


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


def _dotted(node: cst.BaseExpression) -> str | None:
    """'websocat.runtime.overlays' for the expression of a `from ... import`."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head is not None else None
    return None


class _Imports(cst.CSTVisitor):
    """The names a script binds with `from websocat.runtime... import NAME [as ALIAS]`."""

    def __init__(self) -> None:
        self.bound: dict[str, str] = {}  # local name -> dotted path of the runtime object

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = _dotted(node.module) if node.module is not None else None
        if module is None or not (module == RUNTIME or module.startswith(RUNTIME + ".")):
            return
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = _dotted(alias.name)
            if name is None:
                continue
            local = alias.asname.name.value if alias.asname is not None else name  # type: ignore[union-attr]
            self.bound[str(local)] = f"{module}.{name}"


class _Calls(cst.CSTVisitor):
    """Calls of `NAME(...)` and `NAME.attr(...)` where NAME is a runtime import."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, bound: dict[str, str]) -> None:
        self.bound = bound
        self.problems: list[Problem] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value in self.bound:
            shown, path = func.value, self.bound[func.value]
        elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in self.bound:
            shown, path = f"{func.value.value}.{func.attr.value}", f"{self.bound[func.value.value]}.{func.attr.value}"
        else:
            return
        line = self.get_metadata(PositionProvider, node).start.line
        target = _resolve(path)
        if target is None:
            self.problems.append(Problem(line, f"{shown}: no such function in {path.rpartition('.')[0]}"))
            return
        problem = _misfit(target, node)
        if problem is not None:
            self.problems.append(Problem(line, f"{shown}(): {problem}"))


def _resolve(path: str) -> Any:
    """The runtime object at a dotted path (a module's attribute, or a submodule's)."""
    module_path, _, name = path.rpartition(".")
    try:
        module = importlib.import_module(module_path)
    except ImportError:
        return None
    if hasattr(module, name):
        return getattr(module, name)
    try:
        return importlib.import_module(path)
    except ImportError:
        return None


def _misfit(function: Any, call: cst.Call) -> str | None:
    """Why ``call``'s arguments cannot bind to ``function``, or None (also when unknowable)."""
    if inspect.ismodule(function) or not callable(function):
        return None
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    if any(arg.star for arg in call.args):  # *args or **kwargs: nothing to check statically
        return None
    positional = [None for arg in call.args if arg.keyword is None]
    keywords = {arg.keyword.value: None for arg in call.args if arg.keyword is not None}
    try:
        signature.bind(*positional, **keywords)
    except TypeError as exc:
        return str(exc)
    return _unknown_keyword(function, signature, keywords)


def _unknown_keyword(function: Any, signature: inspect.Signature, keywords: dict[str, None]) -> str | None:
    """A keyword that ``**name: Unpack[SomeTypedDict]`` does not list (serving.Options)."""
    extra = [name for name in keywords if name not in signature.parameters]
    rest = next((p for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD), None)
    if not extra or rest is None:
        return None
    try:
        hint = typing.get_type_hints(function, include_extras=True).get(rest.name)
    except Exception:  # noqa: BLE001 - an annotation we cannot resolve: nothing to check
        return None
    if typing.get_origin(hint) is not typing.Unpack:
        return None
    allowed = typing.get_type_hints(typing.get_args(hint)[0])
    unknown = next((name for name in extra if name not in allowed), None)
    return None if unknown is None else f"got an unexpected keyword argument {unknown!r}"


def check_script(source: str) -> list[Problem]:
    """Problems with the runtime calls of a scenario file's source (already known to parse)."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return []  # compile() reports syntax errors with its own line numbers
    imports = _Imports()
    module.visit(imports)
    if not imports.bound:
        return []
    calls = _Calls(imports.bound)
    MetadataWrapper(module).visit(calls)
    return calls.problems
