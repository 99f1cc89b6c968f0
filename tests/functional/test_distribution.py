"""The distribution: sdist and wheel build, twine accepts them, and the wheel installed in a
fresh venv runs README's first command (its dependencies come from the package index)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_build_check_install_and_run(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy, so that building writes nothing into the checkout
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", "*.egg-info", "build", "__pycache__", ".*cache", ".hypothesis"),
    )
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(source)], capture_output=True, text=True, timeout=600
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert [w.name.split("-")[0] for w in wheels] == ["websocat_py"] and len(sdists) == 1
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels + sdists)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheels[0])], capture_output=True, text=True, timeout=600
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"^    \$ pip install \. && (.*)$", readme, re.M)
    assert command is not None, "README's first command"
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    ran = subprocess.run(["bash", "-c", command.group(1)], capture_output=True, text=True, timeout=60, env=env)
    assert (ran.returncode, ran.stdout) == (0, "hello\n"), ran.stderr
    manpage = venv / "share" / "man" / "man1" / "websocat.1"
    assert manpage.read_text() == (ROOT / "docs" / "websocat.1").read_text()
    import websocat

    for name in ("websocat", "websocat-py"):
        version = subprocess.run([str(venv / "bin" / name), "--version"], capture_output=True, text=True, timeout=60)
        assert version.returncode == 0 and version.stdout.split()[-1] == websocat.__version__, version
