"""--connect-timeout-ms (each stage named), --idle-timeout-ms, --close-status-code and
--close-reason, the exit status of a peer's Close, and --stats / --stats-json, on real
sockets with `websockets` peers."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Websocat
from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve

from websocat.runtime.errors import EXIT_OK, EXIT_PEER_CLOSED, EXIT_TIMEOUT, EXIT_USAGE


class ClosingServer:
    """A `websockets` server that records each connection's messages and the Close it got,
    and optionally closes first with ``close`` (code, reason) after ``after`` messages."""

    def __init__(self, close: tuple[int, str] | None = None, after: int = 1, echo: bool = False) -> None:
        self.close, self.after, self.echo = close, after, echo
        self.received: list[str | bytes] = []
        self.closes: list[tuple[int | None, str | None]] = []
        self.finished = threading.Event()
        self.server = serve(self._handler, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self, conn: ServerConnection) -> None:
        try:
            for message in conn:
                self.received.append(message)
                if self.echo:
                    conn.send(message)
                if self.close is not None and len(self.received) >= self.after:
                    conn.close(*self.close)
                    break
        except Exception:  # noqa: BLE001 - a Close with an error code ends the loop this way
            pass
        finally:
            rcvd = conn.protocol.close_rcvd
            self.closes.append((rcvd.code, rcvd.reason) if rcvd is not None else (None, None))
            self.finished.set()

    def wait(self) -> None:
        assert self.finished.wait(20), "the server's handler did not end"

    def shutdown(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture
def closing_server() -> Iterator[type[ClosingServer]]:
    servers: list[ClosingServer] = []

    class Tracked(ClosingServer):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            servers.append(self)

    try:
        yield Tracked
    finally:
        for server in servers:
            server.shutdown()


def talk(websocat: Websocat, lines: list[bytes], replies: int, *args: str) -> tuple[int, bytes, bytes]:
    """Start websocat ARGS, send ``lines``, keep stdin open until ``replies`` lines are back
    on stdout, then end stdin; returns (exit code, stdout, stderr)."""
    code, got, out, err = websocat.feed(b"".join(lines), *args, enough=lambda got: got.count(b"\n") >= replies)
    assert code is not None
    return code, got + out, err


# ---------------------------------------------------------------- --close-status-code, --close-reason


def test_close_status_code_and_reason_reach_the_server(websocat: Websocat, closing_server: type[ClosingServer]) -> None:
    server = closing_server()
    code, _out, err = talk(
        websocat, [b"hi\n"], 0, "--close-status-code", "4000", "--close-reason", "bye now", server.url
    )
    server.wait()
    assert server.received == ["hi"]
    assert server.closes == [(4000, "bye now")]
    assert code == EXIT_OK, err  # the peer's Close echoes our code: not an abnormal close
    assert err == b""


def test_close_reason_alone_is_sent_with_1000(websocat: Websocat, closing_server: type[ClosingServer]) -> None:
    server = closing_server()
    code, _out, err = talk(websocat, [b"hi\n"], 0, "--close-reason", "done", server.url)
    server.wait()
    assert server.closes == [(1000, "done")]
    assert code == EXIT_OK, err


def test_without_the_options_the_close_is_empty(websocat: Websocat, closing_server: type[ClosingServer]) -> None:
    server = closing_server()
    code, _out, err = talk(websocat, [b"hi\n"], 0, server.url)
    server.wait()
    assert server.closes == [(1005, "")]
    assert code == EXIT_OK, err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--close-status-code", "1005"], b"1005 cannot be sent in a Close frame"),
        (["--close-status-code", "1006"], b"1006 cannot be sent in a Close frame"),
        (["--close-status-code", "999"], b"999 cannot be sent in a Close frame"),
        (["--close-status-code", "5000"], b"5000 cannot be sent in a Close frame"),
        (["--close-status-code", "2999"], b"2999 cannot be sent in a Close frame"),
        (["--close-reason", "\u00e9" * 62], b"124 bytes of UTF-8, more than a Close frame carries (123)"),
        (["--connect-timeout-ms", "0"], b"option '--connect-timeout-ms': expected a number of milliseconds above 0"),
        (["--idle-timeout-ms=-5"], b"option '--idle-timeout-ms': '-5' is negative"),
    ],
)
def test_bad_values_are_one_line(websocat: Websocat, args: list[str], needle: bytes) -> None:
    result = websocat.run(*args, "ws://127.0.0.1:9/")
    assert result.returncode == EXIT_USAGE
    assert needle in result.stderr
    assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr


def test_a_close_reason_of_123_bytes_is_sent(websocat: Websocat, closing_server: type[ClosingServer]) -> None:
    server = closing_server()
    reason = "\u00e9" * 61 + "x"  # 123 bytes
    code, _out, err = talk(websocat, [b"hi\n"], 0, "--close-status-code", "3000", "--close-reason", reason, server.url)
    server.wait()
    assert server.closes == [(3000, reason)]
    assert code == EXIT_OK, err


def test_close_status_code_without_a_websocket_is_a_lint(websocat: Websocat) -> None:
    result = websocat.run("--close-status-code", "4000", "literal:x", "-")
    assert result.returncode == EXIT_OK
    assert b"--close-status-code has no effect here" in result.stderr


# ---------------------------------------------------------------- a peer's Close: line and exit status


@pytest.mark.parametrize(
    ("close", "status", "line"),
    [
        ((1000, "ok"), EXIT_OK, b""),
        ((1001, "going"), EXIT_OK, b"websocat: peer closed the WebSocket with code 1001: going\n"),
        ((1011, "oops"), EXIT_PEER_CLOSED, b"websocat: peer closed the WebSocket with code 1011: oops\n"),
        ((4000, "custom"), EXIT_PEER_CLOSED, b"websocat: peer closed the WebSocket with code 4000: custom\n"),
    ],
)
def test_peer_close_code_sets_the_exit_status(
    websocat: Websocat, closing_server: type[ClosingServer], close: tuple[int, str], status: int, line: bytes
) -> None:
    server = closing_server(close=close)
    proc = websocat.spawn(server.url, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(b"hi\n")
    proc.stdin.flush()
    server.wait()
    _out, err = websocat.finish(proc)  # the server's Close ends the session; stdin still open
    assert proc.returncode == status, err
    assert err == line


# ---------------------------------------------------------------- --connect-timeout-ms


class SilentServer:
    """Accepts TCP connections and never says a word (no TLS, no HTTP)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    server = SilentServer()
    try:
        yield server.port
    finally:
        server.close()


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A listening socket that never accepts, its backlog filled: a new connect() hangs
    (Linux drops the SYN).  Skipped when the system completes the connects anyway."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(0)
    port = sock.getsockname()[1]
    held: list[socket.socket] = []
    try:
        for _ in range(8):
            probe = socket.socket()
            probe.setblocking(False)
            probe.connect_ex(("127.0.0.1", port))
            held.append(probe)
            _, writable, _ = select.select([], [probe], [], 0.3)
            if not writable:
                break  # this one hangs: so will the next
        else:
            pytest.skip("the backlog never filled: connect() completes without accept()")
        yield port
    finally:
        for probe in held:
            probe.close()
        sock.close()


