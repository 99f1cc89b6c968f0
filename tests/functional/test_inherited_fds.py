"""Inherited descriptors end to end: websocat started with real listening sockets as
descriptors 3, 4, ... and LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES set as systemd sets
them (by a small launcher, and by systemd-socket-activate where installed); async-fd:;
and the errors of each bad input (one line, exit code 3)."""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import Websocat

CONNECT = 3
# Puts each passed descriptor at 3, 4, ... and sets LISTEN_PID to its own pid, which
# exec keeps: what systemd does before starting a socket-activated service.
LAUNCHER = """
import os, sys
fds, own_pid, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
for index, fd in enumerate(int(fd) for fd in fds.split(",") if fd):
    os.dup2(fd, 3 + index)
    os.close(fd)
if own_pid == "yes":
    os.environ["LISTEN_PID"] = str(os.getpid())
os.execvpe(argv[0], argv, os.environ)
"""


def launch(
    websocat: Websocat,
    sockets: Sequence[socket.socket | int],
    args: Sequence[str],
    env: dict[str, str | None] | None = None,
    *,
    own_pid: bool = True,
) -> subprocess.Popen[bytes]:
    """Start websocat ARGS with ``sockets`` as its descriptors 3, 4, ..., LISTEN_FDS set
    to their number and LISTEN_PID to websocat's pid (unless ``own_pid`` is False);
    ``env`` adds variables (None removes one)."""
    # Copies far above 3, so that no redirection overwrites a descriptor still to be moved.
    fds = [fcntl.fcntl(s if isinstance(s, int) else s.fileno(), fcntl.F_DUPFD_CLOEXEC, 100) for s in sockets]
    environment = {**websocat.env, "LISTEN_FDS": str(len(fds))}
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, ",".join(map(str, fds)), "yes" if own_pid else "no", *websocat.command(args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        pass_fds=fds,
        cwd=websocat.cwd,
    )
    websocat.procs.append(proc)
    for fd in fds:
        os.close(fd)
    return proc


def announced(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> bytes:
    """The first line websocat prints (--stdout-announce-listening-ports)."""
    assert proc.stdout is not None
    line = b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout.fileno()], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            pytest.fail(f"no announcement within {timeout} s")
        byte = os.read(proc.stdout.fileno(), 1)
        if not byte:
            _out, err = proc.communicate(timeout=5)
            pytest.fail(f"websocat exited (code {proc.returncode}) before listening: {err!r}")
        line += byte
    return line


