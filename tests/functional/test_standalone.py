"""--standalone dumps run where only Python is installed.

Each scenario here runs twice against the same real peers: as ``websocat ARGS``, and as
``python run.py`` where run.py is ``websocat --dump-spec --standalone ARGS`` and python is
a fresh venv's, holding the standard library and nothing else (no websocat, no
websockets).  Both runs must give the same observable result.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from conftest import Websocat, tcp_round_trip
from websockets.asyncio.client import connect


class Standalone(Websocat):
    """Runs each command line as its standalone dump, with the bare venv's python."""

    def __init__(self, env: dict[str, str], cwd: Path, python: str) -> None:
        super().__init__({k: v for k, v in env.items() if k != "PYTHONPATH"}, cwd)
        self.python = python
        self.dumps = 0

    def command(self, args: Sequence[str]) -> list[str]:
        # Under load a dump can take seconds; the watchdog's deadline is for the processes
        # (a server killed by it while a client's dump was made looked like 'Connection refused').
        started = time.monotonic()
        dumped = subprocess.run(
            [sys.executable, "-m", "websocat", "--dump-spec", "--standalone", *args],
            capture_output=True,
            env=self.env,
            timeout=120,
        )
        self.extend_deadline(time.monotonic() - started)
        assert dumped.returncode == 0, dumped.stderr
        self.dumps += 1
        script = self.cwd / f"run{self.dumps}.py"
        script.write_bytes(dumped.stdout)
        return [self.python, str(script)]


@pytest.fixture(params=["direct", "standalone"])
def runner(request: pytest.FixtureRequest, websocat_env: dict[str, str], tmp_path: Path) -> Iterator[Websocat]:
    if request.param == "direct":
        chosen = Websocat(websocat_env, tmp_path)
    else:
        chosen = Standalone(websocat_env, tmp_path, request.getfixturevalue("bare_python"))
    try:
        yield chosen
    finally:
        chosen.cleanup()


def test_ws_client_lines(runner: Websocat, echo_url: str) -> None:
    assert runner.echo_through(b"hello\nworld\n", echo_url) == b"hello\nworld\n"


def test_ws_client_binary_masks_large_messages(runner: Websocat, echo_url: str) -> None:
    """Every byte a client sends is masked: without the C speedup, by the pure-Python path."""
    data = os.urandom(300_000)
    assert runner.echo_through(data, "-b", echo_url) == data


def test_ws_client_base64_lines(runner: Websocat, echo_url: str) -> None:
    """--base64 --binary-prefix (runtime/overlays/kinds.py): a binary echo comes back as the line sent."""
    data = b"hello\nB:AAEKDf8=\n"
    assert runner.echo_through(data, "--base64", "--binary-prefix", "B:", echo_url) == data


def test_ws_server(runner: Websocat) -> None:
    proc, port = runner.listen("-s", "0")  # stdin is /dev/null: sessions still run

    async def client() -> int | None:
        async with connect(f"ws://127.0.0.1:{port}/") as conn:
            await conn.send("one")
            await conn.send("two")
        return conn.close_code

    assert asyncio.run(client()) == 1000
    proc.send_signal(signal.SIGTERM)
    out, err = runner.finish(proc)
    assert out.decode().splitlines() == ["one", "two"], err
    assert proc.returncode == 128 + signal.SIGTERM


def test_tcp_listener_to_ws_bridge(runner: Websocat, echo_url: str) -> None:
    proc, port = runner.listen("-b", "tcp-l:127.0.0.1:0", echo_url)
    data = os.urandom(50_000)
    assert tcp_round_trip(port, data) == data
    proc.send_signal(signal.SIGTERM)
    runner.finish(proc)


def test_wss_client(runner: Websocat, pki: dict[str, Path], wss_port: int) -> None:
    runner.env = dict(runner.env, SSL_CERT_FILE=str(pki["ca"]))
    assert runner.echo_through(b"secure\n", f"wss://localhost:{wss_port}/") == b"secure\n"


def test_mtls_server_and_client(runner: Websocat, pki: dict[str, Path]) -> None:
    """wss-l: requiring client certificates, and a client presenting one, both standalone."""
    server = ("--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"]), "--tls-client-ca", str(pki["ca"]))
    proc, port = runner.listen(*server, "wss-l:127.0.0.1:0", "mirror:")
    client = ("--tls-ca", str(pki["ca"]), "--tls-client-cert", str(pki["client_cert"]))
    got = runner.echo_through(
        b"both\n", *client, "--tls-client-key", str(pki["client_key"]), f"wss://localhost:{port}/"
    )
    assert got == b"both\n"
    proc.send_signal(signal.SIGTERM)
    runner.finish(proc)


def test_stdio_and_lines(runner: Websocat) -> None:
    """stdin to a mirror and back, one line per message."""
    done = runner.run("-t", "-", "mirror:", input=b"a\nbb\n")
    assert (done.returncode, done.stdout) == (0, b"a\nbb\n"), done.stderr


def test_refused_connection_is_the_same_error(runner: Websocat) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        done = runner.run(f"ws://127.0.0.1:{port}/")
    assert done.returncode == 3
    assert done.stderr.decode().strip() == f"websocat: tcp:127.0.0.1:{port}: Connection refused"


def test_standalone_only_with_dump_spec(websocat: Websocat) -> None:
    done = websocat.run("--standalone", "-s", "1234")
    assert done.returncode == 2
    assert done.stderr == b"websocat: --standalone changes what --dump-spec prints; use them together\n"
