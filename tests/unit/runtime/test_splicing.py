"""Byte relays between two plain sockets use splice(2): exact data, EOF both ways, bytes
received before the switch, a destination that resets.  (The relayed pairs also pass
every byte-stream conformance check: test_byte_stream_conformance.py.)"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import struct
from typing import Any

import pytest

from websocat.runtime import copying, splicing
from websocat.runtime.testing import MemoryStream, tcp_pair


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.fixture
def spliced(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each splice_copy() call's result, in order (the directions that spliced)."""
    calls: list[bool] = []
    real = splicing.splice_copy

    async def counting(*args: Any) -> bool:
        result = await real(*args)
        calls.append(result)
        return result

    monkeypatch.setattr(splicing, "splice_copy", counting)
    return calls


async def _read_all(stream: Any) -> bytes:
    parts = []
    while chunk := await stream.read(1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def test_50_mb_each_way_with_half_close(spliced: list[bool]) -> None:
    forward, backward = os.urandom(50 << 20), os.urandom(1 << 20)

    async def main() -> tuple[bytes, bytes]:
        async with tcp_pair() as (a, b), tcp_pair() as (c, d):
            relay = asyncio.ensure_future(copying.exchange_bytes(b, c))

            async def send(stream: Any, data: bytes) -> None:
                await stream.write(data)
                await stream.write_eof()

            _s1, _s2, got_d, got_a = await asyncio.gather(
                send(a, forward), send(d, backward), _read_all(d), _read_all(a)
            )
            await relay
            return got_d, got_a

    got_d, got_a = run(main())
    assert hashlib.sha256(got_d).digest() == hashlib.sha256(forward).digest()
    assert got_a == backward
    assert spliced == [True, True]


def test_bytes_received_before_the_switch_come_first(spliced: list[bool]) -> None:
    async def main() -> bytes:
        async with tcp_pair() as (a, b), tcp_pair() as (c, d):
            await a.write(b"early ")
            while not b.protocol._chunks:  # received by b's protocol, not read by anyone yet
                await asyncio.sleep(0.01)
            relay = asyncio.ensure_future(copying.exchange_bytes(b, c, unidirectional=True))
            await a.write(b"late")
            await a.write_eof()
            got = await _read_all(d)
            await relay
            return got

    assert run(main()) == b"early late"
    assert spliced == [True]


def test_a_destination_that_resets_ends_the_session(spliced: list[bool]) -> None:
    async def main() -> None:
        async with tcp_pair() as (a, b), tcp_pair() as (c, d):
            relay = asyncio.ensure_future(copying.exchange_bytes(b, c))
            await a.write(b"x" * 100_000)
            raw = d.protocol.transport.get_extra_info("socket")
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            d.protocol.transport.abort()  # RST
            for _ in range(50):
                if relay.done():
                    break
                await a.write(b"y" * 100_000)
                await asyncio.sleep(0.02)
            await asyncio.wait_for(relay, 10)  # ends, and without an error

    run(main())
    assert False in spliced  # the forward direction saw its destination go


def test_only_plain_sockets_are_spliced() -> None:
    async def main() -> list[bool]:
        async with tcp_pair() as (a, b):
            plain = splicing.raw_ends(a, b) is not None
            b.protocol.feed = lambda data: None  # a consumer inside the event loop's callback
            fed = splicing.raw_ends(a, b) is not None
            b.protocol.feed = None
            memory = splicing.raw_ends(a, MemoryStream()) is not None
            return [plain, fed, memory]

    assert run(main()) == [True, False, False]
