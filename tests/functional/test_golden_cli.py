"""Each golden file is what a user gets from `websocat --dump-spec <its line 1>`, byte for byte.

Run as a user would: the installed `websocat` command in a subprocess (the console script
next to this Python, else `python -m websocat`), with the words of line 1 as its arguments.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from golden import cases, command_of

CASES = cases()


def installed_websocat() -> list[str]:
    script = Path(sys.executable).with_name("websocat")
    return [str(script)] if os.access(script, os.X_OK) else [sys.executable, "-m", "websocat"]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden_file_is_the_dump_of_its_first_line(path: Path, websocat_env: dict[str, str]) -> None:
    argv = command_of(path)
    at = 1 if argv[0] == "--compose" else 0  # --compose comes first
    out = subprocess.run(
        [*installed_websocat(), *argv[:at], "--dump-spec", *argv[at:]],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env=websocat_env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == path.read_bytes(), "run: python tests/golden.py --update"


@pytest.mark.parametrize("flag", ["--dump-spec"])
@pytest.mark.parametrize("where", ["first", "last", "middle"])
def test_line_1_leaves_the_dump_flag_out_wherever_it_stands(
    flag: str, where: str, websocat_env: dict[str, str]
) -> None:
    words = ["-t", "-s", "1234"]
    at = {"first": 0, "last": len(words), "middle": 1}[where]
    argv = [*words[:at], flag, *words[at:]]
    out = subprocess.run(
        [*installed_websocat(), *argv], capture_output=True, stdin=subprocess.DEVNULL, env=websocat_env, timeout=60
    )
    assert out.stdout.split(b"\n", 1)[0] == b"# websocat -t -s 1234"


def test_every_dump_flag_is_left_out_but_not_after_a_double_dash() -> None:
    from websocat.planner.options import DUMP_FLAGS, without_dump_flags

    for flag in DUMP_FLAGS:
        assert without_dump_flags([flag, "-t", "ws://h/", flag]) == ["-t", "ws://h/"]
    assert without_dump_flags(["--dump-spec", "--", "--dump-spec"]) == ["--", "--dump-spec"]
    assert without_dump_flags(["--dump-spec", "cmd:x", "--exec-args", "--dump-spec"]) == [
        "cmd:x",
        "--exec-args",
        "--dump-spec",
    ]
