"""WebSocket bulk into a socket: a `ws-l:` server forwarding binary messages to a sink.

    python tests/bench/ws_bulk_server.py [--size-mib 256] [--reps 3] [--websocat CMD] [--v1 PATH]

One client (websocat v1, so the client costs every row the same) sends SIZE bytes as
binary messages; the server under test forwards them to a sink that counts them:

* v1:        `websocat1 -b -u -n --oneshot ws-l:... tcp:SINK`   (websocat v1's ws -> tcp)
* this, tcp: `websocat -b -u --oneshot ws-l:... tcp:SINK`
* this, unix: `websocat -b -u --oneshot ws-l:... unix:SINK`     (when unix: is implemented)

Throughput is SIZE over the time from the client's start until the sink has everything;
rows run interleaved, medians with min..max and the ratio to v1 from the same run.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CHUNK = 1 << 20


def _sink(family: int, address: object) -> tuple[socket.socket, threading.Event, list[int]]:
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind(address)
    server.listen()
    done, count = threading.Event(), [0]

    def drain() -> None:
        conn, _ = server.accept()
        view = memoryview(bytearray(CHUNK))
        with conn:
            while n := conn.recv_into(view):
                count[0] += n
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    return server, done, count


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    want = f":{port:04X} "
    for _ in range(1000):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early: {proc.args!r}")
        with open("/proc/net/tcp") as table:
            if any(want in line and line.split()[3] == "0A" for line in table):
                return
        time.sleep(0.02)
    raise RuntimeError("server did not listen")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_run(server_cmd: list[str], client_cmd: list[str], port: int, done: threading.Event) -> float:
    server = subprocess.Popen(server_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        _wait_port(port, server)
        started = time.perf_counter()
        subprocess.run(client_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True, timeout=300)
        if not done.wait(300):
            raise RuntimeError("sink did not finish")
        return time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(10)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--websocat", default=f"{sys.executable} -m websocat")
    parser.add_argument(
        "--v1", default="/tmp/bench-home/venv/bin/websocat", help="websocat v1 (../shared/tools/bench/setup.sh)"
    )
    parser.add_argument("--no-unix", action="store_true", help="leave out the unix: row")
    parser.add_argument(
        "--client", choices=("v1", "this"), default="v1", help="which websocat sends (the same for every row)"
    )
    args = parser.parse_args(argv)
    size = args.size_mib * CHUNK
    folder = tempfile.mkdtemp(prefix="ws-bulk-")
    data = os.path.join(folder, "data.bin")
    with open(data, "wb") as out:
        out.write(os.urandom(CHUNK) * args.size_mib)
    ours = shlex.split(args.websocat)
    rows = {
        "v1 ws->tcp": lambda p, sink: [args.v1, "-b", "-u", "-n", "--oneshot", f"ws-l:127.0.0.1:{p}", f"tcp:{sink}"],
        "this ws->tcp": lambda p, sink: [*ours, "-b", "-u", "--oneshot", f"ws-l:127.0.0.1:{p}", f"tcp:{sink}"],
    }
    if not args.no_unix:
        rows["this ws->unix"] = lambda p, sink: [*ours, "-b", "-u", "--oneshot", f"ws-l:127.0.0.1:{p}", f"unix:{sink}"]
    times: dict[str, list[float]] = {name: [] for name in rows}
    for rep in range(args.reps):
        for name, command in rows.items():
            if name.endswith("unix"):
                path = os.path.join(folder, "sink.sock")
                if os.path.exists(path):
                    os.unlink(path)
                sink, done, count = _sink(socket.AF_UNIX, path)
                target = path
            else:
                sink, done, count = _sink(socket.AF_INET, ("127.0.0.1", 0))
                target = f"127.0.0.1:{sink.getsockname()[1]}"
            port = _free_port()
            sender = [args.v1] if args.client == "v1" else ours
            client = [*sender, "-b", "-u", f"readfile:{data}", f"ws://127.0.0.1:{port}/"]
            with sink:
                elapsed = one_run(command(port, target), client, port, done)
            if count[0] != size:
                raise RuntimeError(f"{name}: sink got {count[0]} of {size} bytes")
            times[name].append(elapsed)
            print(f"rep {rep + 1} {name}: {size / elapsed / 1e6:.0f} MB/s", file=sys.stderr)
    print("| server | MB/s (median) | min..max | runs | ratio to v1 |\n|---|---|---|---|---|")
    base = statistics.median(times["v1 ws->tcp"])
    for name, runs in times.items():
        rates = sorted(size / t / 1e6 for t in runs)
        print(
            f"| {name} | {statistics.median(rates):.0f} | {rates[0]:.0f}..{rates[-1]:.0f} | {len(runs)}"
            f" | {base / statistics.median(runs):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
