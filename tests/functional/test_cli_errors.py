"""Bad input to the `websocat` command: one line on stderr starting with `websocat:`, no
traceback, and the documented exit code (0 ok, 1 failure, 2 usage error, 3 connection
failure, 4 protocol error).  Also the file-overwrite options, --accept-from-fd,
--help and --version."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Websocat

FAILURE, USAGE, CONNECT, PROTOCOL = 1, 2, 3, 4


def error_line(result: subprocess.CompletedProcess[bytes], code: int, *fragments: str) -> str:
    """Check the failure shape and return the message line."""
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected exactly one stderr line, got {lines!r}"
    line = lines[0]
    assert line.startswith("websocat: "), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    assert result.returncode == code, f"exit code {result.returncode}, expected {code}: {line}"
    assert result.stdout == b""
    return line


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that someone else listens on for the whole test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


# -- usage errors (exit code 2)

USAGE_CASES = {
    "unknown-prefix": (["foo:bar"], ["unknown prefix", "'foo:'"]),
    "unknown-prefix-suggests-tcp": (["tpc:1.2.3.4:5"], ["'tpc:'", "'tcp:'"]),
    "unknown-overlay-suggests-lines": (["lnies:tcp:1.2.3.4:5"], ["'lines:'"]),
    "no-prefix": (["abc"], ["'abc'"]),
    "unknown-option-suggests": (["--bufer-size", "3", "-", "-"], ["'--bufer-size'", "'--buffer-size'"]),
    "unknown-short-option": (["-Z", "-", "-"], ["'-Z'"]),
    "websocat1-option": (["--prometheus", "127.0.0.1:9", "ws://127.0.0.1:1/"], ["'--prometheus'", "websocat v1"]),
    "websocat1-short-option": (["-S", "ws://127.0.0.1:1/"], ["'-S'", "websocat v1"]),
    "websocat1-option-with-advice": (["--udp-ttl", "5", "-", "-"], ["websocat v1", "--socket-ttl"]),
    "missing-option-value": (["-", "-", "-B"], ["'--buffer-size'", "value"]),
    "non-integer-option-value": (["--global-timeout-ms", "abc", "-", "-"], ["'--global-timeout-ms'", "'abc'"]),
    "negative-option-value": (["--buffer-size=-1", "-", "-"], ["'--buffer-size'", "negative"]),
    "bad-separator": (["-t", "--separator", "300", "-", "-"], ["'--separator'", "300"]),
    "port-out-of-range": (["tcp:127.0.0.1:99999"], ["99999", "port"]),
    "port-not-a-number": (["tcp-l:127.0.0.1:x"], ["port", "'x'"]),
    "ws-url-port-out-of-range": (["ws://127.0.0.1:99999/"], ["99999"]),
    "missing-address": (["tcp:127.0.0.1"], ["host:port"]),
    "missing-spec": ([], ["SPEC1"]),
    "extra-argument": (["-", "-", "extra"], ["'extra'"]),
    "bad-base64": (["literal-base64:!!!"], ["base64"]),
    "bad-mock-script": (["mss:t5"], ["'t'", "upper case"]),
    "compose-not-first": (["-", "--compose", "-"], ["--compose must be the first argument"]),
    "compose-operator-without-compose": (["literal:a", "-", "&", "literal:b", "-"], ["'&'", "give --compose first"]),
    "compose-unbalanced": (["--compose", "(", "literal:a", "-"], ["'(' without its ')'"]),
    "script-file-missing": (["-x", "/nonexistent/run.py"], ["/nonexistent/run.py", "No such file"]),
}


@pytest.mark.parametrize("args, fragments", list(USAGE_CASES.values()), ids=list(USAGE_CASES))
def test_usage_error(websocat, args: list[str], fragments: list[str]) -> None:
    error_line(websocat.run(*args), USAGE, *fragments)


@pytest.mark.parametrize("option", ["--prometheus-port", "--request-methods", "--jsonrpc-mode"])
def test_no_far_fetched_suggestion(websocat, option: str) -> None:
    """Found by a user: '--ping-interval' suggested '--tcp-race-interval-ms'."""
    line = error_line(websocat.run(option, "-", "-"), USAGE, repr(option))
    assert "did you mean" not in line, line


@pytest.mark.parametrize(
    ("typo", "option"),
    [("--conncaps", "--conncap"), ("--restrict-url", "--restrict-uri"), ("--static-files", "--static-file")],
)
def test_near_misses_of_v1_options_are_suggested(websocat, typo: str, option: str) -> None:
    line = error_line(websocat.run(typo, "-", "-"), USAGE, repr(typo))
    assert f"did you mean {option!r}?" in line, line


def test_script_file_syntax_error(websocat, tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text("async def main(:\n    pass\n")
    error_line(websocat.run("-x", str(script)), USAGE, str(script), ":1")


@pytest.mark.parametrize("value", ["0", "99999999999999999999"])
def test_separator_n_out_of_range_is_a_usage_error(websocat, value: str) -> None:
    """Found by these tests: the value was taken, then failed at run time as a Python error."""
    line = error_line(websocat.run("-t", "--separator-n", value, "lines:literal:abc"), USAGE, "--separator-n")
    assert "Error:" not in line, f"a Python exception name leaks into the message: {line}"


# -- failures to open, connect or bind (exit code 3)


def test_unreadable_file(websocat) -> None:
    error_line(websocat.run("readfile:/nonexistent"), CONNECT, "readfile", "/nonexistent", "No such file or directory")


def test_readfile_of_a_directory(websocat, tmp_path: Path) -> None:
    """Found by these tests: reported as 'websocat: Is a directory' with exit code 1."""
    error_line(websocat.run(f"readfile:{tmp_path}"), CONNECT, "readfile", str(tmp_path), "Is a directory")


def test_writefile_into_missing_directory(websocat, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "out"
    error_line(websocat.run("literal:x", f"writefile:{target}"), CONNECT, str(target), "No such file or directory")


@pytest.mark.parametrize("scheme", ["tcp", "ws"])
def test_connection_refused(websocat, closed_port: int, scheme: str) -> None:
    spec = f"tcp:127.0.0.1:{closed_port}" if scheme == "tcp" else f"ws://127.0.0.1:{closed_port}/"
    error_line(websocat.run(spec), CONNECT, "Connection refused", str(closed_port))


def test_listen_on_busy_port(websocat, busy_port: int) -> None:
    error_line(websocat.run(f"tcp-l:127.0.0.1:{busy_port}"), CONNECT, str(busy_port), "Address already in use")


def test_unresolvable_host(websocat) -> None:
    error_line(websocat.run("tcp:nonexistent.invalid:80"), CONNECT, "nonexistent.invalid")


# -- protocol errors (4) and timeouts (5)


def test_websocket_handshake_refused_by_plain_http_server(websocat) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def answer() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(10)
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        result = websocat.run(f"ws://127.0.0.1:{port}/")
        thread.join(10)
    error_line(result, PROTOCOL, "200")


def test_mock_mismatch_is_a_protocol_error(websocat) -> None:
    error_line(websocat.run("-b", "mss:R hello|W world", "mirror:"), PROTOCOL, "world", "hello")


def test_global_timeout_is_a_normal_end(websocat) -> None:
    """As websocat4: the scenario races a sleep, and the sleep winning ends the process with 0."""
    started = time.monotonic()
    result = websocat.run("--global-timeout-ms", "200", "-u", "mss:T60000")  # -u: stdin unread, no lint
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert time.monotonic() - started < 5


def test_global_timeout_force_exit_exits_with_1(websocat) -> None:
    """As websocat4's exit_process(1); we also say why, as every non-zero exit does."""
    result = websocat.run("--global-timeout-ms", "200", "--global-timeout-force-exit", "-u", "mss:T60000")
    error_line(result, FAILURE, "global timeout of 200 ms expired")


