"""lengthprefixed: against chunks:, through the runtime's overlays over real TCP sockets.

    python tests/bench/lengthprefixed_vs_chunks.py [--small 1000000] [--bulk-mib 1024] [--reps 3]

Four workloads, each run for both overlays with the same harness, interleaved
(A B A B ...), the median reported with min..max and lengthprefixed:'s ratio to chunks:
from the same run:

* encode small: SMALL messages of 16..64 bytes (random sizes), given to ``send_batch``
  1000 at a time (about what one 64 KiB read yields); a sink process reads the bytes.
* decode small: a source process sends the same messages as the overlay's wire bytes
  (prefixed for lengthprefixed:, bare for chunks:); ``recv_batch`` until EOF.
* encode bulk / decode bulk: BULK_MIB MiB in 64 KiB messages, one per batch.

The overlay end is the runtime's ``tcp.connect`` (asyncio, as a script uses it); the
other end is a plain blocking socket with 1 MiB buffers in a forked process (a thread
would take the GIL from the overlay), so the overlay is the bottleneck.  The inputs are
built first and frozen out of the garbage collector's sight (``gc.freeze``): a million
live message tuples would make its full collections the benchmark.

MB/s counts message payload (not prefixes); messages/s counts messages given to
send_batch or returned by recv_batch (chunks: returns one per read, so its decode
messages/s is reads/s: compare MB/s there).  Besides wall-clock time the overlay
process's CPU time is measured (``time.process_time``; the peer process is not in it),
steadier than wall-clock time on a shared machine; the ratio is given for both.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import random
import socket
import statistics
import time
from collections.abc import Callable
from typing import Any

from websocat.runtime.endpoints import tcp
from websocat.runtime.overlays import chunks, lengthprefixed
from websocat.runtime.sockets import BINARY, Message, MessageSocket

BATCH = 1000
BULK_MESSAGE = 64 << 10
CHUNK = 1 << 20
FORK = multiprocessing.get_context("fork")

OVERLAYS: dict[str, Callable[[Any], MessageSocket]] = {
    "chunks:": chunks.framed,
    "lengthprefixed:": lengthprefixed.framed,
}


def listener() -> socket.socket:
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CHUNK)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
    return sock


def sink(server: socket.socket) -> None:
    conn, _ = server.accept()
    view = memoryview(bytearray(CHUNK))
    with conn:
        while conn.recv_into(view):
            pass


def source(server: socket.socket, wire: bytes) -> None:
    conn, _ = server.accept()
    with conn:
        view = memoryview(wire)
        for start in range(0, len(view), CHUNK):
            conn.sendall(view[start : start + CHUNK])


async def encode(kind: str, batches: list[list[Message]]) -> tuple[float, float]:
    server = listener()
    peer = FORK.Process(target=sink, args=(server,))
    peer.start()
    async with tcp.connect("127.0.0.1", server.getsockname()[1]) as stream:
        sock = OVERLAYS[kind](stream)
        start, cpu = time.perf_counter(), time.process_time()  # from the connection on: not the fork
        for batch in batches:
            await sock.send_batch(batch)
        await sock.send_eof()
        await asyncio.to_thread(peer.join)  # the sink has everything
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    server.close()
    return elapsed, cpu


async def decode(kind: str, wire: bytes, payload: int) -> tuple[float, float, int]:
    server = listener()
    peer = FORK.Process(target=source, args=(server, wire))
    peer.start()
    messages = size = 0
    async with tcp.connect("127.0.0.1", server.getsockname()[1]) as stream:
        sock = OVERLAYS[kind](stream)
        start, cpu = time.perf_counter(), time.process_time()
        while batch := await sock.recv_batch():
            messages += len(batch)
            for data, _flags in batch:
                size += len(data)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peer.join()
    server.close()
    assert size == payload, (kind, size, payload)
    return elapsed, cpu, messages


def wire_of(kind: str, messages: list[Message]) -> bytes:
    if kind == "chunks:":
        return b"".join(data for data, _ in messages)
    layout = lengthprefixed.Layout()
    return b"".join(layout.pack(len(data)) + data for data, _ in messages)


def report(name: str, payload: int, runs: dict[str, list[tuple[float, float]]], counts: dict[str, int]) -> None:
    wall = {kind: statistics.median(t for t, _ in ts) for kind, ts in runs.items()}
    cpu = {kind: statistics.median(c for _, c in ts) for kind, ts in runs.items()}
    for kind, ts in runs.items():
        m = wall[kind]
        print(
            f"  {kind:16} {counts[kind] / m / 1e6:7.3f} M msg/s  {payload / m / 1e6:8.1f} MB/s"
            f"  ({m:.3f} s, {min(t for t, _ in ts):.3f}..{max(t for t, _ in ts):.3f}; cpu {cpu[kind]:.3f} s)"
        )
    ratio_wall = wall["chunks:"] / wall["lengthprefixed:"]
    ratio_cpu = cpu["chunks:"] / cpu["lengthprefixed:"]
    print(f"  ratio lengthprefixed:/chunks: {ratio_wall:.2f}x wall, {ratio_cpu:.2f}x cpu  [{name}]")


async def workload(name: str, messages: list[Message], batch_size: int, reps: int) -> None:
    payload = sum(len(data) for data, _ in messages)
    batches = [messages[i : i + batch_size] for i in range(0, len(messages), batch_size)]
    wires = {kind: wire_of(kind, messages) for kind in OVERLAYS}
    gc.freeze()
    print(f"encode {name}: {len(messages)} messages, {payload / 1e6:.1f} MB payload")
    runs: dict[str, list[tuple[float, float]]] = {kind: [] for kind in OVERLAYS}
    for _ in range(reps):
        for kind in OVERLAYS:
            runs[kind].append(await encode(kind, batches))
    report(f"encode {name}", payload, runs, {kind: len(messages) for kind in OVERLAYS})
    print(f"decode {name}:")
    runs = {kind: [] for kind in OVERLAYS}
    counts: dict[str, int] = {}
    for _ in range(reps):
        for kind in OVERLAYS:
            elapsed, cpu, counts[kind] = await decode(kind, wires[kind], payload)
            runs[kind].append((elapsed, cpu))
    report(f"decode {name}", payload, runs, counts)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000_000, help="number of small messages")
    parser.add_argument("--bulk-mib", type=int, default=1024, help="MiB of 64 KiB messages")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(12)
    pool = rng.randbytes(1 << 16)
    small: list[Message] = []
    for _ in range(args.small):
        at, size = rng.randrange(0, 1 << 15), rng.randint(16, 64)
        small.append((pool[at : at + size], BINARY))
    await workload("small (16..64 bytes)", small, BATCH, args.reps)
    del small
    gc.unfreeze()
    gc.collect()
    block = rng.randbytes(BULK_MESSAGE)
    bulk: list[Message] = [(block, BINARY)] * (args.bulk_mib * (1 << 20) // BULK_MESSAGE)
    await workload("bulk (64 KiB)", bulk, 1, args.reps)


if __name__ == "__main__":
    asyncio.run(main())
