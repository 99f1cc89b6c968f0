"""Parse and render ``mock_stream_socket:`` scenarios (the websocat4 mock grammar).

websocat4 hands the scenario to the ``tokio-io-mock-fork`` crate's text-scenario parser;
this module reads the same language and yields the same actions.  A scenario is a list of
operations, usually separated by ``|``::

    R hello|W hello|ZR 4|W \\x82\\x00|I4|T333|X|D

Operations:

``R data``     a read returns this chunk
``W data``     the program must write exactly these bytes (possibly across several writes)
``N name``     name the mock in error messages (the last ``N`` wins)
``ER`` ``EW``  a read, or a write, fails with an injected I/O error
``T<n>``       pause for n milliseconds (``T0``..``T9`` are 0-9 ms, ``T333`` a third of
               a second, as in websocat4's own tests)
``X``          a read returns EOF (later ``R`` operations can still be read)
``D``          the program must shut down its write half here (``write_eof``)
``Q``          stop checking from here on: later writes are not compared and nothing is
               checked at the end
``ZR<n>``      reads return n zero bytes in all
``ZW<n>``      the program must write n zero bytes
``I<n>``       the next n written bytes are accepted unchecked (e.g. a random mask key)

Numbers are decimal, or hex after ``x`` or ``0x`` (``ZRx10`` and ``ZR0x10`` are 16).  A
missing number is 0.

Case and whitespace, as in the crate's parser:

* command letters are case-insensitive except ``E`` and ``T``, which must be upper case
  (``r``, ``zw``, ``i4`` and ``q`` work; ``er`` and ``t5`` are errors).  The letters after
  ``E`` and ``Z`` and the ``x`` of a hex number may be either case;
* whitespace means space, tab and newline (not ``\\r``).  It is skipped before a command
  letter, between ``E``/``Z`` and their second letter, anywhere inside a number
  (``T 3 3`` is ``T33``) and right after ``R``/``W``/``N``; so a chunk that starts with
  whitespace is written ``R \\ data`` or ``R \\x20data``.  Whitespace later in the chunk,
  including trailing whitespace (``W ping |``), belongs to the data;
* ``|`` ends R, W, N, numbers and E; ``X``, ``D`` and ``Q`` end by themselves
  (``XD`` is X then D), and one ``E`` may be followed by several letters (``ERW`` is ER
  then EW; a bare ``E`` adds nothing).  Empty operations (``||``, a leading or trailing
  ``|``) are ignored;
* escapes in R/W/N data: ``\\0`` ``\\n`` ``\\r`` ``\\t`` ``\\xHH`` (two hex digits); a
  backslash before any other character stands for that character (``\\\\``, ``\\|``,
  ``\\ ``);
* text outside escapes is encoded as UTF-8, so ``R é`` reads the two bytes C3 A9.

Anything the crate rejects is an error here too, reported with its character offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["MockOp", "MockScriptError", "parse_mock_script", "format_mock_ops"]

KINDS = frozenset({"R", "W", "N", "ER", "EW", "T", "X", "D", "Q", "ZR", "ZW", "I"})
NUMBERED = frozenset({"T", "ZR", "ZW", "I"})  # data is a count (T: milliseconds)
MAX_NUMBER = 2**64 - 1  # the crate's numbers are u64
_EXPECTED_OP = "expected R, W, N, ER, EW, T, X, D, Q, ZR, ZW or I"
_SPACES = " \t\n"
_DECIMAL = "0123456789"
_HEX = "0123456789abcdefABCDEF"
_SIMPLE_ESCAPES = {"0": 0, "n": 10, "r": 13, "t": 9}


class MockOp(NamedTuple):
    """One scenario step: ``kind`` is one of R, W, N, ER, EW, T, X, D, Q, ZR, ZW, I.

    ``data`` is the chunk (bytes) for R and W, the name (str) for N, the number (int) for
    T (milliseconds), ZR, ZW and I (bytes), and b"" for ER, EW, X, D and Q.  Being a plain
    tuple, it can be passed straight to ``MockStream`` and printed as a literal in
    generated scripts.
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
    while True:
        pos = _skip(text, pos, _SPACES + "|")  # empty operations are ignored
        if pos >= end:
            break
        start = pos
        char = text[pos]
        letter = char.upper() if char in "rwnxdqiz" else char
        pos += 1
        if letter in ("R", "W", "N"):
            data, pos = _parse_data(text, _skip(text, pos, _SPACES))
            if letter == "N":
                # Names are for messages only: invalid UTF-8 from \x escapes is replaced.
                ops.append(MockOp("N", data.decode("utf-8", errors="replace")))
            else:
                ops.append(MockOp(letter, data))
        elif letter in ("X", "D", "Q"):
            ops.append(MockOp(letter, b""))
        elif letter == "E":
            pos = _parse_errors(text, pos, ops)
        elif letter in ("T", "I"):
            number, pos = _parse_number(text, pos, letter)
            ops.append(MockOp(letter, number))
        elif letter == "Z":
            pos = _skip(text, pos, _SPACES)
            which = text[pos].upper() if pos < end else ""
            if which not in ("R", "W"):
                raise MockScriptError(
                    f"unknown operation 'Z' at {start}: found {_found(text, pos)} at {pos}; " "expected ZR or ZW",
                    pos,
                )
            number, pos = _parse_number(text, pos + 1, "Z" + which)
            ops.append(MockOp("Z" + which, number))
        else:
            hint = " (E and T are upper case only)" if char in "et" else ""
            raise MockScriptError(f"unknown operation {char!r} at {start}; {_EXPECTED_OP}{hint}", start)
    return tuple(ops)


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _found(text: str, pos: int) -> str:
    return "end of script" if pos >= len(text) else repr(text[pos])


