"""exec: and cmd: end to end: real children behind real sockets, their lifetime, their options.

A child's pid comes from the child itself (``echo $$``); whether it is still there, or a
zombie, is read from /proc.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from conftest import Websocat, tcp_round_trip


def state(pid: int) -> str | None:
    """The /proc state letter of pid (Z: a zombie), None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rpartition(")")[2].split()[0]


def wait_gone(pid: int, timeout: float) -> bool:
    """True once pid is gone (reaped: no zombie either) within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if state(pid) is None:
            return True
        time.sleep(0.02)
    return False


def read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        assert chunk, f"EOF after {data!r}"
        data += chunk
    return data


def one_error_line(stderr: bytes) -> str:
    """The single websocat line of a failed run (no traceback)."""
    text = stderr.decode()
    assert "Traceback" not in text, text
    ours = [line for line in text.splitlines() if line.startswith("websocat:")]
    assert len(ours) == 1, text
    return ours[0]


# -- the byte stream through a child


def test_tcp_listen_exec_round_trip(websocat: Websocat) -> None:
    """tcp-l: <-> exec:cat, 8 MB checked by sha256, twice (a process per connection)."""
    proc, port = websocat.listen("tcp-l:127.0.0.1:0", "exec:cat")
    payload = os.urandom(8 << 20)
    for _ in range(2):
        got = tcp_round_trip(port, payload, timeout=30)
        assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()
    proc.terminate()
    websocat.finish(proc)


def test_exec_args_are_the_programs_argv(websocat: Websocat) -> None:
    result = websocat.run("-", "exec:tr", "--exec-args", "a-z", "A-Z", input=b"hello\n")
    assert (result.returncode, result.stdout) == (0, b"HELLO\n"), result.stderr
    result = websocat.run("-", "exec:printf", "--exec-args", "<%s>", "two words", "$HOME", "--x")
    assert result.stdout == b"<two words><$HOME><--x>", result.stderr


def test_exec_arg0(websocat: Websocat) -> None:
    result = websocat.run("-", "exec:sh", "--exec-arg0", "my-name", "--exec-args", "-c", "echo $0")
    assert result.stdout == b"my-name\n", result.stderr
    result = websocat.run("-", "cmd:echo $0", "--exec-arg0", "shell-name")
    assert result.stdout == b"shell-name\n", result.stderr


def test_exec_chdir(websocat: Websocat, tmp_path: Path) -> None:
    (tmp_path / "here").mkdir()
    result = websocat.run("-", "cmd:pwd", "--exec-chdir", str(tmp_path / "here"))
    assert result.stdout == f"{tmp_path / 'here'}\n".encode(), result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_exec_uid_gid_as_root(websocat: Websocat) -> None:
    """The child runs as the given user and group, without root's supplementary groups."""
    result = websocat.run("-", "cmd:id -u; id -g; id -G", "--exec-uid", "65534", "--exec-gid", "65534")
    assert result.stdout == b"65534\n65534\n65534\n", result.stderr
    result = websocat.run("-", "cmd:id -u", "--exec-uid", "65534")
    assert result.stdout == b"65534\n", result.stderr


def test_exec_uid_refused_without_privileges(websocat: Websocat) -> None:
    """Without CAP_SETUID (dropped from root's bounding set with setpriv) one clear line."""
    argv = websocat.command(["-", "exec:true", "--exec-uid", "65534"])
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to drop root's capabilities")
        argv = ["setpriv", "--bounding-set", "-setuid,-setgid", *argv]
    result = subprocess.run(argv, capture_output=True, env=websocat.env, timeout=30)
    assert result.returncode != 0
    line = one_error_line(result.stderr)
    assert line == "websocat: exec:true: cannot switch to the --exec-uid/--exec-gid given: Operation not permitted"


