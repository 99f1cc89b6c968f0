"""What log: costs a bulk byte relay: `websocat -b tcp-l:... log:tcp:...` with
--log-omit-content against the same relay without log:.

    python tests/bench/log_overhead.py [--size-mib 1024] [--reps 5] [--websocat CMD]

Rows, run interleaved (A B C A B C ...), each moving SIZE bytes from a source into the
relay and on into a sink, as tests/bench/tcp_relay.py does:

* ``spliced``: no log:; between two plain sockets the bytes move with splice(2) and never
  enter Python (runtime/splicing.py).
* ``copy loop``: no log:, splice(2) turned off (``splicing.raw_ends`` patched to say "no"
  before the command runs): the Python read/write loop that log: is on.  The baseline
  the 10% budget is measured against.
* ``log: --log-omit-content``: log: over the right side's connection, its stderr (one
  line per write) going to a file; the line count is checked.

The median throughput of each row, min..max, and its ratio to the copy loop; then the CPU
time the relay process used (user + system, start-up included), which a busy machine
disturbs less than the wall-clock throughput.
"""

from __future__ import annotations

import argparse
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tcp_relay import CHUNK, wait_listening

# The command with splice(2) turned off: the same code path up to copy_bytes, which then
# takes its read/write loop.
NO_SPLICE = (
    "import runpy, sys; from websocat.runtime import splicing; "
    "splicing.raw_ends = lambda src, dst: None; "
    "sys.argv[0] = 'websocat'; runpy.run_module('websocat', run_name='__main__')"
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(
    relay_cmd: list[str], listen_port: int, sink: socket.socket, size: int, stderr_path: Path
) -> tuple[float, float]:
    """Start the relay (stderr to a file), push size bytes through it; return the seconds
    it took and the CPU seconds the relay process used (start-up included)."""
    received = 0
    done = threading.Event()

    def drain() -> None:
        nonlocal received
        conn, _ = sink.accept()
        view = memoryview(bytearray(CHUNK))
        with conn:
            while n := conn.recv_into(view):
                received += n
        done.set()

    cpu_before = _children_cpu()
    with open(stderr_path, "wb") as err:
        relay = subprocess.Popen(relay_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_listening(listen_port, relay)
        threading.Thread(target=drain, daemon=True).start()
        payload = memoryview(bytes(CHUNK))
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", listen_port)) as source:
            sent = 0
            while sent < size:
                step = min(CHUNK, size - sent)
                source.sendall(payload[:step])
                sent += step
            source.shutdown(socket.SHUT_WR)
            if not done.wait(300):
                raise RuntimeError("sink did not finish")
            elapsed = time.perf_counter() - started
        if received != size:
            raise RuntimeError(f"sink got {received} of {size} bytes")
    finally:
        relay.terminate()
        relay.wait(10)
    return elapsed, _children_cpu() - cpu_before


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--websocat", default=f"{sys.executable} -m websocat", help="command to run websocat")
    args = parser.parse_args(argv)
    size = args.size_mib * CHUNK
    websocat = shlex.split(args.websocat)
    # The no-splice row needs the interpreter that has websocat installed: that of the
    # command given (its script's shebang), else this one.
    python = sys.executable
    if len(websocat) == 1:
        first = Path(websocat[0]).read_bytes().split(b"\n", 1)[0]
        if first.startswith(b"#!") and b"python" in first:
            python = first[2:].decode().strip()
    rows = {
        "spliced": lambda p, q: [*websocat, "-b", f"tcp-l:127.0.0.1:{p}", f"tcp:127.0.0.1:{q}"],
        "copy loop": lambda p, q: [python, "-c", NO_SPLICE, "-b", f"tcp-l:127.0.0.1:{p}", f"tcp:127.0.0.1:{q}"],
        "log: --log-omit-content": lambda p, q: [
            *websocat,
            "-b",
            "--log-omit-content",
            f"tcp-l:127.0.0.1:{p}",
            f"log:tcp:127.0.0.1:{q}",
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in rows}
    cpus: dict[str, list[float]] = {name: [] for name in rows}
    with tempfile.TemporaryDirectory() as folder:
        stderr_path = Path(folder) / "stderr"
        for rep in range(args.reps):
            for name, command in rows.items():
                with socket.socket() as sink:
                    sink.bind(("127.0.0.1", 0))
                    sink.listen()
                    with socket.socket() as probe:
                        probe.bind(("127.0.0.1", 0))
                        port = probe.getsockname()[1]
                    elapsed, cpu = one_run(command(port, sink.getsockname()[1]), port, sink, size, stderr_path)
                lines = stderr_path.read_text().splitlines()
                if name.startswith("log:"):
                    writes = [
                        int(line.split()[1]) for line in lines if line.startswith("WRITE ") and line[6:].isdigit()
                    ]
                    if sum(writes) != size:
                        raise RuntimeError(f"log lines add up to {sum(writes)} bytes, not {size}")
                    detail = f", {len(lines)} log lines"
                elif lines:
                    raise RuntimeError(f"{name}: unexpected stderr {lines[:3]!r}")
                else:
                    detail = ""
                times[name].append(elapsed)
                cpus[name].append(cpu)
                print(
                    f"rep {rep + 1} {name}: {size / elapsed / 1e6:.0f} MB/s, {cpu:.2f} s CPU{detail}", file=sys.stderr
                )
    base = statistics.median(times["copy loop"])
    base_cpu = statistics.median(cpus["copy loop"])
    print(
        "| relay | MB/s (median) | min..max | ratio to the copy loop | relay CPU s (median) | min..max |"
        " CPU ratio to the copy loop |\n|---|---|---|---|---|---|---|"
    )
    for name, runs in times.items():
        rates = sorted(size / t / 1e6 for t in runs)
        used = sorted(cpus[name])
        print(
            f"| {name} | {statistics.median(rates):.0f} | {rates[0]:.0f}..{rates[-1]:.0f} | "
            f"{base / statistics.median(runs):.2f} | {statistics.median(used):.2f} | {used[0]:.2f}..{used[-1]:.2f} | "
            f"{statistics.median(used) / base_cpu:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
