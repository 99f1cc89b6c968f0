"""--compress (permessage-deflate) and --max-ws-message-length from the command line."""

from __future__ import annotations

import os
import select
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import Websocat
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve


class EchoServer:
    """A `websockets` echo server in a thread that records each reply's Sec-WebSocket-Extensions."""

    def __init__(self, compression: str | None) -> None:
        self.answers: list[str] = []
        self.done = threading.Event()
        self.server = serve(self._handler, "127.0.0.1", 0, compression=compression, max_size=None)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self, conn: ServerConnection) -> None:
        assert conn.response is not None
        self.answers.append(conn.response.headers.get("Sec-WebSocket-Extensions", ""))
        try:
            for message in conn:
                conn.send(message)
        finally:
            self.done.set()


@pytest.fixture
def echo_server() -> Iterator[type[EchoServer]]:
    servers: list[EchoServer] = []

    class Tracked(EchoServer):
        def __init__(self, compression: str | None) -> None:
            super().__init__(compression)
            servers.append(self)

    yield Tracked
    for server in servers:
        server.server.shutdown()
        server.thread.join(10)


@pytest.mark.parametrize("compression", ["deflate", None])
def test_client_lines_with_and_without_the_server_agreeing(
    websocat: Websocat, echo_server: type[EchoServer], compression: str | None
) -> None:
    server = echo_server(compression)
    lines = b"".join(b"line %d " % i + b"abc" * i + b"\n" for i in range(200))
    got = websocat.echo_through(lines, "--compress", "--compress-window-bits", "10", server.url)
    assert got == lines
    assert server.done.wait(10)
    if compression:
        assert server.answers[0].startswith("permessage-deflate")
        assert "server_max_window_bits=10" in server.answers[0]
    else:
        assert server.answers == [""]


def test_server_answers_websockets_client(websocat: Websocat) -> None:
    proc, port = websocat.listen("-b", "--compress", "--compress-no-context-takeover", "ws-l:127.0.0.1:0", "mirror:")
    with connect(f"ws://127.0.0.1:{port}/", compression="deflate", max_size=None) as conn:
        assert conn.response is not None
        answer = conn.response.headers["Sec-WebSocket-Extensions"]
        assert "server_no_context_takeover" in answer and "client_no_context_takeover" in answer
        for message in (b"x" * 100_000, "text ż", b""):
            conn.send(message)
            assert conn.recv(timeout=10) == message
    proc.kill()


@pytest.mark.parametrize("level", ["0", "1", "9"])
def test_every_level_is_read_by_websockets(websocat: Websocat, level: str) -> None:
    proc, port = websocat.listen("-b", "--compress", "--compress-level", level, "ws-l:127.0.0.1:0", "mirror:")
    with connect(f"ws://127.0.0.1:{port}/", compression="deflate", max_size=None) as conn:
        for message in (b"abc" * 100_000, os.urandom(70_000), "text ż" * 1000):
            conn.send(message)
            assert conn.recv(timeout=10) == message
    proc.kill()


def vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_decompression_bomb_gets_1009_and_memory_stays_small(websocat: Websocat) -> None:
    """100 MB of zeros, about 100 KB on the wire: refused past 1 MiB, the process stays small."""
    proc, port = websocat.listen(
        "-b", "--compress", "--max-ws-message-length", "1048576", "ws-l:127.0.0.1:0", "mirror:"
    )
    before = vm_hwm_kib(proc.pid)
    with connect(f"ws://127.0.0.1:{port}/", compression="deflate", max_size=None) as conn:
        conn.send(b"\x00" * 1000)
        assert conn.recv(timeout=10) == b"\x00" * 1000
        with pytest.raises(ConnectionClosed) as caught:
            conn.send(bytes(100_000_000))
            conn.recv(timeout=20)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1009
    after = vm_hwm_kib(proc.pid)
    assert after - before < 20_000, (before, after)  # KiB: a few MiB of buffers, never the 100 MB
    assert b"inflates to more than 1048576 bytes" in stderr_line(proc)
    proc.kill()


def stderr_line(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> bytes:
    """The next line the process writes on stderr (its session's error line comes after the Close)."""
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    line = b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            byte = os.read(fd, 1)
            if not byte:
                break
            line += byte
    return line


def test_default_limit_of_compressed_messages(websocat: Websocat) -> None:
    proc, port = websocat.listen("-b", "--compress", "ws-l:127.0.0.1:0", "mirror:")
    with connect(f"ws://127.0.0.1:{port}/", compression="deflate", max_size=None) as conn:
        with pytest.raises(ConnectionClosed) as caught:
            conn.send(bytes(65 << 20))
            conn.recv(timeout=20)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1009
    proc.kill()


@pytest.mark.parametrize(
    "args, error",
    [
        (["--compress-window-bits", "8"], b"option '--compress-window-bits': expected 9 to 15, got 8\n"),
        (["--max-ws-message-length", "100"], b"expected a number of bytes of at least 1024, got 100\n"),
        (["--compress-level", "10"], b"option '--compress-level': expected 0 to 9, got 10\n"),
    ],
)
def test_bad_values(websocat: Websocat, args: list[str], error: bytes) -> None:
    done = websocat.run("--compress", *args, "ws://127.0.0.1:9/")
    assert done.returncode != 0
    assert done.stderr.endswith(error) and done.stderr.count(b"\n") == 1


def test_lints(websocat: Websocat) -> None:
    done = websocat.run("--compress-window-bits", "12", "--dump-spec", "ws://127.0.0.1:9/")
    assert done.returncode == 0
    assert b"--compress-window-bits: no effect without --compress" in done.stderr
    done = websocat.run("--compress", "--dump-spec", "tcp:127.0.0.1:9", "-")
    assert b"--compress has no effect here" in done.stderr