def _parse_errors(text: str, pos: int, ops: list[MockOp]) -> int:
    """After ``E``: each R or W letter injects one error, up to '|' or the end."""
    while (pos := _skip(text, pos, _SPACES)) < len(text):
        which = text[pos].upper()
        if which == "|":
            return pos + 1
        if which not in ("R", "W"):
            raise MockScriptError(
                f"unexpected {text[pos]!r} at {pos} after E; expected R or W (ER, EW), " "'|' or end of script",
                pos,
            )
        ops.append(MockOp("E" + which, b""))
        pos += 1
    return pos


def _parse_number(text: str, pos: int, op: str) -> tuple[int, int]:
    """A decimal number, or hex after ``x``/``0x``, up to '|' or the end; whitespace is skipped."""
    value = 0
    base = 0  # 0 until a non-zero decimal digit or the x of a hex prefix
    end = len(text)
    while pos < end:
        char = text[pos]
        if char == "|":
            return value, pos + 1
        if char in _SPACES:
            pass
        elif base != 16 and char in _DECIMAL:
            value = value * 10 + int(char)
            base = 10 if value else 0  # leading zeros keep the 0x prefix possible
        elif base == 0 and char in "xX":
            base = 16
        elif base == 16 and char in _HEX:
            value = value * 16 + int(char, 16)
        else:
            kind = {0: "digits, or x/0x and hex digits,", 10: "decimal digits", 16: "hex digits"}[base]
            raise MockScriptError(
                f"bad number at {pos} after {op}: found {char!r}; expected {kind} " "then '|' or end of script",
                pos,
            )
        if value > MAX_NUMBER:
            raise MockScriptError(f"number too large at {pos} after {op}; the limit is {MAX_NUMBER}", pos)
        pos += 1
    return value, pos


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
            # \\, \|, \  and any other character stand for themselves
            out += code.encode("utf-8")
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
                raise TypeError(f"{kind} operation needs bytes, not {type(data).__name__}")
            parts.append(kind + (" " + _escape(bytes(data)) if data else ""))
        elif kind == "N":
            if not isinstance(data, str):
                raise TypeError(f"N operation needs a str name, not {type(data).__name__}")
            parts.append("N" + (" " + _escape(data.encode("utf-8")) if data else ""))
        elif kind in ("ER", "EW", "X", "D", "Q"):
            parts.append(kind)
        elif kind in NUMBERED:
            if not isinstance(data, int) or isinstance(data, bool) or not 0 <= data <= MAX_NUMBER:
                raise ValueError(f"{kind} operation needs a number 0-{MAX_NUMBER}, not {data!r}")
            parts.append(f"{kind}{data}")
        else:
            raise ValueError(f"unknown operation {kind!r}; expected one of {sorted(KINDS)}")
    return "|".join(parts)


def _escape(data: bytes) -> str:
    out: list[str] = []
    for i, b in enumerate(data):
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x7C:
            out.append("\\|")
        elif b == 0x20 and i == 0:
            # A leading space would be skipped as whitespace after the command letter.
            out.append("\\x20")
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
