"""log: (websocat4's stream_logger and datagram_logger): every read and write of the
socket under it, printed on stderr.

The lines are websocat4's, so that grep patterns carry over:

    READ 5 "hello"                     a read of 5 bytes (a byte stream) or a 5-byte message
    WRITE 3 "a\\nb"                     content escaped as Rust's ascii::escape_default
    READ 0 ""                          end of the stream (EOF)
    WRITE shutdown                     the write half shut (a byte stream)
    READ 3+ "abc"...                   a message fragment; more follow
    READ +3+ ..."def"...               a middle fragment
    READ +3=9 ..."ghi"                 the last fragment; 9 bytes in all
    READ 5                             --log-omit-content: sizes only
    READ 5 68656c6c6f                  --log-hex
    000001.250000 READ 5 "hello"       --log-timestamps: seconds.microseconds since the start
    READ bufcap=65536 5 "hello"        --log-verbose on a byte stream: the read's buffer size
    WRITE bufcap=5 5 "hello" [T]       --log-verbose on messages: flags C (more fragments
                                       follow), T (text), E (EOF), P (ping), O (pong)

--log-verbose also says "READ drop"/"WRITE drop" when the socket is closed and "READ There
is no read handle in this socket" for an incomplete one.  websocat4 has no Close flag;
a Close message (our runtime has them) shows as X.

All the lines of one read or one batch reach stderr in one write.  Content is escaped
with ``repr`` (a bytes method, no loop in Python) and hex comes from ``bytes.hex``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import overload

from websocat.runtime.sockets import (
    CLOSE,
    CONTINUES,
    CONTROL,
    DEFAULT_READ,
    PING,
    PONG,
    TEXT,
    ByteStream,
    Message,
    MessageSocket,
)

__all__ = ["LoggedMessages", "LoggedStream", "escape_content", "log", "render_content"]

_START = time.monotonic()  # "relative timestamps": websocat4 counts from the scenario's start
_EOF = 1 << 30  # a flag of our own: the EOF line of a message socket (websocat4's Eof)
_LETTERS = ((CONTINUES, "C"), (TEXT, "T"), (_EOF, "E"), (PING, "P"), (PONG, "O"), (CLOSE, "X"))


def escape_content(data: bytes) -> str:
    """Bytes as websocat4 shows them: printable ASCII as is; \\t \\r \\n \\' \\" \\\\ and
    \\xNN (lower-case) for the rest, as Rust's ``ascii::escape_default``."""
    text = repr(data)  # b'...': the same escapes, except for the quote characters
    body = text[2:-1]
    if text[1] == "'":
        return body.replace('"', '\\"') if b'"' in data else body
    return body.replace("'", "\\'")  # repr chose "..." for data with ' and no "


def render_content(data: bytes, hex: bool = False) -> str:
    """The content part of a line: ``"escaped"``, or hex digits with ``hex``."""
    return data.hex() if hex else f'"{escape_content(data)}"'


def _error_text(exc: BaseException) -> str:
    """An error as websocat4 prints one: 'Connection reset by peer (os error 104)'."""
    if isinstance(exc, OSError) and exc.errno:
        return f"{os.strerror(exc.errno)} (os error {exc.errno})"
    return str(exc) or type(exc).__name__


class _Printer:
    """The options shared by both directions, and the one stderr write per batch."""

    __slots__ = ("verbose", "omit_content", "hex", "timestamps")

    def __init__(self, verbose: bool, omit_content: bool, hex: bool, timestamps: bool) -> None:
        self.verbose = verbose
        self.omit_content = omit_content
        self.hex = hex
        self.timestamps = timestamps

    def emit(self, text: str) -> None:
        """Write finished lines (each ending in a newline) to stderr, at once."""
        if self.timestamps:
            elapsed = time.monotonic() - _START
            seconds = int(elapsed)
            stamp = f"{seconds:06}.{int((elapsed - seconds) * 1e6):06} "
            text = "".join(stamp + line + "\n" for line in text.split("\n")[:-1])
        stderr = sys.stderr
        stderr.write(text)
        if not getattr(stderr, "line_buffering", False):
            stderr.flush()  # a line-buffered stderr (Python's own) has just written the lines


