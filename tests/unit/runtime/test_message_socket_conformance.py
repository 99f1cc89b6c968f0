"""Every message socket kind runs the conformance checks of runtime/testing.py.

A new kind is one more line in KINDS: a pair factory (an async context manager yielding
two connected sockets) and the traits it declares.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path

import pytest

from websocat.runtime.endpoints import seqpacket, trivial
from websocat.runtime.overlays import chunks, lines, ws
from websocat.runtime.sockets import BINARY, TEXT, ByteStream
from websocat.runtime.testing import (
    MESSAGE_SOCKET_CHECKS,
    MessagePair,
    MessagePairFactory,
    MessageTraits,
    run_check,
    stacked,
    tcp_pair,
)


@asynccontextmanager
async def seqpacket_pair(abstract: bool = False) -> AsyncIterator[MessagePair]:
    """(seqpacket: client, the end seqpacket.accept_one accepted), over a real listening socket."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "s")
        name = f"websocat-conformance-{os.getpid()}-{id(folder)}"
        server = seqpacket.accept_one_abstract(name) if abstract else seqpacket.accept_one(path)
        async with AsyncExitStack() as stack:
            accepting = asyncio.ensure_future(stack.enter_async_context(server))
            await asyncio.sleep(0)
            client = seqpacket.connect_abstract(name) if abstract else seqpacket.connect(path)
            a = await stack.enter_async_context(client)
            yield a, await accepting


@asynccontextmanager
async def mirror_pair() -> AsyncIterator[MessagePair]:
    mirror = trivial.message_mirror()
    yield mirror, mirror
    await mirror.aclose()


def _ws_client(stream: ByteStream) -> ws.WsSocket:
    return ws.framed(stream, client=True)


def _ws_server(stream: ByteStream) -> ws.WsSocket:
    return ws.framed(stream, client=False)


# Pings are answered by the socket, not delivered.  After our Close the peer's messages
# still arrive until its Close (RFC 6455 7.1.2), though WsSocket.half_close tells the copy
# loops not to count on it.
WEBSOCKET = MessageTraits(control=False)

KINDS: dict[str, tuple[MessagePairFactory, MessageTraits]] = {
    "ws-framed": (partial(stacked, tcp_pair, _ws_client, _ws_server), WEBSOCKET),
    "ws-connect-accept": (partial(stacked, tcp_pair, ws.connect, ws.accept), WEBSOCKET),
    "lines": (
        partial(stacked, tcp_pair, lines.framed),
        MessageTraits(reads_as=TEXT, fragments=False, control=False, any_bytes=False),
    ),
    "chunks": (
        partial(stacked, tcp_pair, chunks.framed),
        MessageTraits(boundaries=False, reads_as=BINARY, control=False),
    ),
    # One datagram per message: binary unless --text, pieces joined, no pings on the wire.
    "seqpacket": (seqpacket_pair, MessageTraits(reads_as=BINARY, fragments=False, control=False)),
    "seqpacket-abstract": (
        partial(seqpacket_pair, abstract=True),
        MessageTraits(reads_as=BINARY, fragments=False, control=False),
    ),
    "mirror": (mirror_pair, MessageTraits(half_close=False, loopback=True)),
}


@pytest.mark.parametrize("check", MESSAGE_SOCKET_CHECKS)
@pytest.mark.parametrize("kind", KINDS)
def test_message_socket(kind: str, check: str) -> None:
    make_pair, traits = KINDS[kind]
    asyncio.run(run_check(check, MESSAGE_SOCKET_CHECKS[check](make_pair, traits)))


def test_message_mirror_stays_at_eof() -> None:
    """Found by the eof check: a second recv_batch after EOF waited forever."""

    async def main() -> list[list[tuple[bytes, int]]]:
        mirror = trivial.message_mirror()
        await mirror.send_eof()
        return [await asyncio.wait_for(mirror.recv_batch(), 0.5) for _ in range(2)]

    assert asyncio.run(main()) == [[], []]
