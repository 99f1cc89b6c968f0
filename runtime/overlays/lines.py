"""Lines overlay (``lines:``): one line of a byte stream is one message.

Reading splits the stream on a separator (``\\n`` by default, or any byte repeated
``separator_n`` times); writing appends the separator to each message after making sure
the message cannot be mistaken for several lines.  This is websocat4's ``line_chunks``.

Speed matters here (text mode inserts this overlay by default), so both directions work
on whole batches with C-level bytes operations: one ``split`` per read, one ``join`` per
written batch, and per-message Python work only for messages that need repairing.
"""

from __future__ import annotations

from itertools import repeat

from ..sockets import (
    BINARY,
    CONTINUES,
    DEFAULT_READ,
    TEXT,
    ByteStream,
    Message,
    MessageSocket,
)

DEFAULT_MAX_LINE = 1 << 20  # longer lines travel as several fragments (CONTINUES)
SUBSTITUTE = b" "  # what replaces separator bytes embedded in a written message

# Only these flag values take the batch fast path when writing; fragments and control
# messages go through the per-message path.
_PLAIN_FLAGS = frozenset((BINARY, TEXT))


class LineMessages(MessageSocket):
    """A message socket over a byte stream: each line read is a message, each message
    written becomes a line."""

    name = "lines"

    def __init__(
        self,
        stream: ByteStream,
        *,
        separator: bytes | int = b"\n",
        separator_n: int = 1,
        substitute: bool = True,
        inline: bool = False,
        max_line: int = DEFAULT_MAX_LINE,
        text: bool = True,
        read_size: int = DEFAULT_READ,
    ) -> None:
        if isinstance(separator, int):  # scripts dumped before separators were bytes
            if not 0 <= separator <= 255:
                raise ValueError(f"separator must be a byte value 0..255, not {separator}")
            separator = bytes((separator,))
        if len(separator) != 1:
            raise ValueError(f"separator must be one byte, not {separator!r}")
        if separator_n < 1:
            raise ValueError(f"separator_n must be at least 1, not {separator_n}")
        if max_line < 1 or read_size < 1:
            raise ValueError("max_line and read_size must be positive")
        self.stream = stream
        self.readable = stream.readable
        self.writable = stream.writable
        self.hangup = stream.hangup
        self.separator = separator
        self.separator_n = separator_n
        self.substitute = substitute
        self.inline = inline
        self.max_line = max_line
        self.text = text

        self._sb = bytes(separator)
        self._sep = self._sb * separator_n
        self._newline = separator == b"\n"
        self._read_size = read_size
        self._flags = TEXT if text else BINARY

        # -- read state
        self._partial: list[bytes] = []  # start of an unfinished line, as read
        self._partial_len = 0
        # A fragment holds back separator_n bytes: they may begin a separator (or be the
        # CR of a CRLF) that the next read completes.
        self._hold = separator_n
        self._fragment_at = max(max_line, separator_n)
        self._read_eof = False

        # -- write state, for a message written as several fragments
        self._mid_message = False
        self._started = False  # a fragment of this message put a non-separator byte out
        self._debt = b""  # trailing separator bytes held back from the last fragment
        self._inline_tail = b""  # last separator_n bytes of this message (inline, no substitution)
        # Bytes held back at a fragment's end: a run of separator bytes must be seen whole
        # to be substituted, and with newlines a CR may pair with the next fragment's LF.
        self._hold_chars = b"\r\n" if self._newline and separator_n == 1 else self._sb

    # -- reading

    async def recv_batch(self) -> list[Message]:
        """All complete lines of the next read, as one batch; [] at EOF."""
        if self._read_eof:
            return []
        sep = self._sep
        partial = self._partial
        while True:
            chunk = await self.stream.read(self._read_size)
            if not chunk:
                self._read_eof = True
                return self._last_line()
            if sep not in chunk and not (partial and self.separator_n > 1 and self._straddles(chunk)):
                partial.append(chunk)
                self._partial_len += len(chunk)
                if self._partial_len > self._fragment_at:
                    return [self._fragment()]
                continue
            if partial:
                partial.append(chunk)
                data = b"".join(partial)
                partial.clear()
            else:
                data = chunk
            lines = data.split(sep)
            tail = lines.pop()
            if tail:
                partial.append(tail)
            self._partial_len = len(tail)
            if self.inline:
                lines = [line + sep for line in lines]
            elif self._newline and b"\r" in data:
                # CRLF input: the CR belongs to the line break, not to the message.
                lines = [line[:-1] if line[-1:] == b"\r" else line for line in lines]
            batch = list(zip(lines, repeat(self._flags)))
            if self._partial_len > self._fragment_at:
                batch.append(self._fragment())
            return batch

    def _straddles(self, chunk: bytes) -> bool:
        """Whether a multi-byte separator starts in the partial line and ends in chunk."""
        keep = self.separator_n - 1
        # Pending chunks are never empty, so the last `keep` of them hold `keep` bytes.
        edge = b"".join(self._partial[-keep:])[-keep:] + chunk[:keep]
        return self._sep in edge

    def _fragment(self) -> Message:
        """Hand out the start of an over-long line as a fragment, keeping its last bytes."""
        data = b"".join(self._partial)
        hold = self._hold
        self._partial[:] = [data[-hold:]]
        self._partial_len = hold
        return data[:-hold], self._flags | CONTINUES

    def _last_line(self) -> list[Message]:
        """At EOF: the unterminated last line (or last fragment), if any."""
        data = b"".join(self._partial)
        self._partial.clear()
        self._partial_len = 0
        # A non-empty tail is always there after a fragment (it keeps `hold` bytes).
        return [(data, self._flags)] if data else []

    # -- writing

    async def send_batch(self, batch: list[Message]) -> None:
        """Write every message of the batch as a line, in one stream write."""
        if not batch:
            return
        datas, flags = zip(*batch)
        if not self._mid_message and set(flags) <= _PLAIN_FLAGS:
            parts = list(datas)
            parts.append(b"")
            out = self._sep.join(parts)
            # One count over the whole output proves no message holds a separator byte
            # (nothing to trim or substitute); otherwise repair message by message.
            if (not self.substitute and not self.inline) or out.count(self._sb) == self.separator_n * len(batch):
                await self.stream.write(out)
                return
        out = b"".join([self._frame(data, flag) for data, flag in batch if not flag & ~(TEXT | CONTINUES)])
        if out:
            await self.stream.write(out)

    def _frame(self, data: bytes, flags: int) -> bytes:
        """One message (or fragment) as bytes to write, with the separator if final."""
        final = not flags & CONTINUES
        sep = self._sep
        if not self.substitute:
            if self.inline:
                # The message's end may lie in earlier fragments (the last may be short or empty).
                tail = self._inline_tail + data if self._inline_tail else data
                if final:
                    self._inline_tail = b""
                    self._mid_message = False
                    return data if tail.endswith(sep) else data + sep
                self._inline_tail = tail[-self.separator_n :]
                self._mid_message = True
                return data
            self._mid_message = not final
            return data + sep if final else data

        sb = self._sb
        if self._debt:
            data = self._debt + data
            self._debt = b""
        if not self._started:
            data = data.lstrip(sb)
        if final:
            data = data.rstrip(sb)
        else:
            kept = data.rstrip(self._hold_chars)
            self._debt = data[len(kept) :]
            data = kept
        if sb in data:
            if self.separator_n > 1:
                # Break each embedded separator by replacing its last byte (as websocat4).
                data = data.replace(sep, sep[:-1] + SUBSTITUTE)
            elif self._newline:
                # An embedded CRLF becomes one space, not a stray CR before a space.
                data = data.replace(b"\r\n", SUBSTITUTE).replace(sb, SUBSTITUTE)
            else:
                data = data.replace(sb, SUBSTITUTE)
        if final:
            self._started = False
            self._mid_message = False
            return data + sep
        if data:
            self._started = True
        self._mid_message = True
        return data

    async def send_eof(self) -> None:
        """Shut the stream's write half (an unfinished fragmented message stays unterminated)."""
        self._debt = b""
        await self.stream.write_eof()

    async def aclose(self) -> None:
        await self.stream.aclose()


