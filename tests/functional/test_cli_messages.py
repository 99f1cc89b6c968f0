"""Messages a user can act on: -s says where it listens, -v shows why an upgrade was refused,
and -x reports a failing script with its file name and line."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

_LISTENING = re.compile(rb"^Listening on ws://127\.0\.0\.1:(\d+)/$")


def stderr_line(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> bytes:
    """The next line the process writes on stderr (read unbuffered, byte by byte)."""
    assert proc.stderr is not None
    fd, line = proc.stderr.fileno(), b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        assert left > 0, f"no stderr line within {timeout} s, got {line!r}"
        if select.select([fd], [], [], left)[0]:
            byte = os.read(fd, 1)
            assert byte, f"stderr ended after {line!r} (exit code {proc.poll()})"
            line += byte
    return line.rstrip(b"\n")


# -- -s announces itself, as websocat v1


def test_server_mode_says_where_it_listens_once_ready(websocat) -> None:
    proc = websocat.spawn("-s", "0", stdin=subprocess.PIPE)
    line = stderr_line(proc)
    match = _LISTENING.match(line)
    assert match, line  # port 0: the line has the port the system chose
    with connect(f"ws://127.0.0.1:{match.group(1).decode()}/", open_timeout=5) as client:
        client.send("hello")  # the line came after the bind: connecting right away works
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"hello\n"
    proc.kill()


def test_server_mode_announces_with_host_port(websocat) -> None:
    proc = websocat.spawn("-s", "127.0.0.1:0", "--oneshot", stdin=subprocess.PIPE)
    assert _LISTENING.match(stderr_line(proc))
    proc.kill()


def test_advanced_mode_listener_stays_quiet(websocat) -> None:
    """ws-l: prints nothing, as in websocat v1 and websocat4; scripts use --stdout-announce-listening-ports."""
    proc, port = websocat.listen("--oneshot", "ws-l:127.0.0.1:0", "mirror:")
    with connect(f"ws://127.0.0.1:{port}/", open_timeout=5) as client:
        client.send("x")
        assert client.recv(timeout=5) == "x"
    _out, err = websocat.finish(proc)
    assert err == b""


# -- -v on a refused upgrade shows the start of the reply's body


class RefusingServer:
    """Answers one HTTP request with ``reply`` and keeps the connection open (keep-alive)."""

    def __init__(self, reply: bytes) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.done = threading.Event()
        threading.Thread(target=self._answer, daemon=True).start()

    def _answer(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            conn.sendall(self.reply)
            self.done.wait(20)

    def close(self) -> None:
        self.done.set()
        self.sock.close()


@pytest.fixture
def refusing() -> Iterator[Callable[[bytes], RefusingServer]]:
    servers: list[RefusingServer] = []

    def start(reply: bytes) -> RefusingServer:
        servers.append(RefusingServer(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


BODY = "token expired\nsee https://example.com/login \u00e9"
REPLIES = {
    "content-length": b"HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY.encode()), BODY.encode()),
    "chunked": b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (BODY[:10].encode(), BODY[10:].encode()))
    + b"0\r\n\r\n",
}


def handshake_lines(err: bytes) -> list[str]:
    return [line.removeprefix("websocat: < ") for line in err.decode().splitlines() if line.startswith("websocat: < ")]


@pytest.mark.parametrize("framing", list(REPLIES))
def test_verbose_refused_upgrade_shows_the_body(websocat, refusing, framing: str) -> None:
    server = refusing(REPLIES[framing])
    result = websocat.run("-v", f"ws://127.0.0.1:{server.port}/", "devnull:")
    assert result.returncode == 4
    shown = handshake_lines(result.stderr)
    assert shown[0] == "HTTP/1.1 403 Forbidden"
    assert shown[-2:] == BODY.splitlines(), shown
    assert result.stderr.decode().splitlines()[-1] == "websocat: websocket handshake failed: HTTP/1.1 403 Forbidden"


def test_verbose_refused_upgrade_shows_only_the_first_kib(websocat, refusing) -> None:
    server = refusing(b"HTTP/1.1 500 Oops\r\nContent-Length: 5000\r\n\r\n" + b"ab\n" * 1666 + b"ab")
    result = websocat.run("-v", f"ws://127.0.0.1:{server.port}/", "devnull:")
    shown = handshake_lines(result.stderr)
    body = shown[shown.index("Content-Length: 5000") + 1 :]
    assert body[-1] == "[body shown up to 1024 bytes]"
    assert "\n".join(body[:-1]) == ("ab\n" * 342)[:1024].rstrip("\n")


def test_refused_upgrade_without_verbose_is_one_line(websocat, refusing) -> None:
    server = refusing(REPLIES["content-length"])
    result = websocat.run(f"ws://127.0.0.1:{server.port}/", "devnull:")
    assert result.returncode == 4
    assert result.stderr == b"websocat: websocket handshake failed: HTTP/1.1 403 Forbidden\n"


# -- -x: a failing script is one line with its file and line; extra arguments are refused


def dumped_with(websocat, tmp_path: Path, edit: Callable[[list[str]], None]) -> tuple[str, int]:
    """A dumped script, edited; returns its name (relative to tmp_path) and the edited line's number."""
    dumped = websocat.run("--dump-spec", "-b", "literal:hi", "-")
    assert dumped.returncode == 0, dumped.stderr
    lines = dumped.stdout.decode().splitlines()
    edit(lines)
    (tmp_path / "run.py").write_text("\n".join(lines) + "\n")
    return "run.py", next(i for i, line in enumerate(lines, 1) if "# the edit" in line)


