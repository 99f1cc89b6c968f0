"""--standalone: one file that runs with Python alone, the runtime pieces it uses inlined.

A dumped scenario imports ``websocat.runtime``.  Here libcst reads the scenario and the
runtime's modules, resolves every name the scenario uses to the top-level statement of
the runtime that defines it, and follows those statements' own references (through
imports, ``module.attr`` and lazy imports inside functions) until nothing new is needed:
tree shaking by name resolution, one top-level statement at a time.

The kept statements are flattened into one namespace.  A runtime name keeps its own
spelling unless two runtime modules define it, or it would shadow a builtin or a
standard-library import; then it gets its module's short name as a prefix
(``tcp.connect`` -> ``tcp_connect``, ``stdio.open`` -> ``stdio_open``).  The choice
depends on the whole runtime, not on one scenario, so a name reads the same in every
standalone file.  Module attribute writes (``copying.HANGUP_EXITS = x``) become
``global`` writes.

The file keeps the scenario at the top, then one marked section: the standard-library
imports, and each kept statement after a comment naming its module and name.
"""

from __future__ import annotations

import builtins
import functools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import (
    Assignment,
    GlobalScope,
    ImportAssignment,
    MetadataWrapper,
    Scope,
    ScopeProvider,
)

from websocat.planner.model import SpecError

__all__ = ["StandaloneError", "inline_runtime", "load_runtime"]

RUNTIME = "websocat.runtime"
# Test support, never called by a scenario; left out so its names do not force prefixes.
OUTSIDE = frozenset({f"{RUNTIME}.testing"})
SCENARIO = "__main__"
# Names the scenario template defines at the top level.
SCENARIO_NAMES = frozenset({"session", "main"})
LINE_LENGTH = 100  # as --dump-spec formats scenarios
RUNTIME_LINE_LENGTH = 120  # as the runtime's own source is formatted

BEGIN = "# " + "=" * 76
BANNER = """\
# websocat runtime, inlined by --standalone: only the pieces this scenario uses, each
# under a comment naming the module and the names it comes from. The file needs Python
# {floor}+ and nothing else; with the websockets package installed, its C masking is used.
"""


class StandaloneError(SpecError):
    """The runtime (or an edited scenario) uses a construct the inliner cannot flatten."""


@dataclass(frozen=True)
class Def:
    """A top-level name defined by a runtime module (or the scenario)."""

    module: str
    name: str


@dataclass(frozen=True)
class ModuleRef:
    module: str


Target = Def | ModuleRef


@dataclass(frozen=True)
class StdImport:
    """One name bound by a standard-library import: `import a.b` binds `a`."""

    module: str  # "os", "importlib.machinery", "collections.abc"
    name: str | None  # None for `import module`
    asname: str | None
    type_checking: bool = False  # under `if TYPE_CHECKING:`

    def line(self) -> str:
        alias = f" as {self.asname}" if self.asname else ""
        if self.name is None:
            return f"import {self.module}{alias}"
        return f"from {self.module} import {self.name}{alias}"


@dataclass
class Unit:
    """One top-level statement of a module, with what it defines and uses."""

    module: str
    node: cst.BaseStatement
    defines: list[str] = field(default_factory=list)
    uses: set[Target] = field(default_factory=set)
    stdlib: set[StdImport] = field(default_factory=set)
    # id(node) -> the target that a Name/Attribute node stands for
    replace: dict[int, Target] = field(default_factory=dict)
    # id(FunctionDef) -> names written through `module.attr = ...` in it
    writes: dict[int, set[Target]] = field(default_factory=dict)
    # ids of runtime import statements inside functions, dropped
    drop: set[int] = field(default_factory=set)
    code: str | None = None  # the flattened, formatted text, once made


@dataclass
class Module:
    name: str
    units: list[Unit]
    defined: dict[str, list[Unit]]  # top-level name -> the units that define it
    runtime_imports: dict[str, Target]  # top-level name -> what a runtime import binds it to
    imported_modules: list[str]  # runtime modules imported at the top level, in order
    main_unit: Unit | None = None  # the scenario's `if __name__ == "__main__":` block


