"""The --filter wiring and write-splitoff: over in-memory sockets (runtime/overlays/splitoff.py)."""

from __future__ import annotations

import asyncio

import pytest

from websocat.runtime.endpoints import trivial
from websocat.runtime.errors import UsageError
from websocat.runtime.overlays import splitoff
from websocat.runtime.sockets import DEFAULT_READ, ByteStream


class Upper(ByteStream):
    """A filter: what is written comes back upper-cased (a mirror that changes the data)."""

    def __init__(self) -> None:
        self.mirror = trivial.mirror(bufsize=1 << 16)

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        return (await self.mirror.read(max_bytes)).upper()

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        await self.mirror.write(data)

    async def write_eof(self) -> None:
        await self.mirror.write_eof()


class Broken(ByteStream):
    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        raise OSError("the filter broke")

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        pass


async def _read_all(stream: ByteStream) -> bytes:
    got = b""
    while data := await stream.read():
        got += data
    return got


def test_forward_and_reverse_filters_in_order() -> None:
    """left -> Upper -> right (a mirror) -> reverse filter (a mirror) -> left: what the left
    side writes comes back through both, and EOF travels the whole way."""

    async def main() -> bytes:
        right = trivial.mirror(bufsize=1 << 16)
        async with splitoff.through_filters(right, forward=[Upper()], reverse=[trivial.mirror()]) as wired:
            await wired.write(b"hello ")
            await wired.write(b"filters")
            await wired.write_eof()
            return await _read_all(wired)

    assert asyncio.run(asyncio.wait_for(main(), 5)) == b"HELLO FILTERS"


def test_a_failing_filter_fails_the_block_with_its_own_error() -> None:
    async def main() -> None:
        async with splitoff.through_filters(trivial.mirror(), forward=[Broken()]):
            await asyncio.sleep(5)  # the session: cancelled by the filter's failure

    with pytest.raises(OSError, match="the filter broke"):
        asyncio.run(asyncio.wait_for(main(), 3))


def test_write_splitoff_shuts_the_read_side_on_entry() -> None:
    async def main() -> tuple[bytes, bytes]:
        reads, writes = trivial.mirror(), trivial.mirror()
        await reads.write(b"to be read")
        async with splitoff.write_splitoff(reads, writes) as split:
            await split.write(b"written")
            await split.write_eof()
            return await _read_all(split), await _read_all(writes)

    assert asyncio.run(asyncio.wait_for(main(), 5)) == (b"to be read", b"written")


def test_write_splitoff_needs_one_kind() -> None:
    with pytest.raises(UsageError, match="both carry bytes or both messages"):
        splitoff.write_splitoff(trivial.mirror(), trivial.message_mirror())  # type: ignore[call-overload]
