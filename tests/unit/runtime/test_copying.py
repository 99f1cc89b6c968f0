"""Copy loops: directions, half-close, -u/-U/-E, late drop, hangup, incomplete sockets."""

from __future__ import annotations

import asyncio

import pytest

from websocat.runtime import copying
from websocat.runtime.copying import exchange_bytes, exchange_packets
from websocat.runtime.endpoints import trivial
from websocat.runtime.sockets import TEXT, ByteStream, Message, MessageSocket
from websocat.runtime.testing import MemoryStream


class Blocking(MemoryStream):
    """Reads never end until released: a side whose peer keeps its write half open."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def read(self, max_bytes: int = 1 << 16) -> bytes:
        await self.release.wait()
        return b""


def run(coro: object) -> None:
    asyncio.run(asyncio.wait_for(coro, 5))


def test_both_directions_and_half_close() -> None:
    left, right = MemoryStream([b"ab", b"c"]), MemoryStream([b"xyz"])
    run(exchange_bytes(left, right))
    assert right.written == b"abc" and left.written == b"xyz"
    assert left.eof_written and right.eof_written


def test_unidirectional_shuts_the_unused_direction_at_once() -> None:
    left, right = MemoryStream([b"ab"]), MemoryStream([b"never"])
    run(exchange_bytes(left, right, unidirectional=True))
    assert right.written == b"ab"
    assert left.written == b"" and left.eof_written  # shut at once, nothing copied back


def test_unidirectional_late_drop_keeps_the_unused_direction_open() -> None:
    left, right = MemoryStream([b"ab"]), MemoryStream([b"never"])
    run(exchange_bytes(left, right, unidirectional=True, late_drop=True))
    assert right.written == b"ab" and not left.eof_written


def test_unidirectional_reverse() -> None:
    left, right = MemoryStream([b"never"]), MemoryStream([b"back"])
    run(exchange_bytes(left, right, unidirectional_reverse=True))
    assert left.written == b"back" and right.written == b"" and right.eof_written


def test_exit_on_eof_ends_at_the_first_eof() -> None:
    left, right = MemoryStream([b"ab"]), Blocking()
    run(exchange_bytes(left, right, exit_on_eof=True))
    assert right.written == b"ab"


def test_without_exit_on_eof_the_session_waits_for_both() -> None:
    async def scenario() -> None:
        left, right = MemoryStream([b"ab"]), Blocking()
        task = asyncio.ensure_future(exchange_bytes(left, right))
        await asyncio.sleep(0.05)
        assert not task.done()
        right.release.set()
        await task

    run(scenario())


def test_hangup_stops_writing_to_the_side_that_hung_up() -> None:
    async def scenario() -> None:
        left, right = MemoryStream([b"to right"]), Blocking()
        left.hangup = asyncio.Event()
        left.hangup.set()
        # Without the hangup the backward direction (right -> left) would wait forever.
        await exchange_bytes(left, right)
        assert right.written == b"to right"

    run(scenario())


def test_exit_on_hangup_raises() -> None:
    async def scenario() -> None:
        left, right = Blocking(), Blocking()
        left.hangup = asyncio.Event()
        left.hangup.set()
        with pytest.raises(copying.HangupExit):
            await exchange_bytes(left, right)

    copying.HANGUP_EXITS = True
    try:
        run(scenario())
    finally:
        copying.HANGUP_EXITS = False


def test_missing_read_half_sends_no_eof() -> None:
    class WriteOnly(MemoryStream):
        readable = False

    left, right = MemoryStream([b"to file"]), WriteOnly()
    run(exchange_bytes(left, right))
    assert right.written == b"to file" and not left.eof_written


def test_error_in_a_direction_propagates() -> None:
    class Broken(MemoryStream):
        async def write(self, data: bytes | bytearray | memoryview) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):
        run(exchange_bytes(MemoryStream([b"x"]), Broken()))


def test_packets_keep_flags_through_the_message_mirror() -> None:
    async def scenario() -> None:
        mirror = trivial.message_mirror(bufsize=4096)  # room for a batch and the EOF
        await mirror.send_batch([(b"t", TEXT), (b"b", 0)])
        await mirror.send_eof()
        assert await mirror.recv_batch() == [(b"t", TEXT), (b"b", 0)]
        assert await mirror.recv_batch() == []

    run(scenario())


def test_exchange_packets_between_dummies_ends() -> None:
    run(exchange_packets(trivial.empty(), trivial.empty()))


def test_byte_mirror_round_trip() -> None:
    async def scenario() -> None:
        left = MemoryStream([b"hello ", b"world"])
        await exchange_bytes(left, trivial.mirror(bufsize=4))
        assert left.written == b"hello world" and left.eof_written

    run(scenario())


def test_literal_and_devnull() -> None:
    async def scenario() -> None:
        out = MemoryStream()
        await exchange_bytes(trivial.literal(b"hi"), out)
        assert out.written == b"hi"
        sink: ByteStream = trivial.devnull()
        assert await sink.read() == b""

    run(scenario())


class FailsAtClose(MemoryStream):
    """A side whose close reports a check, as a mock_stream_socket: with unplayed actions."""

    def __init__(self, error: Exception) -> None:
        super().__init__([b"ab"])
        self.error = error

    async def aclose(self) -> None:
        await super().aclose()
        raise self.error


def test_a_protocol_error_from_closing_fails_the_session() -> None:
    from websocat.runtime.errors import ProtocolError

    with pytest.raises(ProtocolError, match="scenario not played"):
        run(exchange_bytes(FailsAtClose(ProtocolError("scenario not played")), MemoryStream()))
    # Other errors while closing stay ignored, as before.
    run(exchange_bytes(FailsAtClose(BrokenPipeError("gone")), MemoryStream()))


def test_a_protocol_error_from_closing_fails_an_echo_too() -> None:
    from websocat.runtime.endpoints.mock import MockStream
    from websocat.runtime.errors import ProtocolError
    from websocat.runtime.overlays import chunks

    left = chunks.framed(MockStream([("R", b"a"), ("W", b"a"), ("X", b""), ("R", b"never read")]))
    with pytest.raises(ProtocolError, match=r"action 4 \(R\)"):
        run(exchange_packets(left, trivial.message_mirror()))


def test_a_socket_facing_a_mirror_echoes_its_own_messages() -> None:
    """exchange_packets(sock, mirror) is sock.echo_back(): any socket may answer faster."""
    from websocat.runtime.sockets import Message, MessageSocket

    class Echoing(MessageSocket):
        def __init__(self) -> None:
            self.batches: list[list[Message]] = [[(b"a", TEXT)], [(b"b", 0)]]
            self.sent: list[Message] = []
            self.echoed = self.eof_sent = False

        async def recv_batch(self) -> list[Message]:
            return self.batches.pop(0) if self.batches else []

        async def send_batch(self, batch: list[Message]) -> None:
            self.sent += batch

        async def send_eof(self) -> None:
            self.eof_sent = True

        async def echo_back(self) -> None:
            self.echoed = True
            await super().echo_back()

    sock = Echoing()
    mirror = trivial.message_mirror()
    assert mirror.mirrors and not sock.mirrors
    run(exchange_packets(sock, mirror))
    assert sock.echoed and sock.sent == [(b"a", TEXT), (b"b", 0)] and sock.eof_sent


def test_the_copy_loops_import_no_endpoint_or_overlay() -> None:
    """copying.py depends on sockets only: a mirror says so itself (MessageSocket.mirrors)."""
    import subprocess
    import sys

    code = "import sys, websocat.runtime.copying; print('\\n'.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not [m for m in loaded if m.startswith(("websocat.runtime.endpoints", "websocat.runtime.overlays"))]


class Closing(MemoryStream):
    """Records whether aclose was called."""

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__(chunks)
        self.aclosed = False

    async def aclose(self) -> None:
        self.aclosed = True


def test_the_exchange_leaves_managed_sockets_to_their_blocks() -> None:
    """A socket the script opened with `async with` stays open after the exchange, for
    code the user adds there; its block closes it.  One that was not entered is closed."""

    async def main() -> tuple[bool, bool, bool]:
        managed, unmanaged = Closing([b"a"]), Closing([b"b"])
        async with managed:
            await exchange_bytes(managed, unmanaged)
            open_after_exchange = not managed.aclosed
        return open_after_exchange, managed.aclosed, unmanaged.aclosed

    assert asyncio.run(main()) == (True, True, True)


class Scripted(MessageSocket):
    """A message socket that delivers ``batches`` and records what is sent to it."""

    def __init__(self, batches: list[list[Message]]) -> None:
        self.batches = list(batches)
        self.sent: list[Message] = []
        self.reads = 0
        self.eof_sent = False
        self.stopped = False

    async def recv_batch(self) -> list[Message]:
        self.reads += 1
        return self.batches.pop(0) if self.batches else []

    async def send_batch(self, batch: list[Message]) -> None:
        self.sent += batch

    async def send_eof(self) -> None:
        self.eof_sent = True

    def stop_reading(self) -> None:
        self.stopped = True


def test_max_messages_counts_whole_messages_and_cuts_a_batch() -> None:
    from websocat.runtime.sockets import BINARY, CONTINUES

    left = Scripted([[(b"a1", CONTINUES), (b"a2", BINARY), (b"b", TEXT)], [(b"c", TEXT), (b"d", TEXT)], [(b"e", TEXT)]])
    right = Scripted([[(b"x", TEXT), (b"y", TEXT)]])
    run(exchange_packets(left, right, max_messages=3, max_messages_rev=1))
    assert right.sent == [(b"a1", CONTINUES), (b"a2", BINARY), (b"b", TEXT), (b"c", TEXT)]
    assert left.sent == [(b"x", TEXT)]
    assert left.reads == 2 and left.stopped and right.stopped
    assert left.eof_sent and right.eof_sent


def test_one_message_and_max_messages_take_the_smaller() -> None:
    assert copying._limits(True, None, 5) == (1, 1)
    assert copying._limits(True, 0, None) == (0, 1)
    assert copying._limits(False, 4, None) == (4, None)


def test_max_messages_zero_reads_nothing() -> None:
    left, right = Scripted([[(b"a", TEXT)]]), Scripted([])
    run(exchange_packets(left, right, max_messages=0))
    assert left.reads == 0 and right.sent == [] and right.eof_sent


def test_preambles_go_before_data_each_way() -> None:
    from websocat.runtime.sockets import BINARY

    left, right = Scripted([[(b"data", TEXT)]]), Scripted([[(b"back", TEXT)]])
    run(exchange_packets(left, right, preamble=("p1", b"p2"), preamble_reverse=("r",)))
    assert right.sent == [(b"p1", TEXT), (b"p2", BINARY), (b"data", TEXT)]
    assert left.sent == [(b"r", TEXT), (b"back", TEXT)]


def test_byte_preambles_and_read_limits() -> None:
    left, right = MemoryStream([b"ab", b"cd", b"ef"]), MemoryStream([b"xyz"])
    run(exchange_bytes(left, right, preamble=("P:",), preamble_reverse=(b"R:",), max_messages=2))
    assert right.written == b"P:abcd" and left.written == b"R:xyz"
    assert right.eof_written


def test_preamble_is_sent_under_unidirectional_reverse() -> None:
    """-U -p: the preamble still goes out (websocat v1 writes it before skipping a direction)."""
    left, right = MemoryStream([b"never"]), MemoryStream([b"back"])
    run(exchange_bytes(left, right, unidirectional_reverse=True, preamble=("hello",)))
    assert right.written == b"hello" and left.written == b"back"
