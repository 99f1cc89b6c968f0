"""How a WebSocket session ends: -u/-U keep reading, errors and edits still send a Close.

Peers are `websockets` asyncio servers and clients that record the close frames they saw.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from conftest import Websocat, start_server

STREAMED = 100


def _close_code(conn: ServerConnection) -> int | None:
    """The code of the Close frame the client sent, None if none arrived."""
    rcvd = conn.protocol.close_rcvd
    return rcvd.code if rcvd is not None else None


class Streamer:
    """Sends STREAMED text messages, then closes with 1000; records the Close it got back."""

    def __init__(self) -> None:
        self.received: list[str | bytes] = []
        self.close_rcvd: list[int | None] = []

    async def __call__(self, conn: ServerConnection) -> None:
        for i in range(STREAMED):
            await conn.send(f"message {i}")
        await conn.close(1000)
        self.close_rcvd.append(_close_code(conn))


class Collector:
    """Receives until the client closes; records messages and the client's Close."""

    def __init__(self) -> None:
        self.received: list[str | bytes] = []
        self.close_rcvd: list[int | None] = []

    async def __call__(self, conn: ServerConnection) -> None:
        try:
            async for message in conn:
                self.received.append(message)
        except ConnectionClosed:
            pass
        self.close_rcvd.append(_close_code(conn))


@pytest.fixture
def streamer() -> Iterator[tuple[Streamer, str]]:
    handler = Streamer()
    for url in start_server(handler):
        yield handler, url


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    handler = Collector()
    for url in start_server(handler):
        yield handler, url


def settled(handler: Collector | Streamer) -> list[int | None]:
    """The Close codes the server saw, once its handler has ended (the server runs in a thread)."""
    deadline = time.monotonic() + 10
    while not handler.close_rcvd and time.monotonic() < deadline:
        time.sleep(0.01)
    return handler.close_rcvd


EXPECTED = b"".join(f"message {i}\n".encode() for i in range(STREAMED))


