"""lengthprefixed: (websocat4's length_prefixed_chunks): messages over a byte stream, each
after a prefix that holds its length and, as the options say, flag bits.

The prefix is ``nbytes`` bytes (1 to 8), big-endian unless ``little_endian``.  Flag bits
are taken from its top, in this order, each only when its option is on: the
continuation bit (``continuations``: this is not the final fragment), the control bit
(``include_control``: a ping, pong or close, whose opcode byte 9, 10 or 8 comes first
in the body and is counted in the length), the text bit (``tag_text``).  The bits below
them hold the length.  With a 4-byte prefix and all three options, 0x80000000 is the
continuation bit, 0x40000000 the control bit, 0x20000000 the text bit and 0x1FFFFFFF
the length mask; files written by websocat4 read back here and the reverse.

Writing: without ``continuations`` fragments are joined into one message first (at
most ``max_message_size`` bytes); control messages are dropped unless
``include_control``.  With ``include_control`` EOF is written as a close frame (opcode 8),
as websocat4 writes it, before the stream's write half is shut.
Reading: many prefixes are parsed per read; a message longer than
``max_message_size``, a bad control frame or a stream that ends inside a prefix or a
body fails the session with one line.  A close frame reads as EOF.

``skip_read_direction`` / ``skip_write_direction``: that direction is plain ``chunks:``
(each read one binary message; message bytes written as they are).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Literal

from websocat.runtime.errors import ProtocolError
from websocat.runtime.sockets import (
    BINARY,
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

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "Layout", "LengthPrefixed", "framed"]

DEFAULT_MAX_MESSAGE_SIZE = 1 << 20  # the manual's default for --lengthprefixed-max-message-size
MAX_CONTROL_MESSAGE = 65536  # websocat4's limit on a control message joined from pieces

_OPCODES = {8: CLOSE, 9: PING, 10: PONG}


class Layout:
    """The prefix's bits: websocat4's planner takes flag bits from the top, in order."""

    __slots__ = ("nbytes", "little_endian", "cont_bit", "ctrl_bit", "text_bit", "mask", "pack", "unpack_from")

    def __init__(
        self,
        nbytes: int = 4,
        *,
        little_endian: bool = False,
        continuations: bool = False,
        include_control: bool = False,
        tag_text: bool = False,
    ) -> None:
        if not 1 <= nbytes <= 8:
            raise ValueError(f"nbytes must be from 1 to 8, not {nbytes}")
        self.nbytes = nbytes
        self.little_endian = little_endian
        bit = 1 << (8 * nbytes - 1)  # the highest bit not taken yet
        self.cont_bit = self.ctrl_bit = self.text_bit = 0
        if continuations:
            self.cont_bit, bit = bit, bit >> 1
        if include_control:
            self.ctrl_bit, bit = bit, bit >> 1
        if tag_text:
            self.text_bit, bit = bit, bit >> 1
        self.mask = (bit << 1) - 1
        self.pack, self.unpack_from = _codec(nbytes, little_endian)


def _codec(nbytes: int, little_endian: bool) -> tuple[Callable[[int], bytes], Callable[[bytes, int], tuple[int]]]:
    """Functions that write a prefix and read one at an offset (struct where it has a code)."""
    code = {1: "B", 2: "H", 4: "I", 8: "Q"}.get(nbytes)
    if code is not None:
        codec = struct.Struct(("<" if little_endian else ">") + code)
        return codec.pack, codec.unpack_from
    order: Literal["little", "big"] = "little" if little_endian else "big"

    def pack(value: int) -> bytes:
        return value.to_bytes(nbytes, order)

    def unpack_from(data: bytes, pos: int) -> tuple[int]:
        return (int.from_bytes(data[pos : pos + nbytes], order),)

    return pack, unpack_from


class LengthPrefixed(MessageSocket):
    """A message socket over a byte stream: each message after a length prefix."""

    name = "lengthprefixed"

    def __init__(
        self,
        stream: ByteStream,
        layout: Layout,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        skip_read_direction: bool = False,
        skip_write_direction: bool = False,
    ) -> None:
        self.stream = stream
        self.readable = stream.readable
        self.writable = stream.writable
        self.hangup = stream.hangup
        self.layout = layout
        self.max_message_size = min(max_message_size, layout.mask)  # as websocat4's planner caps it
        # Written messages: with continuations each piece goes out as it comes, so only
        # the prefix limits it (the manual: the option is then ignored for writing).
        self._write_limit = layout.mask if layout.cont_bit else self.max_message_size
        self._flag_bits = layout.cont_bit | layout.ctrl_bit | layout.text_bit
        if skip_read_direction:
            self.recv_batch = self._recv_chunk  # type: ignore[method-assign]
        if skip_write_direction:
            self.send_batch = self._send_raw  # type: ignore[method-assign]
            self.send_eof = stream.write_eof  # type: ignore[method-assign]
        # reading: the bytes being parsed from `_pos` on; a body that spans reads
        self._buf = b""
        self._pos = 0
        self._body: list[bytes | memoryview] = []  # its pieces so far
        self._body_have = 0
        self._body_want = -1  # its length; -1: none is arriving
        self._body_prefix = 0  # its prefix
        self._eof = False
        # writing: fragments held until the final one (without continuations)
        self._parts: list[bytes] = []
        self._held = 0
        self._control_parts: list[bytes] = []
        self._closed = False  # a close frame went out

    # ------------------------------------------------------------------ reading

    async def recv_batch(self) -> list[Message]:
        """Every message the next read(s) completed; [] at EOF or after a close frame."""
        out: list[Message] = []
        read = self.stream.read
        while not self._eof:
            if self._body_want >= 0:
                chunk = await read()
                if not chunk:
                    self._truncated()
                self._add_to_body(chunk, out)
            else:
                self._parse(out)
            if out or self._eof:
                return out
            if self._body_want >= 0:
                continue
            chunk = await read()
            rest = len(self._buf) - self._pos
            if not chunk:
                if rest:
                    self._truncated()
                self._eof = True
                return out
            self._buf = (self._buf[self._pos :] + chunk) if rest else chunk
            self._pos = 0
        return out

    def _parse(self, out: list[Message]) -> None:
        """Append every whole message in the buffer to ``out``; a body cut short is collected."""
        data, pos = self._buf, self._pos
        end = len(data)
        layout = self.layout
        hdr, unpack, mask, limit = layout.nbytes, layout.unpack_from, layout.mask, self.max_message_size
        flag_bits = self._flag_bits
        append = out.append
        while True:
            body = pos + hdr
            if body > end:
                break
            prefix = unpack(data, pos)[0]
            length = prefix & mask
            if length > limit:
                self._too_long(length)
            stop = body + length
            if stop > end:
                self._start_body(prefix, length, data, body, end)
                data, pos = b"", 0
                break
            if not prefix & flag_bits:
                append((data[body:stop], BINARY))
            elif not self._message(prefix, data[body:stop], out):
                pos = stop
                break
            pos = stop
        self._buf, self._pos = data, pos

    def _start_body(self, prefix: int, length: int, data: bytes, body: int, end: int) -> None:
        self._body = [memoryview(data)[body:end]] if end > body else []
        self._body_have = end - body
        self._body_want = length
        self._body_prefix = prefix

    def _add_to_body(self, chunk: bytes, out: list[Message]) -> None:
        """One more read for the body being collected; once whole, parse on after it."""
        missing = self._body_want - self._body_have
        if len(chunk) < missing:
            self._body.append(chunk)
            self._body_have += len(chunk)
            return
        pieces = self._body
        if not pieces and missing == len(chunk):
            payload = chunk  # the body is exactly this read: no copy
        else:
            pieces.append(memoryview(chunk)[:missing])
            payload = b"".join(pieces)
        self._body = []
        self._body_have = 0
        self._body_want = -1
        prefix = self._body_prefix
        if not prefix & self._flag_bits:
            out.append((payload, BINARY))
        elif not self._message(prefix, payload, out):
            return
        self._buf, self._pos = chunk, missing
        self._parse(out)

    def _message(self, prefix: int, payload: bytes, out: list[Message]) -> bool:
        """Append the message a flagged prefix says; False after a close frame (EOF)."""
        layout = self.layout
        flags = BINARY
        if prefix & layout.cont_bit:
            flags |= CONTINUES
        if prefix & layout.text_bit:
            flags |= TEXT
        if prefix & layout.ctrl_bit:
            if not payload:
                raise ProtocolError("lengthprefixed: a control frame without its opcode byte")
            opcode = payload[0]
            kind = _OPCODES.get(opcode)
            if kind is None:
                raise ProtocolError(f"lengthprefixed: bad control frame opcode {opcode} (expected 8, 9 or 10)")
            if kind == CLOSE:
                self._eof = True  # as websocat4: a close frame is EOF
                return False
            out.append((payload[1:], flags | kind))
            return True
        out.append((payload, flags))
        return True

    def _truncated(self) -> None:
        self._eof = True
        if self._body_want >= 0:
            raise ProtocolError(
                f"lengthprefixed: the stream ended inside a message ({self._body_have} of {self._body_want} bytes)"
            )
        rest = len(self._buf) - self._pos
        raise ProtocolError(f"lengthprefixed: the stream ended inside a prefix ({rest} of {self.layout.nbytes} bytes)")

    def _too_long(self, length: int) -> None:
        self._eof = True
        raise ProtocolError(
            f"lengthprefixed: a message of {length} bytes is over "
            f"--lengthprefixed-max-message-size ({self.max_message_size} bytes)"
        )

    async def _recv_chunk(self) -> list[Message]:
        """skip_read_direction: each read one binary message, as chunks:."""
        data = await self.stream.read(DEFAULT_READ)
        return [(data, BINARY)] if data else []

    # ------------------------------------------------------------------ writing

    async def send_batch(self, batch: list[Message]) -> None:
        """Write the batch's messages, each after its prefix, in one stream write."""
        if self._closed:
            return  # after a close frame, as after EOF
        out = bytearray()
        layout = self.layout
        pack, text_bit, limit, held = layout.pack, layout.text_bit, self._write_limit, self._parts
        for data, flags in batch:
            if flags <= TEXT and not held:  # a whole data message, none held: the fast path
                size = len(data)
                if size > limit:
                    self._over(size)
                out += pack(size | text_bit if flags else size)
                out += data
            else:
                self._encode(data, flags, out)
                if self._closed:
                    break  # nothing after a close frame
        if out:
            await self.stream.write(out)
        if self._closed:
            await self.stream.write_eof()  # a close message is EOF, as websocat4 shuts down after it

    def _encode(self, data: bytes, flags: int, out: bytearray) -> None:
        """Fragments, control messages and the final fragment of a held message."""
        layout = self.layout
        if self._closed:
            return
        if flags & CONTROL:
            if not layout.ctrl_bit:
                return  # not stream data without --lengthprefixed-include-control
            if not layout.cont_bit:  # a control message in pieces is written whole
                if flags & CONTINUES:
                    self._control_parts.append(data)
                    if sum(map(len, self._control_parts)) > MAX_CONTROL_MESSAGE:
                        raise ProtocolError(f"lengthprefixed: a control message over {MAX_CONTROL_MESSAGE} bytes")
                    return
                if self._control_parts:
                    data = b"".join([*self._control_parts, data])
                    self._control_parts.clear()
            opcode = 8 if flags & CLOSE else 9 if flags & PING else 10
            self._prefix(len(data) + 1, flags, out)
            out.append(opcode)
            out += data
            if flags & CLOSE and not flags & CONTINUES:
                self._closed = True
            return
        if layout.cont_bit:
            self._prefix(len(data), flags, out)
            out += data
            return
        self._held += len(data)
        if self._held > self.max_message_size:
            self._over(self._held)
        if flags & CONTINUES:
            self._parts.append(data)
            return
        if self._parts:
            data = b"".join([*self._parts, data])
            self._parts.clear()  # in place: send_batch holds the list
        self._held = 0
        self._prefix(len(data), flags, out)
        out += data

    def _prefix(self, size: int, flags: int, out: bytearray) -> None:
        layout = self.layout
        if size > layout.mask:
            raise ProtocolError(
                f"lengthprefixed: a message of {size} bytes does not fit a {layout.nbytes}-byte prefix "
                f"(at most {layout.mask})"
            )
        prefix = size
        if flags & TEXT:
            prefix |= layout.text_bit
        if flags & CONTINUES:
            prefix |= layout.cont_bit
        if flags & CONTROL:
            prefix |= layout.ctrl_bit
        out += layout.pack(prefix)

    def _over(self, size: int) -> None:
        if self._write_limit < self.layout.mask:
            raise ProtocolError(
                f"lengthprefixed: a message of {size} bytes is over "
                f"--lengthprefixed-max-message-size ({self.max_message_size} bytes)"
            )
        out = bytearray()
        self._prefix(size, BINARY, out)  # raises: the prefix cannot hold it

    async def _send_raw(self, batch: list[Message]) -> None:
        """skip_write_direction: message bytes written as they are (control messages dropped), as chunks:."""
        out = b"".join([data for data, flags in batch if not flags & CONTROL])
        if out:
            await self.stream.write(out)

    async def send_eof(self) -> None:
        """A close frame first with include_control (as websocat4), then shut the write half."""
        if self._closed:
            return  # shut when the close frame went out
        if self.layout.ctrl_bit and self.writable:
            out = bytearray()
            self._encode(b"", CLOSE, out)
            await self.stream.write(out)
        await self.stream.write_eof()

    async def aclose(self) -> None:
        await self.stream.aclose()


def framed(
    stream: ByteStream,
    *,
    nbytes: int = 4,
    little_endian: bool = False,
    continuations: bool = False,
    include_control: bool = False,
    tag_text: bool = False,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    skip_read_direction: bool = False,
    skip_write_direction: bool = False,
) -> LengthPrefixed:
    """Turn a byte stream into messages, each after a length prefix (websocat4 ``lengthprefixed:``).

    nbytes: prefix size, 1 to 8.  continuations, include_control, tag_text: flag bits
    taken from the prefix's top, in that order (see the module's doc).  max_message_size:
    the longest message read, or written whole from fragments.
    """
    layout = Layout(
        nbytes,
        little_endian=little_endian,
        continuations=continuations,
        include_control=include_control,
        tag_text=tag_text,
    )
    return LengthPrefixed(
        stream,
        layout,
        max_message_size=max_message_size,
        skip_read_direction=skip_read_direction,
        skip_write_direction=skip_write_direction,
    )
