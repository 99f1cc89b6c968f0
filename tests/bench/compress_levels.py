"""--compress-level: what each zlib level costs websocat when it sends JSON lines.

    python tests/bench/compress_levels.py [--mib 32] [--rounds 3]

websocat is the client, `websocat [--compress --compress-level L] ws://127.0.0.1:PORT/ < FILE`
(one text message per line), and a `websockets` server with compression on reads and drops
every message, in a process of its own.  Reported per setting, median of the rounds
(interleaved), for a message per line and for -b (a message per read of up to 64 KiB): wall time, websocat's CPU seconds (from wait4), and the size of the file
compressed at that level as a whole (zlib, raw deflate), which is a lower bound of what goes
over the wire (each message is compressed apart, sharing the window).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve

async def drain(conn):
    async for _message in conn:
        pass

async def main():
    async with serve(drain, "127.0.0.1", 0, compression="deflate", max_size=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


def json_lines(size: int) -> bytes:
    rng = random.Random(1)
    lines = []
    total = 0
    while total < size:
        record = {
            "id": rng.randrange(10**9),
            "user": f"user{rng.randrange(5000)}",
            "event": rng.choice(["click", "view", "buy", "scroll"]),
            "value": round(rng.random() * 1000, 3),
            "tags": rng.sample(["a", "b", "c", "d", "e", "f"], 3),
        }
        line = json.dumps(record).encode() + b"\n"
        lines.append(line)
        total += len(line)
    return b"".join(lines)


def run_once(args: list[str], path: str) -> tuple[float, float]:
    started = time.monotonic()
    with open(path, "rb") as stdin:
        proc = subprocess.Popen(
            [sys.executable, "-m", "websocat", *args], stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"websocat {args} failed: {proc.stderr.read().decode() if proc.stderr else status}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    data = json_lines(opts.mib << 20)
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = f"ws://127.0.0.1:{int(server.stdout.readline())}/"
        levels: dict[str, list[str]] = {"off": []}
        levels.update({f"level {level}": ["--compress", "--compress-level", str(level)] for level in (1, 6, 9)})
        modes = {"lines": [], "-b": ["-b"]}  # a message per line; per read of up to 64 KiB
        results: dict[tuple[str, str], list[tuple[float, float]]] = {(m, n): [] for m in modes for n in levels}
        with tempfile.NamedTemporaryFile() as file:
            file.write(data)
            file.flush()
            for _round in range(opts.rounds):
                for mode, mode_args in modes.items():
                    for name, args in levels.items():
                        results[mode, name].append(run_once([*mode_args, *args, url], file.name))
        messages = data.count(b"\n")
        print(f"{len(data) / 2**20:.1f} MiB of JSON lines ({messages} lines), median of {opts.rounds}")
        print(f"{'mode':<6} {'setting':<10} {'wall s':>8} {'cpu s':>8} {'deflated size':>14}")
        for (mode, name), runs in results.items():
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            level = int(name.split()[1]) if name != "off" else None
            if level is None:
                size = len(data)
            else:
                z = zlib.compressobj(level, zlib.DEFLATED, -15)
                size = len(z.compress(data) + z.flush())
            print(f"{mode:<6} {name:<10} {wall:>8.2f} {cpu:>8.2f} {size / len(data):>13.1%}")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
