"""pyproject.toml lists every package of the source tree, so `pip install .` installs all of it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_source_package_is_installed() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = {name: setuptools["package-dir"][name] for name in setuptools["packages"]}
    assert set(listed) == set(setuptools["package-dir"])
    folders = {
        str(init.parent.relative_to(ROOT))
        for top in ("planner", "runtime", "src", "templates")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert folders == set(listed.values()), f"missing from pyproject.toml: {sorted(folders - set(listed.values()))}"


def test_version_is_written_once() -> None:
    import websocat

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "websocat.__version__"}
    from importlib.metadata import version

    assert version("websocat-py") == websocat.__version__


def test_both_command_names() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"websocat": "websocat.main:main", "websocat-py": "websocat.main:main"}
