"""Parse and render ``mock_stream_socket:`` scenarios (the websocat4 mock grammar).

A scenario is a list of operations separated by ``|``::

    R hello|R world|W ping |R pong|T5|R zero byte \\0 other escapes \\| \\xff \\r\\n\\t|EW

Operations (the command letter is case-insensitive, as in websocat4):

``R data``   a read returns this chunk
``W data``   the program must write exactly these bytes (possibly across several writes)
``ER``       a read fails with an injected I/O error
``EW``       a write fails with an injected I/O error
``T0``-``T9`` pause, from about 1 ms to an hour (the table is ``MOCK_SLEEP_SECONDS`` in
             ``websocat.runtime.endpoints.mock``)
``N name``   name the mock in error messages

Details that match websocat4:

* spaces before a command letter and right after ``R``/``W``/``N`` are skipped, so a chunk
  that starts with a space is written ``R \\ data`` or ``R \\x20data``; spaces later in the
  chunk, including trailing ones (``W ping |``), belong to the data;
* empty operations (``||``, a leading or trailing ``|``) are ignored;
* escapes: ``\\0`` ``\\n`` ``\\r`` ``\\t`` ``\\xHH`` (two hex digits); a backslash before any
  other character stands for that character (``\\\\``, ``\\|``, ``\\ ``);
* text outside escapes is encoded as UTF-8, so ``R é`` reads the two bytes C3 A9.

Unlike websocat4, anything after ``ER``, ``EW`` or ``Tn`` other than spaces is an error
rather than being silently accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["MockOp", "MockScriptError", "parse_mock_script", "format_mock_ops"]

KINDS = frozenset({"R", "W", "ER", "EW", "T", "N"})
_EXPECTED_OP = "expected R, W, ER, EW, T0-T9 or N"
_HEX = "0123456789abcdefABCDEF"
_SIMPLE_ESCAPES = {"0": 0, "n": 10, "r": 13, "t": 9}


class MockOp(NamedTuple):
    """One scenario step: ``kind`` is R, W, ER, EW, T or N.

    ``data`` is the chunk (bytes) for R and W, the sleep step 0-9 (int) for T, the name
    (str) for N and b"" for ER and EW.  Being a plain tuple, it can be passed straight to
    ``MockStream`` and printed as a literal in generated scripts.
    """

    kind: str
    data: bytes | int | str


class MockScriptError(ValueError):
    """The scenario text does not follow the mock grammar; ``offset`` is the character index."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def parse_mock_script(text: str) -> tuple[MockOp, ...]:
    """Parse a ``mock_stream_socket:`` scenario into operations, in order."""
    ops: list[MockOp] = []
    pos = 0
    end = len(text)
    while pos < end:
        pos = _skip_spaces(text, pos)
        if pos >= end:
            break
        start = pos
        letter = text[pos].upper()
        pos += 1
        if text[start] == "|":
            continue  # empty operation: ignored, as websocat4 does
        if letter in ("R", "W", "N"):
            data, pos = _parse_data(text, _skip_spaces(text, pos))
            if letter == "N":
                # Names are for messages only: invalid UTF-8 from \x escapes is replaced.
                ops.append(MockOp("N", data.decode("utf-8", errors="replace")))
            else:
                ops.append(MockOp(letter, data))
        elif letter == "E":
            pos = _skip_spaces(text, pos)
            which = text[pos].upper() if pos < end else ""
            if which not in ("R", "W"):
                found = "end of script" if pos >= end else repr(text[pos])
                raise MockScriptError(
                    f"unknown operation 'E' at {start}: found {found} at {pos}; expected ER or EW",
                    pos,
                )
            ops.append(MockOp("E" + which, b""))
            pos = _expect_op_end(text, pos + 1, "E" + which)
        elif letter == "T":
            pos = _skip_spaces(text, pos)
            digit = text[pos] if pos < end else ""
            if not ("0" <= digit <= "9" and len(digit) == 1):
                found = "end of script" if pos >= end else repr(digit)
                raise MockScriptError(
                    f"bad sleep at {start}: found {found} at {pos}; expected a digit 0-9 after T",
                    pos,
                )
            ops.append(MockOp("T", int(digit)))
            pos = _expect_op_end(text, pos + 1, "T" + digit)
        else:
            raise MockScriptError(
                f"unknown operation {text[start]!r} at {start}; {_EXPECTED_OP}", start
            )
    return tuple(ops)


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    return pos


