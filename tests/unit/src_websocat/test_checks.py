"""-x checks a scenario file's runtime calls before running it (src/websocat/checks.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden import cases
from websocat.checks import Problem, check_script

CLIENT = (Path(__file__).resolve().parents[3] / "golden" / "ws_client.py").read_text()


@pytest.mark.parametrize("path", cases(), ids=lambda p: p.stem)
def test_every_golden_script_passes(path: Path) -> None:
    assert check_script(path.read_text()) == []


def _line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("ws.connect(", "ws.conect(", "ws.conect: no such function in websocat.runtime.overlays.ws"),
        ('uri="/"', 'urii="/"', "ws.connect(): got an unexpected keyword argument 'urii'"),
        ("lines.framed(stdio2)", "lines.framed()", "lines.framed(): missing a required argument: 'stream'"),
        ("tcp.connect(", "tcp.conect(", "tcp.conect: no such function in websocat.runtime.endpoints.tcp"),
        (
            "exchange_packets(ws1, lines2)",
            "exchange_packets(ws1, lines2, exit_on_eoff=True)",
            "exchange_packets(): got an unexpected keyword argument 'exit_on_eoff'",
        ),
    ],
)
def test_a_bad_call_is_named_with_its_line(old: str, new: str, message: str) -> None:
    assert old in CLIENT
    edited = CLIENT.replace(old, new, 1)
    assert check_script(edited) == [Problem(_line_of(edited, new), message)]


def test_other_calls_are_left_alone() -> None:
    source = CLIENT + "\nimport os\nos.getcwd()\nprint(undefined_thing(1, x=2))\n"
    assert check_script(source) == []


def test_star_arguments_are_not_guessed() -> None:
    edited = CLIENT.replace('tcp.connect("127.0.0.1", 1234)', 'tcp.connect(*("127.0.0.1", 1234))')
    assert check_script(edited) == []


def test_serving_keywords_of_a_listener_are_checked_too() -> None:
    """A listener passes serve()'s keywords on as **serving_options (serving.Options): a
    misspelled one is still named, a right one passes."""
    server = (Path(__file__).resolve().parents[3] / "golden" / "exec_after_listen.py").read_text()
    assert "exec_after_listen=" in server
    assert check_script(server.replace("exec_after_listen=", "exec_after_listen=", 1)) == []
    (problem,) = check_script(server.replace("exec_after_listen=", "exec_after_lisen=", 1))
    assert problem.message.endswith("serve(): got an unexpected keyword argument 'exec_after_lisen'")


@pytest.mark.parametrize(
    ("case", "right", "wrong", "function"),
    [
        ("lengthprefixed_record", "max_pongs=", "max_pong=", "ws.connect"),
        ("ws_lowlevel_inhibit_pongs", "max_pongs=", "max_pong=", "ws.framed"),
        ("exec_options", "chdir=", "chdri=", "process.spawn"),
    ],
)
def test_keyword_families_of_ws_and_process_are_checked_too(case: str, right: str, wrong: str, function: str) -> None:
    """ws.connect, ws.framed and process.spawn take their keyword families as **options
    (ws.ConnectOptions, ws.Framing, process.ChildOptions): a misspelled keyword is named in
    one line, a right one passes."""
    script = (Path(__file__).resolve().parents[3] / "golden" / f"{case}.py").read_text()
    assert right in script
    assert check_script(script) == []
    edited = script.replace(right, wrong, 1)
    name = wrong.removesuffix("=")
    message = f"{function}(): got an unexpected keyword argument {name!r}"
    assert check_script(edited) == [Problem(_line_of(edited, wrong), message)]
