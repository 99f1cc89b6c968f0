"""log: prints websocat4's lines (logoverlay.rs): exact lines for a byte stream and for
messages, with each --log-* option."""

from __future__ import annotations

import asyncio
import errno
import io
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from websocat.runtime.endpoints import trivial
from websocat.runtime.overlays import log as logmod
from websocat.runtime.overlays.log import LoggedMessages, LoggedStream, escape_content, log, render_content
from websocat.runtime.sockets import BINARY, CONTINUES, PING, PONG, TEXT, ByteStream, Message, MessageSocket
from websocat.runtime.testing import MemoryStream


def rust_escape_default(data: bytes) -> str:
    """Rust's std::ascii::escape_default, byte by byte (the reference, not the fast way)."""
    special = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x22: '\\"', 0x27: "\\'", 0x5C: "\\\\"}
    out = []
    for byte in data:
        if byte in special:
            out.append(special[byte])
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)),
        b"plain",
        b"",
        b"it's",
        b'say "hi"',
        b"both ' and \"",
        b"\\'\"\\",
        "été".encode(),
        b"\x7f\x80\xff\x00",
    ],
)
def test_content_escaped_as_rust_escape_default(data: bytes) -> None:
    assert escape_content(data) == rust_escape_default(data)


def test_render_content() -> None:
    assert render_content(b'a"\n\x01') == '"a\\"\\n\\x01"'
    assert render_content(b"\x00\xffA", hex=True) == "00ff41"
    assert render_content(b"", hex=True) == ""


class Stderr(io.StringIO):
    """sys.stderr for a test: the text, and how many writes it took."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def run_logged(monkeypatch: pytest.MonkeyPatch, body: Callable[[], Awaitable[Any]]) -> tuple[list[str], Any, int]:
    err = Stderr()
    monkeypatch.setattr("sys.stderr", err)
    result = asyncio.run(asyncio.wait_for(body(), 10))
    return err.getvalue().splitlines(), result, err.writes


def stream_session(**options: Any) -> Callable[[], Awaitable[bytes]]:
    """Through log: over a byte mirror: a write, a read, EOF both ways, close."""

    async def body() -> bytes:
        logged = log(trivial.mirror(), **options)
        assert isinstance(logged, LoggedStream)
        await logged.write(b'he"llo\n')
        got = await logged.read()
        await logged.write_eof()
        assert await logged.read() == b""
        await logged.aclose()
        return got

    return body


def test_byte_stream_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    lines, got, _writes = run_logged(monkeypatch, stream_session())
    assert got == b'he"llo\n'
    assert lines == ['WRITE 7 "he\\"llo\\n"', 'READ 7 "he\\"llo\\n"', "WRITE shutdown", 'READ 0 ""']


def test_byte_stream_omit_content(monkeypatch: pytest.MonkeyPatch) -> None:
    lines, _got, _writes = run_logged(monkeypatch, stream_session(omit_content=True))
    assert lines == ["WRITE 7", "READ 7", "WRITE shutdown", "READ 0"]


def test_byte_stream_hex(monkeypatch: pytest.MonkeyPatch) -> None:
    lines, _got, _writes = run_logged(monkeypatch, stream_session(hex=True))
    assert lines == ["WRITE 7 6865226c6c6f0a", "READ 7 6865226c6c6f0a", "WRITE shutdown", "READ 0 "]


def test_byte_stream_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    lines, _got, _writes = run_logged(monkeypatch, stream_session(verbose=True))
    assert lines == [
        'WRITE bufcap=7 7 "he\\"llo\\n"',
        'READ bufcap=65536 7 "he\\"llo\\n"',
        "WRITE shutdown",
        'READ bufcap=65536 0 ""',
        "READ drop",
        "WRITE drop",
    ]


def test_timestamps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logmod, "_START", logmod.time.monotonic() - 62.5)
    lines, _got, _writes = run_logged(monkeypatch, stream_session(timestamps=True, omit_content=True))
    assert len(lines) == 4
    for line, rest in zip(lines, ["WRITE 7", "READ 7", "WRITE shutdown", "READ 0"]):
        match = re.fullmatch(r"(\d{6})\.(\d{6}) (.*)", line)
        assert match is not None, line
        assert match[1] == "000062" and match[3] == rest


def test_prefixes_tell_sides_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """websocat4's stream_logger takes read_prefix/write_prefix; an edited script can too."""
    lines, _got, _writes = run_logged(
        monkeypatch, stream_session(read_prefix="L< ", write_prefix="L> ", omit_content=True)
    )
    assert lines == ["L> 7", "L< 7", "L> shutdown", "L< 0"]


class Broken(ByteStream):
    async def read(self, max_bytes: int = 65536) -> bytes:
        raise ConnectionResetError(errno.ECONNRESET, "reset")

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        raise BrokenPipeError(errno.EPIPE, "pipe")

    async def write_eof(self) -> None:
        raise OSError(errno.ENOTCONN, "not connected")


def test_errors_are_logged_and_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    async def body() -> None:
        logged = log(Broken())
        for call in (logged.read(), logged.write(b"x"), logged.write_eof()):
            with pytest.raises(OSError):
                await call

    lines, _none, _writes = run_logged(monkeypatch, body)
    assert lines == [
        "READ error Connection reset by peer (os error 104)",
        "WRITE error Broken pipe (os error 32)",
        "WRITE shutdown error Transport endpoint is not connected (os error 107)",
    ]