def _expect_op_end(text: str, pos: int, op: str) -> int:
    """Skip trailing spaces after a data-less operation; it must end at '|' or the text end."""
    pos = _skip_spaces(text, pos)
    if pos < len(text) and text[pos] != "|":
        raise MockScriptError(
            f"unexpected {text[pos]!r} at {pos} after {op}; expected '|' or end of script",
            pos,
        )
    return pos + 1


def _parse_data(text: str, pos: int) -> tuple[bytes, int]:
    """Read an R/W/N payload up to the next unescaped '|'; return it and the resume offset."""
    out = bytearray()
    end = len(text)
    run_start = pos
    while pos < end:
        ch = text[pos]
        if ch == "|":
            break
        if ch != "\\":
            pos += 1
            continue
        # Flush the literal run before the escape in one encode call.
        out += text[run_start:pos].encode("utf-8")
        if pos + 1 >= end:
            raise MockScriptError(
                f"lone backslash at {pos} at end of script; expected an escape such as \\n, \\xff or \\|",
                pos,
            )
        code = text[pos + 1]
        if code in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[code])
            pos += 2
        elif code == "x":
            digits = text[pos + 2 : pos + 4]
            if len(digits) != 2 or any(d not in _HEX for d in digits):
                raise MockScriptError(
                    f"bad escape {text[pos : pos + 4]!r} at {pos}; expected two hex digits after \\x",
                    pos,
                )
            out.append(int(digits, 16))
            pos += 4
        else:
            out += code.encode(
                "utf-8"
            )  # \\, \|, \  and any other character stand for themselves
            pos += 2
        run_start = pos
    out += text[run_start:pos].encode("utf-8")
    return bytes(out), pos + 1


def format_mock_ops(ops: Iterable[tuple[str, bytes | int | str]]) -> str:
    """Render operations back to scenario text that ``parse_mock_script`` reads identically."""
    parts: list[str] = []
    for kind, data in ops:
        if kind in ("R", "W"):
            if not isinstance(data, bytes | bytearray):
                raise TypeError(
                    f"{kind} operation needs bytes, not {type(data).__name__}"
                )
            parts.append(kind + (" " + _escape(bytes(data)) if data else ""))
        elif kind == "N":
            if not isinstance(data, str):
                raise TypeError(
                    f"N operation needs a str name, not {type(data).__name__}"
                )
            parts.append("N" + (" " + _escape(data.encode("utf-8")) if data else ""))
        elif kind in ("ER", "EW"):
            parts.append(kind)
        elif kind == "T":
            if (
                not isinstance(data, int)
                or isinstance(data, bool)
                or not 0 <= data <= 9
            ):
                raise ValueError(f"T operation needs a step 0-9, not {data!r}")
            parts.append(f"T{data}")
        else:
            raise ValueError(
                f"unknown operation {kind!r}; expected one of {sorted(KINDS)}"
            )
    return "|".join(parts)


def _escape(data: bytes) -> str:
    out: list[str] = []
    for i, b in enumerate(data):
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x7C:
            out.append("\\|")
        elif b == 0x20 and i == 0:
            out.append(
                "\\x20"
            )  # a leading space would be skipped as separator whitespace
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        elif b == 0:
            out.append("\\0")
        elif b == 10:
            out.append("\\n")
        elif b == 13:
            out.append("\\r")
        elif b == 9:
            out.append("\\t")
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)
