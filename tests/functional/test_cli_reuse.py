"""reuse-raw:: one upstream connection shared by every session of a listener, written
to a message at a time; --reuser-tolerate-torn-msgs; the reuser the planner inserts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import Websocat, start_server
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

serving = contextlib.contextmanager(start_server)  # a websockets server in a thread, for a with block


class CountingEcho:
    """A TCP echo server in a thread that counts the connections it accepted."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.received = b""
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                self.received += data
                conn.sendall(data)


@pytest.fixture
def counting_echo() -> Iterator[CountingEcho]:
    server = CountingEcho()
    yield server
    server.sock.close()


def _reset_close(sock: socket.socket) -> None:
    """Close with a reset, so that websocat sees the client gone at once."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    got = b""
    while len(got) < size:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def test_tcp_clients_in_turn_and_together_share_one_upstream(websocat: Websocat, counting_echo: CountingEcho) -> None:
    proc, port = websocat.listen("-b", "tcp-l:127.0.0.1:0", f"reuse-raw:chunks:tcp:127.0.0.1:{counting_echo.port}")
    for n in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=15) as client:
            client.sendall(b"client %d" % n)
            assert _recv_exactly(client, 8) == b"client %d" % n
            _reset_close(client)
        # The reset must reach websocat before the next client's reply comes back: a
        # session still reading then would take it (the manual: a message can be lost
        # when a user disconnects).
        time.sleep(0.2)
    together = [socket.create_connection(("127.0.0.1", port), timeout=15) for _ in range(3)]
    for n, client in enumerate(together):
        client.sendall(b"together %d;" % n)
    deadline = time.monotonic() + 15
    while len(counting_echo.received) < 3 * 11 + 24 and time.monotonic() < deadline:
        time.sleep(0.05)
    for client in together:
        client.close()
    proc.terminate()
    websocat.finish(proc)
    assert counting_echo.accepted == 1
    sent_together = counting_echo.received[24:].split(b";")
    assert sorted(sent_together) == [b"", b"together 0", b"together 1", b"together 2"]


def test_websocket_clients_share_one_message_upstream(websocat: Websocat) -> None:
    """ws-l: sessions over one WebSocket upstream: messages reach it whole, even when a
    client sends its message in fragments while another one sends; replies are spread
    over the clients; the upstream saw one connection."""
    connections: list[ServerConnection] = []
    received: list[str | bytes] = []

    async def upstream(conn: ServerConnection) -> None:
        connections.append(conn)
        async for message in conn:
            received.append(message)
            await conn.send(message)

    with serving(upstream) as url:
        proc, port = websocat.listen("ws-l:127.0.0.1:0", f"reuse-raw:{url}")

        async def clients() -> list[str | bytes]:
            replies: list[str | bytes] = []
            async with connect(f"ws://127.0.0.1:{port}/") as first:
                await first.send("alone")
                replies.append(await asyncio.wait_for(first.recv(), 20))
            async with connect(f"ws://127.0.0.1:{port}/") as a, connect(f"ws://127.0.0.1:{port}/") as b:

                async def fragments() -> None:
                    async def parts() -> Iterator[str]:  # type: ignore[misc]
                        for part in ("frag", "mented ", "message"):
                            yield part
                            await asyncio.sleep(0.05)

                    await a.send(parts())

                await asyncio.gather(fragments(), b.send("whole"))
                await asyncio.sleep(0.05)
                for client in (a, b):
                    while True:
                        try:
                            replies.append(await asyncio.wait_for(client.recv(), 1.5))
                        except TimeoutError:
                            break
            return replies

        replies = asyncio.run(clients())
        proc.terminate()
        websocat.finish(proc)
        assert len(connections) == 1
        assert received[0] == "alone" and sorted(received[1:]) == ["fragmented message", "whole"]
        assert replies[0] == "alone" and sorted(replies[1:]) == ["fragmented message", "whole"]


def _torn_client(port: int) -> None:
    """A WebSocket client that sends the first fragment of a text message and vanishes."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(4096)
        assert reply.startswith(b"HTTP/1.1 101"), reply
        mask = b"\x01\x02\x03\x04"
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(b"torn"))
        sock.sendall(b"\x01\x84" + mask + payload)  # text, FIN clear: more fragments would follow
        time.sleep(0.2)
        _reset_close(sock)