def test_global_timeout_with_stdin_open_still_ends(websocat) -> None:
    """stdin that never ends (a pipe nobody writes) does not keep the process alive."""
    proc = websocat.spawn("--global-timeout-ms", "300", "-", "mirror:", stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    assert proc.wait(timeout=10) == 0  # stdin is still open here
    proc.stdin.close()
    err = proc.stderr.read()
    assert err.count(b"\n") == 1 and b"warning: --global-timeout-ms with stdio" in err, err


# -- writefile: and existing files


def test_write_file_no_overwrite_keeps_existing_file(websocat, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"original")
    result = websocat.run("--write-file-no-overwrite", "literal:new content", f"writefile:{target}")
    error_line(result, CONNECT, str(target), "File exists")
    assert target.read_bytes() == b"original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_write_file_no_overwrite_creates_missing_file(websocat, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    result = websocat.run("--write-file-no-overwrite", "literal:new content", f"writefile:{target}")
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == b"new content"


def test_write_file_auto_rename_uses_neighbouring_names(websocat, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"original")
    for content in ("first", "second"):
        result = websocat.run("--write-file-auto-rename", f"literal:{content}", f"writefile:{target}")
        assert result.returncode == 0, result.stderr
        assert result.stderr == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "out.txt.1", "out.txt.2"]
    assert target.read_bytes() == b"original"
    assert (tmp_path / "out.txt.1").read_bytes() == b"first"
    assert (tmp_path / "out.txt.2").read_bytes() == b"second"