def _dotted(node: cst.BaseExpression | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    raise StandaloneError("relative or unusual import")


def _is_runtime(module: str) -> bool:
    return module == RUNTIME or module.startswith(RUNTIME + ".")


@functools.cache
def _runtime_dir() -> str:
    import websocat.runtime

    return os.path.dirname(websocat.runtime.__file__ or "")


def _module_path(module: str) -> str | None:
    """The source file of a runtime module, or None when there is no such module."""
    parts = module.split(".")[2:]
    base = os.path.join(_runtime_dir(), *parts)
    for path in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(path):
            return path
    return None


def _is_type_checking_block(node: cst.BaseStatement) -> bool:
    return isinstance(node, cst.If) and isinstance(node.test, cst.Name) and node.test.value == "TYPE_CHECKING"


def _is_main_block(node: cst.BaseStatement) -> bool:
    return (
        isinstance(node, cst.If)
        and isinstance(node.test, cst.Comparison)
        and isinstance(node.test.left, cst.Name)
        and node.test.left.value == "__name__"
    )


def _import_aliases(node: cst.Import | cst.ImportFrom, package: str = "") -> Iterator[tuple[str, StdImport]]:
    """(bound name, import) for each alias of an import statement; `package` anchors `from ..x`."""
    if isinstance(node, cst.Import):
        for alias in node.names:
            dotted = _dotted(alias.name)
            asname = alias.evaluated_alias
            yield (asname or dotted.split(".")[0]), StdImport(dotted, None, asname)
        return
    if isinstance(node.names, cst.ImportStar):
        raise StandaloneError("`import *` is not supported")
    if node.relative:
        up = len(node.relative) - 1
        parts = package.split(".")
        if not package or up >= len(parts):
            raise StandaloneError("relative import outside the runtime")
        base = ".".join(parts[: len(parts) - up])
        module = base if node.module is None else f"{base}.{_dotted(node.module)}"
    else:
        module = _dotted(node.module)
    for alias in node.names:
        name = _dotted(alias.name)
        asname = alias.evaluated_alias
        yield (asname or name), StdImport(module, name, asname)


def _simple_statements(node: cst.BaseStatement) -> Iterator[cst.BaseSmallStatement]:
    if isinstance(node, cst.SimpleStatementLine):
        yield from node.body


def _is_docstring_or_all(node: cst.BaseStatement) -> bool:
    for small in _simple_statements(node):
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString | cst.ConcatenatedString):
            continue
        if isinstance(small, cst.Assign | cst.AnnAssign):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            if all(isinstance(t, cst.Name) and t.value == "__all__" for t in targets):
                continue
        return False
    return isinstance(node, cst.SimpleStatementLine)


def _target_module(import_from: str, name: str) -> Target:
    """What `from import_from import name` binds, for a runtime module."""
    if _module_path(f"{import_from}.{name}") is not None:
        return ModuleRef(f"{import_from}.{name}")
    return Def(import_from, name)


