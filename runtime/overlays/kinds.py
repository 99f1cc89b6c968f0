"""Message kinds as lines: websocat v1's --text-prefix, --binary-prefix, --base64 and
--base64-text, over a WebSocket (or any message socket).

Received messages are handed on marked with their kind: the prefix of their kind in front,
and binary ones (text ones too with ``base64_text``) as one base64 line, so that text,
binary and bytes such as newlines or invalid UTF-8 cross a line-oriented terminal without
damage.  Messages sent the other way are read back: one that starts with a prefix goes out
as that kind, the prefix stripped (the text prefix is looked for first, then the binary
one, as v1); one without a prefix keeps the kind it came with (text from ``lines:``,
binary under ``-b``).  Base64 of a kind that is sent encoded is decoded first; a message
that is not base64 is sent as it is, with a warning, as v1 does.

Speed: one ``binascii`` call per whole message and a few bytes operations per message; no
per-byte Python loops.  A message that arrives in fragments (a large WebSocket frame, a
line of more than a MiB) is encoded or decoded fragment by fragment, in pieces of whole
base64 quanta, so memory stays bounded; the prefixes of a fragmented message sent are
looked for in its first fragment (``lines:`` makes those a MiB long).
"""

from __future__ import annotations

import sys
from binascii import Error as Base64Error
from binascii import a2b_base64, b2a_base64
from collections.abc import Awaitable, Callable

from websocat.runtime.errors import ProtocolError
from websocat.runtime.sockets import BINARY, CONTINUES, TEXT, Message, MessageSocket

__all__ = ["Tagged", "tagged"]


def _as_bytes(prefix: str | bytes | None) -> bytes | None:
    return prefix.encode("utf-8", "surrogateescape") if isinstance(prefix, str) else prefix


class Tagged(MessageSocket):
    """A message socket whose messages carry their kind in their bytes (prefixes, base64)."""

    name = "tagged"
    close_for: Callable[[BaseException | None], Awaitable[None]]  # only where the inner one has it

    def __init__(
        self,
        sock: MessageSocket,
        *,
        text_prefix: str | bytes | None = None,
        binary_prefix: str | bytes | None = None,
        base64: bool = False,
        base64_text: bool = False,
    ) -> None:
        self.sock = sock
        self.readable = sock.readable
        self.writable = sock.writable
        self.hangup = sock.hangup
        self.half_close = getattr(sock, "half_close", True)
        self.text_prefix = _as_bytes(text_prefix)
        self.binary_prefix = _as_bytes(binary_prefix)
        # Indexed by a data message's flags (BINARY 0, TEXT 1).
        self._prefixes = (self.binary_prefix or b"", self.text_prefix or b"")
        self._base64 = (base64, base64_text)
        # A fragmented message under way: its kind, and for base64 the bytes (received)
        # or characters (sent) that do not yet fill a whole quantum.
        self._recv_kind: int | None = None
        self._recv_carry = b""
        self._send_kind: int | None = None
        self._send_carry = b""
        inner_close_for = getattr(sock, "close_for", None)
        if inner_close_for is not None:
            self.close_for = inner_close_for  # a WebSocket tells its peer why it closes

    # -- received: the kind goes into the bytes

    async def recv_batch(self) -> list[Message]:
        batch = await self.sock.recv_batch()
        prefixes, encoded = self._prefixes, self._base64
        out: list[Message] = []
        append = out.append
        for data, flags in batch:
            if flags & ~TEXT or self._recv_kind is not None:  # fragments, control messages
                append(self._mark_piece(data, flags))
            elif encoded[flags]:
                append((prefixes[flags] + b2a_base64(data, newline=False), TEXT))
            elif prefixes[flags]:
                append((prefixes[flags] + data, flags))
            else:
                append((data, flags))
        return out

    def _mark_piece(self, data: bytes, flags: int) -> Message:
        """A fragment (or a control message, handed on as it is)."""
        if flags & ~(TEXT | CONTINUES):
            return data, flags
        kind = self._recv_kind
        if kind is None:
            kind = flags & TEXT
            lead = self._prefixes[kind]
        else:
            lead = b""
        final = not flags & CONTINUES
        self._recv_kind = None if final else kind
        if not self._base64[kind]:
            return lead + data, flags
        data = self._recv_carry + data
        if final:
            self._recv_carry = b""
            return lead + b2a_base64(data, newline=False), TEXT
        whole = len(data) - len(data) % 3
        self._recv_carry = data[whole:]
        return lead + b2a_base64(data[:whole], newline=False), TEXT | CONTINUES

    # -- sent: the kind comes out of the bytes

    async def send_batch(self, batch: list[Message]) -> None:
        text_prefix, binary_prefix, decoded = self.text_prefix, self.binary_prefix, self._base64
        out: list[Message] = []
        append = out.append
        for data, flags in batch:
            if flags & ~TEXT or self._send_kind is not None:  # fragments, control messages
                append(self._read_piece(data, flags))
                continue
            if text_prefix is not None and data.startswith(text_prefix):
                flags = TEXT
                data = data[len(text_prefix) :]
            if binary_prefix is not None and data.startswith(binary_prefix):
                flags = BINARY
                data = data[len(binary_prefix) :]
            if decoded[flags]:
                try:
                    data = a2b_base64(data, strict_mode=True)
                except Base64Error:
                    data = _decode(data)  # a CR or LF at the end, or not base64
            append((data, flags))
        await self.sock.send_batch(out)

    def _read_piece(self, data: bytes, flags: int) -> Message:
        """A fragment (or a control message, sent as it is)."""
        if flags & ~(TEXT | CONTINUES):
            return data, flags
        kind = self._send_kind
        if kind is None:
            kind = flags & TEXT
            if self.text_prefix is not None and data.startswith(self.text_prefix):
                kind = TEXT
                data = data[len(self.text_prefix) :]
            if self.binary_prefix is not None and data.startswith(self.binary_prefix):
                kind = BINARY
                data = data[len(self.binary_prefix) :]
        final = not flags & CONTINUES
        self._send_kind = None if final else kind
        if not self._base64[kind]:
            return data, kind if final else kind | CONTINUES
        data = self._send_carry + data
        if final:
            self._send_carry = b""
            return _decode_piece(_strip_line_end(data)), kind
        # Two characters stay behind: a CR LF at the message's end is not base64.
        whole = max(len(data) - 2, 0) // 4 * 4
        self._send_carry = data[whole:]
        return _decode_piece(data[:whole]), kind | CONTINUES

    async def send_eof(self) -> None:
        await self.sock.send_eof()

    def stop_reading(self) -> None:
        stop = getattr(self.sock, "stop_reading", None)
        if stop is not None:
            stop()

    async def aclose(self) -> None:
        await self.sock.aclose()

    async def __aexit__(self, *exc: object) -> None:
        close_for = getattr(self, "close_for", None)
        if close_for is None:
            await self.aclose()
        else:  # as the WebSocket's own block would: it is told why the block ended
            await close_for(exc[1] if len(exc) > 1 and isinstance(exc[1], BaseException) else None)


