"""--workers scaling: echo-server messages/s with 200 concurrent clients at 1, 2 and N workers.

    python tests/bench/workers_scaling.py [--workers 1,2,4] [--clients 200] [--seconds 5]
        [--window 256] [--batch 64] [--generator epoll|asyncio] [--pin CPU]

The server is `websocat --workers K -b ws-l:127.0.0.1:PORT mirror:`; what is counted is
echoed small binary WebSocket messages (32-byte payloads).  The load generator is made
as cheap per message as it can be, so that the server is the bottleneck on a small machine:
each client does the HTTP upgrade on a blocking socket, then one thread with no asyncio
drives all of them with epoll on non-blocking sockets.  Each client keeps WINDOW masked
binary frames in flight and refills them BATCH frames at a time (one send of a pre-built
buffer) once a batch's echoes have arrived, so that each recv_into (into one shared
buffer) carries many echoes.  Echoes are counted by their known size (server frames are
unmasked: 2 + payload bytes) without parsing them.  `--generator asyncio` runs the same
window with an asyncio.BufferedProtocol per connection instead, for comparison.  Measured
on a 2-core machine with one worker: the epoll generator costs about 0.07-0.1 us of CPU
per echoed message, the asyncio protocol 0.11-0.16 us, and the earlier generator (asyncio
streams, 16 frames in flight, reader.read) 2.3-2.5 us, when it needed about one core to
keep one worker busy.  The larger window also makes the server cheaper per message (it
reads many frames per recv): about 1.35 million messages per server CPU-second against
0.53 million with 16 in flight.

Rounds are interleaved (1, 2, N, 1, 2, N, ...) and the median is reported with the ratio
to one worker, with the CPU (in cores) of the server's processes and of the load
generator: when their sum is the machine's core count, the machine is the limit, not the
number of workers; the CPU that other processes used meanwhile (from /proc/stat) is
printed too.  `--pin CPU` pins the generator (never the server) to one CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import time

PAYLOAD = b"x" * 32
MASK = b"\x01\x02\x03\x04"
FRAME = bytes([0x82, 0x80 | len(PAYLOAD)]) + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(PAYLOAD))
ECHO_SIZE = 2 + len(PAYLOAD)  # the server's frames are unmasked
ALL_CPUS = os.sched_getaffinity(0)
SNDBUF = 1 << 18  # a whole window is always sent in one call (checked)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def upgraded(port: int) -> socket.socket:
    """A blocking connection that has done the WebSocket upgrade, nothing else read."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:  # byte by byte: no frame can be read past the header
        byte = sock.recv(1)
        if not byte:
            raise ConnectionError("closed during the upgrade")
        head += byte
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(head.decode(errors="replace"))
    return sock


