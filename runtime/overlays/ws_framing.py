"""WebSocket framing (RFC 6455) a batch at a time, with no I/O inside.

``FrameParser.parse`` turns every complete frame in a buffer into messages in one
tight loop; ``FrameBuilder.build`` turns a batch of messages into one buffer for one
write.  Messages are the runtime's ``(data, flags)`` tuples.  Fragments stream
through as messages with ``CONTINUES`` set and are never reassembled; a data frame
longer than ``STREAM_FRAME_OVER`` is even delivered in pieces as its bytes arrive, so
memory stays bounded whatever length a peer declares.

Measured costs this shape exists for (see ARCHITECTURE.md): about 0.3 us to build and
0.36 us to parse a 40-byte message, 0.11 us of it the C mask call; an await per
message or a write per frame costs 3-8x that.
"""

from __future__ import annotations

import codecs
import importlib.machinery
import os
import struct
import sys
import zlib
from collections.abc import Callable, Iterable

from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays.ws_deflate import Deflater, Inflater, MessageTooBig
from websocat.runtime.rng import random_bytes
from websocat.runtime.sockets import CLOSE, CONTINUES, PING, PONG, TEXT, Message

__all__ = [
    "STREAM_FRAME_OVER",
    "FrameBuilder",
    "FrameError",
    "FrameParser",
    "apply_mask",
    "close_payload",
    "parse_close",
]

# A data frame declaring more than this many bytes is passed on piece by piece as it
# arrives instead of being buffered whole (1 MiB: whole frames up to this size keep
# bulk transfers to one copy per read; beyond it memory matters more).
STREAM_FRAME_OVER = 1 << 20

# Close codes a peer may send (RFC 6455 section 7.4, IANA registry); others fail with 1002.
_VALID_CLOSE_CODES = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014))

_CLOSE_CODE = struct.Struct("!H")
_LENGTH16 = struct.Struct("!BBH")
_LENGTH64 = struct.Struct("!BBQ")


def _python_apply_mask(data: bytes | bytearray | memoryview, mask: bytes | bytearray) -> bytes:
    """XOR ``data`` with the repeated 4-byte ``mask`` (fallback without the C speedups)."""
    size = len(data)
    if not size:
        return b""
    keystream = (bytes(mask) * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "big") ^ int.from_bytes(keystream, "big")).to_bytes(size, "big")


def _load_apply_mask() -> Callable[[bytes | bytearray | memoryview, bytes | bytearray], bytes]:
    """The C ``apply_mask`` of the websockets package, or a pure Python equivalent.

    The extension is loaded from its file without importing the ``websockets`` package:
    that package's ``__init__`` imports ``importlib.metadata``, about 30 ms of start-up
    that every websocat invocation would pay for one function.
    """
    loaded = sys.modules.get("websockets.speedups")
    if loaded is not None:
        return loaded.apply_mask  # type: ignore[no-any-return]
    try:
        for entry in sys.path:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = os.path.join(entry or ".", "websockets", f"speedups{suffix}")
                if not os.path.isfile(path):
                    continue
                loader = importlib.machinery.ExtensionFileLoader("websockets.speedups", path)
                spec = importlib.machinery.ModuleSpec("websockets.speedups", loader, origin=path)
                module = loader.create_module(spec)
                loader.exec_module(module)
                # Not left registered without its package: a later ``import
                # websockets.speedups`` must import ``websockets`` first as usual.
                sys.modules.pop("websockets.speedups", None)
                return module.apply_mask  # type: ignore[no-any-return]
    except (ImportError, OSError, ValueError):
        pass
    return _python_apply_mask


apply_mask = _load_apply_mask()


class FrameError(ProtocolError):
    """The peer broke the WebSocket protocol; ``code`` is the close code to fail with."""

    def __init__(self, message: str, code: int = 1002) -> None:
        super().__init__(f"websocket protocol error: {message}")
        self.code = code


def close_payload(code: int | None = 1000, reason: str = "") -> bytes:
    """The payload of a Close frame: a 2-byte status code and a UTF-8 reason.

    ``code=None`` gives an empty payload (no status code, as RFC 6455 allows).  A reason
    too long for a control frame is cut at a character boundary.
    """
    if code is None:
        return b""
    text = reason.encode("utf-8", "replace")[:123]  # control frames carry at most 125 bytes
    text = text.decode("utf-8", "ignore").encode("utf-8")  # a cut must not split a character
    return _CLOSE_CODE.pack(code) + text


