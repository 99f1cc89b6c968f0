"""No argument can inject code: user values reach the script only as constants.

Each property holds for the script and for its --standalone form (the runtime inlined).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from script_ast import constants, header_is_comments, shape
from websocat.planner.pipeline import script_source
from websocat.planner.standalone import BEGIN, inline_runtime

# argv as Python gives it: any bytes, surrogate-escaped (NUL cannot be in argv).
argv_text = st.binary(min_size=1, max_size=40).filter(lambda b: b"\0" not in b).map(os.fsdecode)


def forms(argv: list[str]) -> list[str]:
    """The script for argv, and its standalone form."""
    source, _ = script_source(argv)
    return [source, inline_runtime(source)]


@functools.cache
def _baseline(argv: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(shape(head), runtime) for head, _, runtime in (form.partition(BEGIN) for form in forms(list(argv)))]


def same_shape(argv: list[str], baseline: list[str]) -> list[str]:
    """Both forms of argv, each checked to run the same code as the baseline's form; returns
    the part of each that may hold user values.

    A standalone form's inlined runtime must be the baseline's, text for text; the
    scenario above it is compared as the plain script is (constants blanked).
    """
    heads = []
    for source, (base_shape, base_runtime) in zip(forms(argv), _baseline(tuple(baseline))):
        assert header_is_comments(source)
        head, _, runtime = source.partition(BEGIN)
        assert runtime == base_runtime
        assert shape(head) == base_shape
        heads.append(head)
    return heads


@settings(max_examples=200, deadline=None)
@given(argv_text)
def test_literal_is_a_constant(value: str) -> None:
    for source in same_shape([f"literal:{value}"], ["literal:x"]):
        assert os.fsencode(value) in constants(source)


@settings(max_examples=100, deadline=None)
@given(argv_text)
def test_file_path_is_a_constant(value: str) -> None:
    for source in same_shape(["-", f"writefile:{value}"], ["-", "writefile:x"]):
        assert value in constants(source) or os.fsencode(value) in constants(source)


@settings(max_examples=100, deadline=None)
@given(argv_text)
def test_socket_path_and_name_are_constants(value: str) -> None:
    """A UNIX socket path (a listener's, passed to serve) and an abstract name."""
    for source in same_shape(["--unlink", f"unix-l:{value}", "mirror:"], ["--unlink", "unix-l:x", "mirror:"]):
        assert value in constants(source) or os.fsencode(value) in constants(source)
    for source in same_shape([f"abstract:{value}", "-"], ["abstract:x", "-"]):
        assert value in constants(source) or os.fsencode(value) in constants(source)


@settings(max_examples=100, deadline=None)
@given(argv_text.filter(lambda name: ":" not in name))
def test_fd_name_is_a_constant(name: str) -> None:
    for source in same_shape([f"seqpacket-l-fdname:{name}", "mirror:"], ["seqpacket-l-fdname:x", "mirror:"]):
        assert name in constants(source)


url_path = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="#"), max_size=30)


@settings(max_examples=100, deadline=None)
@given(url_path)
def test_url_path_is_a_constant(path: str) -> None:
    for source in same_shape([f"ws://127.0.0.1:1234/{path}"], ["ws://127.0.0.1:1234/x"]):
        uris = [c for c in constants(source) if isinstance(c, str) and c.startswith("/")]
        assert any(uri.startswith("/" + path.split("?")[0][:5]) for uri in uris)


@settings(max_examples=100, deadline=None)
@given(st.characters(min_codepoint=1, max_codepoint=255).filter(lambda c: not c.isdigit() and c != "\n"))
def test_separator_is_a_constant(char: str) -> None:
    for source in same_shape(
        ["--separator", char, "ws://127.0.0.1:1234/"], ["--separator", ";", "ws://127.0.0.1:1234/"]
    ):
        assert bytes((ord(char),)) in constants(source)  # "\n" is the default and left out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=64).filter(lambda b: b"\0" not in b))
def test_running_delivers_exactly_the_value(tmp_path: Path, data: bytes) -> None:
    """The dumped script, run as `python run.py`, prints exactly the literal's bytes."""
    for source in forms([f"literal:{os.fsdecode(data)}"]):
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
