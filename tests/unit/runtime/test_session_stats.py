"""runtime/stats.py: the --stats line and its JSON form; runtime/timeouts.py: the
--connect-timeout-ms message; the counting wrapper leaves splice(2) alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from websocat.runtime import stats
from websocat.runtime.errors import TimeoutExpired
from websocat.runtime.sockets import BINARY, CONTINUES, TEXT
from websocat.runtime.timeouts import within


@pytest.fixture
def mode() -> Iterator[None]:
    yield
    stats.MODE = None


class _Batches:
    def __init__(self, batches: list[list[tuple[bytes, int]]]) -> None:
        self.batches = batches
        self.protocol = object()

    async def recv_batch(self) -> list[tuple[bytes, int]]:
        return self.batches.pop(0) if self.batches else []

    async def read(self, max_bytes: int) -> bytes:
        return b"abc"


def test_a_fragmented_message_counts_once_and_every_byte_counts() -> None:
    counts = [0, 0, 0, 0]
    clock = [0.0]
    watched = stats.Watched(
        _Batches([[(b"ab", TEXT | CONTINUES), (b"c", TEXT), (b"\x00" * 4, BINARY | CONTINUES)], [(b"d", BINARY)]]),
        counts,
        2,
        clock,
    )

    async def main() -> None:
        await watched.recv_batch()
        await watched.recv_batch()
        assert await watched.recv_batch() == []

    asyncio.run(main())
    assert counts == [0, 0, 2, 8]
    assert clock[0] > 0


def test_the_wrapper_hides_the_transport_from_splice() -> None:
    watched = stats.Watched(_Batches([]), None, 0, None)
    assert getattr(watched, "protocol", None) is None


def test_text_line(mode: None) -> None:
    stats.MODE = "text"
    st = stats.Stats("127.0.0.1:5000")
    st.counts[:] = [3, 15, 1, 2]
    st.stages.update(connect=0.42, upgrade=1.5)
    line = st.line("boom")
    assert line.startswith("stats: 127.0.0.1:5000: left->right 3 msgs 15 B, right->left 1 msgs 2 B, ")
    assert line.endswith(", connect 0.4 ms, upgrade 1.5 ms, error: boom")


def test_json_line(mode: None) -> None:
    stats.MODE = "json"
    st = stats.Stats()
    st.counts[:] = [1, 2, 3, 4]
    st.stages["tls"] = 2.0
    fields = json.loads(st.line())
    assert fields["left_to_right_messages"] == 1 and fields["right_to_left_bytes"] == 4
    assert fields["tls_ms"] == 2.0 and "peer" not in fields and "error" not in fields


def test_no_stats_without_the_option() -> None:
    assert stats.MODE is None
    assert stats.session() is None


def test_within_names_the_stage() -> None:
    async def main() -> None:
        await within(asyncio.sleep(5), 50, "127.0.0.1:443: TLS handshake")

    with pytest.raises(TimeoutExpired) as caught:
        asyncio.run(main())
    assert caught.value.message == "127.0.0.1:443: TLS handshake timed out after 50 ms (--connect-timeout-ms)"


def test_within_passes_its_own_timeouts_on() -> None:
    async def inner() -> None:
        raise TimeoutError

    async def main() -> None:
        await within(inner(), 5000, "stage")

    with pytest.raises(TimeoutError):
        asyncio.run(main())
