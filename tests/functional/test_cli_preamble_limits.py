"""-p/-P (preambles), -1 (one message) and --max-messages/--max-messages-rev against
`websockets` servers."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from conftest import RecordingServer, Websocat, start_server
from websockets.asyncio.server import ServerConnection


async def stream_ten(conn: ServerConnection) -> None:
    """Sends 'msg 0' .. 'msg 9' at once, then keeps the connection open."""
    for n in range(10):
        await conn.send(f"msg {n}")
    await conn.wait_closed()


async def subscribe_then_stream(conn: ServerConnection) -> None:
    """Waits for 'subscribe', then sends three updates and closes."""
    if await conn.recv() == "subscribe":
        for n in range(3):
            await conn.send(f"update {n}")
            await asyncio.sleep(0.05)
    await conn.close()


@pytest.fixture
def stream_url() -> Iterator[str]:
    yield from start_server(stream_ten)


@pytest.fixture
def subscribe_url() -> Iterator[str]:
    yield from start_server(subscribe_then_stream)


def test_preambles_go_first_in_order(websocat: Websocat, ws_server: type[RecordingServer]) -> None:
    # No greeting from the server: stdin's EOF closes the connection at once, and a greeting
    # sent after our Close would fail the server's side (a race, not the preamble's order).
    server = ws_server()
    result = websocat.run("-p", '{"op": "auth"}', "-p", "subscribe", server.url, input=b"data 1\ndata 2\n")
    assert result.returncode == 0, result.stderr
    assert server.wait_finished() == ['{"op": "auth"}', "subscribe", "data 1", "data 2"]


def test_preamble_is_binary_with_b(websocat: Websocat, ws_server: type[RecordingServer]) -> None:
    server = ws_server()
    result = websocat.run("-b", "-p", "auth", server.url, input=b"")
    assert result.returncode == 0, result.stderr
    assert server.wait_finished() == [b"auth"]


def test_preamble_reverse_goes_to_stdout_first(websocat: Websocat, echo_url: str) -> None:
    result = websocat.run("-P", "connected", echo_url, input=b"one\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"connected\none\n"


def test_subscribe_then_listen(websocat: Websocat, subscribe_url: str) -> None:
    """The use of -p: subscribe, then print what comes, with nothing read from stdin (-u)."""
    result = websocat.run("-u", "-p", "subscribe", subscribe_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"update 0\nupdate 1\nupdate 2\n"


def test_preamble_between_tcp_sockets(websocat: Websocat) -> None:
    """Over bytes: -p goes to the right side, -P to the left, before anything else."""
    upstream, port = websocat.listen("--oneshot", "tcp-l:127.0.0.1:0", "mirror:")
    relay, relay_port = websocat.listen(
        "--oneshot", "-p", "HEAD;", "-P", "WELCOME;", "tcp-l:127.0.0.1:0", f"tcp:127.0.0.1:{port}"
    )
    with socket.create_connection(("127.0.0.1", relay_port), timeout=10) as sock:
        sock.sendall(b"body")
        sock.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := sock.recv(65536):
            got += chunk
    assert got == b"WELCOME;HEAD;body"
    for proc in (relay, upstream):
        websocat.finish(proc)
        assert proc.returncode == 0


def test_one_message_prints_the_reply_and_exits(websocat: Websocat, echo_url: str) -> None:
    started = time.monotonic()
    result = websocat.run("-1", echo_url, input=b'{"op":"ping"}\n')
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stdout == b'{"op":"ping"}\n'
    assert result.stderr == b""
    assert elapsed < 5


def test_one_message_sends_only_one(websocat: Websocat, ws_server: type[RecordingServer]) -> None:
    """-1 closes after its one message (websocat v1's, without --no-close): the server gets
    "a" and the Close, nothing of b or c.  (The reply side is test_one_message_prints_the_reply_and_exits;
    a server greeting here would race our Close.)"""
    server = ws_server()
    result = websocat.run("-1", server.url, input=b"a\nb\nc\n")
    assert result.returncode == 0, result.stderr
    assert server.wait_finished() == ["a"]


def test_max_messages_rev_stops_a_stream(websocat: Websocat, stream_url: str) -> None:
    proc = websocat.spawn("--max-messages-rev", "3", stream_url, stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(3)]
    assert lines == [b"msg 0\n", b"msg 1\n", b"msg 2\n"]
    time.sleep(0.5)  # the other seven are sent by now: none may be printed
    proc.stdin.close()
    out, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert out == b""


def test_max_messages_limits_what_is_sent(websocat: Websocat, ws_server: type[RecordingServer]) -> None:
    server = ws_server()
    result = websocat.run("--max-messages", "2", server.url, input=b"1\n2\n3\n4\n")
    assert result.returncode == 0, result.stderr
    assert server.wait_finished() == ["1", "2"]


def test_max_messages_on_a_server(websocat: Websocat) -> None:
    """Two-argument form: --max-messages counts left to right (client to mirror:)."""
    from websockets.sync.client import connect

    proc, port = websocat.listen("--max-messages", "2", "ws-l:127.0.0.1:0", "mirror:")
    from websockets.exceptions import ConnectionClosed

    with connect(f"ws://127.0.0.1:{port}/") as client:
        for text in ("a", "b", "c"):
            try:
                client.send(text)
            except ConnectionClosed:
                break  # the session may end after two before "c" leaves: its Close came first
        assert client.recv(timeout=5) == "a"
        assert client.recv(timeout=5) == "b"
        with pytest.raises(Exception):  # the session ended: a Close, no third echo
            client.recv(timeout=5)
    proc.kill()
