"""UNIX sockets end to end: unix:, unix-listen:, abstract:, seqpacket: and their
listeners, with real websocat processes, real sockets and `websockets` clients; the
--unlink and --chmod-* options; the errors (one line, exit code 3)."""

from __future__ import annotations

import ctypes
import hashlib
import os
import select
import socket
import socketserver
import shlex
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Websocat
from websockets.sync.client import connect as ws_connect

CONNECT = 3


def wait_listening(websocat: Websocat, *args: str, timeout: float = 15.0) -> subprocess.Popen[bytes]:
    """Start websocat ARGS with --stdout-announce-listening-ports; return once it printed
    websocat4's line for UNIX sockets, 'LISTEN proto=unix'."""
    proc = websocat.spawn("--stdout-announce-listening-ports", *args)
    assert proc.stdout is not None
    line = b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout.fileno()], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            pytest.fail(f"websocat {args!r} did not announce listening within {timeout} s")
        byte = os.read(proc.stdout.fileno(), 1)
        if not byte:
            _out, err = websocat.finish(proc, timeout=5)
            pytest.fail(f"websocat {args!r} exited before listening (code {proc.returncode}): {err!r}")
        line += byte
    assert line == b"LISTEN proto=unix\n"
    return proc


def read_stderr_until(proc: subprocess.Popen[bytes], expected: bytes, timeout: float = 10.0) -> bytes:
    """What a running process wrote on stderr, once it holds ``expected``."""
    assert proc.stderr is not None
    err = b""
    deadline = time.monotonic() + timeout
    while expected not in err:
        ready, _, _ = select.select([proc.stderr.fileno()], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            pytest.fail(f"{expected!r} not on stderr within {timeout} s: {err!r}")
        chunk = os.read(proc.stderr.fileno(), 65536)
        if not chunk:
            pytest.fail(f"stderr ended without {expected!r}: {err!r}")
        err += chunk
    return err


def one_error_line(result: subprocess.CompletedProcess[bytes], *fragments: str) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("websocat: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert result.returncode == CONNECT, (result.returncode, lines[0])
    return lines[0]


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _UnixEchoServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def unix_echo(tmp_path: Path) -> Iterator[str]:
    """A UNIX stream echo server (the standard library's); yields its path."""
    path = str(tmp_path / "echo.sock")
    server = _UnixEchoServer(path, _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield path
    server.shutdown()
    server.server_close()


@pytest.fixture
def seqpacket_echo(tmp_path: Path) -> Iterator[str]:
    """A SOCK_SEQPACKET server that sends every datagram back, 0-byte ones too; yields its path."""
    path = str(tmp_path / "seqpacket.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            with conn:
                while True:
                    data, ancillary, _flags, _addr = conn.recvmsg(1 << 20, socket.CMSG_SPACE(12))
                    if not data and not ancillary:
                        break  # EOF
                    conn.send(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()


# -- unix: and unix-listen:


def test_ws_listen_to_unix_with_a_websockets_client(websocat: Websocat, unix_echo: str) -> None:
    proc, port = websocat.listen("-b", "ws-l:127.0.0.1:0", f"unix:{unix_echo}")
    with ws_connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
        for message in (b"hello", bytes(range(256)) * 100, b"last"):
            ws.send(message)
            got = b""
            while len(got) < len(message):
                reply = ws.recv(timeout=10)
                assert isinstance(reply, bytes)
                got += reply
            assert got == message
    proc.kill()


def bulk_round_trip(websocat: Websocat, path: str, size: int = 50 << 20) -> float:
    """``websocat -b - unix:PATH`` with ``size`` random bytes on stdin, all read back on
    stdout (sha256 checked); returns the seconds it took."""
    payload = os.urandom(1 << 20) * (size >> 20)
    client = websocat.spawn("-b", "-", f"unix:{path}", stdin=subprocess.PIPE)
    assert client.stdin is not None and client.stdout is not None

    def feed() -> None:
        assert client.stdin is not None
        client.stdin.write(payload)
        client.stdin.close()

    started = time.monotonic()
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    digest = hashlib.sha256()
    received = 0
    while chunk := client.stdout.read1(1 << 20):
        digest.update(chunk)
        received += len(chunk)
    elapsed = time.monotonic() - started
    writer.join(10)
    _out, err = websocat.finish(client)
    assert client.returncode == 0, err
    assert received == len(payload)
    assert digest.hexdigest() == hashlib.sha256(payload).hexdigest()
    return elapsed


def test_50_mb_round_trip_over_unix_stream(websocat: Websocat, tmp_path: Path) -> None:
    """websocat - unix:PATH to websocat unix-listen:PATH mirror:, 50 MB each way, sha256 checked."""
    path = str(tmp_path / "bulk.sock")
    server = wait_listening(websocat, f"unix-l:{path}", "mirror:")
    elapsed = bulk_round_trip(websocat, path)
    print(f"50 MB each way over unix: in {elapsed:.2f} s ({50 * 1.048576 / elapsed:.0f} MB/s)")
    server.kill()


def test_50_mb_through_a_unix_to_unix_relay(websocat: Websocat, tmp_path: Path, unix_echo: str) -> None:
    """unix-listen: -> unix: between two plain sockets (relayed with splice(2)) to an echo
    server: 50 MB there and back, sha256 checked."""
    path = str(tmp_path / "relay.sock")
    relay = wait_listening(websocat, f"unix-l:{path}", f"unix:{unix_echo}")
    elapsed = bulk_round_trip(websocat, path)
    print(f"50 MB each way through a unix relay in {elapsed:.2f} s ({50 * 1.048576 / elapsed:.0f} MB/s)")
    relay.kill()


def test_unix_listen_on_the_right_accepts_one(websocat: Websocat, tmp_path: Path) -> None:
    path = tmp_path / "right.sock"
    proc = websocat.spawn("-b", "literal:from websocat", f"unix-l:{path}")
    deadline = time.monotonic() + 15
    while not path.exists():
        assert time.monotonic() < deadline, "the socket file did not appear"
        time.sleep(0.02)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        sock.shutdown(socket.SHUT_WR)
        got = b""
        while data := sock.recv(100):
            got += data
    assert got == b"from websocat"
    _out, err = websocat.finish(proc)
    assert proc.returncode == 0, err


def test_oneshot_unix_listener_serves_one_connection(websocat: Websocat, tmp_path: Path) -> None:
    path = str(tmp_path / "once.sock")
    proc = wait_listening(websocat, "--oneshot", f"unix-l:{path}", "mirror:")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        sock.sendall(b"once")
        assert sock.recv(10) == b"once"
    _out, err = websocat.finish(proc)
    assert proc.returncode == 0, err


# -- abstract namespace


def test_abstract_stream_and_seqpacket(websocat: Websocat) -> None:
    name = f"websocat-test-{os.getpid()}-{time.monotonic_ns()}"
    server = wait_listening(websocat, f"abstract-l:{name}", "mirror:")
    assert websocat.echo_through(b"abstract bytes\n", "-b", "-", f"abstract:{name}") == b"abstract bytes\n"
    server.kill()
    seqp = wait_listening(websocat, f"seqpacket-abstract-listen:{name}", "mirror:")
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.connect(b"\0" + name.encode())
        for message in (b"one", b"two"):
            sock.send(message)
            assert sock.recv(100) == message
    seqp.kill()


def test_abstract_connect_to_nothing_is_refused(websocat: Websocat) -> None:
    one_error_line(websocat.run("-b", "-", "abstract:websocat-nobody-listens-here"), "abstract:", "Connection refused")


# -- seqpacket: messages


def test_ws_listen_to_seqpacket_keeps_message_boundaries(websocat: Websocat, seqpacket_echo: str) -> None:
    proc, port = websocat.listen("ws-l:127.0.0.1:0", f"seqpacket:{seqpacket_echo}")
    messages = [b"one", b"", b"x" * 70_000, b"", "text arrives as binary"]
    with ws_connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
        for message in messages:
            ws.send(message)
        got = [ws.recv(timeout=10) for _ in messages]
    assert got == [m.encode() if isinstance(m, str) else m for m in messages]
    proc.kill()


def test_seqpacket_listener_mirrors_each_datagram(websocat: Websocat, tmp_path: Path) -> None:
    """seqpacket-listen: with mirror:, from a plain SOCK_SEQPACKET client: one datagram
    back per datagram sent, 0-byte ones included, then EOF both ways."""
    path = str(tmp_path / "mirror.sock")
    proc = wait_listening(websocat, f"seqpacket-l:{path}", "mirror:")
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        sock.connect(path)
        sent = [b"a", b"", b"bb", b"", b"", b"c" * 100_000]
        for message in sent:
            sock.send(message)
        sock.shutdown(socket.SHUT_WR)
        got = []
        while True:
            data, ancillary, _flags, _addr = sock.recvmsg(1 << 20, socket.CMSG_SPACE(12))
            if not data and not ancillary:
                break
            got.append(data)
    assert got == sent
    proc.kill()


def test_seqpacket_max_send_datagram_size(websocat: Websocat, seqpacket_echo: str) -> None:
    """A message of exactly --seqpacket-max-send-datagram-size goes out; one byte more ends the session."""
    args = ("--seqpacket-max-send-datagram-size", "1000", "ws-l:127.0.0.1:0", f"seqpacket:{seqpacket_echo}")
    proc, port = websocat.listen(*args)
    with ws_connect(f"ws://127.0.0.1:{port}/") as ws:
        ws.send(b"m" * 1000)
        assert ws.recv(timeout=10) == b"m" * 1000
        ws.send(b"m" * 1001)
        with pytest.raises(Exception):
            ws.recv(timeout=10)  # the session ends: the connection closes
    err = read_stderr_until(proc, b"longer than 1000")  # the session's error, reported as it ends
    proc.kill()
    assert b"Traceback" not in err, err


def test_seqpacket_text_marks_messages_text(websocat: Websocat, seqpacket_echo: str) -> None:
    proc, port = websocat.listen("--text", "ws-l:127.0.0.1:0", f"seqpacket:{seqpacket_echo}")
    with ws_connect(f"ws://127.0.0.1:{port}/") as ws:
        ws.send(b"\xc3\xa9t\xc3\xa9")
        assert ws.recv(timeout=10) == "\u00e9t\u00e9"
    proc.kill()


# -- --unlink and --chmod-*


def test_stale_socket_file_needs_unlink(websocat: Websocat, tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(path))  # a file left behind by a process that is gone
    one_error_line(websocat.run(f"unix-l:{path}", "mirror:"), f"unix-listen:{path}", "Address already in use")
    one_error_line(websocat.run(f"seqpacket-l:{path}", "mirror:"), "seqpacket-listen:", "Address already in use")
    proc = wait_listening(websocat, "--unlink", f"unix-l:{path}", "mirror:")
    assert websocat.echo_through(b"replaced\n", "-b", "-", f"unix:{path}") == b"replaced\n"
    proc.kill()


@pytest.mark.parametrize(
    ("option", "mode"), [("--chmod-owner", 0o600), ("--chmod-group", 0o660), ("--chmod-everyone", 0o666)]
)
@pytest.mark.parametrize("prefix", ["unix-l:", "seqpacket-l:"])
def test_chmod_sets_the_socket_file_mode(
    websocat: Websocat, tmp_path: Path, option: str, mode: int, prefix: str
) -> None:
    path = tmp_path / "mode.sock"
    old = os.umask(0o077 if mode != 0o600 else 0)  # the mode must come from the option, not the umask
    try:
        proc = wait_listening(websocat, option, f"{prefix}{path}", "mirror:")
    finally:
        os.umask(old)
    info = os.stat(path)
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == mode, oct(info.st_mode)
    proc.kill()


# -- errors


def test_nonexistent_socket_path(websocat: Websocat, tmp_path: Path) -> None:
    missing = tmp_path / "missing.sock"
    one_error_line(websocat.run("-b", "-", f"unix:{missing}"), f"unix:{missing}", "No such file or directory")
    one_error_line(websocat.run("-b", "-", f"seqpacket:{missing}"), f"seqpacket:{missing}", "No such file")


def test_address_in_use(websocat: Websocat, tmp_path: Path) -> None:
    path = str(tmp_path / "busy.sock")
    proc = wait_listening(websocat, f"unix-l:{path}", "mirror:")
    one_error_line(websocat.run("-b", f"unix-l:{path}", "mirror:"), "Address already in use")
    proc.kill()
    name = f"websocat-busy-{os.getpid()}"
    with socket.socket(socket.AF_UNIX) as holder:
        holder.bind(b"\0" + name.encode())
        one_error_line(websocat.run(f"abstract-l:{name}", "mirror:"), f"abstract-listen:{name}", "in use")


def test_permission_denied(websocat: Websocat, tmp_path: Path) -> None:
    """A socket in a directory the user may not enter (as root: without CAP_DAC_OVERRIDE)."""
    try:
        subprocess.run(["true"], preexec_fn=_without_root_powers, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot drop CAP_DAC_OVERRIDE for the child (no CAP_SETPCAP?): {exc}")
    locked = tmp_path / "locked"
    locked.mkdir()
    path = locked / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        sock.listen()
        locked.chmod(0)
        try:
            for args in (["-b", "-", f"unix:{path}"], [f"unix-l:{locked / 'new.sock'}", "mirror:"]):
                result = subprocess.run(
                    websocat.command(args),
                    capture_output=True,
                    env=websocat.env,
                    preexec_fn=_without_root_powers,
                    timeout=30,
                )
                one_error_line(result, "Permission denied")
        finally:
            locked.chmod(0o700)


def _without_root_powers() -> None:
    """In the child before exec: drop the capabilities that let root ignore file modes
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from the bounding set; nothing for a user."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_exec_after_listen_runs_once_listening(websocat: Websocat, tmp_path: Path) -> None:
    """--exec-after-listen on a UNIX listener, left (serving) and right (accepting one):
    the command runs once the socket listens, so it can connect to it."""

    def probe(path: Path) -> str:
        code = f"import socket; s = socket.socket(socket.AF_UNIX); s.connect({str(path)!r}); s.sendall(b'hi')"
        return f"{sys.executable} -c {shlex.quote(code)}"

    left = tmp_path / "left.sock"
    marker = tmp_path / "ran"
    proc = wait_listening(websocat, "--exec-after-listen", f"{probe(left)} && touch {marker}", f"unix-l:{left}", "-")
    assert proc.stdout is not None
    assert proc.stdout.read(2) == b"hi"  # the command's connection, served once it exited
    deadline = time.monotonic() + 15
    while not marker.exists():
        assert time.monotonic() < deadline, "the command did not finish"
        time.sleep(0.05)
    proc.kill()
    right = tmp_path / "right.sock"
    result = websocat.run("--exec-after-listen", probe(right), "-b", "-", f"unix-l:{right}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hi"