def test_ws_listen_cmd_a_process_per_client(websocat: Websocat) -> None:
    """Three WebSocket clients at once: three children, each echoing its own data; all
    reaped once the clients leave (no zombie while websocat goes on serving)."""
    proc, port = websocat.listen("-b", "ws-l:127.0.0.1:0", "cmd:echo $$; cat")

    async def client(index: int) -> tuple[int, bytes]:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            first = await ws.recv()
            assert isinstance(first, bytes)
            pid = int(first.split(b"\n")[0])
            data = b"client %d " % index * 1000
            await ws.send(data)
            got = first.partition(b"\n")[2]
            while len(got) < len(data):
                message = await ws.recv()
                assert isinstance(message, bytes)
                got += message
            return pid, got

    async def main() -> list[tuple[int, bytes]]:
        return await asyncio.gather(*(client(i) for i in range(3)))

    results = asyncio.run(main())
    pids = [pid for pid, _ in results]
    assert len(set(pids)) == 3, pids
    for index, (_pid, got) in enumerate(results):
        assert got == b"client %d " % index * 1000
    for pid in pids:
        assert wait_gone(pid, 5), f"child {pid} left behind, state {state(pid)}"
    assert proc.poll() is None  # still serving
    proc.terminate()
    websocat.finish(proc)


# -- lifetime


def test_child_exiting_early_ends_the_session(websocat: Websocat) -> None:
    """The child says bye and exits: the client gets its bytes, then EOF, though it sent nothing."""
    proc, port = websocat.listen("tcp-l:127.0.0.1:0", "cmd:echo $$; echo bye")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        pid = int(read_line(sock))
        assert read_line(sock) == b"bye\n"
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - started < 3
    assert wait_gone(pid, 5)
    proc.terminate()
    websocat.finish(proc)


def test_child_exit_status_fails_the_session(websocat: Websocat) -> None:
    result = websocat.run("-", "cmd:echo out; exit 3")
    assert result.stdout == b"out\n"
    assert result.returncode == 1
    assert one_error_line(result.stderr) == "websocat: cmd:echo out; exit 3: exited with status 3"
    result = websocat.run("-", "cmd:kill -USR1 $$")
    assert one_error_line(result.stderr) == "websocat: cmd:kill -USR1 $$: killed by signal SIGUSR1"


def test_writes_to_a_child_that_stopped_reading_are_dropped(websocat: Websocat) -> None:
    """head reads 5 bytes and exits: the rest of the input is no error."""
    result = websocat.run("-", "cmd:head -c 5", input=b"x" * (4 << 20))
    assert (result.returncode, result.stdout) == (0, b"xxxxx"), result.stderr


def _stdin_held_open(websocat: Websocat, *args: str) -> tuple[bytes, float, subprocess.Popen[bytes]]:
    """Run websocat with a stdin that never ends; returns its output and how long it took."""
    started = time.monotonic()
    proc = websocat.spawn(*args, stdin=subprocess.PIPE)
    out, err = websocat.finish(proc, timeout=15)
    assert proc.returncode == 0, err
    return out, time.monotonic() - started, proc


def test_monitor_exits_ends_the_session_at_the_exit(websocat: Websocat) -> None:
    """A grandchild keeps the child's stdout open: without --exec-monitor-exits its output
    still comes through; with it the session ends when the child exits."""
    script = "cmd:(sleep 3; echo late) 2>/dev/null & echo early"  # its stderr is the test's pipe
    out, took, _ = _stdin_held_open(websocat, "-", script)
    assert out == b"early\nlate\n" and took >= 3
    out, took, _ = _stdin_held_open(websocat, "-", script, "--exec-monitor-exits")
    assert out == b"early\n" and took < 2.5


