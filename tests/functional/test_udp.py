"""UDP endpoints end to end: real `websocat` processes, real UDP sockets on 127.0.0.1 and
`websockets` clients.  One datagram is one message, a 0-byte one included."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from conftest import Websocat
from websockets.sync.client import connect

FAILURE, USAGE, CONNECT = 1, 2, 3
WAIT = 5.0  # seconds for a datagram that should come
QUIET = 0.3  # seconds in which a datagram that should not come has not come


class Peer:
    """A UDP socket of the test, bound on 127.0.0.1."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"

    def send(self, data: bytes, port: int) -> None:
        self.sock.sendto(data, ("127.0.0.1", port))

    def recv(self, timeout: float = WAIT) -> tuple[bytes, int]:
        """The next datagram and the port it came from."""
        self.sock.settimeout(timeout)
        data, (_host, port) = self.sock.recvfrom(65536)
        return data, port

    def nothing(self) -> bool:
        """True when no datagram arrives within QUIET."""
        ready, _, _ = select.select([self.sock], [], [], QUIET)
        return not ready

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    made = [Peer() for _ in range(3)]
    try:
        yield made
    finally:
        for peer in made:
            peer.close()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def udp_listen(websocat: Websocat, *args: str, timeout: float = 15.0) -> tuple[subprocess.Popen[bytes], int]:
    """Start a udp-server: websocat and read its port from the LISTEN line."""
    proc = websocat.spawn("--stdout-announce-listening-ports", *args)
    assert proc.stdout is not None
    line = b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"websocat {args!r} announced no port"
        byte = os.read(proc.stdout.fileno(), 1)
        assert byte, f"websocat {args!r} exited: {websocat.finish(proc, 5)[1]!r}"
        line += byte
    match = re.fullmatch(rb"LISTEN proto=udp,ip=127\.0\.0\.1,port=(\d+)\n", line)
    assert match, line
    return proc, int(match.group(1))


def read_exactly(proc: subprocess.Popen[bytes], size: int, timeout: float = WAIT) -> bytes:
    assert proc.stdout is not None
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < size:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"only {got!r} on stdout"
        chunk = os.read(proc.stdout.fileno(), size - len(got))
        assert chunk, f"EOF after {got!r}"
        got += chunk
    return got


