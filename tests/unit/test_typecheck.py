"""mypy --strict over the package as installed (planner, runtime, the command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict(tmp_path: Path) -> None:
    # A plain (non-editable) copy, so that mypy sees the websocat.* names the mapping makes.
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    check = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "websocat"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr
