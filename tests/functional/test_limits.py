"""read_chunk_limiter:, write_chunk_limiter:, write_buffer: from the command line, used as
the manual means them: lines: and the WebSocket framer meeting data one byte at a time."""

from __future__ import annotations

import asyncio

from conftest import Websocat
from websockets.asyncio.client import connect


def test_lines_over_one_byte_reads_and_writes(websocat: Websocat) -> None:
    spec = "lines:read_chunk_limiter:write_chunk_limiter:write_buffer:mirror:"
    done = websocat.run("-t", "-", spec, input=b"hello\nsecond line\n\nlast\n")
    assert (done.returncode, done.stdout) == (0, b"hello\nsecond line\n\nlast\n"), done.stderr


def test_websocket_framer_over_one_byte_chunks(websocat: Websocat) -> None:
    """The upgrade request arrives a byte per read, and every reply frame leaves a byte per write."""
    proc, port = websocat.listen("ws-upgrade:read_chunk_limiter:write_chunk_limiter:tcp-l:127.0.0.1:0", "mirror:")

    async def client() -> list[str | bytes]:
        got: list[str | bytes] = []
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            for message in ("text", b"\x00binary\xff", "x" * 300, b""):
                await ws.send(message)
                got.append(await asyncio.wait_for(ws.recv(), 20))
        return got

    assert asyncio.run(client()) == ["text", b"\x00binary\xff", "x" * 300, b""]
    proc.terminate()
    websocat.finish(proc)


def test_a_zero_limit_is_one_line(websocat: Websocat) -> None:
    done = websocat.run("--read-buffer-limit", "0", "-b", "read_chunk_limiter:mirror:", "-")
    assert done.returncode == 2
    assert done.stderr == b"websocat: --read-buffer-limit: 0 is not a positive number of bytes\n"


def test_defragment_makes_a_fragmented_message_whole(websocat: Websocat) -> None:
    """A websockets client sends one message in fragments; a whole one comes back, and one
    over --defragment-max-size ends that session with one line."""
    proc, port = websocat.listen("--defragment-max-size", "8", "-b", "ws-l:127.0.0.1:0", "defragment:mirror:")

    async def client() -> tuple[bytes, int | None]:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send([b"ab", b"cd", b"ef"])  # three frames, one message
            whole = await asyncio.wait_for(ws.recv(), 20)
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send([b"12345", b"67890"])
            try:
                await asyncio.wait_for(ws.recv(), 20)
            except Exception:  # noqa: BLE001 - the server closes the connection
                pass
        return whole, ws.close_code  # type: ignore[return-value]

    whole, code = asyncio.run(client())
    assert whole == b"abcdef"
    assert code == 1011
    proc.terminate()
    _out, err = websocat.finish(proc)
    assert b"over --defragment-max-size (8 bytes)" in err and b"Traceback" not in err