def _pid_from_listener(websocat: Websocat, command: str, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    proc, port = websocat.listen("tcp-l:127.0.0.1:0", command, *extra)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    pid = int(read_line(sock))
    websocat.procs.append(proc)
    proc._test_sock = sock  # type: ignore[attr-defined]  # kept open until the end
    return proc, pid


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_websocat_stops_the_children(websocat: Websocat, signum: int) -> None:
    proc, pid = _pid_from_listener(websocat, "cmd:echo $$; exec sleep 60")
    proc.send_signal(signum)
    websocat.finish(proc, timeout=5)
    assert proc.returncode == 128 + signum
    assert wait_gone(pid, 1)


def test_a_child_ignoring_sigterm_gets_sigkill(websocat: Websocat) -> None:
    proc, pid = _pid_from_listener(websocat, "cmd:trap '' TERM; echo $$; exec sleep 60")
    started = time.monotonic()
    proc.terminate()
    websocat.finish(proc, timeout=5)
    assert proc.returncode == 143
    assert wait_gone(pid, 1)
    assert time.monotonic() - started < 3  # SIGKILL after the grace, within STOP_GRACE


def test_global_timeout_stops_the_child(websocat: Websocat, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    proc = websocat.spawn("--global-timeout-ms", "500", "-", f"cmd:echo $$ > {pidfile}; exec sleep 60")
    websocat.finish(proc, timeout=5)
    assert proc.returncode == 0
    assert wait_gone(int(pidfile.read_text()), 1)


# -- errors: one line, non-zero exit


def test_program_not_found(websocat: Websocat) -> None:
    result = websocat.run("-", "exec:no-such-program-here")
    assert result.returncode == 3
    assert one_error_line(result.stderr) == "websocat: exec:no-such-program-here: No such file or directory"


def test_program_not_executable(websocat: Websocat, tmp_path: Path) -> None:
    (tmp_path / "script").write_text("echo hi\n")
    result = websocat.run("-", f"exec:{tmp_path / 'script'}")
    assert result.returncode == 3
    assert one_error_line(result.stderr) == f"websocat: exec:{tmp_path / 'script'}: Permission denied"


def test_bad_chdir(websocat: Websocat, tmp_path: Path) -> None:
    result = websocat.run("-", "exec:cat", "--exec-chdir", str(tmp_path / "nowhere"))
    assert result.returncode == 3
    line = one_error_line(result.stderr)
    assert line == f"websocat: exec:cat: --exec-chdir {tmp_path / 'nowhere'}: No such file or directory"


def test_shell_command_that_fails(websocat: Websocat) -> None:
    """The shell says what failed (its own stderr line); websocat adds the status."""
    result = websocat.run("-", "cmd:no-such-command-here")
    assert result.returncode == 1
    assert one_error_line(result.stderr) == "websocat: cmd:no-such-command-here: exited with status 127"
    assert b"no-such-command-here" in result.stderr.split(b"websocat:")[0]  # the shell's line


def test_failing_child_of_a_listener_is_one_line_per_session(websocat: Websocat) -> None:
    proc, port = websocat.listen("tcp-l:127.0.0.1:0", "exec:no-such-program-here")
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            try:
                assert sock.recv(100) == b""
            except ConnectionResetError:
                pass
    proc.terminate()
    _out, err = websocat.finish(proc)
    assert err.decode().count("exec:no-such-program-here: No such file or directory") == 2
    assert b"Traceback" not in err


def test_windows_creation_flags_elsewhere(websocat: Websocat) -> None:
    result = websocat.run("-", "exec:cat", "--exec-windows-creation-flags", "8")
    assert result.returncode == 2
    assert one_error_line(result.stderr) == "websocat: --exec-windows-creation-flags is only available on Windows"


@pytest.mark.parametrize("spec", ["exec:", "cmd:"])
def test_empty_program(websocat: Websocat, spec: str) -> None:
    result = websocat.run("-", spec)
    assert result.returncode == 2
    assert "needs" in one_error_line(result.stderr)


# -- --exec-after-listen


def test_exec_after_listen_with_the_port(websocat: Websocat, tmp_path: Path) -> None:
    """The command runs once listening, with the port appended; connections wait for it."""
    out = tmp_path / "out"
    command = f"sleep 0.5; echo >{out}"
    proc, port = websocat.listen(
        "tcp-l:127.0.0.1:0", "exec:cat", "--exec-after-listen", command, "--exec-after-listen-append-port"
    )
    assert tcp_round_trip(port, b"ping") == b"ping"
    assert out.read_text() == f"{port}\n"  # written before the session could start
    proc.terminate()
    websocat.finish(proc)


def test_exec_after_listen_on_the_right(websocat: Websocat, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = websocat.spawn(
        "-U", "-", "tcp-l:127.0.0.1:0", "--exec-after-listen", f"echo >{out}", "--exec-after-listen-append-port"
    )
    deadline = time.monotonic() + 10
    while not (out.exists() and out.read_text().endswith("\n")) and time.monotonic() < deadline:
        time.sleep(0.02)
    port = int(out.read_text())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"to stdout")
    stdout, err = websocat.finish(proc)
    assert stdout == b"to stdout", err


# -- --exec-dup2: the socket itself is the child's stdin/stdout


def _fd_flags(sock: socket.socket) -> int:
    """The child's report of its fd 0 flags (from /proc/self/fdinfo, octal)."""
    line = read_line(sock).decode()
    assert line.startswith("flags:"), line
    return int(line.split()[1], 8)


@pytest.mark.parametrize("keep", [False, True])
def test_dup2_gives_the_socket_itself(websocat: Websocat, keep: bool) -> None:
    extra = ["--exec-dup2-keep-nonblocking"] if keep else []
    proc, port = websocat.listen(
        "--exec-dup2",
        "0,1",
        *extra,
        "tcp-l:127.0.0.1:0",
        "cmd:readlink /proc/self/fd/0 /proc/self/fd/1; grep flags /proc/self/fdinfo/0; exec cat",
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        first, second = read_line(sock), read_line(sock)
        assert first.startswith(b"socket:[") and first == second  # both the connection itself
        assert bool(_fd_flags(sock) & os.O_NONBLOCK) is keep
        if keep:
            return  # cat would meet EAGAIN: a child given a non-blocking socket must expect it
        payload = os.urandom(1 << 20)
        sock.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = sock.recv(1 << 16)
            assert chunk
            got += chunk
        assert got == payload


def test_dup2_into_a_higher_slot(websocat: Websocat) -> None:
    proc, port = websocat.listen("--exec-dup2", "5", "tcp-l:127.0.0.1:0", "cmd:echo hi-from-5 >&5")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        assert read_line(sock) == b"hi-from-5\n"
        assert sock.recv(10) == b""  # the child exited: the last copy of the socket is gone
    proc.terminate()
    websocat.finish(proc)


def test_dup2_execve_becomes_the_program(websocat: Websocat) -> None:
    proc, port = websocat.listen("--exec-dup2", "0,1", "--exec-dup2-execve", "tcp-l:127.0.0.1:0", "exec:cat")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"through cat\n")
        assert read_line(sock) == b"through cat\n"
        assert Path(f"/proc/{proc.pid}/comm").read_text() == "cat\n"  # websocat's own pid
    websocat.finish(proc)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "0", "exec:cat"], "neither side may have overlays"),
        (["exec:cat", "tcp-l:127.0.0.1:0"], "on the right side (SPEC2), not on the left"),
        (["tcp-l:127.0.0.1:0", "mirror:"], "requires the right side (SPEC2) to be exec: or cmd:"),
    ],
)
def test_dup2_refused_plans(websocat: Websocat, args: list[str], message: str) -> None:
    result = websocat.run("--exec-dup2", "0,1", *args)
    assert result.returncode == 2
    assert message in one_error_line(result.stderr)


def test_dup2_bad_slots_and_no_socket(websocat: Websocat) -> None:
    result = websocat.run("--exec-dup2", "0,x", "tcp-l:127.0.0.1:0", "exec:cat")
    assert result.returncode == 2
    assert "comma-separated list of fd numbers" in one_error_line(result.stderr)
    result = websocat.run("--exec-dup2", "0,1", "-", "exec:cat")
    assert result.returncode == 1
    assert one_error_line(result.stderr) == "websocat: --exec-dup2: stdio: has no file descriptor to hand over"


@pytest.mark.parametrize(
    ("args", "warning"),
    [
        (["--exec-chdir", "/", "-", "mirror:"], "no exec: or cmd: endpoint"),
        (["-", "cmd:cat", "--exec-args", "x"], "--exec-args has no effect on cmd:"),
        (["--exec-dup2-execve", "-", "exec:cat"], "have no effect without --exec-dup2"),
        (["--exec-after-listen", "true", "-", "exec:cat"], "no side listens"),
    ],
)
def test_process_options_without_effect_are_warned(websocat: Websocat, args: list[str], warning: str) -> None:
    result = websocat.run(*args)
    assert result.returncode == 0
    assert warning in result.stderr.decode()