class _Fragments:
    """One direction's state for message lines: the size of the message so far while its
    fragments pass ("+" marks, "=total" at its last fragment)."""

    __slots__ = ("prefix", "printer", "held")

    def __init__(self, prefix: str, printer: _Printer) -> None:
        self.prefix = prefix
        self.printer = printer
        self.held: int | None = None  # bytes of the message whose fragments are passing

    def line(self, data: bytes, flags: int, bufcap: str = "") -> str:
        """One message's line (without the newline)."""
        size = len(data)
        control = flags & (CONTROL | _EOF)
        lead = "+" if not control and self.held is not None else ""
        if flags & CONTINUES:
            self.held = (self.held or 0) + size
            trail = "+"
        elif lead:
            trail = f"={self.held + size}"  # type: ignore[operator] # lead: held is set
            self.held = None
        else:
            trail = ""
        printer = self.printer
        tail = ""
        if printer.verbose:
            tail = " [" + "".join(letter for bit, letter in _LETTERS if flags & bit) + "]"
        if printer.omit_content:
            return f"{self.prefix}{bufcap}{lead}{size}{trail}{tail}"
        content = render_content(data, printer.hex)
        before = "..." if lead else ""
        after = "..." if flags & CONTINUES else ""
        return f"{self.prefix}{bufcap}{lead}{size}{trail} {before}{content}{after}{tail}"


class LoggedStream(ByteStream):
    """A byte stream whose every read and write is printed on stderr."""

    name = "log"
    close_for: Callable[[BaseException | None], Awaitable[None]]  # only where the inner one has it

    def __init__(self, stream: ByteStream, printer: _Printer, read_prefix: str, write_prefix: str) -> None:
        self.stream = stream
        self.readable = stream.readable
        self.writable = stream.writable
        self.hangup = stream.hangup
        self.half_close = getattr(stream, "half_close", True)
        self._printer = printer
        self._read_prefix = read_prefix
        self._write_prefix = write_prefix
        self._closed = False
        inner_close_for = getattr(stream, "close_for", None)
        if inner_close_for is not None:

            async def close_for(ending: BaseException | None) -> None:
                self._dropped()
                await inner_close_for(ending)

            self.close_for = close_for
        _say_missing_halves(stream, printer, read_prefix, write_prefix)

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        printer = self._printer
        bufcap = f"bufcap={max_bytes} " if printer.verbose else ""
        try:
            data = await self.stream.read(max_bytes)
        except Exception as exc:
            printer.emit(f"{self._read_prefix}{bufcap}error {_error_text(exc)}\n")
            raise
        if printer.omit_content:
            printer.emit(f"{self._read_prefix}{bufcap}{len(data)}\n")
        else:
            printer.emit(f"{self._read_prefix}{bufcap}{len(data)} {render_content(data, printer.hex)}\n")
        return data

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        printer = self._printer
        bufcap = f"bufcap={len(data)} " if printer.verbose else ""
        try:
            await self.stream.write(data)
        except Exception as exc:
            printer.emit(f"{self._write_prefix}{bufcap}error {_error_text(exc)}\n")
            raise
        if printer.omit_content:
            printer.emit(f"{self._write_prefix}{bufcap}{len(data)}\n")
        else:
            printer.emit(f"{self._write_prefix}{bufcap}{len(data)} {render_content(bytes(data), printer.hex)}\n")

    async def write_eof(self) -> None:
        try:
            await self.stream.write_eof()
        except Exception as exc:
            self._printer.emit(f"{self._write_prefix}shutdown error {_error_text(exc)}\n")
            raise
        self._printer.emit(f"{self._write_prefix}shutdown\n")

    def _dropped(self) -> None:
        """--log-verbose: the halves are gone (websocat4 says so when it drops them)."""
        if self._closed:
            return
        self._closed = True
        _say_dropped(self.stream, self._printer, self._read_prefix, self._write_prefix)

    async def aclose(self) -> None:
        self._dropped()
        await self.stream.aclose()

    async def __aexit__(self, *exc: object) -> None:
        await _close(self, exc)


