"""Bench: median time from connect to the first byte from a child, per connection.

    python tests/bench/exec_first_byte.py [CONNECTIONS]

Compares `websocat tcp-l:127.0.0.1:PORT exec:echo --exec-args x` against
`socat TCP-LISTEN:PORT,fork,reuseaddr EXEC:'echo x'` in the same run: each connection
starts a fresh child, which writes one line at once.  Connections are made one at a time.
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.recv(100)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def first_byte_times(port: int, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert sock.recv(100)
            times.append(time.perf_counter() - started)
    return times


def measure(name: str, argv: list[str], port: int, count: int) -> None:
    server = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        wait_listening(port)
        first_byte_times(port, 20)  # warm-up
        times = first_byte_times(port, count)
    finally:
        server.terminate()
        server.wait()
    ms = sorted(t * 1000 for t in times)
    print(
        f"{name:10} median {statistics.median(ms):6.2f} ms  p90 {ms[int(len(ms) * 0.9)]:6.2f} ms  "
        f"({count} connections)"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    port = free_port()
    measure(
        "websocat",
        [sys.executable, "-m", "websocat", f"tcp-l:127.0.0.1:{port}", "exec:echo", "--exec-args", "x"],
        port,
        count,
    )
    if shutil.which("socat"):
        port = free_port()
        measure("socat", ["socat", f"TCP-LISTEN:{port},fork,reuseaddr", "EXEC:echo x"], port, count)


if __name__ == "__main__":
    main()