def insert_before(marker: str, code: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(marker))
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        lines.insert(at, f"{indent}{code}  # the edit")

    return edit


@pytest.mark.parametrize(
    "marker, code, message",
    [
        ("await session()", "print(undefined_name)", "NameError: name 'undefined_name' is not defined"),
        ("async with stdio.open()", "{}['missing']", "KeyError: 'missing'"),
        # raised inside the json module: the line is the script's innermost one
        ("async with stdio.open()", "__import__('json').loads('{')", "JSONDecodeError: Expecting"),
        ('if __name__ == "__main__":', "1 / 0", "ZeroDivisionError: division by zero"),  # before run()
    ],
)
def test_script_failure_names_file_and_line(websocat, tmp_path: Path, marker: str, code: str, message: str) -> None:
    name, line = dumped_with(websocat, tmp_path, insert_before(marker, code))
    result = websocat.run("-x", name)
    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"websocat: {name}:{line}: {message}"), result.stderr
    assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr


def test_script_failure_traceback_with_debug(websocat, tmp_path: Path) -> None:
    name, line = dumped_with(websocat, tmp_path, insert_before("await session()", "print(undefined_name)"))
    websocat.env = {**websocat.env, "WEBSOCAT_DEBUG": "1"}
    result = websocat.run("-x", name)
    err = result.stderr.decode()
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in err and f'"{name}", line {line}' in err, err
    assert err.splitlines()[-1].startswith(f"websocat: {name}:{line}: NameError"), err


def test_runtime_errors_in_a_script_stay_as_they_are(websocat, tmp_path: Path) -> None:
    """Failures the runtime reports (here: a refused connection) carry no script location."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "run.py").write_bytes(websocat.run("--dump-spec", "-b", f"tcp:127.0.0.1:{port}", "-").stdout)
    result = websocat.run("-x", "run.py")
    assert result.returncode == 3
    assert result.stderr.decode() == f"websocat: tcp:127.0.0.1:{port}: Connection refused\n"


def test_script_with_extra_argument_is_refused(websocat, tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text("open('ran', 'w').close()\n")
    result = websocat.run("-x", "run.py", "EXTRA")
    assert result.returncode == 2
    assert result.stderr == (
        b"websocat: -x run.py: unexpected extra argument 'EXTRA'; a scenario file takes no arguments"
        b" (edit the values in it)\n"
    )
    assert not (tmp_path / "ran").exists()
    assert websocat.run("-x", "run.py").returncode == 0 and (tmp_path / "ran").exists()


@pytest.mark.parametrize("option", [["-t"], ["--global-timeout-ms", "5"], ["-E"]])
def test_script_with_other_options_is_refused(websocat, tmp_path: Path, option: list[str]) -> None:
    """Options would be silently ignored by a scenario file (its values are baked in): refused."""
    (tmp_path / "run.py").write_text("open('ran', 'w').close()\n")
    result = websocat.run(*option, "-x", "run.py")
    assert result.returncode == 2
    assert result.stderr.startswith(b"websocat: -x run.py: option '")
    assert b"has no effect on a scenario file" in result.stderr
    assert not (tmp_path / "ran").exists()


def test_script_calling_a_missing_runtime_function_is_refused_before_running(websocat, tmp_path: Path) -> None:
    """-x checks the runtime calls of an edited script first: one line with the file and line."""
    source = websocat.run("--dump-spec", "literal:hi").stdout.decode()
    edited = source.replace("trivial.literal(", "trivial.litteral(")
    (tmp_path / "run.py").write_text("open('ran', 'w').close()\n" + edited)
    result = websocat.run("-x", "run.py")
    line = next(
        i for i, text in enumerate(("open('ran', 'w').close()\n" + edited).splitlines(), 1) if "litteral" in text
    )
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"websocat: -x run.py:{line}: trivial.litteral: no such function in websocat.runtime.endpoints.trivial\n"
    )
    assert not (tmp_path / "ran").exists()