def _load(module: str, source: str) -> Module:
    """Split a module into units and record, for each, what its names resolve to."""
    path = _module_path(module) if _is_runtime(module) else None
    package = module if path is not None and path.endswith("__init__.py") else module.rpartition(".")[0]
    tree = cst.parse_module(source)
    scopes = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(ScopeProvider)
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    global_scope = next(s for s in scopes.values() if isinstance(s, GlobalScope))

    units: list[Unit] = []
    runtime_imports: dict[str, Target] = {}
    std_imports: dict[str, StdImport] = {}
    imported_modules: list[str] = []
    main_block = None
    owner: dict[int, Unit] = {}  # id(any node) -> its top-level unit

    for statement in tree.body:
        imports = [s for s in _simple_statements(statement) if isinstance(s, cst.Import | cst.ImportFrom)]
        checking = _is_type_checking_block(statement)
        if checking:
            assert isinstance(statement, cst.If)
            block = statement.body
            assert isinstance(block, cst.IndentedBlock)
            for inner in block.body:
                imports += [s for s in _simple_statements(inner) if isinstance(s, cst.Import | cst.ImportFrom)]
        if imports:
            for node in imports:
                for bound, spec in _import_aliases(node, package):
                    if _is_runtime(spec.module):
                        if spec.name is None:
                            raise StandaloneError(f"{module}: `import {spec.module}`: use `from ... import`")
                        target = _target_module(spec.module, spec.name)
                        runtime_imports[bound] = target
                        if not checking:
                            imported_modules.append(target.module)
                    elif spec.module != "__future__":
                        std_imports[bound] = StdImport(spec.module, spec.name, spec.asname, checking)
            continue
        if _is_docstring_or_all(statement) or (checking and not imports):
            continue
        if module == SCENARIO and _is_main_block(statement):
            main_block = statement
        unit = Unit(module, statement)
        if statement is not main_block:
            units.append(unit)
        _own(statement, unit, owner, parents)

    defined: dict[str, list[Unit]] = {}
    for assignment in global_scope.assignments:
        if isinstance(assignment, ImportAssignment) or not isinstance(assignment, Assignment):
            continue
        defining = assignment.node
        if scopes.get(defining) is not global_scope:
            continue  # `global x; x = ...` inside a function: not a definition of x
        holder = owner.get(id(defining))
        if holder is None:
            continue
        spelled = defining.name if isinstance(defining, cst.FunctionDef | cst.ClassDef) else defining
        holder.replace[id(spelled)] = Def(module, assignment.name)
        if assignment.name not in holder.defines:
            holder.defines.append(assignment.name)
            defined.setdefault(assignment.name, []).append(holder)

    main_unit = owner[id(main_block)] if main_block is not None else None
    result = Module(module, units, defined, runtime_imports, imported_modules, main_unit)
    resolver = _Resolver(result, std_imports, global_scope, parents, package)
    for scope in set(scopes.values()):
        if scope is None:
            continue
        for access in scope.accesses:
            holder = owner.get(id(access.node))
            if holder is not None:
                resolver.access(holder, access.node, scope, list(access.referents))
    for each in units if main_unit is None else [*units, main_unit]:
        each.node.visit(_GlobalStatements(each, result))
    return result


def _own(node: cst.CSTNode, unit: Unit, owner: dict[int, Unit], parents: dict[cst.CSTNode, cst.CSTNode]) -> None:
    """Record the unit of every node under a top-level statement, and each node's parent."""
    owner[id(node)] = unit
    for child in node.children:
        parents[child] = node
        _own(child, unit, owner, parents)


class _GlobalStatements(cst.CSTVisitor):
    """`global x` in a function: x is used (its definition must be kept) and renamed."""

    def __init__(self, unit: Unit, module: Module) -> None:
        self.unit = unit
        self.module = module

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            target = Def(self.module.name, item.name.value)
            self.unit.uses.add(target)
            self.unit.replace[id(item.name)] = target


