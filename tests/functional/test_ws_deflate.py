"""permessage-deflate (--compress) against the `websockets` library, both ways, on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import echo
from test_ws_interop import Messages, open_stream, our_server, run
from websockets.asyncio.client import connect as ws_client
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)

from websocat.runtime.overlays import ws
from websocat.runtime.sockets import CONTINUES, TEXT, TransportStream

BIG = 3 * 1024 * 1024


def payloads() -> list[tuple[bytes, int]]:
    """Empty, small and 3 MB messages, text and binary; the big ones compress and don't."""
    text = ("żółw 🐢 compressible text " * (BIG // 30)).encode()
    noise = bytes((i * 7919 + (i >> 8) * 31) & 255 for i in range(65536)) * (BIG // 65536)
    return [
        (b"", TEXT),
        (b"", 0),
        (b"hello", TEXT),
        (b"\x00\x01", 0),
        (text, TEXT),
        (noise, 0),
        (b"after big ones", TEXT),
    ]


def extension(conn: Any) -> PerMessageDeflate | None:
    found = [e for e in conn.protocol.extensions if isinstance(e, PerMessageDeflate)]
    return found[0] if found else None


# (our keywords, the websockets server's factory, what its reply must say)
CLIENT_CASES = [
    ({}, ServerPerMessageDeflateFactory(), "permessage-deflate"),
    ({"compress_no_context_takeover": True}, ServerPerMessageDeflateFactory(), "no_context_takeover"),
    ({"compress_window_bits": 10}, ServerPerMessageDeflateFactory(), "server_max_window_bits=10"),
    ({}, ServerPerMessageDeflateFactory(server_no_context_takeover=True), "server_no_context_takeover"),
    ({}, ServerPerMessageDeflateFactory(client_no_context_takeover=True), "client_no_context_takeover"),
    ({}, ServerPerMessageDeflateFactory(server_max_window_bits=9, client_max_window_bits=11), "window_bits=11"),
]


@pytest.mark.parametrize("ours, factory, said", CLIENT_CASES)
def test_our_client_with_compressing_websockets_server(ours: dict[str, Any], factory: Any, said: str) -> None:
    async def main() -> None:
        answered: list[str] = []

        async def handler(conn: ServerConnection) -> None:
            answered.append(conn.response.headers.get("Sec-WebSocket-Extensions", ""))  # type: ignore[union-attr]
            assert extension(conn) is not None
            await echo(conn)

        async with serve(handler, "127.0.0.1", 0, max_size=None, extensions=[factory], compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            sock = await ws.connect(await open_stream(port), host="localhost", compress=True, **ours)
            assert sock.deflate is not None
            reader = Messages(sock)
            for _round in range(2):  # the second time with the context of the first
                for data, flags in payloads():
                    await sock.send_batch([(data, flags)])
                    assert await reader.next() == (data, flags)
            await sock.send_eof()
            assert await reader.next() is None
            await sock.aclose()
        assert said in answered[0]

    run(main())


def test_compressed_fragments_and_batches_reach_websockets_server() -> None:
    async def main() -> None:
        received: list[str | bytes] = []

        async def collect(conn: ServerConnection) -> None:
            async for message in conn:
                received.append(message)

        async with serve(collect, "127.0.0.1", 0, compression="deflate") as server:
            port = server.sockets[0].getsockname()[1]
            sock = await ws.connect(await open_stream(port), compress=True)
            await sock.send_batch([(b"he", TEXT | CONTINUES), (b"llo", TEXT), (b"\x01" * 5000, CONTINUES)])
            await sock.send_batch([(b"\x02", 0)] + [(str(i).encode(), TEXT) for i in range(1000)])
            await sock.send_eof()
            assert await sock.recv_batch() == []
            await sock.aclose()
        assert received[:2] == ["hello", b"\x01" * 5000 + b"\x02"]
        assert received[2:] == [str(i) for i in range(1000)]

    run(main())


def test_our_client_when_server_declines() -> None:
    async def main() -> None:
        async with serve(echo, "127.0.0.1", 0, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            sock = await ws.connect(await open_stream(port), compress=True)
            assert sock.deflate is None
            await sock.send_batch([(b"plain", TEXT)])
            assert await sock.recv_batch() == [(b"plain", TEXT)]
            await sock.aclose()

    run(main())


# (the websockets client's factory, our keywords, what our reply must say)
SERVER_CASES = [
    (ClientPerMessageDeflateFactory(), {}, "permessage-deflate"),
    (ClientPerMessageDeflateFactory(client_max_window_bits=True), {}, "permessage-deflate"),
    (ClientPerMessageDeflateFactory(server_no_context_takeover=True), {}, "server_no_context_takeover"),
    (ClientPerMessageDeflateFactory(client_no_context_takeover=True), {}, "client_no_context_takeover"),
    (ClientPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=9), {}, "window_bits=9"),
    (ClientPerMessageDeflateFactory(client_max_window_bits=True), {"compress_window_bits": 11}, "bits=11"),
    (ClientPerMessageDeflateFactory(), {"compress_no_context_takeover": True}, "client_no_context_takeover"),
]


async def echo_server_side(stream: TransportStream, **kwargs: Any) -> None:
    sock = await ws.accept(stream, compress=True, **kwargs)
    async with sock:
        while batch := await sock.recv_batch():
            await sock.send_batch(batch)
        await sock.send_eof()


@pytest.mark.parametrize("factory, ours, said", SERVER_CASES)
def test_websockets_client_with_our_compressing_server(factory: Any, ours: dict[str, Any], said: str) -> None:
    async def main() -> None:
        async def handler(stream: TransportStream) -> None:
            await echo_server_side(stream, **ours)

        async with our_server(handler) as port:
            async with ws_client(
                f"ws://127.0.0.1:{port}/", extensions=[factory], compression=None, max_size=None
            ) as conn:
                assert said in conn.response.headers["Sec-WebSocket-Extensions"]  # type: ignore[union-attr]
                assert extension(conn) is not None
                for _round in range(2):
                    for data, flags in payloads():
                        message: str | bytes = data.decode() if flags & TEXT else data
                        await conn.send(message)
                        assert await conn.recv() == message

    run(main())


def test_our_server_with_a_client_offering_nothing() -> None:
    async def main() -> None:
        async with our_server(echo_server_side) as port:
            async with ws_client(f"ws://127.0.0.1:{port}/", compression=None) as conn:
                assert "Sec-WebSocket-Extensions" not in conn.response.headers  # type: ignore[union-attr]
                await conn.send("plain")
                assert await conn.recv() == "plain"

    run(main())


async def raw_upgrade(port: int, extensions: str) -> tuple[bytes, asyncio.StreamWriter]:
    """Send an upgrade request offering ``extensions``; the reply's head and the writer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + f"Sec-WebSocket-Extensions: {extensions}\r\n\r\n".encode()
    )
    return await reader.readuntil(b"\r\n\r\n"), writer


@pytest.mark.parametrize(
    "offers, reply",
    [
        # zlib compresses with 9 bits at least: that offer is declined, the next one taken
        ("permessage-deflate; server_max_window_bits=8, permessage-deflate", b"permessage-deflate\r\n"),
        (
            "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=12",
            b"permessage-deflate; client_max_window_bits=12\r\n",
        ),
        ("permessage-deflate; unknown_param", None),
        ("permessage-deflate; server_max_window_bits=16", None),
    ],
)
def test_our_server_chooses_among_offers(offers: str, reply: bytes | None) -> None:
    async def main() -> None:
        async with our_server(echo_server_side) as port:
            head, writer = await raw_upgrade(port, offers)
            writer.close()
        if reply is None:
            assert b"Sec-WebSocket-Extensions" not in head
        else:
            assert b"Sec-WebSocket-Extensions: " + reply in head

    run(main())


def test_bomb_is_refused_with_1009() -> None:
    """100 MB of zeros (about 100 KB compressed) against a 1 MiB limit: Close 1009."""

    async def main() -> None:
        async def handler(stream: TransportStream) -> None:
            await echo_server_side(stream, max_message_length=1 << 20)

        async with our_server(handler) as port:
            async with ws_client(f"ws://127.0.0.1:{port}/", compression="deflate", max_size=None) as conn:
                await conn.send(b"\x00" * 1000)
                assert await conn.recv() == b"\x00" * 1000
                with pytest.raises(ConnectionClosed) as caught:
                    await conn.send(bytes(100_000_000))
                    await conn.recv()
                assert caught.value.rcvd is not None and caught.value.rcvd.code == 1009

    run(main())


def test_limit_applies_to_uncompressed_messages_too() -> None:
    async def main() -> None:
        async def handler(stream: TransportStream) -> None:
            await echo_server_side(stream, max_message_length=4096)

        async with our_server(handler) as port:
            async with ws_client(f"ws://127.0.0.1:{port}/", compression=None, max_size=None) as conn:
                await conn.send(b"x" * 4096)
                assert await conn.recv() == b"x" * 4096
                with pytest.raises(ConnectionClosed) as caught:
                    await conn.send([b"x" * 3000, b"y" * 3000])  # fragmented: counted across frames
                    await conn.recv()
                assert caught.value.rcvd is not None and caught.value.rcvd.code == 1009

    run(main())


def test_compressed_bit_without_negotiation_is_still_an_error() -> None:
    async def main() -> None:
        async def handler(stream: TransportStream) -> None:
            sock = await ws.accept(stream)  # no compress=True
            async with sock:
                with pytest.raises(Exception):
                    await sock.recv_batch()
                assert sock.close_code == 1002

        async with our_server(handler) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            )
            head = await reader.readuntil(b"\r\n\r\n")
            assert b"Extensions" not in head  # no --compress: no answer to the offer
            writer.write(b"\xc1\x80abcd")  # RSV1 on a masked empty text frame
            await writer.drain()
            assert (await reader.read(4))[:2] == b"\x88\x02"
            writer.close()

    run(main())
