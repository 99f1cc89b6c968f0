"""websocat v1's autoreconnect: (the connection opened again when it fails or ends, -p
sent again, messages never torn) and foreachmsg: (a connection per message)."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import Websocat
from websockets.asyncio.server import Server, ServerConnection, serve


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RestartingServer:
    """A websockets server in a thread of its own that records each connection's messages
    and can be stopped (its connections closed with 1001) and started again on its port."""

    def __init__(self, reply: bool = False, once: bool = False) -> None:
        self.port = _free_port()
        self.reply = reply
        self.once = once  # reply to one message and close
        self.connections: list[list[str | bytes]] = []
        self.handlers = 0  # handlers still running
        self.loop = asyncio.new_event_loop()
        self.server: Server | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _handler(self, conn: ServerConnection) -> None:
        got: list[str | bytes] = []
        self.connections.append(got)
        self.handlers += 1
        try:
            async for message in conn:
                got.append(message)
                if self.reply:
                    await conn.send(message)
                if self.once:
                    break
        finally:
            self.handlers -= 1

    def _call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]

    def start(self) -> None:
        async def start() -> None:
            self.server = await serve(self._handler, "127.0.0.1", self.port)

        self._call(start())

    def stop(self) -> None:
        async def stop() -> None:
            assert self.server is not None
            self.server.close()
            await self.server.wait_closed()

        self._call(stop())

    def received(self) -> int:
        return sum(len(got) for got in self.connections)

    def wait_idle(self, timeout: float = 20.0) -> None:
        """Until every handler has ended (what they received is then complete)."""
        deadline = time.monotonic() + timeout
        while self.handlers and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not self.handlers, "the server's handlers did not end"

    def close(self) -> None:
        if self.server is not None:
            self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def restarting() -> Iterator[type[RestartingServer]]:
    started: list[RestartingServer] = []

    class Tracked(RestartingServer):
        def __init__(self, reply: bool = False, once: bool = False) -> None:
            super().__init__(reply, once)
            started.append(self)

    yield Tracked
    for server in started:
        server.close()


def _wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.005)
    assert condition(), "timed out"  # type: ignore[operator]


LINE = re.compile(r"^line (\d{4}) [a-z]{40}$")


def test_a_stdin_stream_survives_three_server_restarts(websocat: Websocat, restarting: type[RestartingServer]) -> None:
    """Numbered lines go to a server restarted three times mid-stream: the client connects
    again each time, sends -p's message first on each connection, and no message arrives
    torn, twice or out of order.  None is lost either: the stopping server sends its Close
    and still delivers what arrives before our Close reply (RFC 6455 lets it), and once
    that Close is read no line goes to the old connection (autoreconnect: checks its
    hangup before each write); lines written while the server is down wait and go to the
    next connection."""
    server = restarting()
    server.start()
    proc = websocat.spawn(
        "-t",
        "-p",
        "HELLO",
        "--autoreconnect-delay-millis",
        "30",
        "--autoreconnect-max-delay-millis",
        "200",
        "--random-seed",
        "7",
        f"autoreconnect:ws://127.0.0.1:{server.port}/",
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    count, restarts = 400, (100, 200, 300)
    for number in range(count):
        proc.stdin.write(f"line {number:04} {'abcdefghij' * 4}\n".encode())
        proc.stdin.flush()
        if number in restarts:
            _wait_for(lambda: server.received() >= number - 20)  # mid-stream: this connection carries lines
            server.stop()
            time.sleep(0.3)  # down long enough for failed attempts (connection refused)
            server.start()
        time.sleep(0.002)
    _wait_for(lambda: any(got and got[-1] == f"line {count - 1:04} {'abcdefghij' * 4}" for got in server.connections))
    proc.stdin.close()
    _out, err = websocat.finish(proc)
    server.wait_idle()
    assert proc.returncode == 0, err
    assert len(server.connections) == 4, server.connections
    assert err.count(b"autoreconnect: connection lost") == 3, err
    numbers: list[int] = []
    for got in server.connections:
        assert got[0] == "HELLO"  # -p on every connection
        for message in got[1:]:
            assert isinstance(message, str)
            match = LINE.match(message)
            assert match, f"torn message {message!r}"
            numbers.append(int(match.group(1)))
    assert numbers == sorted(set(numbers))  # in order, none twice
    lost = sorted(set(range(count)) - set(numbers))
    assert lost == [], f"lost across 3 restarts: {lost}"


def test_messages_from_the_server_arrive_whole_across_restarts(
    websocat: Websocat, restarting: type[RestartingServer]
) -> None:
    """An echo server restarted while replies stream back: every line printed is whole."""
    server = restarting(reply=True)
    server.start()
    proc = websocat.spawn(
        "-t",
        "--autoreconnect-delay-millis",
        "20",
        f"autoreconnect:ws://127.0.0.1:{server.port}/",
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    count = 200
    for number in range(count):
        proc.stdin.write(f"line {number:04} {'abcdefghij' * 4}\n".encode())
        proc.stdin.flush()
        if number in (60, 120):
            _wait_for(lambda: server.received() >= number - 10)
            server.stop()
            server.start()
        time.sleep(0.002)
    _wait_for(lambda: any(got and got[-1].startswith(f"line {count - 1:04}") for got in server.connections))
    proc.stdin.close()
    out, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    printed = out.decode().splitlines()
    assert printed and all(LINE.match(line) for line in printed), printed
    assert len(server.connections) == 3


def test_gives_up_after_max_attempts_with_one_line(websocat: Websocat) -> None:
    port = _free_port()
    started = time.monotonic()
    done = websocat.run(
        "-t",
        "--autoreconnect-max-attempts",
        "4",
        "--autoreconnect-delay-millis",
        "10",
        f"autoreconnect:ws://127.0.0.1:{port}/",
        input=b"x\n",
    )
    assert done.returncode == 3, done.stderr
    lines = done.stderr.decode().splitlines()
    want = (
        f"websocat: autoreconnect: gave up after 4 failed attempts in a row: tcp:127.0.0.1:{port}: Connection refused"
    )
    assert lines == [want], lines
    assert time.monotonic() - started < 10


def test_verbose_prints_each_failed_attempt(websocat: Websocat) -> None:
    done = websocat.run(
        "-t",
        "-v",
        "--autoreconnect-max-attempts",
        "3",
        "--autoreconnect-delay-millis",
        "1",
        f"autoreconnect:tcp:127.0.0.1:{_free_port()}",
        input=b"x\n",
    )
    assert done.returncode == 3
    assert done.stderr.decode().count("autoreconnect: attempt") == 2, done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("--autoreconnect-max-attempts", "0"), "'--autoreconnect-max-attempts': 0 is not a positive"),
        (("--autoreconnect-delay-millis=-5",), "'--autoreconnect-delay-millis': '-5' is negative"),
        (("autoreconnect:tcp-l:127.0.0.1:0", "-"), "'autoreconnect:' cannot be over a listener"),
    ],
)
def test_bad_values_are_one_line(websocat: Websocat, args: tuple[str, ...], message: str) -> None:
    if args[0].startswith("--"):
        args = (*args, "autoreconnect:tcp:127.0.0.1:1", "-")
    done = websocat.run(*args)
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_foreachmsg_opens_a_connection_per_message(websocat: Websocat, restarting: type[RestartingServer]) -> None:
    server = restarting()
    server.start()
    done = websocat.run("-t", "-", f"foreachmsg:ws://127.0.0.1:{server.port}/", input=b"one\ntwo\nthree\n")
    assert done.returncode == 0, done.stderr
    server.wait_idle()
    assert server.connections == [["one"], ["two"], ["three"]]


def test_foreachmsg_wait_read_passes_each_reply_on(websocat: Websocat, restarting: type[RestartingServer]) -> None:
    """A WebSocket ends both ways at once: the server's Close after its reply ends each one."""
    server = restarting(reply=True, once=True)
    server.start()
    done = websocat.run(
        "-t", "--foreachmsg-wait-read", "-", f"foreachmsg:ws://127.0.0.1:{server.port}/", input=b"one\ntwo\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"one\ntwo\n"
    server.wait_idle()
    assert server.connections == [["one"], ["two"]]


def test_foreachmsg_writes_each_message_to_a_new_file(websocat: Websocat, tmp_path: object) -> None:
    """websocat v1's example: the file holds the last message only."""
    done = websocat.run("-t", "-", "foreachmsg:writefile:status.txt", input=b"first\nsecond\nlast\n")
    assert done.returncode == 0, done.stderr
    assert (websocat.cwd / "status.txt").read_bytes() == b"last\n"
