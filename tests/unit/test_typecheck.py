"""mypy --strict over the package as it is laid out when installed (planner, runtime, the command)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# pyproject's package-dir mapping, reproduced so that mypy sees the websocat.* names.
LAYOUT = {"websocat": "src/websocat", "websocat/planner": "planner", "websocat/runtime": "runtime",
          "websocat/templates": "templates"}


def test_mypy_strict(tmp_path: Path) -> None:
    for target, source in LAYOUT.items():
        shutil.copytree(ROOT / source, tmp_path / target, ignore=shutil.ignore_patterns("__pycache__"),
                        dirs_exist_ok=True)
    check = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "websocat"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr
