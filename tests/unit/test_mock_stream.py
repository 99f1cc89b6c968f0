"""The scripted mock_stream_socket byte stream (websocat.runtime.endpoints.mock)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

import pytest

from websocat.planner.mockscript import parse_mock_script
from websocat.runtime.endpoints.mock import (
    MOCK_SLEEP_SECONDS,
    MockInjectedError,
    MockStream,
)
from websocat.runtime.errors import EXIT_PROTOCOL, ProtocolError
from websocat.runtime.sockets import ByteStream

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one test coroutine with a safety timeout, so a deadlock fails instead of hanging."""

    async def guarded() -> T:
        return await asyncio.wait_for(coro, 5)

    return asyncio.run(guarded())


def mock(script: str) -> MockStream:
    return MockStream(parse_mock_script(script))


async def read_all(stream: ByteStream, max_bytes: int = 1 << 16) -> list[bytes]:
    chunks = []
    while chunk := await stream.read(max_bytes):
        chunks.append(chunk)
    return chunks


async def still_waiting(
    awaitable: Awaitable[T], seconds: float = 0.02
) -> asyncio.Task[T]:
    """Start the awaitable as a task and check it has not finished after a short while."""
    task: asyncio.Task[T] = asyncio.ensure_future(awaitable)
    await asyncio.sleep(seconds)
    assert not task.done(), "expected the operation to wait"
    return task


# -- reads


def test_reads_return_one_chunk_each_then_eof() -> None:
    async def main() -> None:
        s = mock("R hello|R world")
        assert await s.read() == b"hello"
        assert await s.read() == b"world"
        assert await s.read() == b""
        assert await s.read() == b""  # EOF stays EOF
        assert s.done

    run(main())


def test_small_max_bytes_splits_a_chunk() -> None:
    async def main() -> None:
        s = mock("R abcdefg|R h")
        assert await s.read(3) == b"abc"
        assert await s.read(3) == b"def"
        assert await s.read(3) == b"g"  # never joins two R chunks
        assert await s.read(3) == b"h"
        assert await s.read(3) == b""

    run(main())


def test_read_rejects_non_positive_max_bytes() -> None:
    async def main() -> None:
        with pytest.raises(ValueError):
            await mock("R a").read(0)

    run(main())


def test_empty_scenario_is_immediate_eof() -> None:
    async def main() -> None:
        assert await MockStream([]).read() == b""

    run(main())


def test_empty_chunks_are_skipped_instead_of_reading_as_eof() -> None:
    async def main() -> None:
        s = MockStream([("R", b""), ("R", b"x"), ("W", b""), ("R", b"y")])
        assert await read_all(s) == [b"x", b"y"]

    run(main())


def test_escaped_bytes_arrive_verbatim() -> None:
    async def main() -> None:
        s = mock(r"R zero \0 pipe \| ff \xff crlf \r\n tab \t")
        assert await s.read() == b"zero \x00 pipe | ff \xff crlf \r\n tab \t"

    run(main())


# -- writes


def test_writes_matched_across_chunk_boundaries() -> None:
    async def main() -> None:
        s = mock("W hello|W  world|W !")
        await s.write(b"he")
        await s.write(b"llowo")  # finishes one W and starts the next
        await s.write(bytearray(b"rld!"))  # spans two W operations
        assert s.done
        await s.write(b"")  # an empty write matches nothing and is fine
        await s.write_eof()
        await s.aclose()

    run(main())


def test_write_accepts_memoryview() -> None:
    async def main() -> None:
        s = mock("W abc")
        await s.write(memoryview(b"xabcx")[1:4])
        assert s.done

    run(main())


def test_mismatch_raises_protocol_error_with_expected_and_got() -> None:
    async def main() -> None:
        s = mock("W ping |R pong")
        with pytest.raises(ProtocolError) as info:
            await s.write(b"pong\n")
        assert (
            str(info.value)
            == "mock_stream_socket: expected b'ping ' but got b'pong\\n'"
        )
        assert info.value.exit_code == EXIT_PROTOCOL
        # The mock stays failed: later calls repeat the error instead of going on.
        with pytest.raises(ProtocolError, match="expected b'ping '"):
            await s.read()
        with pytest.raises(ProtocolError, match="expected b'ping '"):
            await s.write(b"ping ")
        await s.aclose()  # quiet: the failure was already reported

    run(main())


def test_mismatch_in_the_middle_of_a_chunk_shows_the_remaining_part() -> None:
    async def main() -> None:
        s = mock("W hello world")
        await s.write(b"hello ")
        with pytest.raises(ProtocolError, match=r"expected b'world' but got b'wurld'"):
            await s.write(b"wurld")

    run(main())


def test_named_mock_in_messages() -> None:
    async def main() -> None:
        s = mock("N server|W a")
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket server: expected b'a' but got b'b'$",
        ):
            await s.write(b"b")
        assert (
            MockStream([("W", b"a")], name="client").label
            == "mock_stream_socket client"
        )

    run(main())


