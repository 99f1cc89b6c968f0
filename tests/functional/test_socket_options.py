"""Socket options from the command line: applied on real connections, and a refused one
is one line naming the option (in a user namespace, where root lacks CAP_NET_ADMIN)."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest
from conftest import Websocat, tcp_round_trip


def _listening() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_options_on_a_relay_leave_the_data_alone(websocat: Websocat) -> None:
    with _listening() as backend:
        proc, port = websocat.listen(
            "--socket-nodelay",
            "true",
            "--socket-keepalive",
            "true",
            "--socket-listen-backlog",
            "8",
            "--reuseport",
            "--bind-before-connect",
            "127.0.0.1:0",
            "tcp-l:127.0.0.1:0",
            f"tcp:127.0.0.1:{backend.getsockname()[1]}",
        )
        import threading

        def echo() -> None:
            conn, _ = backend.accept()
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)

        threading.Thread(target=echo, daemon=True).start()
        assert tcp_round_trip(port, b"through options\n") == b"through options\n"
        proc.terminate()
        websocat.finish(proc)


def test_a_privileged_option_refused_is_one_line(websocat: Websocat) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces are not available here: {probe.stderr.decode().strip()}")
    with _listening() as backend:
        port = backend.getsockname()[1]
        done = websocat.run(
            argv=[
                "unshare",
                "--user",
                "--map-root-user",
                *websocat.command(["--socket-mark", "5", f"tcp:127.0.0.1:{port}", "-"]),
            ]
        )
    assert done.returncode == 3
    assert done.stderr == b"websocat: --socket-mark: cannot set SO_MARK: Operation not permitted\n"


def test_a_bad_bind_before_connect_address_is_a_usage_error(websocat: Websocat) -> None:
    done = websocat.run("--bind-before-connect", "nowhere", "tcp:127.0.0.1:1", "-")
    assert done.returncode == 2
    assert b"--bind-before-connect" in done.stderr and len(done.stderr.splitlines()) == 1
