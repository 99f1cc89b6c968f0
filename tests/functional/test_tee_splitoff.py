"""--tee / tee:, --write-splitoff / write-splitoff:, --filter and --filter-reverse with real
sockets: TCP peers in the test, `websockets` peers, child processes as filters."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading

from conftest import RecordingServer, Websocat
from websockets.asyncio.client import connect


class TcpPeer:
    """A TCP listener on 127.0.0.1 for one connection: sends ``greeting``, records what it
    receives until EOF (``eof_within``: waits that long for it and notes whether it came),
    then closes.  ``reset``: resets the connection after its first bytes arrive.  ``upper``:
    sends back what it receives, upper-cased (a filter)."""

    def __init__(
        self, greeting: bytes = b"", *, reset: bool = False, upper: bool = False, eof_within: float | None = None
    ) -> None:
        self.greeting, self.reset, self.upper, self.eof_within = greeting, reset, upper, eof_within
        self.received = bytearray()
        self.got_eof = False
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.spec = f"tcp:127.0.0.1:{self.port}"
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        self.server.close()
        try:
            if self.reset:
                self.received += conn.recv(1000)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            conn.sendall(self.greeting)
            conn.settimeout(self.eof_within if self.eof_within is not None else 30)
            try:
                while data := conn.recv(65536):
                    self.received += data
                    if self.upper:
                        conn.sendall(data.upper())
                self.got_eof = True
            except TimeoutError:
                pass
        finally:
            conn.close()
            self.done.set()

    def wait(self, timeout: float = 20) -> bytes:
        assert self.done.wait(timeout), "the peer's connection did not end"
        return bytes(self.received)


LINES = b"".join(b"line %05d\n" % i for i in range(20000))  # 220 KB: many reads of stdin


def test_tee_copies_every_message_to_every_node(websocat: Websocat, ws_server: type[RecordingServer]) -> None:
    """Right side, a --tee TCP node and a --tee WebSocket node each get every line."""
    right, node = TcpPeer(), TcpPeer()
    server = ws_server()
    done = websocat.run("-t", "--tee", node.spec, "--tee", server.url, "-", right.spec, input=LINES)
    assert done.returncode == 0, done.stderr
    assert right.wait() == LINES
    assert node.wait() == LINES
    assert server.wait_finished() == [line.decode() for line in LINES.splitlines()]


def test_tee_merges_what_the_nodes_send(websocat: Websocat) -> None:
    right, node = TcpPeer(b"from the right side\n"), TcpPeer(b"from the tee node\n")
    done = websocat.run("-t", "--tee", node.spec, "-", right.spec, input=b"hello\n")
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == [b"from the right side", b"from the tee node"]
    assert right.wait() == node.wait() == b"hello\n"


def test_a_failed_tee_node_loses_no_data(websocat: Websocat) -> None:
    """A node that resets its connection is dropped; the right side still gets every line.
    With --tee-propagate-failures the same failure ends the run, with one line.  (16 MB:
    more than the kernel buffers of the node's connection, so writes to it go on after the reset.)"""
    data = LINES * 75
    right, gone = TcpPeer(), TcpPeer(reset=True)
    done = websocat.run("-b", "--tee", gone.spec, "-", right.spec, input=data)
    assert done.returncode == 0, done.stderr
    assert right.wait() == data

    right, gone = TcpPeer(), TcpPeer(reset=True)
    done = websocat.run("-b", "--tee-propagate-failures", "--tee", gone.spec, "-", right.spec, input=data)
    assert done.returncode != 0
    assert done.stderr.startswith(b"websocat: ") and done.stderr.count(b"\n") == 1, done.stderr


def test_a_tee_target_that_fails_at_start_is_one_line(websocat: Websocat) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens there once the probe is closed
    right = TcpPeer()
    done = websocat.run("-t", "--tee", f"tcp:127.0.0.1:{closed}", "-", right.spec, input=b"x\n")
    assert done.returncode == 3
    assert done.stderr.startswith(b"websocat: ") and done.stderr.count(b"\n") == 1, done.stderr


def test_tee_under_a_websocket_server(websocat: Websocat) -> None:
    """A websockets client talks to mirror: and, through --tee, to a TCP peer at once."""
    node = TcpPeer(b"from the tee node\n")
    proc, port = websocat.listen("-t", "--oneshot", "--tee", node.spec, "ws-l:127.0.0.1:0", "mirror:")

    async def client() -> list[str | bytes]:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send("hello")
            return sorted([await asyncio.wait_for(ws.recv(), 20) for _ in range(2)])  # type: ignore[type-var]

    assert asyncio.run(client()) == ["from the tee node", "hello"]
    assert node.wait() == b"hello\n"
    websocat.finish(proc)
    assert proc.returncode == 0


def test_write_splitoff_reads_one_socket_and_writes_another(websocat: Websocat) -> None:
    """Reads come from the right side, whose write half is shut at once; writes go to
    --write-splitoff.  --write-splitoff-omit-shutdown leaves the right side's write half open."""
    reads, writes = TcpPeer(b"hello from the read side", eof_within=10), TcpPeer()
    done = websocat.run("-b", "--write-splitoff", writes.spec, "-", reads.spec, input=b"to the write side")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"hello from the read side"
    assert writes.wait() == b"to the write side"
    assert reads.wait() == b"" and reads.got_eof

    reads, writes = TcpPeer(b"hello", eof_within=1), TcpPeer()
    argv = ["-b", "--write-splitoff-omit-shutdown", "--write-splitoff", writes.spec, "-", f"wrdvrt:{reads.spec}"]
    done = websocat.run(*argv, input=b"to the write side")
    assert done.returncode == 0, done.stderr
    assert (done.stdout, writes.wait()) == (b"hello", b"to the write side")
    assert reads.wait() == b"" and not reads.got_eof


def test_filter_through_a_child_process(websocat: Websocat) -> None:
    right = TcpPeer(b"reply from the right side")
    done = websocat.run("-b", "--filter", "cmd:tr a-z A-Z", "-", right.spec, input=b"hello filter")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"reply from the right side"
    assert right.wait() == b"HELLO FILTER"


def test_filter_reverse_through_a_child_process(websocat: Websocat) -> None:
    right = TcpPeer(b"reply from the right side")
    done = websocat.run("-b", "--filter-reverse", "cmd:tr a-z A-Z", "-", right.spec, input=b"hello filter")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"REPLY FROM THE RIGHT SIDE"
    assert right.wait() == b"hello filter"


def test_filters_apply_in_the_order_given(websocat: Websocat) -> None:
    """a -> b, then b -> c: 'aaa' arrives as 'ccc' (the other order would give 'bbb')."""
    right = TcpPeer()
    done = websocat.run("-b", "--filter", "cmd:tr a b", "--filter", "cmd:tr b c", "-", right.spec, input=b"aaa")
    assert done.returncode == 0, done.stderr
    assert right.wait() == b"ccc"


def test_filter_server_between_websocket_messages_and_mirror(websocat: Websocat) -> None:
    """A TCP filter server in the test upper-cases what a websockets client sends to mirror:."""
    upper = TcpPeer(upper=True)
    proc, port = websocat.listen("-t", "--oneshot", "--filter", upper.spec, "ws-l:127.0.0.1:0", "mirror:")

    async def client() -> list[str | bytes]:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            got = []
            for text in ("abc", "hello world"):
                await ws.send(text)
                got.append(await asyncio.wait_for(ws.recv(), 20))
            return got

    assert asyncio.run(client()) == ["ABC", "HELLO WORLD"]
    assert upper.wait() == b"abc\nhello world\n"
    websocat.finish(proc)
    assert proc.returncode == 0