def test_u_listens_to_the_whole_stream(websocat: Websocat, streamer: tuple[Streamer, str]) -> None:
    """-u: the WebSocket is only read; no Close goes out until the server's (answered: clean)."""
    handler, url = streamer
    result = websocat.run("-u", url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == EXPECTED
    assert settled(handler) == [1000]  # our reply echoes the server's code


def test_big_u_listens_to_the_whole_stream_on_the_right(websocat: Websocat, streamer: tuple[Streamer, str]) -> None:
    """-U, mirrored: the WebSocket on the right is only read, into stdout on the left."""
    handler, url = streamer
    result = websocat.run("-U", "-", url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == EXPECTED
    assert settled(handler) == [1000]


def test_u_writing_to_a_websocket_closes_it_at_eof(websocat: Websocat, collector: tuple[Collector, str]) -> None:
    """-u with the WebSocket as the writer's target: all lines arrive, then our empty Close."""
    handler, url = collector
    result = websocat.run("-u", "-", url, input=b"one\ntwo\nthree\n")
    assert result.returncode == 0, result.stderr
    assert settled(handler) == [1005]  # settled first: the server thread may still be reading
    assert handler.received == ["one", "two", "three"]


def test_failing_upstream_gets_close_1011(websocat: Websocat, unused_port: int) -> None:
    """ws-l: -> tcp: with a backend that refuses: the client gets Close 1011 with a reason."""
    proc, port = websocat.listen("--oneshot", "ws-l:127.0.0.1:0", f"tcp:127.0.0.1:{unused_port}")

    async def client() -> tuple[int | None, str]:
        async with connect(f"ws://127.0.0.1:{port}/") as conn:
            with pytest.raises(ConnectionClosed) as info:
                await conn.recv()
            rcvd = info.value.rcvd
            assert rcvd is not None, "no Close frame arrived"
            return rcvd.code, rcvd.reason

    code, reason = asyncio.run(client())
    assert (code, reason) == (1011, "upstream: connection refused")
    _out, err = websocat.finish(proc)
    assert b"Connection refused" in err and b"Traceback" not in err


EDITED_LOOP = """\
while (m := await ws1.recv()) is not None:
    data, flags = m
    await ws1.send(data.upper(), flags)
    if data == b"message 2":
        break
"""


class ThreeThenCollect(Collector):
    """Sends three messages, then records what comes back until the client closes."""

    async def __call__(self, conn: ServerConnection) -> None:
        for i in range(3):
            await conn.send(f"message {i}")
        await super().__call__(conn)


def test_edited_loop_closes_properly(websocat: Websocat, tmp_path: Path) -> None:
    """A dumped client whose exchange is replaced by a hand-written loop still sends a Close."""
    handler = ThreeThenCollect()
    for url in start_server(handler):
        dump = websocat.run("--dump-spec", url)
        assert dump.returncode == 0, dump.stderr
        lines = dump.stdout.decode().splitlines(keepends=True)
        exchange = next(i for i, line in enumerate(lines) if "await exchange_packets(" in line)
        # The loop replaces the exchange; it talks to ws1 alone, inside the `async with` blocks.
        pad = lines[exchange][: len(lines[exchange]) - len(lines[exchange].lstrip())]
        loop = "".join(pad + line for line in EDITED_LOOP.splitlines(keepends=True))
        edited = "".join(lines[:exchange]) + loop + "".join(lines[exchange + 1 :])
        script = tmp_path / "run.py"
        script.write_text(edited)
        result = websocat.run(argv=[sys.executable, str(script)])
        assert result.returncode == 0, result.stderr
        codes = settled(handler)  # the server thread may still be reading when our process has ended
        assert handler.received == ["MESSAGE 0", "MESSAGE 1", "MESSAGE 2"]
        assert codes == [1005], f"the edited script left without an empty Close: {codes}; stderr {result.stderr!r}"


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("right", ["mirror:", "-"], ids=["mirror", "stdio"])
def test_sigterm_sends_going_away(websocat: Websocat, right: str) -> None:
    """SIGTERM: each open WebSocket gets Close 1001, and the process exits 143 within STOP_GRACE."""
    proc, port = websocat.listen("ws-l:127.0.0.1:0", right)

    async def clients() -> list[int | None]:
        conns = [await connect(f"ws://127.0.0.1:{port}/") for _ in range(2)]
        for conn in conns:
            await conn.send("hi")
        if right == "mirror:":
            assert [await conn.recv() for conn in conns] == ["hi", "hi"]
        else:
            await asyncio.sleep(0.3)  # the messages reached the server
        proc.send_signal(signal.SIGTERM)
        codes = []
        for conn in conns:
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    await asyncio.wait_for(conn.recv(), 5)
            codes.append(info.value.rcvd.code if info.value.rcvd is not None else None)
        return codes

    assert asyncio.run(clients()) == [1001, 1001]
    started = time.monotonic()
    _out, err = websocat.finish(proc, timeout=10)
    assert time.monotonic() - started < 3
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert b"Traceback" not in err


def test_server_with_stdin_at_eof_keeps_its_clients(websocat: Websocat) -> None:
    """`websocat -s PORT < /dev/null > log`: stdin's EOF closes no session; every message is logged."""
    proc, port = websocat.listen("-s", "0")  # stdin is /dev/null

    async def clients() -> list[int | None]:
        conns = [await connect(f"ws://127.0.0.1:{port}/") for _ in range(3)]
        for round_ in range(3):
            for index, conn in enumerate(conns):
                await conn.send(f"client {index} message {round_}")
                await asyncio.sleep(0.05)  # a Close after the first message would arrive meanwhile
        codes = []
        for conn in conns:
            await conn.close()
            codes.append(conn.close_code)
        return codes

    assert asyncio.run(clients()) == [1000, 1000, 1000]  # each closed by the client, and answered
    proc.send_signal(signal.SIGTERM)
    out, err = websocat.finish(proc)
    assert sorted(out.decode().splitlines()) == sorted(
        f"client {i} message {r}" for i in range(3) for r in range(3)
    ), err


def test_server_exit_on_eof_closes_at_stdin_eof(websocat: Websocat) -> None:
    """-E keeps the old rule: stdin's EOF ends the session."""
    proc, port = websocat.listen("-E", "-s", "0")

    async def client() -> int | None:
        async with connect(f"ws://127.0.0.1:{port}/") as conn:
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(conn.recv(), 5)
            return info.value.rcvd.code if info.value.rcvd is not None else None

    assert asyncio.run(client()) == 1005
    proc.send_signal(signal.SIGTERM)
    websocat.finish(proc)