class LoggedMessages(MessageSocket):
    """A message socket whose every message read and written is printed on stderr."""

    name = "log"
    close_for: Callable[[BaseException | None], Awaitable[None]]  # only where the inner one has it

    def __init__(self, sock: MessageSocket, printer: _Printer, read_prefix: str, write_prefix: str) -> None:
        self.sock = sock
        self.readable = sock.readable
        self.writable = sock.writable
        self.hangup = sock.hangup
        self.half_close = getattr(sock, "half_close", True)
        self._printer = printer
        self._reads = _Fragments(read_prefix, printer)
        self._writes = _Fragments(write_prefix, printer)
        self._closed = False
        inner_close_for = getattr(sock, "close_for", None)
        if inner_close_for is not None:

            async def close_for(ending: BaseException | None) -> None:
                self._dropped()
                await inner_close_for(ending)

            self.close_for = close_for
        _say_missing_halves(sock, printer, read_prefix, write_prefix)

    async def recv_batch(self) -> list[Message]:
        reads = self._reads
        try:
            batch = await self.sock.recv_batch()
        except Exception as exc:
            self._printer.emit(f"{reads.prefix}error {_error_text(exc)}\n")
            raise
        if not batch:
            self._printer.emit(reads.line(b"", _EOF) + "\n")
        elif len(batch) == 1:
            self._printer.emit(reads.line(*batch[0]) + "\n")
        else:
            line = reads.line
            self._printer.emit("".join([line(data, flags) + "\n" for data, flags in batch]))
        return batch

    async def send_batch(self, batch: list[Message]) -> None:
        writes = self._writes
        line = writes.line
        if self._printer.verbose:
            text = "".join([line(data, flags, f"bufcap={len(data)} ") + "\n" for data, flags in batch])
        else:
            text = "".join([line(data, flags) + "\n" for data, flags in batch])
        self._printer.emit(text)  # before the write, as websocat4: a write that waits shows at once
        try:
            await self.sock.send_batch(batch)
        except Exception as exc:
            self._printer.emit(f"{writes.prefix}error {_error_text(exc)}\n")
            raise

    async def send_eof(self) -> None:
        writes = self._writes
        bufcap = "bufcap=0 " if self._printer.verbose else ""
        self._printer.emit(writes.line(b"", _EOF, bufcap) + "\n")
        try:
            await self.sock.send_eof()
        except Exception as exc:
            self._printer.emit(f"{writes.prefix}error {_error_text(exc)}\n")
            raise

    def _dropped(self) -> None:
        if self._closed:
            return
        self._closed = True
        _say_dropped(self.sock, self._printer, self._reads.prefix, self._writes.prefix)

    async def aclose(self) -> None:
        self._dropped()
        await self.sock.aclose()

    async def __aexit__(self, *exc: object) -> None:
        await _close(self, exc)


async def _close(logged: LoggedStream | LoggedMessages, exc: tuple[object, ...]) -> None:
    """Leaving the script's ``async with``: a socket under log: that says why it closes (a
    WebSocket's Close code) is told why the block ended, as it would be without log:."""
    close_for = getattr(logged, "close_for", None)
    if close_for is None:
        await logged.aclose()
        return
    await close_for(exc[1] if len(exc) > 1 and isinstance(exc[1], BaseException) else None)


def _say_missing_halves(
    sock: ByteStream | MessageSocket, printer: _Printer, read_prefix: str, write_prefix: str
) -> None:
    if printer.verbose:
        if not sock.readable:
            printer.emit(f"{read_prefix}There is no read handle in this socket\n")
        if not sock.writable:
            printer.emit(f"{write_prefix}There is no write handle in this socket\n")


def _say_dropped(sock: ByteStream | MessageSocket, printer: _Printer, read_prefix: str, write_prefix: str) -> None:
    if printer.verbose:
        lines = (f"{read_prefix}drop\n" if sock.readable else "") + (f"{write_prefix}drop\n" if sock.writable else "")
        if lines:
            printer.emit(lines)


@overload
def log(
    sock: ByteStream,
    *,
    verbose: bool = False,
    omit_content: bool = False,
    hex: bool = False,
    timestamps: bool = False,
    read_prefix: str = "READ ",
    write_prefix: str = "WRITE ",
) -> LoggedStream: ...


@overload
def log(
    sock: MessageSocket,
    *,
    verbose: bool = False,
    omit_content: bool = False,
    hex: bool = False,
    timestamps: bool = False,
    read_prefix: str = "READ ",
    write_prefix: str = "WRITE ",
) -> LoggedMessages: ...


def log(
    sock: ByteStream | MessageSocket,
    *,
    verbose: bool = False,
    omit_content: bool = False,
    hex: bool = False,
    timestamps: bool = False,
    read_prefix: str = "READ ",
    write_prefix: str = "WRITE ",
) -> LoggedStream | LoggedMessages:
    """Print every read and write of ``sock`` on stderr, a byte stream's or a message socket's (log:)."""
    printer = _Printer(verbose, omit_content, hex, timestamps)
    if isinstance(sock, MessageSocket):
        return LoggedMessages(sock, printer, read_prefix, write_prefix)
    return LoggedStream(sock, printer, read_prefix, write_prefix)
