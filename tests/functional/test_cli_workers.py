"""--workers N: N processes share one TCP port (SO_REUSEPORT); stopping the parent stops them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import Websocat


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def _gone(pids: list[int], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if os.path.exists(f"/proc/{pid}") and _state(pid) != "Z"]
        if not alive:
            return True
        time.sleep(0.05)
    return False


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


@pytest.fixture
def pool(websocat: Websocat) -> tuple[subprocess.Popen[bytes], int]:
    """Two workers serving `cmd:` that prints its parent's pid: the worker that took the connection."""
    port = _free_port()
    proc, announced = websocat.listen("--workers", "2", "-t", f"ws-l:127.0.0.1:{port}", "cmd:echo $PPID")
    assert announced == port
    return proc, port


def test_connections_spread_over_the_workers(websocat: Websocat, pool: tuple[subprocess.Popen[bytes], int]) -> None:
    proc, port = pool
    workers = set(_children(proc.pid))
    assert len(workers) == 2
    answered = set()
    for _ in range(24):
        out = websocat.run("-u", f"ws://127.0.0.1:{port}/")
        assert out.returncode == 0, out.stderr
        answered.add(int(out.stdout))
    assert answered == workers  # 24 connections all hashed to one of two workers: odds 1 in 8 million
    proc.send_signal(signal.SIGTERM)
    _out, err = websocat.finish(proc)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert _gone(list(workers))


def test_one_announcement(websocat: Websocat, pool: tuple[subprocess.Popen[bytes], int]) -> None:
    proc, _port = pool
    time.sleep(0.5)  # the second worker has bound by now
    proc.send_signal(signal.SIGINT)
    out, err = websocat.finish(proc)
    assert b"LISTEN" not in out, out  # the first line was the only one
    assert proc.returncode == 128 + signal.SIGINT, err


def test_no_worker_outlives_a_killed_parent(pool: tuple[subprocess.Popen[bytes], int]) -> None:
    proc, _port = pool
    workers = _children(proc.pid)
    assert len(workers) == 2
    proc.kill()
    proc.wait()
    assert _gone(workers), "a worker survived its parent's SIGKILL"


def test_a_worker_that_fails_ends_the_run(websocat: Websocat) -> None:
    with socket.socket() as taken:  # no SO_REUSEPORT: every worker's bind fails
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = websocat.run("--workers", "2", "-t", f"ws-l:127.0.0.1:{port}", "mirror:", timeout=20)
    assert out.returncode == 3, out.stderr
    assert b"Address already in use" in out.stderr and b"Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--workers", "2", "-s", "0"), b"--workers needs a fixed port"),
        (("--workers", "2", "tcp:127.0.0.1:1", "mirror:"), b"--workers needs a TCP listener on the left"),
        (("--workers", "0", "-s", "1234"), b"expected a number of processes, 1 or more"),
    ],
    ids=["port-0", "no-listener", "zero"],
)
def test_bad_uses_are_one_line(websocat: Websocat, args: tuple[str, ...], message: bytes) -> None:
    out = websocat.run(*args)
    assert out.returncode == 2 and message in out.stderr, out.stderr
    assert out.stderr.count(b"\n") == 1