def check_timeout(result: subprocess.CompletedProcess[bytes], line: bytes, started: float) -> None:
    assert result.returncode == EXIT_TIMEOUT, result.stderr
    assert result.stderr == line
    assert time.monotonic() - started < 10  # not v1's 60 s nor the system's SYN retries


def test_tcp_connect_timeout(websocat: Websocat, full_backlog_port: int) -> None:
    started = time.monotonic()
    result = websocat.run("--connect-timeout-ms", "300", f"ws://127.0.0.1:{full_backlog_port}/")
    check_timeout(
        result,
        f"websocat: 127.0.0.1:{full_backlog_port}: TCP connect timed out after 300 ms (--connect-timeout-ms)\n".encode(),
        started,
    )


def test_tcp_connect_timeout_of_a_plain_tcp_client(websocat: Websocat, full_backlog_port: int) -> None:
    result = websocat.run("--connect-timeout-ms", "300", "-b", "literal:x", f"tcp:127.0.0.1:{full_backlog_port}")
    assert result.returncode == EXIT_TIMEOUT
    assert b"TCP connect timed out after 300 ms" in result.stderr


@pytest.mark.parametrize(("scheme", "stage"), [("wss", "TLS handshake"), ("ws", "WebSocket upgrade")])
def test_stage_timeout_against_a_silent_server(websocat: Websocat, silent_port: int, scheme: str, stage: str) -> None:
    started = time.monotonic()
    result = websocat.run("--connect-timeout-ms", "400", f"{scheme}://127.0.0.1:{silent_port}/")
    check_timeout(
        result,
        f"websocat: 127.0.0.1:{silent_port}: {stage} timed out after 400 ms (--connect-timeout-ms)\n".encode(),
        started,
    )


@pytest.mark.parametrize("proxy", ["--socks5", "--proxy"])
def test_proxy_tunnel_timeout(websocat: Websocat, silent_port: int, proxy: str) -> None:
    address = f"127.0.0.1:{silent_port}" if proxy == "--socks5" else f"http://127.0.0.1:{silent_port}"
    started = time.monotonic()
    result = websocat.run("--connect-timeout-ms", "400", proxy, address, "ws://example.com/")
    check_timeout(
        result,
        f"websocat: 127.0.0.1:{silent_port}: proxy tunnel to example.com:80 timed out after 400 ms"
        " (--connect-timeout-ms)\n".encode(),
        started,
    )


