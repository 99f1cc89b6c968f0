"""--workers scaling: echo-server messages/s with 200 concurrent clients at 1, 2 and N workers.

    python tests/bench/workers_scaling.py [--workers 1,2,4] [--clients 200] [--seconds 5]

The server is `websocat --workers K -b ws-l:127.0.0.1:PORT mirror:`.  The load generator
is as light as it can be, so that the server's CPU is what is measured on a small
machine: each client is a raw asyncio connection that upgrades, then keeps WINDOW masked
binary frames in flight, written from one pre-built buffer, and counts the echoed
frames by their known size (server frames are unmasked: 2 + payload bytes) without
parsing them.  Rounds are interleaved (1, 2, N, 1, 2, N, ...) and the median is reported
with the ratio to one worker, with the CPU (in cores) of the server's processes and of
the load generator: when their sum is the machine's core count, the machine is the limit,
not the number of workers.  On a 2-core machine the generator alone needs about one core
to keep one worker's echo busy, so scaling shows only with the load generated elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

PAYLOAD = b"x" * 32
WINDOW = 16  # frames in flight per client
MASK = b"\x01\x02\x03\x04"
FRAME = bytes([0x82, 0x80 | len(PAYLOAD)]) + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(PAYLOAD))
ECHO_SIZE = 2 + len(PAYLOAD)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def client(port: int, stop: asyncio.Event, counts: list[int], index: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    writer.write(FRAME * WINDOW)
    pending = 0
    while not stop.is_set():
        data = await reader.read(65536)
        if not data:
            break
        pending += len(data)
        done, pending = divmod(pending, ECHO_SIZE)
        counts[index] += done
        if done:
            writer.write(FRAME * done)  # refill the window
    writer.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the workers), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if entry == str(pid) or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def round_of(port: int, clients: int, seconds: float, server: int) -> tuple[float, float, float]:
    """(echoed messages/s, the server's CPU seconds per second, the load generator's)."""
    counts = [0] * clients
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client(port, stop, counts, i)) for i in range(clients)]
    await asyncio.sleep(1.0)  # connect and warm up
    start, before = time.perf_counter(), sum(counts)
    server_cpu, own_cpu = cpu_seconds(server), time.process_time()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - start
    rate = (sum(counts) - before) / elapsed
    server_load = (cpu_seconds(server) - server_cpu) / elapsed
    own_load = (time.process_time() - own_cpu) / elapsed
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return rate, server_load, own_load


def start_server(exe: list[str], workers: int, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [*exe, "--workers", str(workers), "-b", f"ws-l:127.0.0.1:{port}", "mirror:"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    time.sleep(0.5 * workers)  # every worker has bound by now
    return proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default=f"1,2,{os.cpu_count() or 2}")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--exe", default=shutil.which("websocat") or f"{sys.executable} -m websocat")
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.workers.split(",")})
    exe = args.exe.split()
    rates: dict[int, list[float]] = {n: [] for n in counts}
    loads: dict[int, list[tuple[float, float]]] = {n: [] for n in counts}
    for _round in range(args.rounds):
        for workers in counts:
            port = free_port()
            server = start_server(exe, workers, port)
            try:
                rate, server_load, own_load = asyncio.run(round_of(port, args.clients, args.seconds, server.pid))
                rates[workers].append(rate)
                loads[workers].append((server_load, own_load))
            finally:
                server.terminate()
                server.wait(10)
            print(
                f"workers={workers}: {rate:,.0f} messages/s, server {server_load:.2f} cores, "
                f"load generator {own_load:.2f} cores",
                file=sys.stderr,
            )
    base = statistics.median(rates[counts[0]])
    for workers in counts:
        median = statistics.median(rates[workers])
        server_load = statistics.median(load[0] for load in loads[workers])
        own_load = statistics.median(load[1] for load in loads[workers])
        print(
            f"workers={workers}: {median:,.0f} echoed messages/s with {args.clients} clients "
            f"(median of {args.rounds}), ratio to {counts[0]} worker: {median / base:.2f}x; "
            f"server {server_load:.2f} cores, load generator {own_load:.2f} cores, "
            f"{median / max(server_load, 1e-9):,.0f} messages per server CPU-second"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