@dataclass
class _Resolver:
    module: Module
    std_imports: dict[str, StdImport]
    global_scope: Scope
    parents: dict[cst.CSTNode, cst.CSTNode]
    package: str

    def access(self, unit: Unit, node: cst.CSTNode, scope: Scope, referents: list[Any]) -> None:
        while isinstance(node, cst.Attribute):
            node = node.value  # `a.b.c` after `import a.b`: libcst reports the dotted access
        if not isinstance(node, cst.Name):
            return  # a string annotation; none in the runtime (it uses `from __future__ import annotations`)
        name = node.value
        for referent in referents:
            if isinstance(referent, ImportAssignment):
                self._imported(unit, node, referent, scope)
            elif isinstance(referent, Assignment) and referent.scope is self.global_scope:
                target = Def(self.module.name, name)
                unit.uses.add(target)
                unit.replace[id(node)] = target

    def _imported(self, unit: Unit, node: cst.Name, referent: ImportAssignment, scope: Scope) -> None:
        statement = referent.node
        assert isinstance(statement, cst.Import | cst.ImportFrom)
        bound = dict(_import_aliases(statement, self.package))
        spec = bound.get(node.value)
        if spec is None:
            return
        if not _is_runtime(spec.module):
            if referent.scope is self.global_scope:
                unit.stdlib.add(self.std_imports[node.value])
            return  # a function's own stdlib import stays where it is
        if referent.scope is not self.global_scope:
            unit.drop.add(id(statement))
        target = (
            self.module.runtime_imports[node.value]
            if referent.scope is self.global_scope
            else _target_module(spec.module, spec.name or "")
        )
        if isinstance(target, Def):
            unit.uses.add(target)
            unit.replace[id(node)] = target
            return
        parent = self.parents[node]
        if not (isinstance(parent, cst.Attribute) and parent.value is node):
            raise StandaloneError(f"{self.module.name}: module {target.module} is used other than as `module.name`")
        attr = Def(target.module, parent.attr.value)
        unit.uses.add(attr)
        unit.replace[id(parent)] = attr
        if self._written(parent):
            function = self._function_of(parent)
            if function is None:
                raise StandaloneError(f"{self.module.name}: top-level write to {target.module}.{attr.name}")
            unit.writes.setdefault(id(function), set()).add(attr)

    def _written(self, node: cst.CSTNode) -> bool:
        parent = self.parents[node]
        return isinstance(parent, cst.AssignTarget | cst.AugAssign) and parent.target is node

    def _function_of(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, cst.FunctionDef):
                return node
        return None


# ---------------------------------------------------------------------------------------
# The runtime as a whole: its modules, and the one spelling of each name when flattened


@dataclass
class Runtime:
    modules: dict[str, Module]
    names: dict[Def, str]  # every top-level definition -> its name in a standalone file

    def module(self, name: str) -> Module:
        found = self.modules.get(name)
        if found is None:
            raise StandaloneError(f"no runtime module {name}")
        return found

    def canonical(self, target: Def) -> Def:
        """The module that really defines a name reached through imports."""
        seen = set()
        while target not in seen:
            seen.add(target)
            module = self.module(target.module)
            if target.name in module.defined:
                return target
            follow = module.runtime_imports.get(target.name)
            if follow is None:
                follow = _target_module(target.module, target.name)
                if isinstance(follow, Def):
                    raise StandaloneError(f"{target.module} has no name {target.name!r}")
            if isinstance(follow, ModuleRef):
                raise StandaloneError(f"{follow.module} is a module, used here as a value")
            target = follow
        raise StandaloneError(f"import cycle at {target.module}.{target.name}")


def _module_names() -> Iterator[str]:
    root = _runtime_dir()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        relative = os.path.relpath(folder, root)
        package = RUNTIME if relative == "." else ".".join([RUNTIME, *relative.split(os.sep)])
        for file in sorted(files):
            if file.endswith(".py"):
                name = package if file == "__init__.py" else f"{package}.{file[:-3]}"
                if name not in OUTSIDE:
                    yield name


def _short(module: str) -> str:
    return module.rsplit(".", 1)[-1]


@functools.cache
def load_runtime() -> Runtime:
    """Every runtime module read and resolved once per process (about a second)."""
    modules = {}
    for name in _module_names():
        path = _module_path(name)
        assert path is not None
        with open(path, encoding="utf-8") as file:
            modules[name] = _load(name, file.read())
    counts: dict[str, int] = {}
    reserved = set(dir(builtins)) | SCENARIO_NAMES
    for module in modules.values():
        for name in module.defined:
            counts[name] = counts.get(name, 0) + 1
        for unit in module.units:
            reserved.update(spec.asname or (spec.name or spec.module).split(".")[0] for spec in unit.stdlib)
    names = {}
    for module in modules.values():
        for name in module.defined:
            final = name
            if counts[name] > 1 or name in reserved:
                final = f"_{_short(module.name)}{name}" if name.startswith("_") else f"{_short(module.name)}_{name}"
                if final in counts or final in reserved:
                    raise StandaloneError(f"{module.name}.{name}: its prefixed name {final} is taken")
            names[Def(module.name, name)] = final
    return Runtime(modules, names)


