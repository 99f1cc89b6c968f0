"""main.py, the command's entry point: what it imports before running a cached script."""

from __future__ import annotations

import subprocess
import sys

import pytest


def imported_after(statement: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``statement``."""
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_the_cache_hit_path_imports_no_asyncio_before_the_script() -> None:
    """main.py runs a cached script after importing only light modules (exit codes, execute)."""
    loaded = imported_after("import websocat.main")
    assert "asyncio" not in loaded
    assert not {m for m in loaded if m.startswith(("websocat.planner", "websocat.cli", "argparse", "jinja2"))}


@pytest.mark.parametrize(("module", "other"), [("websocat.cli", "websocat.main"), ("websocat.main", "websocat.cli")])
def test_cli_and_main_do_not_import_each_other(module: str, other: str) -> None:
    assert other not in imported_after(f"import {module}")
