"""Byte relay benchmark: `websocat tcp-l:... tcp:...` against `socat TCP-LISTEN:... TCP:...`
(with its default 8 KiB buffer, and with -b 65536).

    python tests/bench/tcp_relay.py [--size-mib 1024] [--reps 3] [--websocat CMD]

A source thread sends SIZE bytes into the relay's listening port; the relay connects to a
sink thread that counts them.  Throughput is SIZE over the time from the source's
connect until the sink has everything.  The relays run interleaved (A B A B ...) and the
median is reported with min..max, and websocat's ratio to socat from the same run.
Source and sink use 1 MiB buffers, so the relay under test is the bottleneck.
"""

from __future__ import annotations

import argparse
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time

CHUNK = 1 << 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Until the relay accepts a TCP connection: probing would be a session, so poll
    /proc/net/tcp for a listening socket on the port instead."""
    deadline = time.monotonic() + timeout
    want = f":{port:04X} "
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"relay exited early: {proc.args!r}")
        with open("/proc/net/tcp") as table:
            if any(want in line and line.split()[3] == "0A" for line in table):
                return
        time.sleep(0.02)
    raise RuntimeError(f"relay did not listen on {port}")


def one_run(relay_cmd: list[str], listen_port: int, sink: socket.socket, size: int) -> float:
    """Start the relay, push size bytes through it, return seconds."""
    received = 0
    done = threading.Event()

    def drain() -> None:
        nonlocal received
        conn, _ = sink.accept()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        with conn:
            while True:
                n = conn.recv_into(view)
                if not n:
                    break
                received += n
        done.set()

    relay = subprocess.Popen(relay_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        wait_listening(listen_port, relay)
        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
        payload = memoryview(bytes(CHUNK))
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", listen_port)) as source:
            sent = 0
            while sent < size:
                source.sendall(payload[: min(CHUNK, size - sent)])
                sent += min(CHUNK, size - sent)
            source.shutdown(socket.SHUT_WR)
            if not done.wait(300):
                raise RuntimeError("sink did not finish")
            elapsed = time.perf_counter() - started
        if received != size:
            raise RuntimeError(f"sink got {received} of {size} bytes")
        return elapsed
    finally:
        relay.terminate()
        relay.wait(10)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--websocat", default=f"{sys.executable} -m websocat", help="command to run websocat")
    args = parser.parse_args(argv)
    size = args.size_mib * CHUNK
    relays = {
        "socat": lambda p, q: ["socat", f"TCP-LISTEN:{p},bind=127.0.0.1,reuseaddr", f"TCP:127.0.0.1:{q}"],
        # socat's default buffer is 8 KiB; with 64 KiB, as websocat reads
        "socat -b 65536": lambda p, q: [
            "socat",
            "-b",
            "65536",
            f"TCP-LISTEN:{p},bind=127.0.0.1,reuseaddr",
            f"TCP:127.0.0.1:{q}",
        ],
        "websocat": lambda p, q: [*shlex.split(args.websocat), f"tcp-l:127.0.0.1:{p}", f"tcp:127.0.0.1:{q}"],
    }
    times: dict[str, list[float]] = {name: [] for name in relays}
    for rep in range(args.reps):
        for name, command in relays.items():
            with socket.socket() as sink:
                sink.bind(("127.0.0.1", 0))
                sink.listen()
                port = free_port()
                elapsed = one_run(command(port, sink.getsockname()[1]), port, sink, size)
            times[name].append(elapsed)
            print(f"rep {rep + 1} {name}: {size / elapsed / 1e6:.0f} MB/s", file=sys.stderr)
    print("| relay | MB/s (median) | min..max | runs | ratio to socat |\n|---|---|---|---|---|")
    base = statistics.median(times["socat"])
    for name, runs in times.items():
        rates = sorted(size / t / 1e6 for t in runs)
        ratio = base / statistics.median(runs)
        print(
            f"| {name} | {statistics.median(rates):.0f} | {rates[0]:.0f}..{rates[-1]:.0f} | {len(runs)} | {ratio:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