def test_unexpected_write_after_the_scenario() -> None:
    async def main() -> None:
        s = mock("W a")
        with pytest.raises(
            ProtocolError, match=r"^mock_stream_socket: unexpected write of b'ab'$"
        ):
            await s.write(b"aab")  # the first byte matches, the rest has nowhere to go

    run(main())


def test_write_fails_at_once_when_only_reads_remain() -> None:
    async def main() -> None:
        s = mock("R a|R b")
        with pytest.raises(ProtocolError, match="unexpected write of b'x'"):
            await s.write(b"x")

    run(main())


def test_long_data_is_shortened_in_messages() -> None:
    async def main() -> None:
        s = MockStream([("W", b"a" * 1000)])
        with pytest.raises(ProtocolError) as info:
            await s.write(b"b" * 1000)
        assert "(1000 bytes)" in str(info.value)
        assert len(str(info.value)) < 300

    run(main())


# -- injected errors


def test_injected_read_error() -> None:
    async def main() -> None:
        s = mock("R a|ER|R b")
        assert await s.read() == b"a"
        with pytest.raises(MockInjectedError) as info:
            await s.read()
        assert isinstance(info.value, OSError)
        assert str(info.value) == "mock_stream_socket: injected read error"
        assert await s.read() == b"b"  # the scenario goes on after the error
        await s.aclose()

    run(main())


def test_injected_write_error_after_a_partial_match() -> None:
    async def main() -> None:
        s = mock("N w|W ab|EW|W c")
        with pytest.raises(
            OSError, match=r"^mock_stream_socket w: injected write error$"
        ):
            await s.write(b"abc")
        await s.write(b"c")
        assert s.done

    run(main())


def test_aclose_is_quiet_after_an_injected_error() -> None:
    async def main() -> None:
        s = mock("EW|W never")
        with pytest.raises(MockInjectedError):
            await s.write(b"x")
        await s.aclose()

    run(main())


# -- ordering between a reader task and a writer task


def test_reader_and_writer_tasks_follow_the_scenario_order() -> None:
    async def main() -> None:
        s = mock("R req1|W resp1|R req2|W resp2")
        log: list[str] = []

        async def writer() -> None:
            # Both writes are issued at once; each must wait for the read before it.
            for data in (b"resp1", b"resp2"):
                await s.write(data)
                log.append(f"wrote {data.decode()}")

        async def reader() -> None:
            while chunk := await s.read():
                log.append(f"read {chunk.decode()}")
            log.append("eof")

        await asyncio.gather(writer(), reader())
        assert log == ["read req1", "wrote resp1", "read req2", "wrote resp2", "eof"]

    run(main())


def test_read_waits_while_a_write_is_expected() -> None:
    async def main() -> None:
        s = mock("W ping|R pong")
        pending = await still_waiting(s.read())
        await s.write(b"ping")
        assert await pending == b"pong"

    run(main())


def test_write_waits_while_a_read_is_pending_and_spans_it() -> None:
    async def main() -> None:
        s = mock("W a|R x|W b")
        pending = await still_waiting(
            s.write(b"ab")
        )  # "a" matched, "b" waits behind R x
        assert s.remaining() == [("R", b"x"), ("W", b"b")]
        assert await s.read() == b"x"
        await pending
        assert s.done

    run(main())


def test_a_mismatch_wakes_a_waiting_reader() -> None:
    async def main() -> None:
        s = mock("W ping|R pong")
        pending = await still_waiting(s.read())
        with pytest.raises(ProtocolError):
            await s.write(b"pang")
        with pytest.raises(ProtocolError, match="expected b'ping' but got b'pang'"):
            await pending

    run(main())


def test_waiting_does_not_busy_loop() -> None:
    calls = 0

    class Counting(MockStream):
        def _head(self) -> Any:
            nonlocal calls
            calls += 1
            return super()._head()

    async def main() -> None:
        s = Counting([("W", b"x"), ("R", b"y")])
        pending = await still_waiting(s.read(), 0.1)
        assert calls <= 2
        await s.write(b"x")
        assert await pending == b"y"

    run(main())


# -- pauses


def test_sleep_table() -> None:
    assert len(MOCK_SLEEP_SECONDS) == 10
    assert MOCK_SLEEP_SECONDS[0] == 0.001
    assert MOCK_SLEEP_SECONDS[6] == 1.0
    assert all(a < b for a, b in zip(MOCK_SLEEP_SECONDS, MOCK_SLEEP_SECONDS[1:]))


def test_pause_delays_the_next_read() -> None:
    async def main() -> None:
        s = mock("R a|T4|R b")
        loop = asyncio.get_running_loop()
        assert await s.read() == b"a"
        start = loop.time()
        assert await s.read() == b"b"
        assert loop.time() - start >= MOCK_SLEEP_SECONDS[4] * 0.9

    run(main())


