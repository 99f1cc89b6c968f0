"""broadcast: fan-out: one upstream WebSocket server streams messages to websocat's
`ws-l: broadcast:ws://...`, which sends each to every connected client.

    python tests/bench/broadcast_fanout.py [--clients 50] [--messages 2000] [--size 100] [--websocat websocat]

Reports deliveries per second (clients x messages / time from the first message sent to
the last one received by every client) and websocat's own CPU time over the run (from
/proc), so the figure can be told from the cost of the measuring clients, which run in
this one Python process with the upstream.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(args: argparse.Namespace) -> None:
    go = asyncio.Event()
    payload = b"x" * args.size

    async def upstream(conn: ServerConnection) -> None:
        await go.wait()
        for _ in range(args.messages):
            await conn.send(payload)
        await conn.wait_closed()

    async with serve(upstream, "127.0.0.1", 0) as server:
        up_port = server.sockets[0].getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            *args.websocat.split(),
            "--stdout-announce-listening-ports",
            "-b",
            "--broadcast-queue-len",
            str(args.messages + 1),
            "ws-l:127.0.0.1:0",
            f"broadcast:ws://127.0.0.1:{up_port}/",
            stdout=subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = (await proc.stdout.readline()).decode()
        port = int(line.rsplit("port=", 1)[1])
        clients = [await connect(f"ws://127.0.0.1:{port}/", max_queue=None) for _ in range(args.clients)]
        await clients[0].send(b"hello")  # opens the upstream connection
        await asyncio.sleep(0.5)
        cpu_before = cpu_seconds(proc.pid)

        async def drain(conn: object) -> None:
            for _ in range(args.messages):
                await conn.recv()  # type: ignore[attr-defined]

        readers = [asyncio.create_task(drain(c)) for c in clients]
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*readers)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(proc.pid) - cpu_before
        deliveries = args.clients * args.messages
        print(
            f"{args.clients} clients x {args.messages} messages of {args.size} B: {elapsed:.2f} s, "
            f"{deliveries / elapsed:,.0f} deliveries/s; websocat CPU {cpu:.2f} s "
            f"({deliveries / cpu:,.0f} deliveries per CPU second)"
        )
        for c in clients:
            await c.close()
        proc.terminate()
        await proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--websocat", default="websocat")
    asyncio.run(main(parser.parse_args()))
