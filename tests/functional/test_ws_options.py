"""WebSocket options observed on the wire: a raw-socket peer reads the exact bytes."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import threading
import time

import pytest
from conftest import Websocat

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def accept_value(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def frame(opcode: int, payload: bytes = b"", mask: bool = False) -> bytes:
    head = bytes([0x80 | opcode, (0x80 if mask else 0) | len(payload)])
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frames(conn: socket.socket, first: bytes = b"", timeout: float = 10) -> list[tuple[int, bytes]]:
    """Unmasked frames until EOF (server -> client direction), after the bytes in `first`."""
    conn.settimeout(timeout)
    data = first
    while True:
        try:
            chunk = conn.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    frames, pos = [], 0
    while pos + 2 <= len(data):
        opcode, n = data[pos] & 0x0F, data[pos + 1] & 0x7F
        frames.append((opcode, data[pos + 2 : pos + 2 + n]))
        pos += 2 + n
    return frames


class RawServer:
    """Accepts one connection, records the request head, answers with `reply(head)`."""

    def __init__(self, reply) -> None:  # type: ignore[no-untyped-def]
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.head = b""
        self.after: bytes = b""
        self.reply = reply
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            self.head, _rest = read_head(conn)
            conn.sendall(self.reply(self.head))
            conn.settimeout(10)
            data = b""
            try:
                while chunk := conn.recv(65536):
                    data += chunk
            except (TimeoutError, ConnectionResetError):
                pass
            self.after = data

    def join(self) -> None:
        self.thread.join(15)
        self.sock.close()


def good_reply(head: bytes, extra: bytes = b"") -> bytes:
    key = header(head, b"Sec-WebSocket-Key") or b""
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_value(key) + b"\r\n" + extra + b"\r\n" + frame(8, b"\x03\xe8")
    )


def test_client_request_headers(websocat: Websocat) -> None:
    server = RawServer(lambda head: good_reply(head, b"Sec-WebSocket-Protocol: chat\r\n"))
    out = websocat.run(
        "-H",
        "X-Token: abc",
        "-H",
        "Cookie: a=b",
        "--origin",
        "http://o.example",
        "--ua",
        "agent/1",
        "--protocol",
        "chat",
        f"ws://127.0.0.1:{server.port}/p?q=1",
        "devnull:",
    )
    server.join()
    assert out.returncode == 0, out.stderr
    head = server.head
    assert head.split(b"\r\n")[0] == b"GET /p?q=1 HTTP/1.1"
    assert header(head, b"X-Token") == b"abc" and header(head, b"Cookie") == b"a=b"
    assert header(head, b"Origin") == b"http://o.example"
    assert header(head, b"User-Agent") == b"agent/1"
    assert header(head, b"Sec-WebSocket-Protocol") == b"chat"
    assert header(head, b"Host") == f"127.0.0.1:{server.port}".encode()


def test_random_seed_makes_the_key_reproducible(websocat: Websocat) -> None:
    keys = []
    for _ in range(2):
        server = RawServer(good_reply)
        websocat.run("--random-seed", "7", f"ws://127.0.0.1:{server.port}/", "devnull:")
        server.join()
        keys.append(header(server.head, b"Sec-WebSocket-Key"))
    assert keys[0] and keys[0] == keys[1]


def test_dont_check_headers(websocat: Websocat) -> None:
    bad = lambda head: b"HTTP/1.1 101 Switching Protocols\r\n\r\n" + frame(8, b"\x03\xe8")  # noqa: E731
    server = RawServer(bad)
    strict = websocat.run(f"ws://127.0.0.1:{server.port}/", "devnull:")
    server.join()
    assert strict.returncode == 4 and b"websocket handshake failed" in strict.stderr
    server = RawServer(bad)
    lax = websocat.run("--ws-dont-check-headers", f"ws://127.0.0.1:{server.port}/", "devnull:")
    server.join()
    assert lax.returncode == 0, lax.stderr


def test_shutdown_socket_on_eof(websocat: Websocat) -> None:
    """With the option, the TCP write half is shut after our Close: the peer reads EOF."""

    def keep_open(head: bytes) -> bytes:
        key = header(head, b"Sec-WebSocket-Key") or b""
        return (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_value(key) + b"\r\n\r\n"
        )

    server = RawServer(keep_open)
    proc = websocat.spawn("-u", "--ws-shutdown-socket-on-eof", "literal:x", f"ws://127.0.0.1:{server.port}/")
    started = time.monotonic()
    server.join()  # returns when the server read EOF (or after its 10 s timeout)
    proc.kill()
    assert time.monotonic() - started < 5, "no EOF after the Close frame"
    # A masked text frame 'x' (2 + 4 + 1 bytes), then a masked empty Close (2 + 4 bytes).
    assert server.after[0] == 0x81 and server.after[7:9] == b"\x88\x80" and len(server.after) == 13


def connect_raw(port: int, extra: bytes = b"") -> tuple[socket.socket, bytes]:
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16))
    conn.sendall(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n" + extra + b"\r\n"
    )
    head, _rest = read_head(conn)
    assert head.startswith(b"HTTP/1.1 101"), head
    assert header(head, b"Sec-WebSocket-Accept") == accept_value(key)
    return conn, head


def test_server_header_and_protocol(websocat: Websocat) -> None:
    proc, port = websocat.listen(
        "--oneshot", "--server-header", "X-Server: s1", "--server-protocol", "chat", "ws-l:127.0.0.1:0", "mirror:"
    )
    conn, head = connect_raw(port, b"Sec-WebSocket-Protocol: other, chat\r\n")
    assert header(head, b"X-Server") == b"s1"
    assert header(head, b"Sec-WebSocket-Protocol") == b"chat"
    conn.sendall(frame(8, b"\x03\xe8", mask=True))
    conn.close()
    websocat.finish(proc)


def test_server_protocol_rejects_a_client_without_it(websocat: Websocat) -> None:
    proc, port = websocat.listen("--oneshot", "--server-protocol", "chat", "ws-l:127.0.0.1:0", "mirror:")
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    head, _ = read_head(conn)
    assert head.startswith(b"HTTP/1.1 400")
    conn.close()
    websocat.finish(proc)


@pytest.mark.parametrize("limit, pongs", [(None, 3), ("1", 1), ("0", 0)])
def test_inhibit_pongs(websocat: Websocat, limit: str | None, pongs: int) -> None:
    args = ["--inhibit-pongs", limit] if limit is not None else []
    proc, port = websocat.listen("--oneshot", *args, "ws-l:127.0.0.1:0", "mirror:")
    conn, _ = connect_raw(port)
    conn.sendall(
        frame(9, b"a", mask=True)
        + frame(9, b"b", mask=True)
        + frame(9, b"c", mask=True)
        + frame(8, b"\x03\xe8", mask=True)
    )
    frames = read_frames(conn)
    conn.close()
    websocat.finish(proc)
    assert [f for f in frames if f[0] == 0xA] == [(0xA, p) for p in (b"a", b"b", b"c")[:pongs]]
    # the pings not answered reach mirror: as messages (websocat4), which sends them back
    assert [f for f in frames if f[0] == 0x9] == [(0x9, p) for p in (b"a", b"b", b"c")[pongs:]]
    assert frames[-1][0] == 8


@pytest.mark.parametrize("ignore", [False, True])
def test_ignore_invalid_masks(websocat: Websocat, ignore: bool) -> None:
    args = ["--ws-ignore-invalid-masks"] if ignore else []
    proc, port = websocat.listen("--oneshot", *args, "ws-l:127.0.0.1:0", "mirror:")
    conn, _ = connect_raw(port)
    conn.sendall(frame(1, b"unmasked") + frame(8, b"\x03\xe8", mask=True))
    frames = read_frames(conn)
    conn.close()
    websocat.finish(proc)
    if ignore:
        assert (1, b"unmasked") in frames
    else:
        assert frames and frames[0][0] == 8 and struct.unpack("!H", frames[0][1][:2])[0] == 1002


def test_text_that_is_not_utf8_goes_out_as_binary(websocat: Websocat, ws_server) -> None:  # type: ignore[no-untyped-def]
    server = ws_server()
    out = websocat.run("-t", f"ws://127.0.0.1:{server.port}/", input=b"ok\n\xff\xfe bad\nstill ok \xc3\xa9\n")
    received = server.wait_finished()
    assert out.returncode == 0, out.stderr
    assert received == ["ok", b"\xff\xfe bad", "still ok \u00e9"]
    assert out.stderr.count(b"not UTF-8") == 1


def test_refused_upgrade_names_status_and_explaining_headers(websocat: Websocat) -> None:
    reply = b"HTTP/1.1 302 Found\r\nLocation: wss://elsewhere.example/\r\nContent-Length: 0\r\n\r\n"
    server = RawServer(lambda head: reply)
    out = websocat.run(f"ws://127.0.0.1:{server.port}/", "devnull:")
    server.join()
    assert out.returncode == 4
    assert (
        out.stderr == b"websocat: websocket handshake failed: HTTP/1.1 302 Found (Location: wss://elsewhere.example/)\n"
    )


def test_verbose_prints_handshake_and_control_frames(websocat: Websocat) -> None:
    server = RawServer(good_reply)
    out = websocat.run("-v", f"ws://127.0.0.1:{server.port}/v", "devnull:")
    server.join()
    assert out.returncode == 0, out.stderr
    lines = out.stderr.decode().splitlines()
    assert "websocat: > GET /v HTTP/1.1" in lines
    assert "websocat: < HTTP/1.1 101 Switching Protocols" in lines
    assert any(line.startswith("websocat: < close code 1000") for line in lines)
    quiet = RawServer(good_reply)
    out = websocat.run(f"ws://127.0.0.1:{quiet.port}/v", "devnull:")
    quiet.join()
    assert out.stderr == b""


def test_server_protocol_lax_omits_the_header(websocat: Websocat) -> None:
    proc, port = websocat.listen(
        "--oneshot", "--server-protocol", "chat", "--server-protocol-lax", "ws-l:127.0.0.1:0", "mirror:"
    )
    conn, head = connect_raw(port)  # offers no protocol: accepted anyway
    assert header(head, b"Sec-WebSocket-Protocol") is None
    conn.sendall(frame(8, b"\x03\xe8", mask=True))
    conn.close()
    websocat.finish(proc)


def test_server_protocol_choose_first(websocat: Websocat) -> None:
    proc, port = websocat.listen("--oneshot", "--server-protocol-choose-first", "ws-l:127.0.0.1:0", "mirror:")
    conn, head = connect_raw(port, b"Sec-WebSocket-Protocol: v2.chat, v1.chat\r\n")
    assert header(head, b"Sec-WebSocket-Protocol") == b"v2.chat"
    conn.sendall(frame(8, b"\x03\xe8", mask=True))
    conn.close()
    websocat.finish(proc)


def test_options_without_effect_say_so(websocat: Websocat) -> None:
    out = websocat.run("--ws-no-flush", "--ws-no-auto-buffer", "--dump-spec", "ws://127.0.0.1:1/")
    assert out.returncode == 0
    assert b"--ws-no-flush has no effect" in out.stderr and b"--ws-no-auto-buffer has no effect" in out.stderr


def test_frames_sent_with_the_upgrade_request_are_echoed(websocat: Websocat) -> None:
    """Bytes that arrive with the handshake must reach the echo loop (mirror: answers inline)."""
    proc, port = websocat.listen("--oneshot", "ws-l:127.0.0.1:0", "mirror:")
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16))
    conn.sendall(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
        + key
        + b"\r\n\r\n"
        + frame(1, b"early", mask=True)
        + frame(9, b"p", mask=True)
        + frame(2, b"\x00\x01", mask=True)
        + frame(8, b"\x03\xe8", mask=True)
    )
    head, rest = read_head(conn)
    assert head.startswith(b"HTTP/1.1 101")
    frames = read_frames(conn, rest)
    conn.close()
    websocat.finish(proc)
    assert frames == [(1, b"early"), (0xA, b"p"), (2, b"\x00\x01"), (8, b"\x03\xe8")]


OWN_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
OWN_HEADERS = (
    "-H",
    "Upgrade: websocket",
    "-H",
    "Connection: upgrade",
    "-H",
    "Sec-WebSocket-Version: 13",
    "-H",
    f"Sec-WebSocket-Key: {OWN_KEY.decode()}",
)


def test_omit_headers_client_sends_only_host_and_own_headers(websocat: Websocat) -> None:
    server = RawServer(good_reply)
    out = websocat.run("--ws-omit-headers", *OWN_HEADERS, f"ws://127.0.0.1:{server.port}/o", "devnull:")
    server.join()
    assert out.returncode == 0, out.stderr
    assert server.head.split(b"\r\n") == [
        b"GET /o HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}".encode(),
        b"Upgrade: websocket",
        b"Connection: upgrade",
        b"Sec-WebSocket-Version: 13",
        b"Sec-WebSocket-Key: " + OWN_KEY,
    ]


def test_omit_headers_client_checks_accept_against_own_key(websocat: Websocat) -> None:
    wrong = lambda head: good_reply(head.replace(OWN_KEY, b"AAAAAAAAAAAAAAAAAAAAAA=="))  # noqa: E731
    server = RawServer(wrong)
    out = websocat.run("--ws-omit-headers", *OWN_HEADERS, f"ws://127.0.0.1:{server.port}/", "devnull:")
    server.join()
    assert out.returncode == 4
    assert b"wrong Sec-WebSocket-Accept" in out.stderr


def test_omit_headers_client_without_key_skips_accept_check(websocat: Websocat) -> None:
    server = RawServer(
        lambda head: b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\n\r\n" + frame(8, b"\x03\xe8")
    )
    out = websocat.run("--ws-omit-headers", f"ws://127.0.0.1:{server.port}/", "devnull:")
    server.join()
    assert out.returncode == 0, out.stderr
    assert server.head.split(b"\r\n") == [b"GET / HTTP/1.1", f"Host: 127.0.0.1:{server.port}".encode()]
    assert b"websocat: warning: --ws-omit-headers:" in out.stderr


def test_omit_headers_server_replies_with_status_and_own_headers(websocat: Websocat) -> None:
    proc, port = websocat.listen(
        "--oneshot", "--ws-omit-headers", "--server-header", "X-Server: s1", "ws-l:127.0.0.1:0", "mirror:"
    )
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
        + OWN_KEY
        + b"\r\n\r\n"
        + frame(1, b"hi", mask=True)
        + frame(8, b"\x03\xe8", mask=True)
    )
    head, rest = read_head(conn)
    frames = read_frames(conn, rest)
    conn.close()
    websocat.finish(proc)
    assert head.split(b"\r\n") == [b"HTTP/1.1 101 Switching Protocols", b"X-Server: s1"]
    assert frames == [(1, b"hi"), (8, b"\x03\xe8")]


def test_lax_server_accepts_a_request_without_key(websocat: Websocat) -> None:
    proc, port = websocat.listen("--oneshot", "--ws-dont-check-headers", "ws-l:127.0.0.1:0", "mirror:")
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + frame(8, b"\x03\xe8", mask=True))
    head, rest = read_head(conn)
    frames = read_frames(conn, rest)
    conn.close()
    websocat.finish(proc)
    assert head.split(b"\r\n") == [b"HTTP/1.1 101 Switching Protocols", b"Upgrade: websocket", b"Connection: Upgrade"]
    assert frames == [(8, b"\x03\xe8")]
