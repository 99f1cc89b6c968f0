"""The project's own code is formatted with its one configuration ([tool.black] in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["planner", "runtime", "src", "templates", "tests"]


def test_black_clean() -> None:
    check = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--quiet", *SOURCES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, "run: black " + " ".join(SOURCES) + "\n" + check.stderr
