"""No argument can inject code: user values reach the script only as constants."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from script_ast import constants, header_is_comments, shape
from websocat.planner.pipeline import script_source

# argv as Python gives it: any bytes, surrogate-escaped (NUL cannot be in argv).
argv_text = st.binary(min_size=1, max_size=40).filter(lambda b: b"\0" not in b).map(os.fsdecode)


@settings(max_examples=200, deadline=None)
@given(argv_text)
def test_literal_is_a_constant(value: str) -> None:
    source, _ = script_source([f"literal:{value}"])
    assert header_is_comments(source)
    assert shape(source) == shape(script_source(["literal:x"])[0])
    assert os.fsencode(value) in constants(source)


@settings(max_examples=100, deadline=None)
@given(argv_text)
def test_file_path_is_a_constant(value: str) -> None:
    source, _ = script_source(["-", f"writefile:{value}"])
    assert header_is_comments(source)
    assert shape(source) == shape(script_source(["-", "writefile:x"])[0])
    assert value in constants(source) or os.fsencode(value) in constants(source)


url_path = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="#"), max_size=30)


@settings(max_examples=100, deadline=None)
@given(url_path)
def test_url_path_is_a_constant(path: str) -> None:
    source, _ = script_source([f"ws://127.0.0.1:1234/{path}"])
    assert header_is_comments(source)
    assert shape(source) == shape(script_source(["ws://127.0.0.1:1234/x"])[0])
    uris = [c for c in constants(source) if isinstance(c, str) and c.startswith("/")]
    assert uris and uris[0].startswith("/" + path.split("?")[0][:5])


@settings(max_examples=100, deadline=None)
@given(st.characters(min_codepoint=1, max_codepoint=255).filter(lambda c: not c.isdigit() and c != "\n"))
def test_separator_is_a_constant(char: str) -> None:
    source, _ = script_source(["--separator", char, "ws://127.0.0.1:1234/"])
    assert shape(source) == shape(script_source(["--separator", ";", "ws://127.0.0.1:1234/"])[0])
    assert bytes((ord(char),)) in constants(source)  # "\n" is the default and left out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=64).filter(lambda b: b"\0" not in b))
def test_running_delivers_exactly_the_value(tmp_path: Path, data: bytes) -> None:
    """The dumped script, run as `python run.py`, prints exactly the literal's bytes."""
    source, _ = script_source([f"literal:{os.fsdecode(data)}"])
    script = tmp_path / "run.py"
    script.write_text(source)
    out = subprocess.run([sys.executable, str(script)], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == data


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=20).filter(lambda b: b"\0" not in b and b"/" not in b and b not in (b".", b"..")))
def test_running_writes_the_named_file(tmp_path: Path, name: bytes) -> None:
    target = os.path.join(os.fsencode(str(tmp_path)), name)
    source, _ = script_source(["literal:payload", f"writefile:{os.fsdecode(target)}"])
    script = tmp_path / "run.py"
    script.write_text(source)
    out = subprocess.run([sys.executable, str(script)], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    with open(target, "rb") as f:
        assert f.read() == b"payload"
    os.unlink(target)