class Load:
    """Keeps `window` frames in flight on each of `socks`, refilled `batch` frames at a time.

    One thread, no asyncio: epoll on non-blocking sockets, recv_into one shared buffer,
    echoes counted by byte count (received bytes // ECHO_SIZE), refills sent from
    pre-built buffers of 1, 2, ... window // batch batches.
    """

    def __init__(self, socks: list[socket.socket], window: int, batch: int) -> None:
        self.socks = {sock.fileno(): sock for sock in socks}
        self.window, self.batch = window, batch
        self.refills = [FRAME * (batch * k) for k in range(window // batch + 1)]
        self.received = dict.fromkeys(self.socks, 0)  # bytes
        self.sent = dict.fromkeys(self.socks, 0)  # frames
        self.poller = select.epoll()
        for fd, sock in self.socks.items():
            sock.setblocking(False)
            self.poller.register(fd, select.EPOLLIN)
            sock.send(FRAME * window)
            self.sent[fd] = window

    def echoed(self) -> int:
        return sum(self.received.values()) // ECHO_SIZE

    def run_until(self, deadline: float) -> None:
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        socks, received, sent, refills = self.socks, self.received, self.sent, self.refills
        window, batch, size = self.window, self.batch, ECHO_SIZE
        poll, clock = self.poller.poll, time.perf_counter
        while clock() < deadline:
            for fd, _event in poll(0.05):
                sock = socks[fd]
                n = sock.recv_into(view)
                if not n:
                    raise ConnectionError("the server closed a connection")
                got = received[fd] + n
                received[fd] = got
                k = (window - sent[fd] + got // size) // batch
                if k:
                    out = refills[k]
                    if sock.send(out) != len(out):  # at most a window is unacknowledged
                        raise RuntimeError("short send: lower --window")
                    sent[fd] += k * batch

    def close(self) -> None:
        self.poller.close()
        for sock in self.socks.values():
            sock.close()


class EchoCounter(asyncio.BufferedProtocol):
    """The same load with asyncio: a buffered protocol per connection (for comparison)."""

    def __init__(self, buf: memoryview, window: int, batch: int, refills: list[bytes]) -> None:
        self.buf, self.window, self.batch, self.refills = buf, window, batch, refills
        self.received = self.sent = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(FRAME * self.window)  # type: ignore[attr-defined]
        self.sent = self.window

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buf

    def buffer_updated(self, nbytes: int) -> None:
        self.received += nbytes
        k = (self.window - self.sent + self.received // ECHO_SIZE) // self.batch
        if k:
            self.transport.write(self.refills[k])  # type: ignore[attr-defined]
            self.sent += k * self.batch


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


def machine_busy() -> float:
    """CPU seconds all processes on the machine have used (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as stat:
        fields = [int(field) for field in stat.readline().split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def round_of(
    port: int, clients: int, seconds: float, server: int, generator: str, window: int, batch: int
) -> tuple[float, float, float, float]:
    """(echoed messages/s, then CPU seconds per second: the server's, the load generator's, the machine's)."""
    socks = [upgraded(port) for _ in range(clients)]
    if generator == "asyncio":
        return asyncio.run(asyncio_round(socks, seconds, server, window, batch))
    load = Load(socks, window, batch)
    try:
        load.run_until(time.perf_counter() + 1.0)  # warm up
        start, before = time.perf_counter(), load.echoed()
        server_cpu, own_cpu, busy = cpu_seconds(server), time.process_time(), machine_busy()
        load.run_until(start + seconds)
        elapsed = time.perf_counter() - start
        rate = (load.echoed() - before) / elapsed
        server_load = (cpu_seconds(server) - server_cpu) / elapsed
        own_load = (time.process_time() - own_cpu) / elapsed
        machine_load = (machine_busy() - busy) / elapsed
    finally:
        load.close()
    return rate, server_load, own_load, machine_load


async def asyncio_round(
    socks: list[socket.socket], seconds: float, server: int, window: int, batch: int
) -> tuple[float, float, float, float]:
    loop = asyncio.get_running_loop()
    buf = memoryview(bytearray(1 << 20))
    refills = [FRAME * (batch * k) for k in range(window // batch + 1)]
    protocols = []
    for sock in socks:
        sock.setblocking(False)
        _, protocol = await loop.create_connection(lambda: EchoCounter(buf, window, batch, refills), sock=sock)
        protocols.append(protocol)

    def echoed() -> int:
        return sum(protocol.received for protocol in protocols) // ECHO_SIZE

    await asyncio.sleep(1.0)  # warm up
    start, before = time.perf_counter(), echoed()
    server_cpu, own_cpu, busy = cpu_seconds(server), time.process_time(), machine_busy()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - start
    rate = (echoed() - before) / elapsed
    server_load = (cpu_seconds(server) - server_cpu) / elapsed
    own_load = (time.process_time() - own_cpu) / elapsed
    machine_load = (machine_busy() - busy) / elapsed
    for protocol in protocols:
        protocol.transport.close()
    await asyncio.sleep(0)
    return rate, server_load, own_load, machine_load


def start_server(exe: list[str], workers: int, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [*exe, "--workers", str(workers), "-b", f"ws-l:127.0.0.1:{port}", "mirror:"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, ALL_CPUS),
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
    parser.add_argument("--window", type=int, default=256, help="frames in flight per client")
    parser.add_argument("--batch", type=int, default=64, help="frames per refill (divides --window)")
    parser.add_argument("--generator", choices=["epoll", "asyncio"], default="epoll")
    parser.add_argument("--pin", type=int, default=None, help="pin the load generator to this CPU")
    parser.add_argument("--exe", default=shutil.which("websocat") or f"{sys.executable} -m websocat")
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.workers.split(",")})
    if args.window % args.batch:
        parser.error("--batch must divide --window")
    if args.window * len(FRAME) > SNDBUF // 2:
        parser.error("--window too large for the send buffer")
    if args.pin is not None:
        os.sched_setaffinity(0, {args.pin})  # the server is started with all CPUs again

    exe = args.exe.split()
    rates: dict[int, list[float]] = {n: [] for n in counts}
    loads: dict[int, list[tuple[float, float, float]]] = {n: [] for n in counts}
    for _round in range(args.rounds):
        for workers in counts:
            port = free_port()
            server = start_server(exe, workers, port)
            try:
                rate, server_load, own_load, machine_load = round_of(
                    port, args.clients, args.seconds, server.pid, args.generator, args.window, args.batch
                )
                rates[workers].append(rate)
                loads[workers].append((server_load, own_load, machine_load))
            finally:
                server.terminate()
                server.wait(10)
            print(
                f"workers={workers}: {rate:,.0f} messages/s, server {server_load:.2f} cores, "
                f"load generator {own_load:.2f} cores, whole machine {machine_load:.2f} cores busy",
                file=sys.stderr,
            )
    base = statistics.median(rates[counts[0]])
    for workers in counts:
        median = statistics.median(rates[workers])
        server_load = statistics.median(load[0] for load in loads[workers])
        own_load = statistics.median(load[1] for load in loads[workers])
        machine_load = statistics.median(load[2] for load in loads[workers])
        print(
            f"workers={workers}: {median:,.0f} echoed messages/s with {args.clients} clients "
            f"(median of {args.rounds}), ratio to {counts[0]} worker: {median / base:.2f}x; "
            f"server {server_load:.2f} cores, load generator {own_load:.2f} cores, "
            f"others {max(machine_load - server_load - own_load, 0):.2f} cores (of {os.cpu_count()}), "
            f"{median / max(server_load, 1e-9):,.0f} messages per server CPU-second"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