def test_incomplete_socket_said_with_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    async def body() -> None:
        read_only = MemoryStream([b"ab"])
        read_only.writable = False
        await log(read_only, verbose=True).aclose()
        await log(read_only).aclose()

    lines, _none, _writes = run_logged(monkeypatch, body)
    assert lines == ["WRITE There is no write handle in this socket", "READ drop"]


def message_session(batches: list[list[Message]], **options: Any) -> Callable[[], Awaitable[list[Message]]]:
    """Batches through log: over a message mirror, then EOF; what came back."""

    async def body() -> list[Message]:
        logged = log(trivial.message_mirror(), **options)
        assert isinstance(logged, LoggedMessages)

        async def write() -> None:
            for batch in batches:
                await logged.send_batch(batch)
            await logged.send_eof()

        async def read() -> list[Message]:
            got: list[Message] = []
            while batch := await logged.recv_batch():
                got += batch
            return got

        _written, got = await asyncio.gather(write(), read())
        return got

    return body


def split(lines: list[str]) -> tuple[list[str], list[str]]:
    """The WRITE lines and the READ lines, each in order (the mirror decides how they interleave)."""
    return [x for x in lines if x.startswith("WRITE")], [x for x in lines if x.startswith("READ")]


FRAGMENTS: list[list[Message]] = [
    [(b"abc", TEXT | CONTINUES), (b"d'f", TEXT | CONTINUES), (b"p", PING), (b"ghi", TEXT)],
    [(b"\x00\x01", BINARY)],
]


def test_message_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    lines, got, _writes = run_logged(monkeypatch, message_session(FRAGMENTS))
    assert got == [message for batch in FRAGMENTS for message in batch]
    written = [
        'WRITE 3+ "abc"...',
        'WRITE +3+ ..."d\\\'f"...',
        'WRITE 1 "p"',
        'WRITE +3=9 ..."ghi"',
        'WRITE 2 "\\x00\\x01"',
    ]
    read = [line.replace("WRITE", "READ") for line in written]
    assert split(lines) == (written + ['WRITE 0 ""'], read + ['READ 0 ""'])


def test_message_omit_content_and_hex(monkeypatch: pytest.MonkeyPatch) -> None:
    lines, _got, _writes = run_logged(monkeypatch, message_session(FRAGMENTS, omit_content=True))
    assert split(lines)[0] == ["WRITE 3+", "WRITE +3+", "WRITE 1", "WRITE +3=9", "WRITE 2", "WRITE 0"]
    assert split(lines)[1] == ["READ 3+", "READ +3+", "READ 1", "READ +3=9", "READ 2", "READ 0"]
    lines, _got, _writes = run_logged(monkeypatch, message_session(FRAGMENTS, hex=True))
    assert split(lines)[0] == [
        "WRITE 3+ 616263...",
        "WRITE +3+ ...642766...",
        "WRITE 1 70",
        "WRITE +3=9 ...676869",
        "WRITE 2 0001",
        "WRITE 0 ",
    ]


def test_message_verbose_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    batches: list[list[Message]] = [[(b"ab", TEXT | CONTINUES), (b"c", TEXT)], [(b"q", PONG), (b"z", BINARY)]]
    lines, _got, _writes = run_logged(monkeypatch, message_session(batches, verbose=True, omit_content=True))
    assert split(lines) == (
        [
            "WRITE bufcap=2 2+ [CT]",
            "WRITE bufcap=1 +1=3 [T]",
            "WRITE bufcap=1 1 [O]",
            "WRITE bufcap=1 1 []",
            "WRITE bufcap=0 0 [E]",
        ],
        ["READ 2+ [CT]", "READ +1=3 [T]", "READ 1 [O]", "READ 1 []", "READ 0 [E]"],
    )


def test_one_stderr_write_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    batch: list[Message] = [(b"x" * 10, BINARY)] * 100
    lines, got, writes = run_logged(monkeypatch, message_session([batch, batch], omit_content=True))
    assert len(got) == 200 and len(lines) == 402
    # two batches written, two read (the mirror passes each whole), one EOF each way
    assert writes == 6


def test_close_for_reaches_the_socket_under_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A WebSocket under log: still learns why its session ended (close_both calls close_for)."""
    ended: list[BaseException | None] = []

    class WithCloseFor(MessageSocket):
        async def close_for(self, ending: BaseException | None) -> None:
            ended.append(ending)

    async def body() -> tuple[bool, bool]:
        reason = RuntimeError("upstream gone")
        logged = log(WithCloseFor(), verbose=True)
        await logged.close_for(reason)
        plain = log(trivial.message_mirror())
        return ended == [reason], hasattr(plain, "close_for")

    lines, (passed, plain_has_it), _writes = run_logged(monkeypatch, body)
    assert passed and not plain_has_it
    assert lines == ["READ drop", "WRITE drop"]


def test_leaving_the_block_tells_the_socket_under_it_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """``async with log.log(ws1) as logged1:`` left by an error: the WebSocket gets the error
    (its Close code says it), not a plain close."""
    ended: list[BaseException | None] = []

    class WithCloseFor(MessageSocket):
        async def close_for(self, ending: BaseException | None) -> None:
            ended.append(ending)

        async def aclose(self) -> None:
            ended.append(None)

    reason = RuntimeError("session failed")

    async def body() -> None:
        with pytest.raises(RuntimeError):
            async with log(WithCloseFor()):
                raise reason
        async with log(trivial.mirror()) as plain:
            pass
        assert plain.stream.readable  # closed through aclose, nothing to tell

    run_logged(monkeypatch, body)
    assert ended == [reason]