def _strip_line_end(data: bytes) -> bytes:
    """The line without one trailing LF and then one CR (as v1 strips them before decoding)."""
    if data[-1:] == b"\n":
        data = data[:-1]
    if data[-1:] == b"\r":
        data = data[:-1]
    return data


def _decode(data: bytes) -> bytes:
    """A whole message's base64; a message that is not base64 is sent as it is, as v1 does."""
    try:
        return a2b_base64(_strip_line_end(data), strict_mode=True)
    except Base64Error:
        print(
            f"websocat: warning: a message to send is not base64 ({_gist(data)}); sent as it is",
            file=sys.stderr,
        )
        return data


def _decode_piece(data: bytes) -> bytes:
    """Part of a fragmented message's base64: earlier parts went out, so bad base64 fails the session."""
    try:
        return a2b_base64(data, strict_mode=True)
    except Base64Error:
        raise ProtocolError(f"a long message to send is not base64 ({_gist(data)})") from None


def _gist(data: bytes) -> str:
    shown = data[:40].decode("utf-8", "backslashreplace")
    return repr(shown + "...") if len(data) > 40 else repr(shown)


def tagged(
    sock: MessageSocket,
    *,
    text_prefix: str | bytes | None = None,
    binary_prefix: str | bytes | None = None,
    base64: bool = False,
    base64_text: bool = False,
) -> Tagged:
    """Messages of ``sock`` marked with their kind for a line-oriented peer (websocat v1's options).

    Received: a text message gets ``text_prefix`` in front, a binary one ``binary_prefix``;
    with ``base64`` a binary message's bytes become one base64 line (``base64_text``: a
    text message's too), handed on as text.
    Sent: a message that starts with ``text_prefix`` goes out as text, one that then starts
    with ``binary_prefix`` as binary, the prefix stripped; else it keeps its own kind.
    A message of a kind that ``base64``/``base64_text`` encode is decoded from base64 first
    (a trailing LF or CR LF ignored); one that is not base64 is sent as it is, with a warning.
    Control messages pass unchanged.
    """
    return Tagged(sock, text_prefix=text_prefix, binary_prefix=binary_prefix, base64=base64, base64_text=base64_text)
