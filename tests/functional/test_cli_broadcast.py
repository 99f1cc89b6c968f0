"""websocat v1's broadcast: (one upstream, every message of it to every client, every
client's messages to it; a client that falls behind is dropped with a line) and
literalreply: (a fixed answer to each message)."""

from __future__ import annotations

import asyncio

from conftest import Websocat, start_server
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection


def test_fifty_clients_get_every_message_in_the_same_order(websocat: Websocat) -> None:
    """websocat v1's example: `-E ws-l: reuse-broadcast:mirror:` is a chat room."""
    proc, port = websocat.listen("-E", "ws-l:127.0.0.1:0", "reuse-broadcast:mirror:")
    clients, rounds = 50, 4

    async def run() -> list[list[str | bytes]]:
        conns = [await connect(f"ws://127.0.0.1:{port}/") for _ in range(clients)]

        async def read_all(conn: object) -> list[str | bytes]:
            return [await asyncio.wait_for(conn.recv(), 30) for _ in range(clients * rounds)]  # type: ignore[attr-defined]

        readers = [asyncio.create_task(read_all(conn)) for conn in conns]
        for r in range(rounds):
            for number, conn in enumerate(conns):
                await conn.send(f"{number}:{r}")
        got = await asyncio.gather(*readers)
        for conn in conns:
            await conn.close()
        return got

    got = asyncio.run(run())
    sent = sorted(f"{n}:{r}" for n in range(clients) for r in range(rounds))
    assert all(seen == got[0] for seen in got)  # every client, the same messages in the same order
    assert sorted(got[0]) == sent  # ... and every message
    for number in range(clients):  # each sender's messages in the order it sent them
        mine = [m for m in got[0] if isinstance(m, str) and m.startswith(f"{number}:")]
        assert mine == [f"{number}:{r}" for r in range(rounds)]
    proc.terminate()
    websocat.finish(proc)


def test_a_client_that_does_not_read_is_dropped_with_a_line(websocat: Websocat) -> None:
    """The upstream streams 40 MB at a pace a reading client keeps up with; one client reads
    it all, the other never reads: that one is dropped once 16 messages wait for it (its
    socket buffers full), and the reader still gets everything."""
    count, size = 400, 100_000

    async def stream(conn: ServerConnection) -> None:
        await conn.recv()  # "go", from the reading client
        for number in range(count):
            await conn.send(number.to_bytes(4, "big") + bytes(size))
            await asyncio.sleep(0.002)
        await conn.wait_closed()

    for url in start_server(stream):
        proc, port = websocat.listen("-b", "--broadcast-queue-len", "16", "ws-l:127.0.0.1:0", f"broadcast:{url}")

        async def run() -> int:
            async with connect(f"ws://127.0.0.1:{port}/", max_size=None) as reader:
                async with connect(f"ws://127.0.0.1:{port}/") as _stalled:  # never reads
                    await reader.send(b"go")
                    numbers = [int.from_bytes((await asyncio.wait_for(reader.recv(), 60))[:4], "big") for _ in range(count)]  # type: ignore[arg-type]
                    assert numbers == list(range(count))
                    return len(numbers)

        assert asyncio.run(run()) == count
        proc.terminate()
        _out, err = websocat.finish(proc)
        lines = [line for line in err.decode().splitlines() if "broadcast:" in line]
        assert len(lines) == 1 and "fell" in lines[0] and "(--broadcast-queue-len): dropped" in lines[0], err


def test_literalreply_answers_each_message(websocat: Websocat) -> None:
    """websocat v1's example: `ws-l: literalreply:'{"status":"OK"}'`, text for text, binary for binary."""
    proc, port = websocat.listen("ws-l:127.0.0.1:0", 'literalreply:{"status":"OK"}')

    async def run() -> list[str | bytes]:
        async with connect(f"ws://127.0.0.1:{port}/") as conn:
            got = []
            for message in ("hello", b"\x00binary", "again"):
                await conn.send(message)
                got.append(await asyncio.wait_for(conn.recv(), 20))
            return got

    assert asyncio.run(run()) == ['{"status":"OK"}', b'{"status":"OK"}', '{"status":"OK"}']
    proc.terminate()
    websocat.finish(proc)