def finished(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    _out, err = proc.communicate(timeout=30)
    return proc.returncode, err.decode("utf-8", "replace")


def one_error_line(proc: subprocess.Popen[bytes], *fragments: str) -> str:
    code, err = finished(proc)
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("websocat: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert code == CONNECT, (code, lines[0])
    return lines[0]


def tcp_listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def echo_over_tcp(port: int, data: bytes = b"through an inherited socket") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        return conn.recv(len(data) + 10)


# -- the listeners on inherited sockets


def test_tcp_listen_fd(websocat: Websocat) -> None:
    with tcp_listener() as listener:
        port = listener.getsockname()[1]
        proc = launch(websocat, [listener], ["--stdout-announce-listening-ports", "tcp-listen-fd:3", "mirror:"])
        assert announced(proc) == f"LISTEN proto=tcp,ip=127.0.0.1,port={port}\n".encode()
    for _ in range(2):  # one session per connection
        assert echo_over_tcp(port) == b"through an inherited socket"
    proc.kill()


def test_tcp_listen_fdname_picks_the_named_socket(websocat: Websocat) -> None:
    with tcp_listener() as other, tcp_listener() as web:
        proc = launch(
            websocat,
            [other, web],
            ["--stdout-announce-listening-ports", "tcp-l-fdname:web", "mirror:"],
            {"LISTEN_FDNAMES": "other:web"},
        )
        port = web.getsockname()[1]
        assert announced(proc) == f"LISTEN proto=tcp,ip=127.0.0.1,port={port}\n".encode()
    assert echo_over_tcp(port) == b"through an inherited socket"
    proc.kill()


def test_ws_over_an_inherited_tcp_socket(websocat: Websocat) -> None:
    from websockets.sync.client import connect

    with tcp_listener() as listener:
        port = listener.getsockname()[1]
        proc = launch(websocat, [listener], ["--stdout-announce-listening-ports", "ws-u:tcp-listen-fd:3", "mirror:"])
        announced(proc)
    with connect(f"ws://127.0.0.1:{port}/") as ws:
        for message in ("text", b"binary", b""):
            ws.send(message)
            assert ws.recv(timeout=10) == message
    proc.kill()


def test_unix_listen_fd_and_fdname(websocat: Websocat, tmp_path: Path) -> None:
    for prefix, env in (("unix-listen-fd:3", {}), ("unix-l-fdname:sock", {"LISTEN_FDNAMES": "sock"})):
        path = str(tmp_path / f"{len(env)}.sock")
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(path)
            listener.listen()
            proc = launch(websocat, [listener], ["--stdout-announce-listening-ports", prefix, "mirror:"], env)
            assert announced(proc) == b"LISTEN proto=unix\n"
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(path)
            conn.sendall(b"unix")
            assert conn.recv(10) == b"unix"
        proc.kill()


def test_seqpacket_listen_fd_keeps_boundaries(websocat: Websocat, tmp_path: Path) -> None:
    for prefix, env in (("seqpacket-listen-fd:3", {}), ("seqp-l-fdname:dg", {"LISTEN_FDNAMES": "dg"})):
        path = str(tmp_path / f"seqpacket{len(env)}.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listener:
            listener.bind(path)
            listener.listen()
            proc = launch(websocat, [listener], ["--stdout-announce-listening-ports", prefix, "mirror:"], env)
            assert announced(proc) == b"LISTEN proto=unix\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
            conn.connect(path)
            for message in (b"first", b"", b"third"):
                conn.send(message)
                assert conn.recv(100) == message
        proc.kill()


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="systemd-socket-activate is not installed")
def test_systemd_socket_activate(websocat: Websocat) -> None:
    """systemd's own launcher: it listens, then starts websocat with the socket as fd 3
    (LISTEN_FDS, LISTEN_PID and, with --fdname, LISTEN_FDNAMES)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            "systemd-socket-activate",
            "--listen",
            f"127.0.0.1:{port}",
            "--fdname=web",
            *websocat.command(["--stdout-announce-listening-ports", "tcp-listen-fdname:web", "mirror:"]),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=websocat.env,
    )
    websocat.procs.append(proc)
    # It starts websocat at the first connection; the announcement follows.
    deadline = time.monotonic() + 15
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            break
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "systemd-socket-activate did not listen"
            time.sleep(0.05)
    with conn:
        assert re.fullmatch(rb"LISTEN proto=tcp,ip=127\.0\.0\.1,port=\d+\n", announced(proc))
        conn.sendall(b"activated")
        assert conn.recv(100) == b"activated"
    proc.kill()


# -- async-fd:


def test_async_fd_over_a_socketpair(websocat: Websocat) -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        proc = launch(websocat, [theirs], ["-b", "async-fd:3", "mirror:"], own_pid=False)
        theirs.close()
        ours.sendall(b"x" * 100_000)
        got = b""
        while len(got) < 100_000:
            got += ours.recv(65536)
        assert got == b"x" * 100_000
        ours.shutdown(socket.SHUT_WR)
        assert ours.recv(10) == b""  # EOF went through and came back
    code, err = finished(proc)
    assert code == 0, err


def test_async_fd_regular_file_needs_force(websocat: Websocat, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"file contents\n" * 1000)
    with data.open("rb") as file:
        one_error_line(launch(websocat, [file.fileno()], ["-u", "async-fd:3", "-"], own_pid=False), "cannot be polled")
    with data.open("rb") as file:
        proc = launch(websocat, [file.fileno()], ["--async-fd-force", "-b", "-u", "async-fd:3", "-"], own_pid=False)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == data.read_bytes()


def test_async_fd_not_open(websocat: Websocat) -> None:
    one_error_line(
        launch(websocat, [], ["-b", "async-fd:57", "-"], own_pid=False), "async-fd:57", "Bad file descriptor"
    )


# -- bad input


def test_missing_listen_fds(websocat: Websocat) -> None:
    with tcp_listener() as listener:
        proc = launch(websocat, [listener], ["tcp-listen-fdname:web", "mirror:"], {"LISTEN_FDS": None})
        one_error_line(proc, "LISTEN_FDS is not set")


def test_listen_pid_of_another_process(websocat: Websocat) -> None:
    with tcp_listener() as listener:
        for prefix in ("tcp-listen-fd:3", "tcp-listen-fdname:web"):
            env: dict[str, str | None] = {"LISTEN_PID": "1", "LISTEN_FDNAMES": "web"}
            proc = launch(websocat, [listener], [prefix, "mirror:"], env, own_pid=False)
            one_error_line(proc, "LISTEN_PID=1 is not this process", "another process")


def test_missing_listen_pid(websocat: Websocat) -> None:
    with tcp_listener() as listener:
        proc = launch(websocat, [listener], ["tcp-listen-fd:3", "mirror:"], {"LISTEN_PID": None}, own_pid=False)
        one_error_line(proc, "LISTEN_PID is not set")


def test_name_not_in_listen_fdnames(websocat: Websocat) -> None:
    with tcp_listener() as listener:
        proc = launch(websocat, [listener], ["tcp-listen-fdname:web", "mirror:"], {"LISTEN_FDNAMES": "api"})
        one_error_line(proc, "no socket named 'web'", "LISTEN_FDNAMES='api'")
        proc = launch(websocat, [listener], ["unix-listen-fdname:web", "mirror:"], {"LISTEN_FDNAMES": None})
        one_error_line(proc, "LISTEN_FDNAMES is not set")


def test_fd_that_is_not_a_socket(websocat: Websocat, tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"")
    with (tmp_path / "plain").open("rb") as file:
        for prefix in ("tcp-listen-fd:3", "unix-listen-fd:3", "seqpacket-listen-fd:3"):
            proc = launch(websocat, [file.fileno()], [prefix, "mirror:"])
            one_error_line(proc, f"{prefix}: fd 3 is not a socket")


def test_fd_outside_listen_fds(websocat: Websocat) -> None:
    with tcp_listener() as listener:
        proc = launch(websocat, [listener], ["tcp-listen-fd:4", "mirror:"])
        one_error_line(proc, "fd 4 is not one of the sockets of LISTEN_FDS (3)")


def test_socket_of_the_wrong_kind(websocat: Websocat, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        one_error_line(launch(websocat, [udp], ["tcp-listen-fd:3", "mirror:"]), "fd 3 is an IPv4 datagram socket")
    with tcp_listener() as listener:
        proc = launch(websocat, [listener], ["unix-listen-fd:3", "mirror:"])
        one_error_line(proc, "fd 3 is an IPv4 stream socket, not a UNIX stream one")
    with socket.socket() as unconnected:
        one_error_line(launch(websocat, [unconnected], ["tcp-listen-fd:3", "mirror:"]), "not a listening socket")


def test_socket_options_apply_to_connections_accepted_on_an_inherited_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--socket-* stream options on tcp-listen-fd: each accepted connection has them
    (read back with getsockopt), in process, on a real inherited-style descriptor."""
    import asyncio

    from websocat.runtime.endpoints import fds
    from websocat.runtime.sockets import TransportStream

    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        monkeypatch.delenv(name, raising=False)
    seen: list[int] = []

    async def scenario() -> None:
        listener = tcp_listener()
        port = listener.getsockname()[1]

        async def session(conn: TransportStream) -> None:
            assert conn.protocol.transport is not None
            raw = conn.protocol.transport.get_extra_info("socket")
            seen.append(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            seen.append(raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))

        options = {"socket_nodelay": False, "socket_keepalive": True}
        serving = asyncio.ensure_future(fds.serve_tcp(listener.detach(), session, sockopts=options, oneshot=True))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(serving, 10)
        writer.close()

    asyncio.run(scenario())
    assert seen == [0, 1]


# -- inherited UDP sockets


def _udp_bound() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _udp_exchange(port: int, datagrams: Sequence[bytes]) -> list[bytes]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(10)
        got = []
        for datagram in datagrams:
            client.sendto(datagram, ("127.0.0.1", port))
            got.append(client.recv(65536))
        return got


def test_udp_server_fd_serves_each_peer(websocat: Websocat) -> None:
    with _udp_bound() as bound:
        port = bound.getsockname()[1]
        proc = launch(websocat, [bound], ["--stdout-announce-listening-ports", "-b", "udp-server-fd:3", "mirror:"])
        assert announced(proc) == f"LISTEN proto=udp,ip=127.0.0.1,port={port}\n".encode()
    assert _udp_exchange(port, [b"one", b"", b"three"]) == [b"one", b"", b"three"]  # a datagram is a message
    assert _udp_exchange(port, [b"another peer"]) == [b"another peer"]
    proc.kill()


def test_udp_fdname_answers_the_first_sender(websocat: Websocat) -> None:
    with _udp_bound() as other, _udp_bound() as named:
        port = named.getsockname()[1]
        proc = launch(websocat, [other, named], ["-b", "udp-fdname:dns", "mirror:"], {"LISTEN_FDNAMES": "other:dns"})
        deadline = time.monotonic() + 10
        got: list[bytes] = []
        # No announcement: retry until it answers, from one client socket, since the first
        # datagram (queued on the inherited socket before websocat starts) picks the peer.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(0.5)
            while not got and time.monotonic() < deadline:
                client.sendto(b"ping", ("127.0.0.1", port))
                try:
                    got.append(client.recv(100))
                except TimeoutError:
                    continue
    assert got == [b"ping"]
    proc.kill()


def test_udp_fd_that_is_a_tcp_socket_is_one_line(websocat: Websocat) -> None:
    with tcp_listener() as listener:
        proc = launch(websocat, [listener], ["-b", "udp-fd:3", "mirror:"])
    one_error_line(proc, "udp-fd:3", "fd 3 is an IPv4 stream socket, not an IPv4 datagram one")
