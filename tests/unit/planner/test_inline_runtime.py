"""--standalone over every golden case: one file, standard library only, tree-shaken,
each inlined piece labelled, and type-correct (mypy --strict)."""

from __future__ import annotations

import ast
import builtins
import subprocess
import sys
from pathlib import Path

import pytest

import golden
from websocat.planner.model import SpecError
from websocat.planner.pipeline import dump_spec
from websocat.planner.standalone import BEGIN, StandaloneError, inline_runtime, load_runtime

CASES = golden.cases()


@pytest.fixture(scope="module")
def standalone() -> dict[str, str]:
    """Every golden case's --dump-spec --standalone output, by case name."""
    return {path.stem: dump_spec(golden.command_of(path), standalone=True) for path in CASES}


def _top_level_names(tree: ast.Module) -> dict[str, ast.stmt]:
    names: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update((t.id, node) for t in targets if isinstance(t, ast.Name))
    return names


def _used_names(tree: ast.Module) -> set[str]:
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    used |= {name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}
    return used


@pytest.mark.parametrize("case", [path.stem for path in CASES])
def test_golden_case_standalone(case: str, standalone: dict[str, str]) -> None:
    text = standalone[case]
    tree = ast.parse(text)
    compile(text, f"{case}.py", "exec")
    lines = text.splitlines()
    # the same command on line 2 (after the shebang) as the plain dump on line 1
    assert lines[0] == "#!/usr/bin/env python3"
    assert lines[1] == (golden.GOLDEN / f"{case}.py").read_text().splitlines()[0]

    # only the standard library, and nothing of websocat
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    outside = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
    assert not outside, outside

    # the scenario first, the marked runtime section after it, the main guard last
    scenario, marker, runtime = text.partition(BEGIN)
    assert marker and "async def session" in scenario and "async def main(" in scenario
    assert isinstance(tree.body[-1], ast.If) and "__name__" in ast.unparse(tree.body[-1].test)

    # tree-shaken: every runtime definition is used somewhere in the file
    defined = _top_level_names(tree)
    runtime_defs = {name: node for name, node in defined.items() if node.lineno > len(scenario.splitlines())}
    unused = sorted(set(runtime_defs) - _used_names(tree) - {"TYPE_CHECKING"})
    assert not unused, f"inlined but never used: {unused}"
    # no runtime name shadows a builtin, and each piece says where it comes from
    assert not set(runtime_defs) & set(dir(builtins))
    for name, node in runtime_defs.items():
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        above = lines[: first - 1]
        origin = next(line for line in reversed(above) if line.startswith("# websocat.runtime"))
        assert origin, name


def test_standalone_cases_pass_mypy_strict(standalone: dict[str, str], tmp_path: Path) -> None:
    for case, text in standalone.items():
        (tmp_path / f"{case}.py").write_text(text)
    check = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_collisions_get_the_module_prefix(standalone: dict[str, str]) -> None:
    """Names two modules define, or that would shadow a builtin, carry their module's name;
    the rest keep theirs.  The choice is made over the whole runtime, so it never varies."""
    text = standalone["ws_client"]  # websocat ws://127.0.0.1:1234/
    assert "tcp_connect(" in text and "ws_connect(" in text  # tcp.connect, ws.connect
    assert "stdio_open()" in text  # stdio.open would shadow the builtin open
    assert "def exchange_packets(" in text  # unique: unchanged
    assert "# websocat.runtime.overlays.ws: connect as ws_connect" in text
    names = load_runtime().names
    assert len(set(names.values())) == len(names), "two runtime names flattened to one"


def test_module_attribute_write_becomes_a_global_write(standalone: dict[str, str]) -> None:
    """running.run_status sets copying.HANGUP_EXITS: flattened, a `global` statement."""
    text = standalone["exit_on_hangup"]
    run_status = next(
        node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef) and node.name == "run_status"
    )
    declared = {name for node in ast.walk(run_status) if isinstance(node, ast.Global) for name in node.names}
    assert "HANGUP_EXITS" in declared
    assert "copying." not in text


def test_type_variables_keep_their_names_in_step() -> None:
    """A renamed TypeVar's string follows its name (mypy rejects a mismatch)."""
    script = "from websocat.runtime.endpoints import tcp\nx: tcp.Stream\n"
    text = inline_runtime(script)
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id in ("TypeVar", "ParamSpec"):
                target = node.targets[0]
                assert isinstance(target, ast.Name)
                assert ast.literal_eval(node.value.args[0]) == target.id


def test_a_module_used_as_a_value_is_refused() -> None:
    script = "from websocat.runtime.endpoints import tcp\nprint(tcp)\n"
    with pytest.raises(StandaloneError, match="endpoints.tcp is used other than as `module.name`"):
        inline_runtime(script)
    assert issubclass(StandaloneError, SpecError)  # the command reports it as one line, exit 2


def test_a_name_the_runtime_lacks_is_refused() -> None:
    with pytest.raises(StandaloneError, match="has no name 'conect'"):
        inline_runtime("from websocat.runtime.endpoints import tcp\ntcp.conect('a', 1)\n")
