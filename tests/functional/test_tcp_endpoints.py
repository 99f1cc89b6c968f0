"""tcp: endpoints on real sockets: connect errors, racing several addresses, serve, accept_one."""

from __future__ import annotations

import asyncio
import socket

import pytest

from websocat.runtime.endpoints import tcp
from websocat.runtime.errors import ConnectError


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def echo_server() -> tuple[asyncio.base_events.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_refused_connection_names_the_peer() -> None:
    port = closed_port()

    async def scenario() -> None:
        with pytest.raises(ConnectError, match=f"tcp:127.0.0.1:{port}: Connection refused"):
            async with tcp.connect("127.0.0.1", port):
                pass

    asyncio.run(scenario())


def test_race_skips_a_dead_address() -> None:
    async def scenario() -> None:
        server, port = await echo_server()
        dead = closed_port()
        async with tcp.connect_any([("127.0.0.1", dead), ("127.0.0.1", port)], race_interval_ms=5) as conn:
            await conn.write(b"ping")
            assert await conn.read() == b"ping"
        server.close()

    asyncio.run(scenario())


def test_race_all_dead_reports_an_error() -> None:
    async def scenario() -> None:
        with pytest.raises(ConnectError, match="Connection refused"):
            async with tcp.connect_any([("127.0.0.1", closed_port()), ("127.0.0.1", closed_port())]):
                pass

    asyncio.run(scenario())


def test_resolve_localhost_and_unknown_name() -> None:
    async def scenario() -> None:
        addrs = await tcp.resolve("localhost", 80)
        assert ("127.0.0.1", 80) in addrs or ("::1", 80) in addrs
        with pytest.raises(ConnectError, match="cannot resolve"):
            await tcp.resolve("no-such-host.invalid", 80)

    asyncio.run(scenario())


def test_serve_runs_concurrent_sessions() -> None:
    async def scenario() -> None:
        port = closed_port()
        seen: list[bytes] = []

        async def session(conn: tcp.Stream) -> None:
            data = await conn.read()
            seen.append(data)
            await asyncio.sleep(0.1)  # both sessions are alive at once
            await conn.write(data.upper())

        server = asyncio.ensure_future(tcp.serve("127.0.0.1", port, session))
        await asyncio.sleep(0.1)
        clients = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
        for i, (_, writer) in enumerate(clients):
            writer.write(b"c%d" % i)
        replies = [await reader.read(10) for reader, _ in clients]
        assert sorted(replies) == [b"C0", b"C1"]
        server.cancel()
        for _, writer in clients:
            writer.close()

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_serve_oneshot_returns_after_one_session() -> None:
    async def scenario() -> None:
        port = closed_port()

        async def session(conn: tcp.Stream) -> None:
            await conn.write(await conn.read())

        server = asyncio.ensure_future(tcp.serve("127.0.0.1", port, session, oneshot=True))
        await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"once")
        assert await reader.read(10) == b"once"
        await asyncio.wait_for(server, 5)
        writer.close()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_accept_one() -> None:
    async def scenario() -> None:
        port = closed_port()

        async def client() -> bytes:
            await asyncio.sleep(0.1)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            data = await reader.read(10)
            writer.close()
            return data

        task = asyncio.ensure_future(client())
        async with tcp.accept_one("127.0.0.1", port) as conn:
            await conn.write(b"hi")
            await conn.write_eof()
        assert await task == b"hi"

    asyncio.run(asyncio.wait_for(scenario(), 10))
