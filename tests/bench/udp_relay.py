"""Benchmark: a UDP relay of many small datagrams, websocat against socat, in the same run.

    python tests/bench/udp_relay.py [--count 1000000] [--size 64] [--window 128]

Each relay listens on 127.0.0.1:A and forwards every datagram to 127.0.0.1:B:

    websocat -b -u udp-bind:127.0.0.1:A udp:127.0.0.1:B
    socat -u UDP-RECV:A,bind=127.0.0.1 UDP-SENDTO:127.0.0.1:B

This process sends from one socket to A and counts what arrives at B.  It keeps at most
``--window`` datagrams in flight (sent, not yet arrived), so that the figure is the
relay's rate and not the kernel dropping a flood (128 small datagrams fit in a default
receive buffer); a window that makes no progress for 0.5 s is counted as lost and the
sender goes on.  The harness is Python too: it caps both figures alike.  Prints datagrams/s and loss for each
relay; docs/benchmarks.md holds the last results.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import socket
import subprocess
import sys
import time

STALL = 0.5  # seconds without an arrival: what is in flight is lost


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bound(port: int) -> bool:
    with open("/proc/net/udp") as table:
        return any(line.split()[1].endswith(f":{port:04X}") for line in list(table)[1:])


def run_relay(
    command: list[str], relay_port: int, sink: socket.socket, count: int, size: int, window: int
) -> tuple[float, int]:
    """Start the relay, push `count` datagrams through it; returns (seconds, datagrams received)."""
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not bound(relay_port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{command[0]} did not start")
            time.sleep(0.02)
        source = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        source.connect(("127.0.0.1", relay_port))
        source.setblocking(False)
        payload = os.urandom(size)
        sent = received = lost = 0
        recv = sink.recv
        start = last_arrival = time.perf_counter()
        while received + lost < count:
            while sent < count and sent - received - lost < window:
                try:
                    source.send(payload)
                except BlockingIOError:
                    break
                sent += 1
            ready, _, _ = select.select([sink], [], [], STALL)
            if not ready:
                if time.perf_counter() - last_arrival >= STALL:
                    lost += sent - received - lost  # whatever is in flight is not coming
                continue
            try:
                while True:
                    recv(65536)
                    received += 1
            except BlockingIOError:
                pass
            last_arrival = time.perf_counter()
        elapsed = last_arrival - start
        source.close()
        return elapsed, received
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--window", type=int, default=128)
    args = parser.parse_args()

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    sink_port = sink.getsockname()[1]

    relays: dict[str, tuple[list[str], int]] = {}
    port = free_port()
    websocat = [sys.executable, "-m", "websocat", "-b", "-u"]
    relays["websocat"] = ([*websocat, f"udp-bind:127.0.0.1:{port}", f"udp:127.0.0.1:{sink_port}"], port)
    if shutil.which("socat"):
        port = free_port()
        relays["socat"] = (
            ["socat", "-u", f"UDP-RECV:{port},bind=127.0.0.1", f"UDP-SENDTO:127.0.0.1:{sink_port}"],
            port,
        )
    else:
        print("socat not found: websocat only")
    results: dict[str, float] = {}
    for name, (command, relay_port) in relays.items():
        elapsed, received = run_relay(command, relay_port, sink, args.count, args.size, args.window)
        rate = received / elapsed if elapsed > 0 else 0.0
        results[name] = rate
        loss = 100 * (args.count - received) / args.count
        print(f"{name:9} {args.count} x {args.size} B: {elapsed:6.2f} s, {rate:10,.0f} datagrams/s, loss {loss:.3f} %")
    if len(results) == 2 and results["socat"] > 0:
        print(f"websocat / socat: {results['websocat'] / results['socat']:.2f}x")


if __name__ == "__main__":
    main()