def test_a_connect_timeout_does_not_limit_the_session(websocat: Websocat, echo_url: str) -> None:
    """Each stage has its own budget; the session after it has none."""
    proc = websocat.spawn("--connect-timeout-ms", "300", echo_url, stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    time.sleep(0.8)
    proc.stdin.write(b"late\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"late\n"
    proc.stdin.close()
    _out, err = websocat.finish(proc)
    assert proc.returncode == EXIT_OK, err


# ---------------------------------------------------------------- --idle-timeout-ms


def read_stderr_lines(proc: subprocess.Popen[bytes], count: int, needle: bytes) -> list[bytes]:
    """The first ``count`` lines of a running process's stderr that contain ``needle``
    (a session's line comes after its sockets were closed: wait for it, not for the close)."""
    assert proc.stderr is not None
    found: list[bytes] = []
    while len(found) < count:
        line = proc.stderr.readline()  # the fixture's watchdog kills a process that hangs
        if not line:
            break
        if needle in line:
            found.append(line)
    assert len(found) == count, f"expected {count} lines with {needle!r}, got {found!r}"
    return found


def test_idle_client_session_is_closed_with_1001(websocat: Websocat, closing_server: type[ClosingServer]) -> None:
    server = closing_server(echo=True)
    proc = websocat.spawn("--idle-timeout-ms", "400", server.url, stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"one\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"one\n"
    started = time.monotonic()
    server.wait()  # stdin stays open: only the idle timeout ends the session
    _out, err = websocat.finish(proc)
    assert 0.3 < time.monotonic() - started < 10
    assert server.closes == [(1001, "idle timeout")]
    assert proc.returncode == EXIT_TIMEOUT
    assert err == b"websocat: no data either way for 400 ms (--idle-timeout-ms): session closed\n"


def test_traffic_keeps_a_session_alive(websocat: Websocat, closing_server: type[ClosingServer]) -> None:
    server = closing_server(echo=True)
    proc = websocat.spawn("--idle-timeout-ms", "600", server.url, stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    for index in range(8):  # 1.6 s in all, never 600 ms quiet
        proc.stdin.write(b"%d\n" % index)
        proc.stdin.flush()
        assert proc.stdout.readline() == b"%d\n" % index
        time.sleep(0.2)
    proc.stdin.close()
    _out, err = websocat.finish(proc)
    server.wait()
    assert proc.returncode == EXIT_OK, err
    assert server.closes == [(1005, "")]


def test_idle_server_sessions_are_closed_and_serving_goes_on(websocat: Websocat) -> None:
    proc, port = websocat.listen("--idle-timeout-ms", "400", "ws-l:127.0.0.1:0", "mirror:")
    for _ in range(2):
        with connect(f"ws://127.0.0.1:{port}/", open_timeout=10) as conn:
            conn.send("ping")
            assert conn.recv(timeout=10) == "ping"
            with pytest.raises(Exception):  # noqa: B017 - ConnectionClosedOK or its kin
                conn.recv(timeout=10)
            assert conn.close_code == 1001 and conn.close_reason == "idle timeout"
    assert proc.poll() is None  # still serving
    lines = read_stderr_lines(proc, 2, b"no data either way for 400 ms (--idle-timeout-ms): session closed")
    assert all(line.startswith(b"websocat: 127.0.0.1:") for line in lines)


def test_idle_plain_tcp_relay_is_closed(websocat: Websocat) -> None:
    upstream = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve_one() -> None:
        conn, _ = upstream.accept()
        accepted.append(conn)
        conn.sendall(conn.recv(100))  # one echo, then silence

    threading.Thread(target=serve_one, daemon=True).start()
    proc, port = websocat.listen(
        "--idle-timeout-ms", "400", "-b", "tcp-l:127.0.0.1:0", f"tcp:127.0.0.1:{upstream.getsockname()[1]}"
    )
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(b"abc")
            assert client.recv(100) == b"abc"
            started = time.monotonic()
            assert client.recv(100) == b""  # closed by websocat
            assert 0.3 < time.monotonic() - started < 10
        read_stderr_lines(proc, 1, b"no data either way for 400 ms (--idle-timeout-ms): session closed")
    finally:
        upstream.close()
        for conn in accepted:
            conn.close()


# ---------------------------------------------------------------- --stats, --stats-json


def test_stats_json_counts_exactly(websocat: Websocat, echo_url: str) -> None:
    lines = [b"a\n", b"bb\n", b"ccc\n", b"\xc3\xa9\n"]
    code, out, err = talk(websocat, lines, 4, "--stats-json", echo_url)
    assert code == EXIT_OK, err
    assert out == b"".join(lines)
    (line,) = err.splitlines()
    stats = json.loads(line)
    # left is the URL, right is stdio (websocat4's one-argument form)
    assert stats["left_to_right_messages"] == 4 and stats["left_to_right_bytes"] == 8
    assert stats["right_to_left_messages"] == 4 and stats["right_to_left_bytes"] == 8
    assert stats["close_sent"] == {"code": 1005, "reason": ""}
    assert stats["close_received"] == {"code": 1005, "reason": ""}
    assert stats["connect_ms"] >= 0 and stats["upgrade_ms"] > 0 and "tls_ms" not in stats
    assert stats["duration_ms"] >= stats["connect_ms"] + stats["upgrade_ms"]
    assert "error" not in stats


def test_stats_text_line(websocat: Websocat, closing_server: type[ClosingServer]) -> None:
    server = closing_server(close=(4001, "enough"), after=2, echo=True)
    code, _out, err = talk(websocat, [b"x\n", b"yz\n"], 2, "--stats", server.url)
    server.wait()
    assert code == EXIT_PEER_CLOSED
    first, stats = err.decode().splitlines()
    assert first == "websocat: peer closed the WebSocket with code 4001: enough"
    assert stats.startswith("websocat: stats: left->right 2 msgs 3 B, right->left 2 msgs 3 B, ")
    assert ", connect " in stats and ", upgrade " in stats and ", tls " not in stats
    assert stats.endswith(", close sent 4001, close received 4001 'enough'")


def test_stats_over_tls(websocat: Websocat, pki: dict[str, Path], wss_port: int) -> None:
    websocat.env = dict(websocat.env, SSL_CERT_FILE=str(pki["ca"]))
    code, _out, err = talk(websocat, [b"hello\n"], 1, "--stats-json", f"wss://localhost:{wss_port}/")
    assert code == EXIT_OK, err
    stats = json.loads(err.splitlines()[-1])
    assert stats["tls_ms"] > 0 and stats["right_to_left_bytes"] == 5


def test_stats_of_a_failed_connect(websocat: Websocat, silent_port: int) -> None:
    result = websocat.run("--stats-json", "--connect-timeout-ms", "300", f"ws://127.0.0.1:{silent_port}/")
    assert result.returncode == EXIT_TIMEOUT
    error_line, stats_line = result.stderr.splitlines()
    stats = json.loads(stats_line)
    assert stats["error"] == error_line.decode().removeprefix("websocat: ")
    assert "upgrade_ms" not in stats and stats["connect_ms"] >= 0


def test_stats_one_line_per_server_session(websocat: Websocat) -> None:
    proc, port = websocat.listen("--stats-json", "ws-l:127.0.0.1:0", "mirror:")
    for count in (1, 3):
        with connect(f"ws://127.0.0.1:{port}/", open_timeout=10) as conn:
            for index in range(count):
                conn.send(b"\x00" * (index + 1))
                assert conn.recv(timeout=10) == b"\x00" * (index + 1)
            conn.close(4002, "client done")
    deadline = time.monotonic() + 10
    assert proc.stderr is not None
    seen: list[dict[str, object]] = []
    while len(seen) < 2 and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith(b"{"):
            seen.append(json.loads(line))
    proc.kill()
    proc.communicate(timeout=10)
    assert [(s["left_to_right_messages"], s["left_to_right_bytes"]) for s in seen] == [(1, 1), (3, 6)]
    assert [(s["right_to_left_messages"], s["right_to_left_bytes"]) for s in seen] == [(1, 1), (3, 6)]
    for stats in seen:
        assert str(stats["peer"]).startswith("127.0.0.1:")
        assert stats["close_received"] == {"code": 4002, "reason": "client done"}
        assert "connect_ms" not in stats


def test_stats_of_a_plain_tcp_relay(websocat: Websocat) -> None:
    upstream = socket.create_server(("127.0.0.1", 0))

    def serve_one() -> None:
        conn, _ = upstream.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    threading.Thread(target=serve_one, daemon=True).start()
    payload = b"x" * 100_000
    _code, got, _out, err = websocat.feed(
        payload, "--stats-json", "-b", "-", f"tcp:127.0.0.1:{upstream.getsockname()[1]}"
    )
    upstream.close()
    assert got == payload
    stats = json.loads(err.splitlines()[-1])
    assert stats["left_to_right_bytes"] == stats["right_to_left_bytes"] == len(payload)
    assert stats["left_to_right_messages"] >= 1  # reads, for byte streams
    assert "close_sent" not in stats