# ---------------------------------------------------------------------------------------
# One scenario: what it needs, in which order, and the file


def _needed(runtime: Runtime, scenario: Module) -> list[Unit]:
    """The runtime units the scenario reaches, directly or through other units."""
    kept: dict[int, Unit] = {}
    work = [unit for unit in scenario.units]
    if scenario.main_unit is not None:
        work.append(scenario.main_unit)
    seen_targets: set[Def] = set()
    while work:
        unit = work.pop()
        for target in unit.uses:
            if not isinstance(target, Def) or target in seen_targets or target.module == SCENARIO:
                continue
            seen_targets.add(target)
            real = runtime.canonical(target)
            for found in runtime.module(real.module).defined[real.name]:
                if id(found) not in kept:
                    kept[id(found)] = found
                    work.append(found)
    return list(kept.values())


def _module_order(runtime: Runtime, roots: Sequence[str], used: set[str]) -> list[str]:
    """Modules in the order Python would first run them: each after what it imports."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        for imported in runtime.module(name).imported_modules:
            visit(imported)
        order.append(name)

    for root in [*roots, *sorted(used)]:
        visit(root)
    return order


class _Flatten(cst.CSTTransformer):
    """One unit rewritten for the flat namespace."""

    def __init__(self, unit: Unit, runtime: Runtime) -> None:
        super().__init__()
        self.unit = unit
        self.runtime = runtime

    def _name(self, target: Target) -> str:
        assert isinstance(target, Def)
        if target.module == SCENARIO:
            return target.name
        return self.runtime.names[self.runtime.canonical(target)]

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        target = self.unit.replace.get(id(original))
        return updated if target is None else updated.with_changes(value=self._name(target))

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        target = self.unit.replace.get(id(original))
        return updated if target is None else cst.Name(self._name(target))

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        if not any(id(small) in self.unit.drop for small in original.body):
            return updated
        body = [new for old, new in zip(original.body, updated.body) if id(old) not in self.unit.drop]
        return updated.with_changes(body=body) if body else cst.RemoveFromParent()

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if updated.body:
            return updated
        return updated.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        written = self.unit.writes.get(id(original))
        if not written:
            return updated
        names = sorted(self._name(target) for target in written)
        declare = cst.SimpleStatementLine([cst.Global([cst.NameItem(cst.Name(n)) for n in names])])
        block = updated.body
        assert isinstance(block, cst.IndentedBlock)
        body = list(block.body)
        at = 1 if body and _is_docstring_or_all(body[0]) else 0
        return updated.with_changes(body=block.with_changes(body=[*body[:at], declare, *body[at:]]))

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        """`T = TypeVar("T")` renamed: the string must follow (type checkers insist)."""
        if not (isinstance(updated.func, cst.Name) and updated.func.value in ("TypeVar", "ParamSpec", "NewType")):
            return updated
        if not updated.args or not isinstance(updated.args[0].value, cst.SimpleString):
            return updated
        statement = self.unit.node
        for small in _simple_statements(statement):
            if isinstance(small, cst.Assign) and small.value is original and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    new = self._name(Def(self.unit.module, target.value))
                    first = updated.args[0].with_changes(value=cst.SimpleString(repr(new)))
                    return updated.with_changes(args=[first, *updated.args[1:]])
        return updated


def _code(node: cst.BaseStatement) -> str:
    assert isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement)
    return cst.Module(body=[node]).code.strip("\n") + "\n"


def _unit_code(unit: Unit, runtime: Runtime, *, line_length: int = RUNTIME_LINE_LENGTH) -> str:
    """The unit rewritten and black-formatted; a runtime unit's text is made once per process."""
    import black

    if unit.code is None:
        node = unit.node.visit(_Flatten(unit, runtime))
        assert isinstance(node, cst.BaseStatement)
        unit.code = black.format_str(_code(node), mode=black.Mode(line_length=line_length))
    return unit.code


