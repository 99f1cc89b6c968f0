"""What --base64 and the kind prefixes cost a client session: `websocat OPTIONS ws://...`
reading lines from stdin and printing the echoes, against plain -t.

    python tests/bench/base64_overhead.py [--messages 100000] [--bulk-mib 256] [--reps 5] [--websocat CMD]

The echo server is websocat itself (`ws-l:... mirror:`, messages echoed with their kind),
started once.  Each row sends the same number of lines of the same length through the
client and checks that stdout is stdin again, byte for byte:

* ``-t``: text lines, the baseline;
* ``--text-prefix T: --binary-prefix B:``: lines ``T:...``, sent as text with the prefix
  stripped and printed with it again;
* ``--base64 --binary-prefix B:``: lines ``B:`` + base64, decoded and sent as binary, the
  binary echoes encoded again (the whole path of a binary message both ways);
* ``-b --base64``: bare base64 lines, decoded and sent as binary (lines: read as binary).

Two sizes: ``small`` (--messages lines of 40 bytes) and ``bulk`` (--bulk-mib of 64 KiB
lines).  Rows run interleaved; printed: the median wall-clock time of each, min..max, its
ratio to -t, and the client's CPU time (user + system, start-up included).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tcp_relay import wait_listening

SMALL = 40  # bytes per line, newline included
BULK = 1 << 16


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _line(kind: str, size: int, index: int) -> bytes:
    """One line of ``size`` bytes (newline included) for a row's kind."""
    if kind == "text":
        body = f"{index:08d} ".encode()
        return (body * (size // len(body) + 1))[: size - 1] + b"\n"
    if kind == "prefixed":
        return b"T:" + _line("text", size - 2, index)
    raw = bytes((index + i) % 256 for i in range(64)) * ((size * 3 // 4) // 64 + 1)
    width = size - 1 - (2 if kind == "base64-prefixed" else 0)
    data = base64.b64encode(raw[: width // 4 * 3])
    return (b"B:" if kind == "base64-prefixed" else b"") + data + b"\n"


ROWS = {
    "-t": (["-t"], "text"),
    "--text-prefix T: --binary-prefix B:": (["--text-prefix", "T:", "--binary-prefix", "B:"], "prefixed"),
    "--base64 --binary-prefix B:": (["--base64", "--binary-prefix", "B:"], "base64-prefixed"),
    "-b --base64": (["-b", "--base64"], "base64"),
}


def write_input(path: Path, kind: str, size: int, count: int) -> str:
    """Write ``count`` lines; returns the SHA-256 of the file."""
    digest = hashlib.sha256()
    distinct = [_line(kind, size, i) for i in range(min(count, 256))]
    with open(path, "wb") as out:
        for i in range(count):
            line = distinct[i % len(distinct)]
            out.write(line)
            digest.update(line)
    return digest.hexdigest()


def one_run(command: list[str], stdin: Path, stdout: Path, want: str) -> tuple[float, float]:
    cpu_before = _children_cpu()
    started = time.perf_counter()
    with open(stdin, "rb") as src, open(stdout, "wb") as dst:
        proc = subprocess.run(command, stdin=src, stdout=dst, stderr=subprocess.PIPE, timeout=600)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 or proc.stderr:
        raise RuntimeError(f"{command!r}: exit {proc.returncode}, stderr {proc.stderr[:300]!r}")
    got = hashlib.sha256(stdout.read_bytes()).hexdigest()
    if got != want:
        raise RuntimeError(f"{command!r}: stdout is not stdin ({stdout.stat().st_size} bytes)")
    return elapsed, _children_cpu() - cpu_before


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--bulk-mib", type=int, default=256)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--websocat", default=f"{sys.executable} -m websocat", help="command to run websocat")
    args = parser.parse_args(argv)
    websocat = shlex.split(args.websocat)
    sizes = {"small": (SMALL, args.messages), "bulk": (BULK, args.bulk_mib * (1 << 20) // BULK)}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([*websocat, f"ws-l:127.0.0.1:{port}", "mirror:"], stdin=subprocess.DEVNULL)
    try:
        wait_listening(port, server)
        url = f"ws://127.0.0.1:{port}/"
        print("| size | client | s (median) | min..max | ratio to -t | client CPU s (median) | CPU ratio to -t |")
        print("|---|---|---|---|---|---|---|")
        with tempfile.TemporaryDirectory() as folder:
            for size_name, (size, count) in sizes.items():
                inputs = {}
                for name, (_options, kind) in ROWS.items():
                    path = Path(folder) / f"{kind}.in"
                    inputs[name] = (path, write_input(path, kind, size, count))
                times: dict[str, list[float]] = {name: [] for name in ROWS}
                cpus: dict[str, list[float]] = {name: [] for name in ROWS}
                for rep in range(args.reps):
                    for name, (options, _kind) in ROWS.items():
                        path, want = inputs[name]
                        elapsed, cpu = one_run([*websocat, *options, url], path, Path(folder) / "out", want)
                        times[name].append(elapsed)
                        cpus[name].append(cpu)
                        print(f"rep {rep + 1} {size_name} {name}: {elapsed:.2f} s, {cpu:.2f} s CPU", file=sys.stderr)
                base, base_cpu = statistics.median(times["-t"]), statistics.median(cpus["-t"])
                for name in ROWS:
                    runs, used = sorted(times[name]), statistics.median(cpus[name])
                    median = statistics.median(runs)
                    print(
                        f"| {size_name}: {count} x {size} B | {name} | {median:.2f} | {runs[0]:.2f}..{runs[-1]:.2f} | "
                        f"{median / base:.2f} | {used:.2f} | {used / base_cpu:.2f} |"
                    )
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
