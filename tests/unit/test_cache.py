"""The script cache: exact entries, and templates that serve the same command with other ports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from websocat import cache
from websocat.planner.pipeline import script_source


def test_port_skeleton_finds_ports_only() -> None:
    skeleton, ports = cache.port_skeleton(["-B", "4096", "ws-l:127.0.0.1:8080", "ws://h:99/p?x=1"]) or ([], [])
    assert ports == ["8080", "99"]
    assert skeleton[:2] == ["-B", "4096"] and skeleton[2] == "ws-l:127.0.0.1:\0"
    assert cache.port_skeleton(["literal:x", "-"]) is None


def test_template_reproduces_the_planner_for_other_ports() -> None:
    argv = ["-b", "tcp-l:127.0.0.1:1234", "ws://127.0.0.1:5678/x"]
    skeleton, ports = cache.port_skeleton(argv) or ([], [])
    other = cache.perturbed(ports)
    source_a, _ = script_source(argv)
    source_b, _ = script_source(cache.with_ports(skeleton, other))
    template = cache.make_template(source_a, source_b, ports, other)
    assert template is not None
    for new_ports in (["1", "65535"], ["40000", "40001"]):
        want, _ = script_source(cache.with_ports(skeleton, new_ports))
        assert cache.fill(template, new_ports) == want


def test_no_template_when_texts_differ_elsewhere() -> None:
    assert cache.make_template("a 12 b", "a 11 c", ["12"], ["11"]) is None
    assert cache.make_template("x=5 y=5", "x=4 y=4", ["5", "5"], ["4", "4"]) is None  # ambiguous


def test_valid_ports() -> None:
    assert cache.valid_ports(["0", "65535"])
    assert not cache.valid_ports(["65536"]) and not cache.valid_ports(["080"])


def test_cli_uses_the_cache_and_the_port_template(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    env.pop("WEBSOCAT_NO_CACHE", None)

    def run(*argv: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "websocat", *argv], env=env, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=30)

    assert run("literal:hello").stdout == b"hello"
    assert run("literal:hello").stdout == b"hello"  # from the cache
    first = run("--global-timeout-ms", "1", "tcp-l:127.0.0.1:0", "devnull:")
    files = set(os.listdir(tmp_path / "websocat-py"))
    # A refused connection on another port is reported with that port: the template filled it.
    out = run("tcp:127.0.0.1:9", "devnull:")
    assert out.returncode == 3 and b"127.0.0.1:9" in out.stderr
    out = run("tcp:127.0.0.1:7", "devnull:")
    assert out.returncode == 3 and b"127.0.0.1:7:" in out.stderr
    assert first.returncode == 0  # --global-timeout-ms ends a run normally, as websocat4
    assert len(os.listdir(tmp_path / "websocat-py")) > len(files)


def imported_modules(argv: list[str], env: dict[str, str]) -> set[str]:
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "websocat", *argv], env=env,
                         capture_output=True, stdin=subprocess.DEVNULL, timeout=30)
    assert out.returncode == 0, out.stderr
    return {line.rsplit("|", 1)[-1].strip() for line in out.stderr.decode().splitlines() if "|" in line}


def test_running_never_imports_black_or_libcst_and_a_cache_hit_not_even_the_planner(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    env.pop("WEBSOCAT_NO_CACHE", None)
    miss = imported_modules(["literal:x"], env)
    assert "jinja2" in miss and "black" not in miss and "libcst" not in miss
    hit = imported_modules(["literal:x"], env)
    assert not {"black", "libcst", "jinja2", "argparse", "websocat.planner.specs"} & hit


def test_cache_is_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(cache, "MAX_ENTRIES", 10)
    for i in range(25):
        cache.store(b"key%d" % i, i)
    assert len(os.listdir(tmp_path / "websocat-py")) <= 11
    assert cache.load(b"key24") == 24