def _origin(runtime: Runtime, units: list[Unit]) -> str:
    shown = []
    for unit in units:
        for name in unit.defines:
            final = runtime.names[Def(unit.module, name)]
            shown.append(name if final == name else f"{name} as {final}")
    return f"# {units[0].module}: {', '.join(shown)}\n"


def _groups(units: list[Unit]) -> Iterator[list[Unit]]:
    """Units under one origin comment: each def/class alone, runs of simple statements together."""
    group: list[Unit] = []
    for unit in units:
        simple = isinstance(unit.node, cst.SimpleStatementLine)
        if group and (not simple or not isinstance(group[-1].node, cst.SimpleStatementLine)):
            yield group
            group = []
        group.append(unit)
    if group:
        yield group


def _import_lines(imports: Iterable[StdImport]) -> list[str]:
    """`import a` lines first, then one `from m import x, y` line per module, each sorted."""
    plain = sorted({spec.line() for spec in imports if spec.name is None})
    names: dict[str, set[str]] = {}
    for spec in imports:
        if spec.name is not None:
            names.setdefault(spec.module, set()).add(spec.name + (f" as {spec.asname}" if spec.asname else ""))
    return plain + [f"from {module} import {', '.join(sorted(names[module]))}" for module in sorted(names)]


def _std_imports(imports: set[StdImport]) -> str:
    """The standard-library imports of the kept units; those only for type checkers last."""
    running = [spec for spec in imports if not spec.type_checking]
    run_lines = set(_import_lines(running))
    checking = [spec for spec in imports if spec.type_checking and spec.line() not in run_lines]
    if checking:
        running.append(StdImport("typing", "TYPE_CHECKING", None))
    text = "".join(f"{line}\n" for line in _import_lines(running))
    if checking:
        text += "\nif TYPE_CHECKING:\n" + "".join(f"    {line}\n" for line in _import_lines(checking))
    return text


def inline_runtime(script: str, *, floor: str = "3.11") -> str:
    """The standalone form of a generated (or edited) scenario script."""
    runtime = load_runtime()
    scenario = _load(SCENARIO, script)
    kept = _needed(runtime, scenario)
    order = _module_order(runtime, scenario.imported_modules, {unit.module for unit in kept})
    position = {id(unit): index for module in order for index, unit in enumerate(runtime.module(module).units)}
    kept.sort(key=lambda unit: (order.index(unit.module), position[id(unit)]))

    def scenario_code(unit: Unit) -> str:
        return _unit_code(unit, runtime, line_length=LINE_LENGTH)

    command = [line.comment.value for line in cst.parse_module(script).header if line.comment is not None][:1]
    parts = ["#!/usr/bin/env python3\n", *(f"{line}\n" for line in command)]
    parts.append(f"# Generated by websocat --dump-spec --standalone: needs Python {floor}+ only. Edit freely.\n")
    parts.append("from __future__ import annotations\n")
    scenario_stdlib = {spec for unit in scenario.units for spec in unit.stdlib}
    if scenario_stdlib:
        parts.append(_std_imports(scenario_stdlib))
    parts += ["\n\n" + scenario_code(unit) for unit in scenario.units]

    parts.append(f"\n\n{BEGIN}\n{BANNER.format(floor=floor)}{BEGIN}\n")
    parts.append(_std_imports({spec for unit in kept for spec in unit.stdlib} - scenario_stdlib))
    for group in _groups(kept):
        parts.append("\n\n" + _origin(runtime, group) + "".join(_unit_code(unit, runtime) for unit in group))
    parts.append(f"\n\n{BEGIN}\n# end of the inlined websocat runtime\n{BEGIN}\n")
    if scenario.main_unit is not None:
        parts.append("\n\n" + scenario_code(scenario.main_unit))
    return "".join(parts)
