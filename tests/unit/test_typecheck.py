"""mypy --strict over the package as it is laid out when installed (planner, runtime, the
command), and over the golden scripts, which a user edits and runs against it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# pyproject's package-dir mapping, reproduced so that mypy sees the websocat.* names.
LAYOUT = {
    "websocat": "src/websocat",
    "websocat/planner": "planner",
    "websocat/runtime": "runtime",
    "websocat/templates": "templates",
    "golden": "golden",
}


def test_mypy_strict(tmp_path: Path) -> None:
    for target, source in LAYOUT.items():
        shutil.copytree(
            ROOT / source, tmp_path / target, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
        )
    # Golden scripts are top-level modules named after their files: none may shadow a
    # standard module (golden/random.py once hid `random` from the runtime).
    scripts = sorted(str(path.relative_to(tmp_path)) for path in (tmp_path / "golden").glob("*.py"))
    stdlib = sorted({Path(name).stem for name in scripts} & sys.stdlib_module_names)
    assert not stdlib, f"golden cases named like standard modules: {stdlib}"
    check = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "websocat", *scripts],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr
