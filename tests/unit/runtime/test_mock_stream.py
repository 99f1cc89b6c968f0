"""The scripted mock_stream_socket byte stream (websocat.runtime.endpoints.mock)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

import pytest

from websocat.planner.mockscript import parse_mock_script
from websocat.runtime.endpoints.mock import MockInjectedError, MockStream
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


async def still_waiting(awaitable: Awaitable[T], seconds: float = 0.02) -> asyncio.Task[T]:
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
        assert str(info.value) == "mock_stream_socket: action 1 (W): expected b'ping ' but got b'pong\\n'"
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
            match=r"^mock_stream_socket server: action 2 \(W\): expected b'a' but got b'b'$",
        ):
            await s.write(b"b")
        assert MockStream([("W", b"a")], name="client").label == "mock_stream_socket client"

    run(main())


def test_unexpected_write_after_the_scenario() -> None:
    async def main() -> None:
        s = mock("W a")
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket: unexpected write of b'ab' after the last action \(1\)$",
        ):
            await s.write(b"aab")  # the first byte matches, the rest has nowhere to go

    run(main())


def test_write_fails_at_once_when_only_reads_remain() -> None:
    async def main() -> None:
        s = mock("R a|R b")
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket: action 1 \(R\): expected a read of b'a' but got a write of b'x' \(no write follows\)$",
        ):
            await s.write(b"x")

    run(main())


def test_long_data_is_shortened_in_messages() -> None:
    async def main() -> None:
        s = MockStream([("W", b"a" * 1000)])
        with pytest.raises(ProtocolError) as info:
            await s.write(b"b" * 1000)
        assert str(info.value) == (
            f"mock_stream_socket: action 1 (W): expected {b'a' * 64!r}... (1000 bytes)"
            f" but got {b'b' * 64!r}... (1000 bytes)"
        )

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
        with pytest.raises(OSError, match=r"^mock_stream_socket w: injected write error$"):
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
        pending = await still_waiting(s.write(b"ab"))  # "a" matched, "b" waits behind R x
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


def test_pause_is_in_milliseconds() -> None:
    """T<n> sleeps n ms, as the crate websocat4 uses (its own tests use T333, T900)."""
    assert mock("T333").remaining() == [("T", 333)]
    assert mock("Tx10").remaining() == [("T", 16)]


def test_pause_delays_the_next_read() -> None:
    async def main() -> None:
        s = mock("R a|T40|R b")
        loop = asyncio.get_running_loop()
        assert await s.read() == b"a"
        start = loop.time()
        assert await s.read() == b"b"
        assert loop.time() - start >= 0.036

    run(main())


def test_pause_delays_writes_too_and_counts_from_the_previous_step() -> None:
    async def main() -> None:
        s = mock("T40|W x|T30|T30|R y")
        loop = asyncio.get_running_loop()
        start = loop.time()
        await s.write(b"x")  # the first pause starts on first use
        assert loop.time() - start >= 0.036
        # The next pauses run while nobody is reading.
        await asyncio.sleep(0.1)
        before = loop.time()
        assert await s.read() == b"y"
        assert loop.time() - before < 0.03

    run(main())


# -- end of writing, closing


def test_write_eof_with_pending_writes_fails_loudly() -> None:
    async def main() -> None:
        s = mock("W hello|R x|W bye")
        await s.write(b"hel")
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket: action 1 \(W\): expected b'lo' but got EOF$",
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


def test_write_eof_before_an_injected_write_error_fails() -> None:
    """An EW not played is a write the scenario expected, as in the crate."""

    async def main() -> None:
        s = mock("R a|EW|R b")
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket: action 2 \(EW\): expected a write \(to fail it\) but got EOF$",
        ):
            await s.write_eof()

    run(main())


def test_aclose_with_pending_writes_fails_once() -> None:
    async def main() -> None:
        s = mock("R a|W never")
        assert await s.read() == b"a"
        with pytest.raises(ProtocolError, match=r"expected b'never' but the socket was closed"):
            await s.aclose()
        await s.aclose()  # idempotent and quiet the second time

    run(main())


def test_aclose_reports_unread_data() -> None:
    """All actions must be consumed, reads too (the crate checks it when the mock is dropped)."""

    async def main() -> None:
        s = mock("R a|R b")
        assert await s.read() == b"a"
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket: action 2 \(R\): expected a read of b'b' but the socket was closed$",
        ):
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

        writing = mock("R y|W x")
        pending_write = await still_waiting(writing.write(b"x"))
        with pytest.raises(ProtocolError):
            await writing.aclose()
        with pytest.raises(BrokenPipeError):
            await pending_write

    run(main())


def test_aclose_cancels_a_running_pause() -> None:
    async def main() -> None:
        s = mock("T60000|R never")
        pending = await still_waiting(s.read())
        with pytest.raises(ProtocolError, match=r"action 2 \(R\)"):
            await s.aclose()
        assert await pending == b""

    run(main())


# -- construction


def test_plain_tuples_as_in_generated_scripts() -> None:
    async def main() -> None:
        s = MockStream([("R", b"hello"), ("W", b"ping "), ("T", 0), ("ER", b""), ("N", "x")])
        assert s.label == "mock_stream_socket x"
        assert await s.read() == b"hello"
        await s.write(b"ping ")
        with pytest.raises(MockInjectedError, match="^mock_stream_socket x: injected read error$"):
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
        ([("Y", b"")], ValueError),
        ([("T", -1)], ValueError),
        ([("ZR", True)], ValueError),
        ([("I", 2**64)], ValueError),
        ([("T", "5")], ValueError),
        ([("R", 5)], TypeError),
    ],
)
def test_bad_operations_are_rejected(ops: list[tuple[str, Any]], error: type[Exception]) -> None:
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


# -- the rest of the crate's grammar: ZR, ZW, I, X, D, Q


def test_zero_read_span_is_split_by_max_bytes() -> None:
    async def main() -> None:
        s = mock("R a|ZR70000|R b")
        assert await s.read() == b"a"
        assert await s.read() == bytes(65536)
        assert await s.read(1000) == bytes(1000)
        assert await s.read() == bytes(70000 - 65536 - 1000)  # never joined with R b
        assert await s.read() == b"b"
        assert await s.read() == b""
        await s.aclose()

    run(main())


def test_huge_zero_spans_cost_nothing_up_front() -> None:
    async def main() -> None:
        s = MockStream([("ZR", 2**50), ("ZW", 2**50)])
        assert await s.read(7) == bytes(7)
        assert s.remaining() == [("ZR", 2**50 - 7), ("ZW", 2**50)]

    run(main())


def test_zero_write_span_across_writes() -> None:
    async def main() -> None:
        s = mock("ZW70000|W !")
        await s.write(bytes(30000))
        await s.write(bytes(40000) + b"!")  # ends the span and matches the next W
        assert s.done
        await s.aclose()

    run(main())


def test_zero_write_mismatch_names_the_first_non_zero_byte() -> None:
    async def main() -> None:
        s = mock("R go|ZW70000")
        assert await s.read() == b"go"
        await s.write(bytes(30000))
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket: action 2 \(ZW\): expected 40000 more of 70000 zero bytes "
            r"but got b'\\x07\\x00\\x00\\x00' at offset 50000 of the span$",
        ):
            await s.write(bytes(20000) + b"\x07" + bytes(3))

    run(main())


def test_ignored_bytes_are_not_checked() -> None:
    async def main() -> None:
        s = mock("W \\x88\\x80|I4|W end")
        await s.write(b"\x88\x80\xde\xad")
        await s.write(b"\xbe\xefend")
        assert s.done
        await s.aclose()

    run(main())


def test_ignored_bytes_still_count_at_the_end() -> None:
    async def main() -> None:
        s = mock("I4")
        await s.write(b"abc")
        with pytest.raises(
            ProtocolError,
            match=r"action 1 \(I\): expected 1 more bytes \(any\) but the socket was closed",
        ):
            await s.aclose()

    run(main())


def test_x_makes_one_read_return_eof() -> None:
    async def main() -> None:
        s = mock("R a|X|R b|X")
        assert await read_all(s) == [b"a"]
        assert await read_all(s) == [b"b"]  # the scenario goes on after an X
        assert s.done
        await s.aclose()

    run(main())


def test_an_x_that_no_read_saw_is_an_error_at_close() -> None:
    async def main() -> None:
        s = mock("R a|X")
        assert await s.read() == b"a"
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket: action 2 \(X\): expected a read \(to return EOF\) but the socket was closed$",
        ):
            await s.aclose()

    run(main())


def test_d_is_met_by_write_eof() -> None:
    async def main() -> None:
        s = mock("W bye|D")
        await s.write(b"bye")
        await s.write_eof()
        assert s.done
        await s.aclose()

    run(main())


def test_d_without_write_eof_is_an_error_at_close() -> None:
    async def main() -> None:
        s = mock("N srv|W bye|D")
        await s.write(b"bye")
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket srv: action 3 \(D\): expected a shutdown \(write_eof\) but the socket was closed$",
        ):
            await s.aclose()

    run(main())


def test_a_write_where_d_stands_fails_at_once() -> None:
    async def main() -> None:
        s = mock("R a|D")
        # A read comes first, but no write can ever match: fail now, naming the D.
        with pytest.raises(
            ProtocolError,
            match=r"^mock_stream_socket: action 2 \(D\): expected a shutdown \(write_eof\) but got b'x'$",
        ):
            await s.write(b"x")

    run(main())


def test_write_eof_meets_a_d_behind_reads_at_once() -> None:
    """-u shuts the unused direction before reading starts: that must not deadlock."""

    async def main() -> None:
        s = mock("R a|D|R b")
        await s.write_eof()
        assert s.remaining() == [("R", b"a"), ("R", b"b")]
        assert await read_all(s) == [b"a", b"b"]
        assert s.done
        await s.aclose()

    run(main())


def test_a_d_behind_a_write_still_expects_the_write() -> None:
    async def main() -> None:
        s = mock("R a|W b|D")
        with pytest.raises(ProtocolError, match=r"^mock_stream_socket: action 2 \(W\): expected b'b' but got EOF$"):
            await s.write_eof()

    run(main())


def test_write_eof_without_d_in_the_scenario_is_fine() -> None:
    async def main() -> None:
        s = mock("R a")
        await s.write_eof()
        assert await s.read() == b"a"
        await s.aclose()

    run(main())


def test_q_stops_checking_writes_and_the_end() -> None:
    async def main() -> None:
        s = mock("W a|Q|W bb|R c|W d|R e")
        await s.write(b"a")
        await s.write(b"xy")  # compared with nothing after Q
        assert await s.read() == b"c"
        await s.write(b"zzz")  # one byte for W d, the rest dropped
        await s.aclose()  # R e unread: not checked after Q

    run(main())


def test_q_keeps_the_order_of_reads_and_writes() -> None:
    async def main() -> None:
        s = mock("Q|R a|W b|R c")
        pending = await still_waiting(s.write(b"?"))  # waits for R a, then fills W b
        assert await s.read() == b"a"
        await pending
        assert await s.read() == b"c"

    run(main())


def test_checks_before_q_still_apply() -> None:
    async def main() -> None:
        s = mock("W a|Q")
        with pytest.raises(ProtocolError, match=r"action 1 \(W\): expected b'a' but got b'b'"):
            await s.write(b"b")
        unreached = mock("R a|Q|W b")
        with pytest.raises(ProtocolError, match=r"action 1 \(R\)"):
            await unreached.aclose()

    run(main())


def test_write_eof_after_q_lets_the_reads_behind_writes_go_on() -> None:
    async def main() -> None:
        s = mock("Q|W never|R a|D|R b")
        await s.write_eof()
        assert await read_all(s) == [b"a", b"b"]
        await s.aclose()

    run(main())


def test_unplayed_injected_errors_are_errors_at_close() -> None:
    async def main() -> None:
        s = mock("R a|ER")
        assert await s.read() == b"a"
        with pytest.raises(
            ProtocolError, match=r"action 2 \(ER\): expected a read \(to fail it\) but the socket was closed"
        ):
            await s.aclose()

    run(main())


def test_a_pause_left_at_close_is_not_an_error() -> None:
    async def main() -> None:
        s = mock("R a|T60000")
        assert await s.read() == b"a"
        await s.aclose()

    run(main())


def test_crate_examples_play_as_documented() -> None:
    """The scenarios from the crate's docs, played by two tasks as a program would."""

    async def main() -> None:
        s = mock("R cat; echo qqq\\n| R 1234|W 1234| R 56|W 56| X | W qqq|")
        reads: list[bytes] = []

        async def reader() -> None:
            while chunk := await s.read():
                reads.append(chunk)
                if chunk.isdigit():
                    await s.write(chunk)
            await s.write(b"qqq")

        await reader()
        assert reads == [b"cat; echo qqq\n", b"1234", b"56"]
        await s.aclose()

        z = mock(r"R \x55\x00| ZR x5500| R \x00\x03| ZR 3")
        data = b"".join(await read_all(z))
        assert data == b"\x55\x00" + bytes(0x5500) + b"\x00\x03" + bytes(3)
        await z.aclose()

    run(main())
