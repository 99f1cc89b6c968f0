"""WebSocket overlays composed over other streams: ws-request:, ws-accept:, ws-lowlevel-* over stdio and a mock."""

from __future__ import annotations

import random
import subprocess
import threading
from collections.abc import Iterator

import pytest
from conftest import Websocat
from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve


@pytest.fixture()
def echo_port() -> Iterator[int]:
    def echo(conn: ServerConnection) -> None:
        for message in conn:
            conn.send(message)

    server = serve(echo, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.socket.getsockname()[1]
    server.shutdown()
    thread.join(10)


def test_lowlevel_client_over_ws_request_equals_ws_connect(websocat: Websocat, echo_port: int) -> None:
    data = b"framing and upgrade as two layers\n"
    got = websocat.echo_through(data, "-t", "--ws-c-uri", "/", f"ws-ll-c:ws-request:tcp:127.0.0.1:{echo_port}")
    assert got == data


def test_lowlevel_server_over_ws_accept(websocat: Websocat) -> None:
    proc, port = websocat.listen("--oneshot", "ws-lowlevel-server:ws-accept:tcp-l:127.0.0.1:0", "mirror:")
    with connect(f"ws://127.0.0.1:{port}/") as conn:
        for message in ("text", b"\x00binary", ""):
            conn.send(message)
            assert conn.recv(timeout=10) == message
    websocat.finish(proc)
    assert proc.returncode == 0


def masked(opcode: int, payload: bytes, key: bytes) -> bytes:
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def test_lowlevel_server_over_stdio_of_a_child(websocat: Websocat) -> None:
    """ws-ll-s:stdio: in a child process: masked frames in on stdin, unmasked echoes out on stdout."""
    proc = websocat.spawn("ws-ll-s:stdio:", "mirror:", stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(masked(1, b"hello", b"\x01\x02\x03\x04") + masked(2, b"\xff\x00", b"abcd"))
    proc.stdin.write(masked(8, b"\x03\xe8", b"wxyz"))
    proc.stdin.close()
    out, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert out == b"\x81\x05hello" + b"\x82\x02\xff\x00" + b"\x88\x02\x03\xe8"


def test_lowlevel_client_over_mock_stream_socket(websocat: Websocat) -> None:
    """ws-ll-c: over mss: with --random-seed, so the mask keys (and the bytes written) are known."""
    rng = random.Random(5)
    echo_key, close_key = rng.randbytes(4), rng.randbytes(4)

    def esc(data: bytes) -> str:
        return "".join(f"\\x{b:02x}" for b in data)

    script = "|".join(
        [
            "R " + esc(b"\x81\x02hi"),  # the server's text frame "hi"
            "W " + esc(masked(1, b"hi", echo_key)),  # echoed by mirror:, masked as a client must
            "R " + esc(b"\x88\x02\x0f\xa0"),  # the server closes with code 4000
            "W " + esc(masked(8, b"\x0f\xa0", close_key)),  # our reply echoes the code
        ]
    )
    out = websocat.run("--random-seed", "5", f"ws-ll-c:mss:{script}", "mirror:")
    assert out.returncode == 6, out.stderr  # the run went well, but the peer's Close was not 1000/1001/1005
    assert out.stderr == b"websocat: peer closed the WebSocket with code 4000\n"


def unmask_frames(data: bytes) -> list[tuple[int, bool, bytes]]:
    """(opcode, was masked, payload) of each short frame in ``data``."""
    frames, pos = [], 0
    while pos + 2 <= len(data):
        opcode, is_masked, n = data[pos] & 0x0F, bool(data[pos + 1] & 0x80), data[pos + 1] & 0x7F
        pos += 2
        key = data[pos : pos + 4] if is_masked else b"\0\0\0\0"
        pos += 4 if is_masked else 0
        frames.append((opcode, is_masked, bytes(b ^ key[i % 4] for i, b in enumerate(data[pos : pos + n]))))
        pos += n
    return frames


def test_lowlevel_client_over_stdio_of_a_child(websocat: Websocat) -> None:
    """ws-ll-c:stdio: in a child process: server frames in on stdin, masked echoes out on stdout."""
    proc = websocat.spawn("ws-ll-c:stdio:", "mirror:", stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(b"\x81\x05hello" + b"\x82\x02\xff\x00" + b"\x88\x02\x03\xe8")
    proc.stdin.close()
    out, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert unmask_frames(out) == [(1, True, b"hello"), (2, True, b"\xff\x00"), (8, True, b"\x03\xe8")]


def test_close_at_eof_is_empty_as_in_websocat4(websocat: Websocat) -> None:
    """At EOF a WebSocket sends a Close with no payload: 88 00, or 88 80 and a mask key from a client."""
    server = websocat.run("ws-ll-s:stdio:", "mirror:", input=b"")
    assert server.returncode == 0, server.stderr
    assert server.stdout == b"\x88\x00"
    client = websocat.run("--random-seed", "5", "ws-ll-c:stdio:", "mirror:", input=b"")
    assert client.returncode == 0, client.stderr
    assert client.stdout[:2] == b"\x88\x80" and len(client.stdout) == 6
    assert unmask_frames(client.stdout) == [(8, True, b"")]
