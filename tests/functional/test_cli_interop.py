"""The `websocat` command against the `websockets` library, process to process over 127.0.0.1.

Our server (`ws-l:`) against a `websockets` client, our client (`ws://`) against a
`websockets` server, and a 50 MB file through a TCP-to-WebSocket bridge into a file.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as aconnect
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import ServerConnection, serve

BIG = 10 * 1024 * 1024
SIZES = {"0B": 0, "1B": 1, "10MB": BIG}


def text_payload(size: int) -> str:
    """A str whose UTF-8 form is exactly ``size`` bytes (multibyte characters, no newline)."""
    if size <= 1:
        return "x" * size
    unit = "żółw 🐢 ascii "
    text = unit * (size // len(unit.encode()) + 1)
    raw = text.encode()[:size]
    while True:  # drop a cut character at the end, pad with ASCII back to the size
        try:
            return raw.decode() + "x" * (size - len(raw))
        except UnicodeDecodeError:
            raw = raw[:-1]


def binary_payload(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def payload(kind: str, size: int) -> str | bytes:
    return text_payload(size) if kind == "text" else binary_payload(size)


def as_bytes(message: str | bytes) -> bytes:
    return message.encode() if isinstance(message, str) else message


def describe(data: str | bytes) -> str:
    """Type, length and hash: big payloads are compared without pytest printing them."""
    raw = as_bytes(data)
    return f"{type(data).__name__}[{len(raw)}] sha256={hashlib.sha256(raw).hexdigest()[:16]}"


def ws_connect(port: int) -> ClientConnection:
    return connect(f"ws://127.0.0.1:{port}/", max_size=None, open_timeout=5, close_timeout=10)


# -- our server, `websockets` client


@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_binary_server_writes_message_to_file(websocat, tmp_path: Path, kind: str, size: int) -> None:
    out = tmp_path / "out.bin"
    proc, port = websocat.listen("-b", "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{out}")
    message = payload(kind, size)
    with ws_connect(port) as ws:
        ws.send(message)
    _, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert err == b""
    assert describe(out.read_bytes()) == describe(as_bytes(message))


@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_text_server_writes_message_as_line(websocat, tmp_path: Path, kind: str, size: int) -> None:
    out = tmp_path / "out.txt"
    proc, port = websocat.listen("-t", "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{out}")
    # No newline bytes inside, so the line is the message as sent plus the separator.
    message = payload(kind, size)
    if isinstance(message, bytes):
        message = message.replace(b"\n", b"N")
    with ws_connect(port) as ws:
        ws.send(message)
    _, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert describe(out.read_bytes()) == describe(as_bytes(message) + b"\n")


def test_binary_server_concatenates_messages(websocat, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    proc, port = websocat.listen("-b", "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{out}")
    messages: list[str | bytes] = ["text é", b"", b"\x00\xff\n", "", binary_payload(300_000, seed=2), "end"]
    with ws_connect(port) as ws:
        for message in messages:
            ws.send(message)
    _, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert out.read_bytes() == b"".join(as_bytes(m) for m in messages)


def test_text_server_writes_one_line_per_message(websocat, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    proc, port = websocat.listen("-t", "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{out}")
    with ws_connect(port) as ws:
        for message in ["first", "second é", "", "fourth"]:
            ws.send(message)
    _, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert out.read_bytes() == "first\nsecond é\n\nfourth\n".encode()


async def mirror_round_trips(port: int, messages: list[str | bytes], pipelined: bool) -> list[str]:
    """Send ``messages`` over one connection; describe what comes back, in order.

    The asyncio client keeps reading while a send waits, so sending everything before
    reading cannot deadlock on full socket buffers (the sync client's can).
    """
    url = f"ws://127.0.0.1:{port}/"
    async with aconnect(url, max_size=None, max_queue=None, open_timeout=5, close_timeout=10) as ws:
        if not pipelined:
            echoed = []
            for message in messages:
                await ws.send(message)
                echoed.append(describe(await asyncio.wait_for(ws.recv(), 20)))
            return echoed

        async def send_all() -> None:
            for message in messages:
                await ws.send(message)

        sender = asyncio.create_task(send_all())
        echoed = [describe(await asyncio.wait_for(ws.recv(), 20)) for _ in messages]
        await sender
        return echoed


@pytest.mark.parametrize("mode", ["-b", "-t"])
def test_mirror_server_echoes_whole_messages_with_their_type(websocat, mode: str) -> None:
    proc, port = websocat.listen(mode, "ws-l:127.0.0.1:0", "mirror:")
    messages: list[str | bytes] = [
        "",
        b"",
        "x",
        b"\x00",
        "line\nbreaks\r\n stay",
        b"\n\n",
        text_payload(BIG),
        binary_payload(BIG),
        "",
        b"",
    ]
    expected = [describe(m) for m in messages]
    # One round trip at a time, then, on a second connection to the same server,
    # everything sent without waiting for the echoes.
    for pipelined in (False, True):
        echoed = asyncio.run(asyncio.wait_for(mirror_round_trips(port, messages, pipelined), 60))
        assert echoed == expected, f"pipelined={pipelined}"
    assert proc.poll() is None, "without --oneshot the server keeps serving"


@pytest.mark.parametrize("mode", ["-b", "-t"])
def test_mirror_server_echoes_fragmented_messages_whole(websocat, mode: str) -> None:
    proc, port = websocat.listen(mode, "ws-l:127.0.0.1:0", "mirror:")
    cases: list[list[str] | list[bytes]] = [
        ["fr", "ag", "", "ment é"],
        [b"\x00", b"", b"\x01" * 5],
        ["x" * 700_000, "y" * 700_000],
        ["single fragment"],
    ]
    with ws_connect(port) as ws:
        for fragments in cases:
            ws.send(iter(fragments))
            echo = ws.recv(timeout=20)
            whole = "".join(fragments) if isinstance(fragments[0], str) else b"".join(fragments)  # type: ignore[arg-type]
            assert describe(echo) == describe(whole)
    assert proc.poll() is None


# -- our client, `websockets` server


def test_binary_client_sends_file_as_binary_messages(websocat, ws_server, tmp_path: Path) -> None:
    data = binary_payload(BIG, seed=3)
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    server = ws_server()
    result = websocat.run("-b", f"readfile:{source}", server.url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    received = server.wait_finished()
    assert received, "no message arrived"
    assert {type(m) for m in received} == {bytes}
    assert describe(b"".join(received)) == describe(data)
    assert server.close_code == 1005  # an empty Close at EOF, as websocat4


def test_binary_client_empty_file_sends_nothing(websocat, ws_server, tmp_path: Path) -> None:
    source = tmp_path / "empty.bin"
    source.write_bytes(b"")
    server = ws_server()
    result = websocat.run("-b", f"readfile:{source}", server.url)
    assert result.returncode == 0, result.stderr
    assert server.wait_finished() == []
    assert server.close_code == 1005  # an empty Close at EOF, as websocat4


def test_binary_client_stdio(websocat, ws_server) -> None:
    greeting: list[str | bytes] = [b"\x00\x01 binary\n", "text é", b"", binary_payload(100_000, seed=4)]
    server = ws_server(greeting=greeting)
    proc = websocat.spawn("-b", server.url, stdin=subprocess.PIPE)
    # The server speaks first; our stdin stays open until its messages are out, so our
    # close cannot overtake them.
    assert server.greeted.wait(15), "the client did not connect"
    data = binary_payload(1_000_000, seed=5)
    try:
        out, err = proc.communicate(data, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("websocat -b ws:// did not exit after stdin EOF")
    assert proc.returncode == 0, err
    assert describe(out) == describe(b"".join(as_bytes(m) for m in greeting))
    received = server.wait_finished()
    assert {type(m) for m in received} == {bytes}
    assert describe(b"".join(received)) == describe(data)


def test_text_client_stdio(websocat, ws_server) -> None:
    server = ws_server(greeting=["first", "second é 🐢", "", "fourth"])
    proc = websocat.spawn("-t", server.url, stdin=subprocess.PIPE)
    assert server.greeted.wait(15), "the client did not connect"
    try:
        out, err = proc.communicate("one\ntwo é\n\nfour 🐢\n".encode(), timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("websocat -t ws:// did not exit after stdin EOF")
    assert proc.returncode == 0, err
    assert err == b""
    assert out == "first\nsecond é 🐢\n\nfourth\n".encode()
    assert server.wait_finished() == ["one", "two é", "", "four 🐢"]  # str: text messages
    assert server.close_code == 1005  # an empty Close at EOF, as websocat4


def test_server_answers_pings(websocat, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    proc, port = websocat.listen("-b", "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{out}")
    with ws_connect(port) as ws:
        ws.send(b"before ")
        assert ws.ping(b"ping payload").wait(10), "no pong"
        ws.send(b"after")
    _, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert out.read_bytes() == b"before after"  # the ping is not data


def test_client_answers_pings(websocat, tmp_path: Path) -> None:
    pongs: list[bool] = []

    def handler(conn: ServerConnection) -> None:
        pongs.append(conn.ping(b"are you there").wait(10))
        conn.send("after ping")
        for _ in conn:
            pass

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        proc = websocat.spawn("-t", f"ws://127.0.0.1:{port}/", stdin=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline()  # the server sends only once the pong is back
        proc.stdin.close()
        out, err = websocat.finish(proc)
        server.shutdown()
        thread.join(10)
    assert pongs == [True]
    assert line + out == b"after ping\n"
    assert proc.returncode == 0, err


@pytest.mark.parametrize("mode", ["-b", "-t"])
def test_client_exits_when_server_closes_first(websocat, mode: str) -> None:
    def handler(conn: ServerConnection) -> None:
        conn.send("bye")
        conn.close()

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        # stdin stays open and silent: the server's close alone must end the session
        proc = websocat.spawn(mode, f"ws://127.0.0.1:{port}/", stdin=subprocess.PIPE)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            pytest.fail("the client kept running after the server closed the connection")
        out, err = websocat.finish(proc)
        server.shutdown()
        thread.join(10)
    assert proc.returncode == 0, err
    assert out == (b"bye\n" if mode == "-t" else b"bye")


# -- a 50 MB file: TCP client -> tcp-l: bridge -> ws-l: sink -> file


def test_50mb_through_tcp_to_ws_bridge_into_file(websocat, tmp_path: Path) -> None:
    data = random.Random(50).randbytes(50 * 1024 * 1024)
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    out = tmp_path / "out.bin"
    sink, ws_port = websocat.listen("-b", "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{out}")
    bridge, tcp_port = websocat.listen("-b", "--oneshot", "tcp-l:127.0.0.1:0", f"ws://127.0.0.1:{ws_port}/")
    with socket.create_connection(("127.0.0.1", tcp_port), timeout=15) as sock:
        with source.open("rb") as f:
            sock.sendfile(f)
        sock.shutdown(socket.SHUT_WR)
        echoed = b""
        while chunk := sock.recv(65536):  # the bridge closes once the sink has closed
            echoed += chunk
    assert echoed == b""
    _, bridge_err = websocat.finish(bridge)
    _, sink_err = websocat.finish(sink)
    assert bridge.returncode == 0, bridge_err
    assert sink.returncode == 0, sink_err
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
