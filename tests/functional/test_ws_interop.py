"""The WebSocket overlay against the `websockets` library over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
from conftest import echo
from websockets.asyncio.client import connect as ws_client
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from websocat.runtime.errors import ProtocolError, UsageError
from websocat.runtime.overlays import ws
from websocat.runtime.overlays.ws_framing import FrameBuilder, FrameError, FrameParser
from websocat.runtime.overlays.ws_handshake import HandshakeRequest, accept_key
from websocat.runtime.sockets import (
    CLOSE,
    CONTINUES,
    PING,
    PONG,
    TEXT,
    ByteStream,
    StreamProtocol,
    TransportStream,
)

BIG = 10 * 1024 * 1024
Handler = Callable[[TransportStream], Awaitable[None]]


def run(coro: Coroutine[Any, Any, None]) -> None:
    """Run one test's coroutine with a deadline, so a hang fails instead of stalling CI."""

    async def bounded() -> None:
        await asyncio.wait_for(coro, 60)

    asyncio.run(bounded())


def payloads() -> list[tuple[bytes, int]]:
    """Text and binary messages of 0 bytes, 1 byte and 10 MB (text with multibyte characters)."""
    big_text = ("żółw 🐢 ascii " * (BIG // 20 + 1)).encode()[:BIG]
    big_text = big_text.decode("utf-8", "ignore").encode()  # no character cut at the end
    big_binary = bytes(range(256)) * (BIG // 256)
    return [(b"", TEXT), (b"", 0), (b"x", TEXT), (b"\x00", 0), (big_text, TEXT), (big_binary, 0)]


async def open_stream(port: int) -> TransportStream:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(StreamProtocol, "127.0.0.1", port)
    return TransportStream(protocol, f"127.0.0.1:{port}")


@asynccontextmanager
async def our_server(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on a free port that runs ``handler`` per connection; yields the port."""
    tasks: set[asyncio.Task[None]] = set()
    failures: list[BaseException] = []

    async def guarded(stream: TransportStream) -> None:
        try:
            await handler(stream)
        except BaseException as exc:  # reported by the test body, not lost in a task
            failures.append(exc)
            raise
        finally:
            await stream.aclose()

    class Accepted(StreamProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            task = asyncio.ensure_future(guarded(TransportStream(self)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    server = await asyncio.get_running_loop().create_server(Accepted, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
        if tasks:
            await asyncio.wait(tasks, timeout=20)
    finally:
        server.close()
        for task in tasks:
            task.cancel()
    if failures and not isinstance(failures[0], (ProtocolError, ConnectionError)):
        raise failures[0]


class Messages:
    """Whole messages from a WsSocket, joining the pieces of long ones."""

    def __init__(self, sock: ws.WsSocket) -> None:
        self.sock = sock
        self.pending: list[tuple[bytes, int]] = []

    async def next(self) -> tuple[bytes, int] | None:
        parts: list[bytes] = []
        while True:
            if not self.pending:
                self.pending = await self.sock.recv_batch()
                self.pending.reverse()
                if not self.pending:
                    assert not parts, "EOF inside a message"
                    return None
            data, flags = self.pending.pop()
            parts.append(data)
            if not flags & CONTINUES:
                return b"".join(parts), flags


# -- our client, websockets server ----------------------------------------------------------


def test_client_messages_round_trip_through_websockets_server() -> None:
    async def main() -> None:
        async with serve(echo, "127.0.0.1", 0, max_size=None) as server:
            port = server.sockets[0].getsockname()[1]
            sock = await ws.connect(await open_stream(port), uri="/echo", host=f"127.0.0.1:{port}")
            reader = Messages(sock)
            for data, flags in payloads():
                await sock.send_batch([(data, flags)])
                assert await reader.next() == (data, flags)
            await sock.send_eof()
            assert await reader.next() is None
            assert sock.close_code == 1005  # our empty Close, echoed
            await sock.aclose()

    run(main())


def test_client_sends_fragments_and_batches() -> None:
    async def main() -> None:
        received: list[str | bytes] = []

        async def collect(conn: ServerConnection) -> None:
            async for message in conn:
                received.append(message)

        async with serve(collect, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            sock = await ws.connect(await open_stream(port), host="localhost")
            await sock.send_batch([(b"he", TEXT | CONTINUES), (b"llo", TEXT), (b"\x01", CONTINUES)])
            await sock.send_batch([(b"\x02", 0)] + [(str(i).encode(), TEXT) for i in range(1000)])
            await sock.send_eof()
            assert await sock.recv_batch() == []
            await sock.aclose()
        assert received[:2] == ["hello", b"\x01\x02"]
        assert received[2:] == [str(i) for i in range(1000)]

    run(main())


def test_client_answers_ping_and_reports_close_code(capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> None:
        async def ping_then_close(conn: ServerConnection) -> None:
            pong = await conn.ping(b"are you there")
            await asyncio.wait_for(pong, 10)
            await conn.send("pong arrived")
            await conn.close(4001, "custom reason")

        async with serve(ping_then_close, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            sock = await ws.connect(await open_stream(port))
            assert await sock.recv_batch() == [(b"pong arrived", TEXT)]
            assert await sock.recv_batch() == []
            assert await sock.recv_batch() == []
            assert (sock.close_code, sock.close_reason) == (4001, "custom reason")
            await sock.send_eof()  # the close was exchanged already: nothing more to send
            await sock.aclose()

    run(main())
    assert capsys.readouterr().err == "websocat: peer closed the WebSocket with code 4001: custom reason\n"


def test_normal_close_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> None:
        async def close_now(conn: ServerConnection) -> None:
            await conn.close()

        async with serve(close_now, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            sock = await ws.connect(await open_stream(port))
            assert await sock.recv_batch() == []
            assert sock.close_code == 1000
            await sock.aclose()

    run(main())
    assert capsys.readouterr().err == ""


def test_client_handshake_refused() -> None:
    async def main() -> None:
        def not_found(conn: ServerConnection, request: Request) -> Response:
            return conn.respond(404, "no such socket\n")

        async with serve(echo, "127.0.0.1", 0, process_request=not_found) as server:
            port = server.sockets[0].getsockname()[1]
            stream = await open_stream(port)
            with pytest.raises(ProtocolError) as info:
                await ws.connect(stream, uri="/missing")
            assert info.value.message == "websocket handshake failed: HTTP/1.1 404 Not Found"
            await stream.aclose()

    run(main())


def test_client_protocol_negotiated() -> None:
    async def main() -> None:
        async def tell(conn: ServerConnection) -> None:
            assert conn.request is not None
            await conn.send(f"{conn.subprotocol} {conn.request.headers.get('Origin')}")

        async with serve(tell, "127.0.0.1", 0, subprotocols=[Subprotocol("chat")]) as server:
            port = server.sockets[0].getsockname()[1]
            sock = await ws.connect(
                await open_stream(port), protocol="chat", origin="http://example.com", headers=["X-A: 1"]
            )
            assert await sock.recv_batch() == [(b"chat http://example.com", TEXT)]
            await sock.aclose()

    run(main())


# -- websockets client, our server ----------------------------------------------------------


async def echo_ours(stream: TransportStream) -> None:
    sock = await ws.accept(stream)
    while batch := await sock.recv_batch():
        await sock.send_batch(batch)
    await sock.send_eof()


def test_server_messages_round_trip_with_websockets_client() -> None:
    async def main() -> None:
        async with our_server(echo_ours) as port:
            async with ws_client(f"ws://127.0.0.1:{port}/", max_size=None) as conn:
                for data, flags in payloads():
                    message: str | bytes = data.decode() if flags & TEXT else data
                    await conn.send(message)
                    assert await conn.recv() == message
                    pong = await conn.ping(b"ping payload")
                    await asyncio.wait_for(pong, 10)
                await conn.close(1000)
                assert conn.close_code == 1000

    run(main())


def test_a_mirror_session_echoes_inside_the_data_callback(monkeypatch: pytest.MonkeyPatch) -> None:
    """ws-l: mirror: takes the fast path (ws_echo.echo_inline) and echoes pings, text and binary."""
    from websocat.runtime import exchange_packets
    from websocat.runtime.endpoints import trivial
    from websocat.runtime.overlays import ws_echo

    inline: list[ws.WsSocket] = []
    echo_inline = ws_echo.echo_inline

    async def spied(sock: ws.WsSocket) -> None:
        inline.append(sock)
        await echo_inline(sock)

    monkeypatch.setattr(ws_echo, "echo_inline", spied)

    async def mirror_session(stream: TransportStream) -> None:
        await exchange_packets(await ws.accept(stream), trivial.message_mirror())

    async def main() -> None:
        async with our_server(mirror_session) as port:
            async with ws_client(f"ws://127.0.0.1:{port}/", max_size=None) as conn:
                for data, flags in payloads():
                    message: str | bytes = data.decode() if flags & TEXT else data
                    await conn.send(message)
                    assert await conn.recv() == message
                    await asyncio.wait_for(await conn.ping(b"p"), 10)
                await conn.close(1000)
                assert conn.close_code == 1000

    run(main())
    assert len(inline) == 1


def test_server_sees_close_code_from_client(capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> None:
        seen: list[tuple[int | None, str]] = []

        async def record(stream: TransportStream) -> None:
            sock = await ws.accept(stream)
            assert await sock.recv_batch() == [(b"bye", TEXT)]
            assert await sock.recv_batch() == []
            seen.append((sock.close_code, sock.close_reason))
            await sock.send_eof()  # the reply goes out when the session ends its sending

        async with our_server(record) as port:
            async with ws_client(f"ws://127.0.0.1:{port}/") as conn:
                await conn.send("bye")
                await conn.close(4999, "gone")
                assert conn.close_code == 4999  # our side echoed the code
        assert seen == [(4999, "gone")]

    run(main())
    assert "peer closed the WebSocket with code 4999: gone" in capsys.readouterr().err


def test_server_sends_an_empty_close_on_eof() -> None:
    async def main() -> None:
        async def greet(stream: TransportStream) -> None:
            sock = await ws.accept(stream)
            await sock.send_batch([(b"hi", TEXT), (b"\x00", 0)])
            await sock.send_eof()
            assert await sock.recv_batch() == []

        async with our_server(greet) as port:
            async with ws_client(f"ws://127.0.0.1:{port}/") as conn:
                assert await conn.recv() == "hi"
                assert await conn.recv() == b"\x00"
                with pytest.raises(ConnectionClosed) as info:
                    await conn.recv()
                assert info.value.rcvd is not None and info.value.rcvd.code == 1005  # no status, as websocat4

    run(main())


def test_server_no_close_sends_no_close_frame() -> None:
    async def main() -> None:
        async def quiet(stream: TransportStream) -> None:
            sock = await ws.accept(stream, no_close=True)
            await sock.send_batch([(b"only", TEXT)])
            await sock.send_eof()
            await sock.aclose()

        async with our_server(quiet) as port:
            async with ws_client(f"ws://127.0.0.1:{port}/") as conn:
                assert await conn.recv() == "only"
                with pytest.raises(ConnectionClosed) as info:
                    await conn.recv()
                assert info.value.rcvd is None  # the TCP connection just ended

    run(main())


def test_server_protocol_and_request_info() -> None:
    async def main() -> None:
        requests: list[HandshakeRequest | None] = []

        async def chat(stream: TransportStream) -> None:
            sock = await ws.accept(stream, protocol="chat", headers=[("X-Server", "ours")])
            requests.append(sock.request)
            await sock.send_eof()
            await sock.recv_batch()

        async with our_server(chat) as port:
            async with ws_client(
                f"ws://127.0.0.1:{port}/path?q=1", subprotocols=[Subprotocol("other"), Subprotocol("chat")]
            ) as conn:
                assert conn.subprotocol == "chat"
                assert conn.response is not None and conn.response.headers["X-Server"] == "ours"
                with pytest.raises(ConnectionClosed):
                    await conn.recv()
        request = requests[0]
        assert request is not None and request.target == "/path?q=1" and request.protocol == "chat"
        assert request.header("host") == f"127.0.0.1:{port}"

    run(main())


def test_server_rejects_plain_http_with_400() -> None:
    async def main() -> None:
        errors: list[str] = []

        async def strict(stream: TransportStream) -> None:
            try:
                await ws.accept(stream)
            except ProtocolError as exc:
                errors.append(exc.message)

        async with our_server(strict) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = await reader.read()
            writer.close()
        assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert reply.endswith(b"\r\n\r\nwebsocket handshake failed: request needs one Sec-WebSocket-Key\n")
        assert errors == ["websocket handshake failed: request needs one Sec-WebSocket-Key"]

    run(main())


def test_server_requires_offered_protocol() -> None:
    async def main() -> None:
        async def chat(stream: TransportStream) -> None:
            await ws.accept(stream, protocol="chat")

        async with our_server(chat) as port:
            with pytest.raises(Exception, match="400"):
                async with ws_client(f"ws://127.0.0.1:{port}/", subprotocols=[Subprotocol("other")]):
                    pass

    run(main())


# -- raw peers: leftover bytes, missing Host, protocol violations, ws-lowlevel ----------------


def test_frames_sent_with_the_101_reply_are_not_lost() -> None:
    async def main() -> None:
        async def eager(stream: TransportStream) -> None:
            head = await stream.read()
            key = next(
                line.split(b":", 1)[1].strip().decode()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            assert b"\r\nhost:" not in head.lower()  # host=None leaves Host out
            reply = (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
            ).encode()
            await stream.write(reply + b"\x81\x05early\x89\x00\x82\x01\x07")
            await stream.read()  # the pong (and whatever follows)
            await stream.write_eof()

        async with our_server(eager) as port:
            sock = await ws.connect(await open_stream(port), host=None)
            assert await sock.recv_batch() == [(b"early", TEXT), (b"\x07", 0)]
            assert await sock.recv_batch() == []
            assert sock.close_code == 1006
            await sock.aclose()

    run(main())


def test_unmasked_frame_from_client_fails_with_1002() -> None:
    async def main() -> None:
        errors: list[FrameError] = []

        async def strict(stream: TransportStream) -> None:
            sock = ws.framed(stream, client=False)
            try:
                await sock.recv_batch()
            except FrameError as exc:
                errors.append(exc)

        async with our_server(strict) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"\x81\x02hi")
            reply = await reader.read()
            writer.close()
        assert reply == b"\x88\x02\x03\xea"  # Close 1002
        assert errors[0].code == 1002
        assert errors[0].message == "websocket protocol error: unmasked frame from a client"

    run(main())


def test_lowlevel_framing_both_ways() -> None:
    async def main() -> None:
        async def server_side(stream: TransportStream) -> None:
            sock = ws.framed(stream, client=False)
            reader = Messages(sock)
            while (message := await reader.next()) is not None:
                await sock.send_batch([message, (b"", PING)])
            await sock.send_eof()

        async with our_server(server_side) as port:
            sock = ws.framed(await open_stream(port), client=True)
            reader = Messages(sock)
            for data, flags in payloads():
                await sock.send_batch([(data, flags)])
                assert await reader.next() == (data, flags)  # the server's pings are answered
            await sock.send_eof()
            assert await reader.next() is None
            assert sock.close_code == 1005  # our empty Close, echoed
            await sock.aclose()

    run(main())


def test_close_message_in_a_batch_ends_sending() -> None:
    async def main() -> None:
        received: list[str | bytes] = []
        codes: list[int | None] = []

        async def collect(conn: ServerConnection) -> None:
            try:
                async for message in conn:
                    received.append(message)
            except ConnectionClosed:  # raised for any code but 1000 and 1001
                pass
            codes.append(conn.close_code)

        async with serve(collect, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            sock = await ws.connect(await open_stream(port))
            await sock.send_batch([(b"a", TEXT), (b"\x0f\xa0bye", CLOSE), (b"dropped", TEXT)])
            await sock.send_batch([(b"dropped too", TEXT)])
            assert await sock.recv_batch() == []
            assert (sock.close_code, sock.close_reason) == (4000, "bye")  # echoed by the server
            await sock.aclose()
        assert received == ["a"]
        assert codes == [4000]

    run(main())


def test_client_request_and_first_frame_in_one_write() -> None:
    async def main() -> None:
        got: list[list[tuple[bytes, int]]] = []

        async def first(stream: TransportStream) -> None:
            sock = await ws.accept(stream)
            got.append(await sock.recv_batch())

        async with our_server(first) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            key = "dGhlIHNhbXBsZSBub25jZQ=="
            writer.write(
                (
                    "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                ).encode()
                + b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"  # RFC 6455 5.7: masked "Hello"
            )
            reply = await reader.readuntil(b"\r\n\r\n")
            writer.close()
        assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in reply  # RFC 6455 1.3
        assert got == [[(b"Hello", TEXT)]]

    run(main())


# -- over an in-memory stream: cancellation, stalled writers, options ------------------------


class MemoryStream(ByteStream):
    """A stream whose reads come from a queue and whose writes can be held back."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.written = bytearray()
        self.writes = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.eof_written = False

    async def read(self, max_bytes: int = 1 << 18) -> bytes:
        return await self.incoming.get()

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes += 1
        await self.gate.wait()
        self.written += data

    async def write_eof(self) -> None:
        self.eof_written = True


def server_frames(*frames: tuple[bytes, int]) -> bytes:
    return bytes(FrameBuilder(mask=False).build(list(frames)))


def client_view(data: bytes | bytearray) -> list[tuple[bytes, int]]:
    """The frames a server-side socket wrote, parsed back."""
    out: list[tuple[bytes, int]] = []
    assert FrameParser(expect_masked=False).parse(bytes(data), out) == len(data)
    return out


def test_cancelled_recv_loses_no_bytes() -> None:
    async def main() -> None:
        stream = MemoryStream()
        sock = ws.framed(stream, client=True)
        wire = server_frames((b"x" * 300, TEXT), (b"y", 0))
        stream.incoming.put_nowait(wire[:100])
        task = asyncio.ensure_future(sock.recv_batch())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stream.incoming.put_nowait(wire[100:200])
        task = asyncio.ensure_future(sock.recv_batch())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stream.incoming.put_nowait(wire[200:])
        assert await sock.recv_batch() == [(b"x" * 300, TEXT), (b"y", 0)]

    run(main())


def test_ping_answered_behind_a_stalled_send() -> None:
    async def main() -> None:
        stream = MemoryStream()
        sock = ws.framed(stream, client=False)
        stream.gate.clear()  # the peer stopped reading: our next write stalls
        sending = asyncio.ensure_future(sock.send_batch([(b"big", 0)]))
        await asyncio.sleep(0.01)
        stream.incoming.put_nowait(client_frames((b"p1", PING), (b"data", TEXT)))
        assert await asyncio.wait_for(sock.recv_batch(), 5) == [(b"data", TEXT)]  # not blocked
        stream.gate.set()
        await sending
        assert client_view(stream.written) == [(b"big", 0), (b"p1", PONG)]

    run(main())


def client_frames(*frames: tuple[bytes, int]) -> bytes:
    return bytes(FrameBuilder(mask=True).build(list(frames)))


def test_max_pongs_and_shutdown_on_eof() -> None:
    async def main() -> None:
        stream = MemoryStream()
        sock = ws.framed(stream, client=False, max_pongs=1, shutdown_on_eof=True)
        stream.incoming.put_nowait(client_frames((b"1", PING), (b"2", PING), (b"d", 0)))
        # the ping not answered is handed on (websocat4 passes it upstream), after the data
        assert await sock.recv_batch() == [(b"d", 0), (b"2", PING)]
        await sock.send_eof()
        assert stream.eof_written
        assert client_view(stream.written) == [(b"1", PONG), (b"", CLOSE)]
        await sock.send_batch([(b"after close", TEXT)])
        assert stream.writes == 2

    run(main())


def test_ignore_masks_and_no_close() -> None:
    async def main() -> None:
        stream = MemoryStream()
        sock = ws.framed(stream, client=False, ignore_masks=True, no_close=True)
        stream.incoming.put_nowait(server_frames((b"unmasked", TEXT)) + client_frames((b"masked", 0)))
        assert await sock.recv_batch() == [(b"unmasked", TEXT), (b"masked", 0)]
        await sock.send_eof()
        assert stream.writes == 0 and not stream.eof_written
        stream.incoming.put_nowait(b"")
        assert await sock.recv_batch() == []
        assert sock.close_code == 1006

    run(main())


GOOD_REQUEST = [
    "GET / HTTP/1.1",
    "Host: h",
    "Upgrade: websocket",
    "Connection: keep-alive, Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({0: "POST / HTTP/1.1"}, "method POST, expected GET"),
        ({0: "GET /"}, "bad request line 'GET /'"),
        ({2: "Upgrade: h2c"}, "request lacks 'Upgrade: websocket'"),
        ({3: "Connection: close"}, "request lacks 'Connection: Upgrade'"),
        ({4: "Sec-WebSocket-Key: short"}, "bad Sec-WebSocket-Key 'short'"),
        ({5: "Sec-WebSocket-Version: 8"}, "request lacks 'Sec-WebSocket-Version: 13'"),
        ({1: "no colon here"}, "bad header line in HTTP request: 'no colon here'"),
    ],
)
def test_server_handshake_errors(change: dict[int, str], error: str) -> None:
    async def main() -> None:
        lines = [change.get(i, line) for i, line in enumerate(GOOD_REQUEST)]
        stream = MemoryStream()
        stream.incoming.put_nowait(("\r\n".join(lines) + "\r\n\r\n").encode())
        with pytest.raises(ProtocolError) as info:
            await ws.accept(stream)
        assert info.value.message == f"websocket handshake failed: {error}"
        assert stream.written.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert stream.eof_written

    run(main())


def test_server_handshake_lax_and_head_limit() -> None:
    async def main() -> None:
        stream = MemoryStream()
        lines = [GOOD_REQUEST[0], GOOD_REQUEST[4]]  # only a key: enough when lax
        stream.incoming.put_nowait(("\r\n".join(lines) + "\r\n\r\n").encode())
        sock = await ws.accept(stream, lax=True)
        assert sock.request is not None and sock.request.header("Upgrade") is None

        stream = MemoryStream()
        stream.incoming.put_nowait(b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000)
        with pytest.raises(ProtocolError, match="head over 65536 bytes"):
            await ws.accept(stream)

        stream = MemoryStream()
        stream.incoming.put_nowait(b"GET / HTTP/1.1\r\n")
        stream.incoming.put_nowait(b"")
        with pytest.raises(ProtocolError, match="connection closed before the HTTP request"):
            await ws.accept(stream)
        assert not stream.written  # nobody left to answer

    run(main())


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("HTTP/1.1 200 OK", "HTTP/1.1 200 OK"),
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: wrong",
            "wrong Sec-WebSocket-Accept (wrong)",
        ),
        ("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade", "reply lacks 'Upgrade: websocket'"),
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket", "reply lacks 'Connection: Upgrade'"),
    ],
)
def test_client_handshake_errors(reply: str, error: str) -> None:
    async def main() -> None:
        stream = MemoryStream()
        stream.incoming.put_nowait((reply + "\r\n\r\n").encode())
        with pytest.raises(ProtocolError) as info:
            await ws.connect(stream, host="example.com", uri="/x?y", user_agent="websocat-test")
        assert info.value.message == f"websocket handshake failed: {error}"
        request = bytes(stream.written)
        assert request.startswith(b"GET /x?y HTTP/1.1\r\nHost: example.com\r\n")
        assert b"\r\nUser-Agent: websocat-test\r\n" in request

    run(main())


def test_client_lax_accepts_any_101_and_headers_cannot_inject() -> None:
    async def main() -> None:
        stream = MemoryStream()
        stream.incoming.put_nowait(b"HTTP/1.1 101 Whatever\r\n\r\n\x81\x01a")
        sock = await ws.connect(stream, lax=True)
        assert await sock.recv_batch() == [(b"a", TEXT)]
        with pytest.raises(UsageError):
            await ws.connect(MemoryStream(), headers=["X-A: 1\r\nX-Injected: 2"])
        with pytest.raises(UsageError):
            await ws.connect(MemoryStream(), uri="/ HTTP/1.1\r\nX: y")

    run(main())
