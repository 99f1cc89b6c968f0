"""Messages a user can act on: -s says where it listens, -v shows why an upgrade was refused,
and -x reports a failing script with its file name and line."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time

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
