"""--ping-interval, --ping-timeout, --print-ping-rtts and --max-sent-pings on real connections:
a peer that stops answering is dropped in time (exit code 5), a live one is kept."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import Websocat
from websockets.sync.client import connect

from websocat.runtime.errors import EXIT_TIMEOUT

RTT_LINE = re.compile(rb"^RTT \d+\.\d{6} s$")


class SilentPeer:
    """Completes one WebSocket handshake (as server, or as client with ``client=True``),
    then never reads nor answers: a peer that hangs, as one stopped with SIGSTOP."""

    def __init__(self, port: int | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0)) if port is None else None
        self.port = port if port is not None else self.sock.getsockname()[1]  # type: ignore[union-attr]
        self.handshaken = threading.Event()
        self.handshake_at = 0.0
        self.conn: socket.socket | None = None
        self.release = threading.Event()

    def serve(self) -> None:
        assert self.sock is not None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        assert self.sock is not None
        conn, _ = self.sock.accept()
        self.conn = conn
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(4096)
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self._handshaken()

    def connect(self) -> None:
        """As a client: send the upgrade request, read the reply, then go silent."""
        conn = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.conn = conn
        key = base64.b64encode(b"0123456789abcdef")
        conn.sendall(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            assert chunk, "the server closed during the handshake"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head
        self._handshaken()

    def _handshaken(self) -> None:
        self.handshake_at = time.monotonic()
        self.handshaken.set()

    def close(self) -> None:
        for sock in (self.conn, self.sock):
            if sock is not None:
                sock.close()


@pytest.fixture
def silent_peer() -> Iterator[SilentPeer]:
    peer = SilentPeer()
    peer.serve()
    try:
        yield peer
    finally:
        peer.close()


def test_client_drops_a_peer_that_stops_answering(websocat: Websocat, silent_peer: SilentPeer) -> None:
    interval, timeout = 0.3, 1.0
    proc = websocat.spawn(
        "--ping-interval",
        str(interval),
        "--ping-timeout",
        str(timeout),
        f"ws://127.0.0.1:{silent_peer.port}/",
        stdin=subprocess.PIPE,  # kept open: only the pings can end this session
    )
    assert silent_peer.handshaken.wait(15), "websocat did not connect"
    out, err = websocat.finish(proc, timeout=15)
    elapsed = time.monotonic() - silent_peer.handshake_at
    assert proc.returncode == EXIT_TIMEOUT, err
    assert err.decode().splitlines() == [
        "websocat: no WebSocket pong for 1 s (--ping-timeout): the peer stopped answering"
    ]
    assert out == b""
    assert elapsed < interval + timeout + 1.0, f"detected after {elapsed:.2f} s"
    assert elapsed >= timeout * 0.9


def test_client_keeps_a_live_peer_and_prints_rtts(websocat: Websocat, echo_url: str) -> None:
    interval, timeout = 0.2, 0.6
    proc = websocat.spawn(
        "--ping-interval",
        str(interval),
        "--ping-timeout",
        str(timeout),
        "--print-ping-rtts",
        echo_url,
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"connected\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"connected\n"  # however slow the start
    time.sleep(2.0)  # several intervals, more than three timeouts
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
    proc.stdin.write(b"still here\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"still here\n"
    proc.stdin.close()
    out, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    lines = err.splitlines()
    assert len(lines) >= 5, err
    assert all(RTT_LINE.match(line) for line in lines), err


def test_max_sent_pings_stops_pinging(websocat: Websocat, echo_url: str) -> None:
    proc = websocat.spawn(
        "--ping-interval", "0.1", "--max-sent-pings", "3", "--print-ping-rtts", echo_url, stdin=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stderr is not None
    lines = [proc.stderr.readline() for _ in range(3)]  # however slow the start
    assert all(RTT_LINE.match(line.rstrip(b"\n")) for line in lines), lines
    time.sleep(1.0)  # ten intervals more: no fourth ping
    proc.stdin.close()
    _out, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert err == b""


def test_server_drops_a_client_that_stops_answering(websocat: Websocat) -> None:
    """ws-l: with pings: the silent client's session ends with the timeout's line; the
    server serves on, and a live client after it is not dropped."""
    proc, port = websocat.listen("--ping-interval", "0.3", "--ping-timeout", "1", "ws-l:127.0.0.1:0", "mirror:")
    assert proc.stderr is not None
    peer = SilentPeer(port)
    try:
        peer.connect()
        line = proc.stderr.readline()  # blocks until the session fails
        elapsed = time.monotonic() - peer.handshake_at
    finally:
        peer.close()
    assert b"no WebSocket pong for 1 s (--ping-timeout)" in line, line
    assert elapsed < 0.3 + 1.0 + 1.0, f"detected after {elapsed:.2f} s"
    with connect(f"ws://127.0.0.1:{port}/") as client:  # websockets answers pings
        time.sleep(2.0)
        client.send("alive")
        assert client.recv(timeout=5) == "alive"
    assert proc.poll() is None


def test_ping_options_check_their_values(websocat: Websocat) -> None:
    for args, message in (
        (
            ["--ping-interval", "0", "ws://127.0.0.1:1/"],
            "option '--ping-interval': expected a number of seconds above 0",
        ),
        (["--ping-timeout", "x", "ws://127.0.0.1:1/"], "option '--ping-timeout': 'x' is not a number"),
        (["--max-sent-pings=-1", "ws://127.0.0.1:1/"], "option '--max-sent-pings': '-1' is negative"),
    ):
        result = websocat.run(*args)
        assert result.returncode == 2, result
        err = result.stderr.decode()
        assert len(err.splitlines()) == 1 and message in err, err


PAUSABLE_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve

async def echo(conn):
    async for message in conn:
        await conn.send(message)

async def main():
    async with serve(echo, "127.0.0.1", 0) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


def test_client_drops_a_paused_websockets_server(websocat: Websocat) -> None:
    """A websockets server stopped with SIGSTOP after it answered: dropped within interval + timeout."""
    server = subprocess.Popen([sys.executable, "-c", PAUSABLE_SERVER], stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        interval, timeout = 0.3, 1.0
        proc = websocat.spawn(
            "--ping-interval",
            str(interval),
            "--ping-timeout",
            str(timeout),
            f"ws://127.0.0.1:{port}/",
            stdin=subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"before\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"before\n"  # connected, and the server answers
        time.sleep(2 * timeout)  # answered pings keep it up
        assert proc.poll() is None
        os.kill(server.pid, signal.SIGSTOP)
        paused = time.monotonic()
        out, err = websocat.finish(proc, timeout=15)
        elapsed = time.monotonic() - paused
        assert proc.returncode == EXIT_TIMEOUT, err
        assert b"(--ping-timeout): the peer stopped answering" in err
        assert elapsed < interval + timeout + 1.0, f"detected after {elapsed:.2f} s"
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.kill()
        server.wait(10)