def error_line(result: subprocess.CompletedProcess[bytes], code: int, *fragments: str) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("websocat: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert result.returncode == code, (result.returncode, lines[0])
    return lines[0]


# -- ws-l: <-> udp:


def test_websocket_messages_are_datagrams(websocat: Websocat, peers: list[Peer]) -> None:
    """One message is one datagram each way: a 0-byte one, one of exactly the maximum size."""
    target = peers[0]
    proc, port = websocat.listen(
        "-b", "ws-l:127.0.0.1:0", f"udp:{target.address}", "--udp-max-send-datagram-size", "1000"
    )
    exact = bytes(range(256)) * 3 + b"z" * 232
    assert len(exact) == 1000
    with connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
        sent = [b"", exact, b"hello", b"", "text goes out as its bytes"]
        for message in sent:
            ws.send(message)
        got = [target.recv() for _ in sent]
        assert [data for data, _port in got] == [m if isinstance(m, bytes) else m.encode() for m in sent]
        source = got[0][1]
        assert {p for _d, p in got} == {source}  # one connected socket for the session
        for reply in (b"", b"from udp", b"x" * 60000):
            target.send(reply, source)
            assert ws.recv(timeout=WAIT) == reply  # binary messages, the 0-byte one too
    proc.kill()


def test_oversized_message_ends_the_session(websocat: Websocat, peers: list[Peer]) -> None:
    target = peers[0]
    proc, port = websocat.listen(
        "-b", "ws-l:127.0.0.1:0", f"udp:{target.address}", "--udp-max-send-datagram-size", "10"
    )
    with connect(f"ws://127.0.0.1:{port}/") as ws:
        ws.send(b"0123456789")
        assert target.recv()[0] == b"0123456789"
        ws.send(b"0123456789!")
        with pytest.raises(Exception):  # the session ends: the WebSocket is closed
            ws.recv(timeout=WAIT)
    assert target.nothing()
    proc.kill()
    _out, err = websocat.finish(proc)
    assert b"longer than --udp-max-send-datagram-size (10)" in err and b"Traceback" not in err


def test_text_mode_tags_datagrams_as_text(websocat: Websocat, peers: list[Peer]) -> None:
    target = peers[0]
    proc, port = websocat.listen("-t", "ws-l:127.0.0.1:0", f"udp:{target.address}")
    with connect(f"ws://127.0.0.1:{port}/") as ws:
        ws.send("hi")
        data, source = target.recv()
        assert data == b"hi"
        target.send("h\u00e9".encode(), source)
        assert ws.recv(timeout=WAIT) == "h\u00e9"
    proc.kill()


# -- udp-server:


def test_udp_server_one_session_per_peer(websocat: Websocat, peers: list[Peer], echo_url: str) -> None:
    """Three clients at once, each with its own WebSocket to the echo server."""
    proc, port = udp_listen(websocat, "-b", "udp-server:127.0.0.1:0", echo_url)
    for round in range(3):
        for index, peer in enumerate(peers):
            peer.send(b"peer %d round %d" % (index, round), port)
        for index, peer in enumerate(peers):
            assert peer.recv() == (b"peer %d round %d" % (index, round), port)
    peers[1].send(b"", port)
    assert peers[1].recv() == (b"", port)
    proc.kill()


def test_udp_server_timeout_ends_the_session(websocat: Websocat, peers: list[Peer], ws_server) -> None:
    server = ws_server()
    proc, port = udp_listen(
        websocat, "-b", "udp-server:127.0.0.1:0", server.url, "--udp-server-timeout-ms", "300", "--udp-server-qlen", "4"
    )
    peers[0].send(b"one", port)
    peers[0].send(b"", port)
    assert server.wait_finished(timeout=WAIT) == [b"one", b""]  # ended by the timeout
    proc.kill()


def test_udp_server_max_clients_evicts_the_oldest(websocat: Websocat, peers: list[Peer], ws_server) -> None:
    server = ws_server()
    proc, port = udp_listen(websocat, "-b", "udp-server:127.0.0.1:0", server.url, "--udp-server-max-clients", "1")
    peers[0].send(b"first client", port)
    time.sleep(0.3)
    assert not server.finished.is_set()
    peers[1].send(b"second client", port)  # the first one's session ends
    # (the server records every connection's messages in one list: the second may be there too)
    assert server.wait_finished(timeout=WAIT)[0] == b"first client"
    proc.kill()


def test_udp_server_mirror_with_oneshot(websocat: Websocat, peers: list[Peer]) -> None:
    proc, port = udp_listen(
        websocat, "-b", "--oneshot", "udp-server:127.0.0.1:0", "mirror:", "--udp-server-timeout-ms", "300"
    )
    peers[0].send(b"ping", port)
    assert peers[0].recv() == (b"ping", port)
    peers[1].send(b"not served", port)  # --oneshot: nobody else
    assert peers[1].nothing()
    _out, err = websocat.finish(proc)  # the one session times out, and the process ends
    assert proc.returncode == 0, err


def test_udp_server_backpressure_keeps_a_burst(websocat: Websocat, peers: list[Peer]) -> None:
    """With --udp-server-backpressure reading waits for a slow session instead of dropping."""
    proc, port = udp_listen(
        websocat, "-b", "udp-server:127.0.0.1:0", "mirror:", "--udp-server-backpressure", "--udp-server-qlen", "2"
    )
    burst = [b"%d" % i for i in range(200)]
    for data in burst:
        peers[0].send(data, port)
    assert [peers[0].recv()[0] for _ in burst] == burst
    proc.kill()


def test_udp_server_buffer_size_cuts_longer_datagrams(websocat: Websocat, peers: list[Peer]) -> None:
    proc, port = udp_listen(websocat, "-b", "udp-server:127.0.0.1:0", "mirror:", "--udp-server-buffer-size", "5")
    peers[0].send(b"0123456789", port)
    assert peers[0].recv() == (b"01234", port)
    proc.kill()


# -- udp-bind: and its options (stdin/stdout on the other side)


def start_bind(websocat: Websocat, *options: str, host: str = "127.0.0.1") -> tuple[subprocess.Popen[bytes], int]:
    port = free_udp_port()
    proc = websocat.spawn("-b", "-", f"udp-bind:{host}:{port}", *options, stdin=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while not udp_port_bound(port):  # udp-bind: announces nothing
        assert proc.poll() is None, websocat.finish(proc)
        assert time.monotonic() < deadline, f"port {port} not bound"
        time.sleep(0.02)
    return proc, port


def udp_port_bound(port: int) -> bool:
    """Whether some process bound a UDP socket to this port (Linux: /proc/net/udp, udp6)."""
    for name in ("/proc/net/udp", "/proc/net/udp6"):
        with open(name) as table:
            if any(line.split()[1].endswith(f":{port:04X}") for line in list(table)[1:]):
                return True
    return False


def say(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    proc.stdin.write(data)
    proc.stdin.flush()


def test_udp_bind_answers_the_first_sender_only(websocat: Websocat, peers: list[Peer]) -> None:
    a, b, _c = peers
    proc, port = start_bind(websocat)
    say(proc, b"dropped: no peer yet")
    a.send(b"from a", port)
    assert read_exactly(proc, 6) == b"from a"
    say(proc, b"reply")
    assert a.recv() == (b"reply", port)
    b.send(b"from b", port)  # connected to a now: b is not heard
    a.send(b"again", port)
    assert read_exactly(proc, 5) == b"again"
    proc.kill()


def test_udp_bind_target_addr(websocat: Websocat, peers: list[Peer]) -> None:
    a, b, _c = peers
    proc, port = start_bind(websocat, "--udp-bind-target-addr", a.address)
    say(proc, b"to a")
    assert a.recv() == (b"to a", port)
    b.send(b"from b", port)  # heard, but replies still go to a
    assert read_exactly(proc, 6) == b"from b"
    say(proc, b"still a")
    assert a.recv() == (b"still a", port)
    assert b.nothing()
    proc.kill()


def test_udp_bind_restrict_to_one_address(websocat: Websocat, peers: list[Peer]) -> None:
    a, b, _c = peers
    proc, port = start_bind(websocat, "--udp-bind-target-addr", a.address, "--udp-bind-restrict-to-one-address")
    b.send(b"ignored", port)
    a.send(b"heard", port)
    assert read_exactly(proc, 5) == b"heard"
    proc.kill()
    out, _err = websocat.finish(proc)
    assert b"ignored" not in out


def test_udp_bind_restrict_over_ipv6(websocat: Websocat) -> None:
    """The target's address matches the sender's, though IPv6 ones carry flow info and scope."""
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as a, socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as b:
        a.bind(("::1", 0))
        b.bind(("::1", 0))
        target = f"[::1]:{a.getsockname()[1]}"
        proc, port = start_bind(
            websocat, "--udp-bind-target-addr", target, "--udp-bind-restrict-to-one-address", host="[::1]"
        )
        b.sendto(b"ignored", ("::1", port))
        a.sendto(b"heard", ("::1", port))
        assert read_exactly(proc, 5) == b"heard"
        say(proc, b"reply")
        a.settimeout(WAIT)
        assert a.recvfrom(100)[0] == b"reply"
        proc.kill()
        out, _err = websocat.finish(proc)
        assert b"ignored" not in out


def test_udp_bind_redirect_to_last_seen_address(websocat: Websocat, peers: list[Peer]) -> None:
    a, b, c = peers
    proc, port = start_bind(websocat, "--udp-bind-target-addr", a.address, "--udp-bind-redirect-to-last-seen-address")
    b.send(b"b", port)
    assert read_exactly(proc, 1) == b"b"
    say(proc, b"to b")
    assert b.recv() == (b"to b", port)
    c.send(b"c", port)
    assert read_exactly(proc, 1) == b"c"
    say(proc, b"to c")
    assert c.recv() == (b"to c", port)
    assert a.nothing()
    proc.kill()


def test_udp_bind_connect_to_first_seen_address(websocat: Websocat, peers: list[Peer]) -> None:
    a, b, c = peers
    proc, port = start_bind(websocat, "--udp-bind-target-addr", a.address, "--udp-bind-connect-to-first-seen-address")
    b.send(b"b", port)
    assert read_exactly(proc, 1) == b"b"
    c.send(b"c", port)  # locked to b
    say(proc, b"to b")
    assert b.recv() == (b"to b", port)
    b.send(b"B", port)
    assert read_exactly(proc, 1) == b"B"
    proc.kill()
    out, _err = websocat.finish(proc)
    assert b"c" not in out


@pytest.mark.parametrize("inhibit", [False, True])
def test_udp_bind_inhibit_send_errors(websocat: Websocat, inhibit: bool) -> None:
    """A sendto the kernel refuses (broadcast without SO_BROADCAST) fails the run, or is ignored."""
    options = ["--udp-bind-inhibit-send-errors"] if inhibit else []
    args = ["-b", "-u", "literal:x", "udp-bind:127.0.0.1:0", "--udp-bind-target-addr", "255.255.255.255:9", *options]
    result = websocat.run(*args, timeout=15)
    if inhibit:
        assert result.returncode == 0 and result.stderr == b"", result.stderr
    else:
        error_line(result, CONNECT, "udp-bind:127.0.0.1:0")


# -- errors: one line, no traceback


def test_udp_connect_refused(websocat: Websocat) -> None:
    port = free_udp_port()
    error_line(
        websocat.run("-b", "literal:hello", f"udp:127.0.0.1:{port}"),
        CONNECT,
        f"udp:127.0.0.1:{port}",
        "Connection refused",
    )


def test_udp_connect_unresolvable(websocat: Websocat) -> None:
    error_line(
        websocat.run("-b", "literal:x", "udp:nonexistent.invalid:9"), CONNECT, "nonexistent.invalid", "cannot resolve"
    )


def test_oversized_datagram_fails_the_run(websocat: Websocat, peers: list[Peer]) -> None:
    result = websocat.run("-b", "-u", "literal:hello", f"udp:{peers[0].address}", "--udp-max-send-datagram-size", "4")
    error_line(result, FAILURE, "a message of 5+ bytes is longer than --udp-max-send-datagram-size (4)")


@pytest.mark.parametrize("prefix", ["udp-bind", "udp-server"])
def test_address_in_use(websocat: Websocat, peers: list[Peer], prefix: str) -> None:
    error_line(websocat.run("-b", f"{prefix}:{peers[0].address}", "mirror:"), CONNECT, "Address already in use")


BAD_INPUT = {
    "no-port": (["udp:127.0.0.1"], ["udp:"]),
    "bad-port": (["udp:127.0.0.1:99999"], ["99999"]),
    "bind-needs-ip": (["udp-bind:example.com:1", "mirror:"], ["IP address", "example.com"]),
    "server-needs-ip": (["udp-server:example.com:1", "mirror:"], ["IP address"]),
    "bad-target": (["udp-bind:127.0.0.1:0", "--udp-bind-target-addr", "nowhere"], ["--udp-bind-target-addr"]),
    "restrict-without-target": (
        ["udp-bind:127.0.0.1:0", "--udp-bind-restrict-to-one-address"],
        ["needs --udp-bind-target-addr"],
    ),
    "restrict-and-redirect": (
        [
            "udp-bind:127.0.0.1:0",
            "--udp-bind-target-addr",
            "127.0.0.1:9",
            "--udp-bind-restrict-to-one-address",
            "--udp-bind-redirect-to-last-seen-address",
        ],
        ["cannot be combined"],
    ),
    "max-clients-zero": (
        ["udp-server:127.0.0.1:0", "mirror:", "--udp-server-max-clients", "0"],
        ["--udp-server-max-clients"],
    ),
    "qlen-zero": (["udp-server:127.0.0.1:0", "mirror:", "--udp-server-qlen", "0"], ["--udp-server-qlen"]),
    "buffer-zero": (
        ["udp-server:127.0.0.1:0", "mirror:", "--udp-server-buffer-size", "0"],
        ["--udp-server-buffer-size"],
    ),
    "send-size": (["udp:127.0.0.1:9", "--udp-max-send-datagram-size", "70000"], ["--udp-max-send-datagram-size"]),
    "negative-timeout": (
        ["udp-server:127.0.0.1:0", "mirror:", "--udp-server-timeout-ms", "-1"],
        ["--udp-server-timeout-ms"],
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input(websocat: Websocat, case: str) -> None:
    args, fragments = BAD_INPUT[case]
    error_line(websocat.run(*args), USAGE, *fragments)