@pytest.mark.parametrize("tolerate", [False, True], ids=["strict", "tolerate"])
def test_a_client_leaving_mid_message(websocat: Websocat, tolerate: bool) -> None:
    """By default the shared upstream's writing is shut (a Close goes to it) and later
    writes fail with one line; --reuser-tolerate-torn-msgs sends the message trimmed
    and goes on."""
    received: list[str | bytes] = []
    close_codes: list[int | None] = []

    async def upstream(conn: ServerConnection) -> None:
        try:
            async for message in conn:
                received.append(message)
        finally:
            close_codes.append(conn.protocol.close_rcvd.code if conn.protocol.close_rcvd else None)

    with serving(upstream) as url:
        flags = ["--reuser-tolerate-torn-msgs"] if tolerate else []
        proc, port = websocat.listen(*flags, "ws-l:127.0.0.1:0", f"reuse-raw:{url}")
        _torn_client(port)

        async def later_client() -> int | None:
            # Its write waits for the torn message's session to let go of the upstream.
            async with connect(f"ws://127.0.0.1:{port}/") as ws:
                try:
                    await ws.send("next")
                    await asyncio.wait_for(ws.recv(), 3)
                except (TimeoutError, ConnectionClosed):
                    pass
            return ws.close_code

        code = asyncio.run(later_client())
        deadline = time.monotonic() + 15
        while tolerate and len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.terminate()
        _out, err = websocat.finish(proc)
        deadline = time.monotonic() + 15
        while not close_codes and time.monotonic() < deadline:
            time.sleep(0.05)
    assert b"Traceback" not in err
    if tolerate:
        assert received == ["torn", "next"]
        assert b"it was sent trimmed" in err
        assert close_codes == [1001]  # closed when websocat stopped
    else:
        assert received == []
        assert close_codes == [1005]  # the Close at EOF (no status), sent when the client left
        # Its write failed (1011), or the upstream's answering Close, an EOF for every
        # session, ended it first (a Close with no status).
        assert code in (1011, 1005)
        assert b"the shared connection takes no more writes" in err
        assert b"--reuser-tolerate-torn-msgs" in err


def test_less_fixups_leaves_out_the_inserted_reuser(websocat: Websocat) -> None:
    with_reuser = websocat.run("--dump-spec-phase2", "ws-l:127.0.0.1:1234", "-")
    without = websocat.run("--less-fixups", "--dump-spec-phase2", "ws-l:127.0.0.1:1234", "-")
    assert (with_reuser.returncode, without.returncode) == (0, 0)
    (shared,) = [line for line in with_reuser.stdout.decode().splitlines() if line.startswith("right:")]
    assert shared.startswith("right: SimpleReuserEndpoint(tolerate_torn_msgs=False) sharing [LineChunks(")
    assert shared.endswith(" over Stdio()]")
    (plain,) = [line for line in without.stdout.decode().splitlines() if line.startswith("right:")]
    assert plain.startswith("right: LineChunks(") and plain.endswith(" over Stdio()")
    assert shared == f"right: SimpleReuserEndpoint(tolerate_torn_msgs=False) sharing [{plain.removeprefix('right: ')}]"


def test_stdio_is_shared_by_the_sessions_of_a_listener(websocat: Websocat) -> None:
    """ws-l: with stdio: gets the reuser: lines from both clients reach stdout whole,
    each line of stdin goes to one client."""
    proc = websocat.spawn("--stdout-announce-listening-ports", "ws-l:127.0.0.1:0", "-", stdin=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    port = int(line.split(b"port=")[-1])

    async def clients() -> list[str | bytes]:
        async with connect(f"ws://127.0.0.1:{port}/") as a, connect(f"ws://127.0.0.1:{port}/") as b:
            await a.send("from a")
            await b.send("from b")
            assert proc.stdin is not None
            proc.stdin.write(b"one\ntwo\n")
            proc.stdin.flush()
            replies: list[str | bytes] = []
            for client in (a, b):
                while True:
                    try:
                        replies.append(await asyncio.wait_for(client.recv(), 1.5))
                    except TimeoutError:
                        break
            return replies

    replies = asyncio.run(clients())
    out = b""
    deadline = time.monotonic() + 10
    while out.count(b"\n") < 2 and time.monotonic() < deadline:
        out += proc.stdout.read1(65536)
    proc.terminate()
    websocat.finish(proc)
    assert sorted(replies) == ["one", "two"]
    assert sorted(out.splitlines()) == [b"from a", b"from b"]