def test_pause_delays_writes_too_and_counts_from_the_previous_step() -> None:
    async def main() -> None:
        s = mock("T4|W x|T3|T3|R y")
        loop = asyncio.get_running_loop()
        start = loop.time()
        await s.write(b"x")  # the first pause starts on first use
        assert loop.time() - start >= MOCK_SLEEP_SECONDS[4] * 0.9
        # The next pauses run while nobody is reading.
        await asyncio.sleep(MOCK_SLEEP_SECONDS[3] * 3)
        before = loop.time()
        assert await s.read() == b"y"
        assert loop.time() - before < MOCK_SLEEP_SECONDS[3]

    run(main())


# -- end of writing, closing


def test_write_eof_with_pending_writes_fails_loudly() -> None:
    async def main() -> None:
        s = mock("W hello|R x|W bye")
        await s.write(b"hel")
        with pytest.raises(
            ProtocolError, match=r"^mock_stream_socket: expected b'lo' but got EOF$"
        ):
            await s.write_eof()

    run(main())


def test_write_eof_when_all_writes_arrived_and_write_after_it() -> None:
    async def main() -> None:
        s = mock("W a|R b")
        await s.write(b"a")
        await s.write_eof()
        await s.write_eof()  # idempotent
        assert await s.read() == b"b"
        with pytest.raises(ProtocolError, match="write of b'z' after write_eof"):
            await s.write(b"z")

    run(main())


def test_write_eof_drops_injected_write_errors_so_reads_go_on() -> None:
    async def main() -> None:
        s = mock("R a|EW|R b")
        await s.write_eof()
        assert await read_all(s) == [b"a", b"b"]

    run(main())


def test_aclose_with_pending_writes_fails_once() -> None:
    async def main() -> None:
        s = mock("R a|W never")
        assert await s.read() == b"a"
        with pytest.raises(
            ProtocolError, match=r"expected b'never' but the socket was closed"
        ):
            await s.aclose()
        await s.aclose()  # idempotent and quiet the second time

    run(main())


def test_aclose_ignores_unread_data() -> None:
    async def main() -> None:
        s = mock("R a|R b")
        await s.aclose()
        assert await s.read() == b""

    run(main())


def test_async_with_does_not_mask_the_real_error() -> None:
    async def main() -> None:
        with pytest.raises(KeyError):
            async with mock("W never"):
                raise KeyError("the real failure")
        with pytest.raises(ProtocolError, match="but the socket was closed"):
            async with mock("W never"):
                pass

    run(main())


def test_aclose_wakes_waiting_reader_and_writer() -> None:
    async def main() -> None:
        reading = mock("W x|R y")
        pending_read = await still_waiting(reading.read())
        with pytest.raises(ProtocolError):
            await reading.aclose()  # W x never came
        assert await pending_read == b""

        writing = mock("R y|W x|T9")
        pending_write = await still_waiting(writing.write(b"x"))
        with pytest.raises(ProtocolError):
            await writing.aclose()
        with pytest.raises(BrokenPipeError):
            await pending_write

    run(main())


def test_aclose_cancels_a_running_pause() -> None:
    async def main() -> None:
        s = mock("T9|R never")
        pending = await still_waiting(s.read())
        await s.aclose()
        assert await pending == b""

    run(main())


# -- construction


def test_plain_tuples_as_in_generated_scripts() -> None:
    async def main() -> None:
        s = MockStream(
            [("R", b"hello"), ("W", b"ping "), ("T", 0), ("ER", b""), ("N", "x")]
        )
        assert s.label == "mock_stream_socket x"
        assert await s.read() == b"hello"
        await s.write(b"ping ")
        with pytest.raises(
            MockInjectedError, match="^mock_stream_socket x: injected read error$"
        ):
            await s.read()
        assert await s.read() == b""

    run(main())


def test_text_payloads_are_utf8() -> None:
    async def main() -> None:
        s = MockStream([("R", "é")])
        assert await s.read() == "é".encode()

    run(main())


@pytest.mark.parametrize(
    ("ops", "error"),
    [
        ([("Q", b"")], ValueError),
        ([("T", 10)], ValueError),
        ([("T", "5")], ValueError),
        ([("R", 5)], TypeError),
    ],
)
def test_bad_operations_are_rejected(
    ops: list[tuple[str, Any]], error: type[Exception]
) -> None:
    with pytest.raises(error):
        MockStream(ops)


def test_two_mocks_wired_back_to_back() -> None:
    """The websocat4 self-test shape: one mock's reads feed the other's writes."""

    async def pump(src: ByteStream, dst: ByteStream) -> None:
        while chunk := await src.read():
            await dst.write(chunk)
        await dst.write_eof()

    async def main() -> None:
        left = mock("w QQ|w Q|r A")
        right = mock("r Q|r QQ|w A")
        await asyncio.gather(pump(left, right), pump(right, left))
        assert left.done and right.done

    run(main())