def test_plain_writefile_overwrites(websocat, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"a much longer original content")
    result = websocat.run("literal:new", f"writefile:{target}")
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == b"new"


# -- informational options


def test_accept_from_fd_prints_migration_message(websocat) -> None:
    for args in (["--accept-from-fd"], ["--accept-from-fd", "-", "-"]):
        error_line(websocat.run(*args), USAGE, "--accept-from-fd", "tcp-listen-fd:")


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_options_then_prefixes(websocat: Websocat, flag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The help is the option parser's, ending with the prefix lists, examples and exit codes."""
    from websocat import __version__
    from websocat.cli import help_epilog
    from websocat.planner.options import build_parser
    from websocat.planner.specs import endpoint_prefixes, overlay_prefixes
    from websocat.runtime.errors import EXIT_CODES

    # argparse wraps to $COLUMNS (else the terminal): the same width here and there.
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setitem(websocat.env, "COLUMNS", "100")
    result = websocat.run(flag)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    text = result.stdout.decode()
    assert text == build_parser(epilog=help_epilog(), version=__version__).format_help()
    epilog = help_epilog().split("\n")
    assert text.endswith("\n".join(epilog) + "\n")
    endpoints = epilog.index("Short list of endpoint prefixes:")
    overlays = epilog.index("Short list of overlay prefixes:")
    assert endpoints == 0
    assert epilog[1:overlays] == [f"  {prefix}" for prefix in endpoint_prefixes()] + [""]
    assert epilog[overlays + 1 : epilog.index("Examples:")] == [f"  {prefix}" for prefix in overlay_prefixes()] + [""]
    codes = epilog.index("Exit codes:")
    assert epilog[codes + 1 :] == [f"  {code:<4}{meaning}" for code, meaning in EXIT_CODES] + [
        "",
        "Set WEBSOCAT_DEBUG=1 for a traceback with errors.",
    ]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(websocat, flag: str) -> None:
    from importlib.metadata import version

    result = websocat.run(flag)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    out = result.stdout.decode().strip()
    assert re.fullmatch(r"(websocat )?\d+\.\d+\.\d+\S*", out), out
    assert out.endswith(version("websocat-py"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["-H", "NoColonHere", "ws://127.0.0.1:1/"], b"option '-H': expected 'Name: value', got 'NoColonHere'"),
        (["http://127.0.0.1:1/"], b"unsupported URL scheme 'http://': expected ws:// or wss://"),
        (["ws://:80/"], b"bad WebSocket URL 'ws://:80/': no host"),
        (["wss://127.0.0.1:70000/"], b"bad WebSocket URL"),
        (["-H", "X-Big: " + "a" * 9000, "ws://127.0.0.1:1/"], b"option '-H': header of 9007 bytes, longer than 8192"),
    ],
)
def test_bad_websocket_input(websocat: Websocat, args: list[str], message: bytes) -> None:
    out = websocat.run(*args)
    assert out.returncode == 2
    assert out.stderr.count(b"\n") == 1 and out.stderr.startswith(b"websocat: ")
    assert message in out.stderr and b"Traceback" not in out.stderr


def test_an_option_without_effect_is_one_warning_line(websocat: Websocat) -> None:
    out = websocat.run("--udp-server-qlen", "3", "-b", "literal:hi", "-")
    assert out.returncode == 0 and out.stdout == b"hi"
    assert out.stderr == (
        b"websocat: warning: --udp-server-qlen has no effect here: no udp-server-fd: or udp-server-fdname: "
        b"or udp-server: in this command\n"
    )
    quiet = websocat.run("--no-lints", "--udp-server-qlen", "3", "-b", "literal:hi", "-")
    assert quiet.returncode == 0 and quiet.stdout == b"hi" and quiet.stderr == b""
