"""lengthprefixed: from the command line: a WebSocket conversation recorded to a file and
replayed, type, fragments and pings kept; files converted byte by byte; bad input."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Websocat
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.sync.server import ServerConnection, serve

LOSSLESS = [
    "--lengthprefixed-continuations",
    "--lengthprefixed-include-control",
    "--lengthprefixed-tag-text",
]

Sent = tuple[Opcode, bytes, bool]  # (opcode, payload, fin) of one frame


class FrameRecorder:
    """A WebSocket server (websockets' sans-I/O ServerProtocol over a plain socket) that
    records every frame it receives, as it came: fragments, pings and the Close included."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.frames: list[Sent] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(20)
        protocol = ServerProtocol(max_size=None)
        try:
            while not self.done.is_set():
                data = conn.recv(65536)
                if data:
                    protocol.receive_data(data)
                else:
                    protocol.receive_eof()
                for event in protocol.events_received():
                    if isinstance(event, Request):
                        protocol.send_response(protocol.accept(event))
                    elif isinstance(event, Frame):
                        self.frames.append((event.opcode, bytes(event.data), event.fin))
                        if event.opcode is Opcode.CLOSE:
                            self.done.set()
                for out in protocol.data_to_send():
                    if out:
                        conn.sendall(out)
                if not data:
                    break
        finally:
            self.done.set()
            conn.close()
            self.listener.close()


@pytest.fixture
def sender() -> Iterator[str]:
    """A websockets server that sends text, binary, fragmented messages and a ping, then closes."""

    def handler(conn: ServerConnection) -> None:
        conn.send("text \u00e9")
        conn.send(b"\x00binary\xff")
        conn.send(["frag", "ments"])  # one text message in two frames
        conn.send([b"\x01", b"\x02\x03", b"\x04"])  # one binary message in three
        conn.ping(b"are you there")
        conn.close()

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/"
        server.shutdown()


# What the sender's frames are: websockets ends a fragmented message with an empty frame.
SENT: list[Sent] = [
    (Opcode.TEXT, "text \u00e9".encode(), True),
    (Opcode.BINARY, b"\x00binary\xff", True),
    (Opcode.TEXT, b"frag", False),
    (Opcode.CONT, b"ments", False),
    (Opcode.CONT, b"", True),
    (Opcode.BINARY, b"\x01", False),
    (Opcode.CONT, b"\x02\x03", False),
    (Opcode.CONT, b"\x04", False),
    (Opcode.CONT, b"", True),
    (Opcode.PING, b"are you there", True),
]


def test_a_websocket_conversation_recorded_and_replayed(websocat: Websocat, sender: str, tmp_path: Path) -> None:
    """ws -> lengthprefixed: -> file -> lengthprefixed: -> ws, the file written a byte per
    write and read a byte per read: text and binary, fragments and the ping arrive as sent."""
    record = tmp_path / "record.lp"
    done = websocat.run(
        "-b", "--inhibit-pongs", "0", *LOSSLESS, sender, f"lengthprefixed:write_chunk_limiter:writefile:{record}"
    )
    assert done.returncode == 0, done.stderr
    # websocat4's layout: 0x80000000 continues, 0x40000000 control, 0x20000000 text
    wire = record.read_bytes()
    assert wire.startswith(struct.pack(">I", 0x20000000 | 7) + "text \u00e9".encode())
    assert wire.endswith(struct.pack(">I", 0x40000000 | 14) + b"\x09are you there" + struct.pack(">IB", 0x40000001, 8))

    recorder = FrameRecorder()
    done = websocat.run(
        "-b", *LOSSLESS, f"lengthprefixed:read_chunk_limiter:readfile:{record}", f"ws://127.0.0.1:{recorder.port}/"
    )
    assert done.returncode == 0, done.stderr
    assert recorder.done.wait(20)
    recorder.thread.join(20)
    frames = [f for f in recorder.frames if f[0] is not Opcode.PONG]
    assert frames[:-1] == SENT, frames
    assert frames[-1][0] is Opcode.CLOSE


def test_a_tcp_client_speaks_length_prefixed_messages_to_a_websocket(websocat: Websocat) -> None:
    """lengthprefixed:tcp-l: -> ws://: prefixed messages in, each a WebSocket message of its
    type (--lengthprefixed-tag-text), the echoes back prefixed the same way."""

    def echo(conn: ServerConnection) -> None:
        for message in conn:
            conn.send(message)

    with serve(echo, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/"
        args = ["--lengthprefixed-nbytes", "2", "--lengthprefixed-tag-text"]
        proc, port = websocat.listen("--oneshot", "-b", *args, "lengthprefixed:tcp-l:127.0.0.1:0", url)
        messages = [(0x8000, "h\u00e9llo".encode()), (0, b"\x00\xff" * 1000), (0x8000, b"")]
        sent = b"".join(struct.pack(">H", bit | len(body)) + body for bit, body in messages)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
            conn.sendall(sent)
            got = b""
            while len(got) < len(sent):
                chunk = conn.recv(65536)
                assert chunk, f"EOF after {len(got)} bytes"
                got += chunk
            conn.shutdown(socket.SHUT_WR)
        websocat.finish(proc)
        server.shutdown()
    assert got == sent


def test_a_file_converted_through_one_byte_reads_and_writes(websocat: Websocat, tmp_path: Path) -> None:
    """A file of websocat4's layout (2-byte little-endian prefixes, every flag) copied
    message by message comes out the same, each prefix and body split across reads."""
    bits = {"cont": 0x8000, "ctrl": 0x4000, "text": 0x2000}
    frames = [
        (0, b"binary"),
        (bits["text"], "t\u00e9xt".encode()),
        (bits["text"] | bits["cont"], b"fir"),
        (bits["text"], b"st"),
        (bits["ctrl"], b"\x09ping"),
        (bits["ctrl"], b"\x0apong"),
        (0, b""),
        (0, bytes(range(256)) * 20),
    ]
    source = b"".join(struct.pack("<H", flags | len(body)) + body for flags, body in frames)
    (tmp_path / "in.lp").write_bytes(source + struct.pack("<HB", bits["ctrl"] | 1, 8))
    done = websocat.run(
        "-b",
        "--lengthprefixed-nbytes",
        "2",
        "--lengthprefixed-little-endian",
        *LOSSLESS,
        "lengthprefixed:read_chunk_limiter:readfile:in.lp",
        "lengthprefixed:write_chunk_limiter:writefile:out.lp",
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.lp").read_bytes() == source + struct.pack("<HB", bits["ctrl"] | 1, 8)


@pytest.mark.parametrize(
    "content, args, line",
    [
        (
            struct.pack(">I", 2000) + bytes(2000),
            ["--lengthprefixed-max-message-size", "1000"],
            b"websocat: lengthprefixed: a message of 2000 bytes is over --lengthprefixed-max-message-size (1000 bytes)\n",
        ),
        (
            struct.pack(">I", 5) + b"abc",
            [],
            b"websocat: lengthprefixed: the stream ended inside a message (3 of 5 bytes)\n",
        ),
        (
            struct.pack(">I", 1) + b"a" + b"\x00\x00",
            [],
            b"websocat: lengthprefixed: the stream ended inside a prefix (2 of 4 bytes)\n",
        ),
    ],
)
def test_bad_input_is_one_line(
    websocat: Websocat, tmp_path: Path, content: bytes, args: list[str], line: bytes
) -> None:
    (tmp_path / "bad.lp").write_bytes(content)
    done = websocat.run("-b", *args, "lengthprefixed:readfile:bad.lp", "-")
    assert done.returncode == 4
    assert done.stderr.endswith(line) and done.stderr.count(b"\n") == 1, done.stderr


@pytest.mark.parametrize("nbytes", ["0", "9"])
def test_a_prefix_size_out_of_range_is_a_usage_error(websocat: Websocat, nbytes: str) -> None:
    done = websocat.run("--lengthprefixed-nbytes", nbytes, "-b", "lengthprefixed:mirror:", "-")
    assert done.returncode == 2
    assert (
        done.stderr
        == f"websocat: option '--lengthprefixed-nbytes': expected a number from 1 to 8, got {nbytes}\n".encode()
    )