def parse_close(payload: bytes) -> tuple[int, str]:
    """The status code and reason of a Close frame; 1005 when it carried no code.

    Raises FrameError (1002 for a bad code, 1007 for a reason that is not UTF-8).
    """
    if not payload:
        return 1005, ""
    if len(payload) == 1:
        raise FrameError("close frame payload of 1 byte")
    code = (payload[0] << 8) | payload[1]
    if code not in _VALID_CLOSE_CODES and not 3000 <= code <= 4999:
        raise FrameError(f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("close reason is not valid UTF-8", 1007) from None
    return code, reason


def _check_header(b0: int, b1: int, rsv: int) -> None:
    """Fail on a frame header RFC 6455 forbids (checked before its payload is awaited).

    ``rsv``: the reserved bits an extension allows (0x40, RSV1, with permessage-deflate),
    only on the first frame of a data message.
    """
    if b0 & 0x70 & ~rsv:
        raise FrameError("reserved bits set (no extension was negotiated)" if not rsv else "reserved bits set")
    op = b0 & 15
    if b0 & 0x40 and not 0 < op < 3:
        raise FrameError("compressed bit (RSV1) set on a continuation or control frame")
    if op > 2:
        if op < 8 or op > 10:
            raise FrameError(f"reserved opcode {op}")
        if not b0 & 0x80:
            raise FrameError("fragmented control frame")
        if b1 & 127 > 125:
            raise FrameError("control frame longer than 125 bytes")


class FrameParser:
    """Parse WebSocket frames from a buffer into ``(data, flags)`` messages.

    ``expect_masked``: True on a server (frames from clients must be masked), False on a
    client, None to accept either.  State carries over between calls: an open fragmented
    message, a long frame being delivered in pieces, UTF-8 validation of text split
    across fragments.  After a Close frame ``closed`` is set and the rest is ignored.

    ``inflater`` (permessage-deflate negotiated): messages whose first frame has RSV1 set
    are inflated, frame by frame.  ``max_size``: a message longer than this (inflated,
    when compressed) fails with close code 1009.
    """

    __slots__ = (
        "expect_masked",
        "need",
        "closed",
        "_message",
        "_utf8_pending",
        "_decoder",
        "_left",
        "_key",
        "_final",
        "_inflater",
        "_compressed",
        "_limit",
        "_size",
    )

    def __init__(
        self, expect_masked: bool | None, inflater: Inflater | None = None, max_size: int | None = None
    ) -> None:
        self.expect_masked = expect_masked
        # Bytes the unconsumed rest of the buffer must hold before ``parse`` can make
        # progress: callers read on until then instead of re-parsing a growing buffer.
        self.need = 2
        self.closed = False
        self._message = -1  # flags (TEXT or 0) of the open fragmented message; -1: none
        self._utf8_pending = False  # the UTF-8 decoder holds part of a character
        self._decoder: codecs.IncrementalDecoder | None = None
        self._left = 0  # bytes still to come of a frame delivered in pieces
        self._key: bytes | None = None  # its mask key, rotated to the next byte
        self._final = False  # its FIN bit
        self._inflater = inflater
        self._compressed = False  # the open message is compressed (RSV1 on its first frame)
        self._limit = (1 << 64) if max_size is None else max_size  # (checked on frames of 126 bytes and more)
        self._size = 0  # bytes so far of the open uncompressed fragmented message

    def parse(
        self,
        buf: bytes | bytearray,
        out: list[Message],
        control: list[Message] | None = None,
    ) -> int:
        """Append the messages of every complete frame in ``buf`` to ``out``; return bytes consumed.

        Control frames (PING, PONG, CLOSE) go to ``control`` when given, else to ``out``
        in order.  Parsing stops after a Close frame.  Raises FrameError.
        """
        if self.closed:
            return len(buf)
        if type(buf) is not bytes:
            buf = bytes(buf)  # slices of bytes are the bytes messages carry: one copy
        end = len(buf)
        pos = 0
        if self._left:
            pos = self._continue_piece(buf, 0, out)
            if self._left:
                self.need = 1
                return pos
        append = out.append
        cappend = append if control is None else control.append
        expect_masked = self.expect_masked
        message = self._message
        utf8_pending = self._utf8_pending
        rsv = 0 if self._inflater is None else 0x40
        limit = self._limit
        limited = limit < 1 << 64
        need = 0
        long_frame = False
        # One loop, local variables only: this is where small messages spend their time.
        while True:
            avail = end - pos
            if avail < 2:
                need = 2
                break
            b0 = buf[pos]
            b1 = buf[pos + 1]
            if b0 != 0x81 and b0 != 0x82:  # not a whole text or binary message
                _check_header(b0, b1, rsv)
            n = b1 & 127
            if n < 126:
                start = pos + 2
            elif n == 126:
                if avail < 4:
                    need = 4
                    break
                n = (buf[pos + 2] << 8) | buf[pos + 3]
                if n > limit and not (b0 & 0x40 or (b0 & 15 == 0 and self._compressed)):
                    raise FrameError(f"message longer than {limit} bytes", 1009)
                start = pos + 4
            else:
                if avail < 10:
                    need = 10
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                if n >> 63:
                    raise FrameError("frame length has its most significant bit set")
                if n > limit and not (b0 & 0x40 or (b0 & 15 == 0 and self._compressed)):
                    raise FrameError(f"message longer than {limit} bytes", 1009)
                start = pos + 10
            if b1 & 0x80:
                if expect_masked is False:
                    raise FrameError("masked frame from a server")
                start += 4
            elif expect_masked:
                raise FrameError("unmasked frame from a client")
            stop = start + n
            if stop > end:
                if n <= STREAM_FRAME_OVER or b0 & 8:
                    need = stop - pos
                elif start <= end:
                    long_frame = True
                else:
                    need = start - pos  # the header first; the payload comes in pieces
                break
            if b1 & 0x80:
                # Unmasking copies anyway: large payloads are read through a view, not sliced first.
                source = buf[start:stop] if n < 4096 else memoryview(buf)[start:stop]
                payload = apply_mask(source, buf[start - 4 : start])
            else:
                payload = buf[start:stop]
            if b0 == 0x81:  # the commonest frames first
                if message >= 0:
                    raise FrameError("new data frame while a fragmented message is open")
                if not payload.isascii():
                    self._check_utf8(payload, True)
                append((payload, TEXT))
                pos = stop
                continue
            if b0 == 0x82:
                if message >= 0:
                    raise FrameError("new data frame while a fragmented message is open")
                append((payload, 0))
                pos = stop
                continue
            op = b0 & 15
            if op:
                if op > 2:
                    pos = stop
                    if op == 9:
                        cappend((payload, PING))
                    elif op == 10:
                        cappend((payload, PONG))
                    else:
                        parse_close(payload)
                        cappend((payload, CLOSE))
                        self.closed = True
                        break
                    continue
                if message >= 0:
                    raise FrameError("new data frame while a fragmented message is open")
                compressed = self._compressed = b0 & 0x40 != 0
                if b0 & 0x80:  # a whole message here is a compressed one
                    flags = 2 - op
                else:
                    message = 2 - op  # opcode 1 (text) -> TEXT, 2 (binary) -> 0
                    flags = message | CONTINUES
                    if not compressed:
                        self._size = 0
            else:
                if message < 0:
                    raise FrameError("continuation frame without a message to continue")
                compressed = self._compressed
                if b0 & 0x80:
                    flags = message
                    message = -1
                else:
                    flags = message | CONTINUES
            if compressed:
                payload = self._inflate(payload, not flags & CONTINUES)
            elif limited:
                self._add_size(n)
            if flags & TEXT and (utf8_pending or not payload.isascii()):
                utf8_pending = self._check_utf8(payload, not flags & CONTINUES)
            append((payload, flags))
            pos = stop
        self._message = message
        self._utf8_pending = utf8_pending
        if long_frame:
            pos = self._start_pieces(buf, pos, out)
            need = 1
        self.need = need
        return end if self.closed else pos

    def check_partial(self, buf: bytes | bytearray) -> None:
        """Raise FrameError(1007) if the arrived part of an incomplete text frame is not UTF-8."""
        if len(buf) < 2:
            return
        b0 = buf[0]
        b1 = buf[1]
        op = b0 & 15
        if b0 & 0x40 or (op == 0 and self._compressed):
            return  # compressed: checked once inflated
        if op == 1:
            fresh = True
        elif op == 0 and self._message == TEXT:
            fresh = False
        else:
            return
        n = b1 & 127
        hl = 2 + (2 if n == 126 else 8 if n == 127 else 0)
        if len(buf) < hl:
            return
        if n >= 126:
            n = int.from_bytes(buf[2:hl], "big")
        if b1 & 0x80:
            hl += 4
        if len(buf) <= hl:
            return
        payload = bytes(buf[hl : hl + n])
        if b1 & 0x80:
            payload = apply_mask(payload, bytes(buf[hl - 4 : hl]))
        if payload.isascii() and (fresh or not self._utf8_pending):
            return
        dec = codecs.getincrementaldecoder("utf-8")()
        if not fresh and self._decoder is not None:
            dec.setstate(self._decoder.getstate())
        try:
            dec.decode(payload, False)
        except UnicodeDecodeError:
            raise FrameError("text message is not valid UTF-8", 1007) from None
        if _surrogate_start(dec.getstate()[0]):
            raise FrameError("text message is not valid UTF-8", 1007)

    def partial_is_text(self, buf: bytes) -> bool:
        """Whether ``buf`` starts a text frame that is still arriving (binary ones skip partial checks).

        False in the middle of a frame delivered in pieces: ``buf`` starts with payload
        then, and each piece is checked as it is delivered.
        """
        if self._left or not buf or buf[0] & 0x40:
            return False
        op = buf[0] & 15
        return op == 1 or (op == 0 and self._message == TEXT and not self._compressed)

    def _start_pieces(self, buf: bytes, pos: int, out: list[Message]) -> int:
        """Begin delivering the long data frame at ``pos`` in pieces; return bytes consumed."""
        b0 = buf[pos]
        b1 = buf[pos + 1]
        n = b1 & 127
        start = pos + (4 if n == 126 else 10)
        n = int.from_bytes(buf[pos + 2 : start], "big")
        key = None
        if b1 & 0x80:
            key = buf[start : start + 4]
            start += 4
        op = b0 & 15
        if op:
            if self._message >= 0:
                raise FrameError("new data frame while a fragmented message is open")
            self._message = 2 - op
            self._compressed = b0 & 0x40 != 0
            self._size = 0
        elif self._message < 0:
            raise FrameError("continuation frame without a message to continue")
        if not self._compressed and self._limit < 1 << 64:
            self._add_size(n)
        self._left = n
        self._key = key
        self._final = bool(b0 & 0x80)
        return self._continue_piece(buf, start, out)

    def _continue_piece(self, buf: bytes, pos: int, out: list[Message]) -> int:
        """Deliver the bytes of a long frame present at ``pos``; return the new position."""
        take = min(self._left, len(buf) - pos)
        if not take:
            return pos
        piece = buf[pos : pos + take]
        key = self._key
        if key is not None:
            piece = apply_mask(piece, key)
            shift = take & 3
            self._key = key[shift:] + key[:shift]  # the next piece starts mid-key
        self._left -= take
        flags = self._message
        if self._left or not self._final:
            flags |= CONTINUES
        else:
            self._message = -1
        if self._compressed:
            piece = self._inflate(piece, not flags & CONTINUES)
        if flags & TEXT and (self._utf8_pending or not piece.isascii()):
            self._utf8_pending = self._check_utf8(piece, not flags & CONTINUES)
        out.append((piece, flags))
        return pos + take

    def _inflate(self, payload: bytes, final: bool) -> bytes:
        """The inflated payload of a frame of a compressed message (permessage-deflate)."""
        inflater = self._inflater
        assert inflater is not None  # RSV1 is refused unless deflate was negotiated
        try:
            return inflater.inflate(payload, final)
        except MessageTooBig:
            raise FrameError(f"compressed message inflates to more than {inflater.limit} bytes", 1009) from None
        except zlib.error:
            raise FrameError("compressed message is not valid deflate data", 1007) from None

    def _add_size(self, n: int) -> None:
        """Count a frame of an uncompressed fragmented message against the size limit."""
        self._size += n
        if self._size > self._limit:
            raise FrameError(f"message longer than {self._limit} bytes", 1009)

    def _check_utf8(self, payload: bytes, final: bool) -> bool:
        """Validate text that is not plain ASCII; return True while a character is split."""
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(payload, final)
        except UnicodeDecodeError:
            raise FrameError("text message is not valid UTF-8", 1007) from None
        if final:
            decoder.reset()
            return False
        pending = decoder.getstate()[0]
        if _surrogate_start(pending):
            raise FrameError("text message is not valid UTF-8", 1007)
        return bool(pending)


def _surrogate_start(pending: bytes) -> bool:
    """CPython's decoder holds back ED A0..ED BF (a UTF-16 surrogate, never valid) until a third byte."""
    return len(pending) >= 2 and pending[0] == 0xED and pending[1] >= 0xA0


class FrameBuilder:
    """Build WebSocket frames for batches of ``(data, flags)`` messages.

    ``mask``: True on a client (every frame gets a fresh random 4-byte key).  Tracks an
    open outgoing fragmented message, so the message after a ``CONTINUES`` one goes out
    as a continuation frame.  After a CLOSE message ``closed`` is set and later
    messages are dropped: RFC 6455 allows nothing after a Close frame.

    ``deflater`` (permessage-deflate negotiated): every data message is compressed, RSV1
    set on its first frame; control frames never are.
    """

    __slots__ = ("mask", "fragmenting", "closed", "deflater")

    def __init__(self, mask: bool, deflater: Deflater | None = None) -> None:
        self.mask = mask
        self.fragmenting = False
        self.closed = False
        self.deflater = deflater

    def build(self, batch: Iterable[Message]) -> bytearray:
        """All frames of ``batch`` in one buffer, to be written with one write."""
        if not isinstance(batch, list):
            batch = list(batch)
        out = bytearray()
        if self.closed:
            return out
        if self.deflater is not None:
            return self._build_compressed(batch, out)
        append = out.append
        mask = self.mask
        keys = random_bytes(4 * len(batch)) if mask else b""
        k = 0
        fragmenting = self.fragmenting
        for data, flags in batch:
            if flags & 28:  # PING | PONG | CLOSE: rare, and never part of a fragmented message
                self.fragmenting = fragmenting
                self._control(out, data, flags, keys[k : k + 4])
                k += 4
                if self.closed:
                    return out
                continue
            if fragmenting:
                b0 = 0
            else:
                b0 = 2 - (flags & TEXT)  # opcode 1 for text, 2 for binary
            if flags & CONTINUES:
                fragmenting = True
            else:
                fragmenting = False
                b0 |= 0x80
            n = len(data)
            if mask:
                if n < 126:
                    append(b0)
                    append(n | 0x80)
                elif n < 65536:
                    out += _LENGTH16.pack(b0, 254, n)
                else:
                    out += _LENGTH64.pack(b0, 255, n)
                k4 = k + 4
                key = keys[k:k4]
                k = k4
                out += key
                out += apply_mask(data, key)
            else:
                if n < 126:
                    append(b0)
                    append(n)
                elif n < 65536:
                    out += _LENGTH16.pack(b0, 126, n)
                else:
                    out += _LENGTH64.pack(b0, 127, n)
                out += data
        self.fragmenting = fragmenting
        return out

    def _build_compressed(self, batch: list[Message], out: bytearray) -> bytearray:
        """``build`` with permessage-deflate: each message (or fragment) compressed, then framed."""
        deflater = self.deflater
        assert deflater is not None
        mask = self.mask
        keys = random_bytes(4 * len(batch)) if mask else b""
        k = 0
        for data, flags in batch:
            key = keys[k : k + 4]
            k += 4
            if flags & 28:
                self._control(out, data, flags, key)
                if self.closed:
                    return out
                continue
            final = not flags & CONTINUES
            b0 = 0 if self.fragmenting else 0x40 | (2 - (flags & TEXT))  # RSV1 on the first frame
            self.fragmenting = not final
            if final:
                b0 |= 0x80
            payload = deflater.compress(data, final)
            n = len(payload)
            if n < 126:
                out.append(b0)
                out.append(n | 0x80 if mask else n)
            elif n < 65536:
                out += _LENGTH16.pack(b0, 254 if mask else 126, n)
            else:
                out += _LENGTH64.pack(b0, 255 if mask else 127, n)
            if mask:
                out += key
                out += apply_mask(payload, key)
            else:
                out += payload
        return out

    def close_frame(self, code: int | None = 1000, reason: str = "") -> bytearray:
        """A Close frame with a status code and reason (``code=None``: no payload)."""
        return self.build([(close_payload(code, reason), CLOSE)])

    def _control(self, out: bytearray, data: bytes, flags: int, key: bytes) -> None:
        """Append one control frame; a CLOSE one marks the builder closed."""
        if flags & CLOSE:
            op = 8
            self.closed = True
        else:
            op = 9 if flags & PING else 10
        n = len(data)
        if n > 125:
            raise ProtocolError(f"websocket control message of {n} bytes (the limit is 125)")
        if self.mask:
            out.append(0x80 | op)
            out.append(0x80 | n)
            out += key
            out += apply_mask(data, key)
        else:
            out.append(0x80 | op)
            out.append(n)
            out += data