def framed(
    stream: ByteStream,
    *,
    separator: bytes | int = b"\n",
    separator_n: int = 1,
    substitute: bool = True,
    inline: bool = False,
    max_line: int = DEFAULT_MAX_LINE,
    text: bool = True,
    read_size: int = DEFAULT_READ,
) -> LineMessages:
    """Turn a byte stream into messages, one per line (websocat4 ``lines:``).

    separator: the byte that ends a line, as a one-byte ``bytes`` (``--separator``, ``-0``
      for NUL; an int 0-255 is taken too); a line ends
      at ``separator_n`` of them in a row (``--separator-n 2``: an empty line).
    substitute: when writing, drop separator bytes at a message's start and end and
      break separators inside it with a space, so one message stays one line
      (off with ``--separator-inhibit-substitution``).
    inline: keep the separator at the end of each message read; when writing, do not
      add a second one to a message that already ends with it (``--separator-inline``).
    max_line: a longer line is delivered as several fragments (flag CONTINUES).
    text: mark messages read as text (else binary).
    read_size: the most bytes asked of the stream per read.

    With the default newline separator a CR before the LF is dropped when reading.
    An unterminated last line is still delivered at EOF.
    """
    return LineMessages(
        stream,
        separator=separator,
        separator_n=separator_n,
        substitute=substitute,
        inline=inline,
        max_line=max_line,
        text=text,
        read_size=read_size,
    )
