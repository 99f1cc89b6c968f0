"""The mock_stream_socket scenario parser and formatter (websocat.planner.mockscript)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from websocat.planner.mockscript import (
    MockOp,
    MockScriptError,
    format_mock_ops,
    parse_mock_script,
)


def test_websocat4_documentation_example() -> None:
    text = r"R hello|R world|W ping |R pong|T5|R zero byte \0 other escapes \| \xff \r\n\t|EW"
    assert parse_mock_script(text) == (
        MockOp("R", b"hello"),
        MockOp("R", b"world"),
        MockOp("W", b"ping "),
        MockOp("R", b"pong"),
        MockOp("T", 5),
        MockOp("R", b"zero byte \x00 other escapes | \xff \r\n\t"),
        MockOp("EW", b""),
    )


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("R abc", MockOp("R", b"abc")),
        ("W abc", MockOp("W", b"abc")),
        ("ER", MockOp("ER", b"")),
        ("EW", MockOp("EW", b"")),
        ("N server", MockOp("N", "server")),
        ("r abc", MockOp("R", b"abc")),
        ("w abc", MockOp("W", b"abc")),
        ("n x", MockOp("N", "x")),
        ("Er", MockOp("ER", b"")),  # the second letter may be lower case
        ("Ew", MockOp("EW", b"")),
        ("X", MockOp("X", b"")),
        ("x", MockOp("X", b"")),
        ("D", MockOp("D", b"")),
        ("d", MockOp("D", b"")),
        ("Q", MockOp("Q", b"")),
        ("q", MockOp("Q", b"")),
        ("ZR5", MockOp("ZR", 5)),
        ("zr5", MockOp("ZR", 5)),
        ("Zr 70000", MockOp("ZR", 70000)),
        ("ZW5", MockOp("ZW", 5)),
        ("zW 5", MockOp("ZW", 5)),
        ("Z W5", MockOp("ZW", 5)),
        ("I4", MockOp("I", 4)),
        ("i4", MockOp("I", 4)),
        ("T333", MockOp("T", 333)),  # milliseconds, as the crate's T
        ("Rabc", MockOp("R", b"abc")),  # no space needed after the letter
        ("R    abc", MockOp("R", b"abc")),  # every space after the letter is skipped
        ("R \t\n abc", MockOp("R", b"abc")),  # and tabs and newlines
        ("R\rabc", MockOp("R", b"\rabc")),  # but not carriage returns, as in the crate
        ("R", MockOp("R", b"")),
        ("W ", MockOp("W", b"")),
        ("N", MockOp("N", "")),
        ("E R", MockOp("ER", b"")),
        ("T 4", MockOp("T", 4)),
        ("ER  ", MockOp("ER", b"")),
        ("T1 ", MockOp("T", 1)),
    ],
)
def test_each_operation(text: str, op: MockOp) -> None:
    assert parse_mock_script(text) == (op,)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("9", 9),
        ("123", 123),
        ("007", 7),
        ("x456", 0x456),
        ("X456", 0x456),
        ("0x112233", 0x112233),
        ("0XaB", 0xAB),
        ("00x10", 16),  # zeros before the x are still a prefix
        ("", 0),  # a missing number is 0
        ("x", 0),
        (" 1 2\t3 ", 123),  # whitespace anywhere in a number is skipped
        ("18446744073709551615", 2**64 - 1),
    ],
)
def test_numbers_decimal_or_hex(text: str, value: int) -> None:
    for op in ("T", "ZR", "ZW", "I"):
        assert parse_mock_script(f"{op}{text}|R a") == (MockOp(op, value), MockOp("R", b"a"))


def test_crate_examples() -> None:
    """The examples in tokio-io-mock-fork's text_scenario docs and tests."""
    assert parse_mock_script("T4|ER|EW|N qwerty") == (
        MockOp("T", 4),
        MockOp("ER", b""),
        MockOp("EW", b""),
        MockOp("N", "qwerty"),
    )
    assert parse_mock_script("ZR45|ZW0|ZRx34|zw0x20") == (
        MockOp("ZR", 45),
        MockOp("ZW", 0),
        MockOp("ZR", 0x34),
        MockOp("ZW", 0x20),
    )
    assert parse_mock_script("X|Q|I55|D") == (
        MockOp("X", b""),
        MockOp("Q", b""),
        MockOp("I", 55),
        MockOp("D", b""),
    )
    assert parse_mock_script(r"R \x55\x00| ZR x5500| R \x00\x03| ZR 3") == (
        MockOp("R", b"\x55\x00"),
        MockOp("ZR", 0x5500),
        MockOp("R", b"\x00\x03"),
        MockOp("ZR", 3),
    )
    assert parse_mock_script("N calc|R 2+2|W 4|R 3+$RANDOM|Q") == (
        MockOp("N", "calc"),
        MockOp("R", b"2+2"),
        MockOp("W", b"4"),
        MockOp("R", b"3+$RANDOM"),
        MockOp("Q", b""),
    )
    assert parse_mock_script("R PING|W PONG|T5000|R PING|W PONG|T5000|ER")[2] == MockOp("T", 5000)


def test_letters_without_data_need_no_separator() -> None:
    assert parse_mock_script("XDQ R a") == (
        MockOp("X", b""),
        MockOp("D", b""),
        MockOp("Q", b""),
        MockOp("R", b"a"),
    )


def test_one_e_injects_several_errors() -> None:
    assert parse_mock_script("ERW|E r w|E|E") == (
        MockOp("ER", b""),
        MockOp("EW", b""),
        MockOp("ER", b""),
        MockOp("EW", b""),
    )


def test_websocat4_mask_key_scenario() -> None:
    """A masked empty Close from a client: known header, random key."""
    assert parse_mock_script(r"W \x88\x80|I4") == (MockOp("W", b"\x88\x80"), MockOp("I", 4))


@pytest.mark.parametrize(
    ("escape", "byte"),
    [
        (r"\0", b"\x00"),
        (r"\n", b"\n"),
        (r"\r", b"\r"),
        (r"\t", b"\t"),
        (r"\\", b"\\"),
        (r"\|", b"|"),
        (r"\ ", b" "),
        (r"\xff", b"\xff"),
        (r"\x00", b"\x00"),
        (r"\xAb", b"\xab"),
        (r"\x7C", b"|"),
        (r"\q", b"q"),  # any other escaped character stands for itself, as in websocat4
        ("\\é", "é".encode()),
    ],
)
def test_every_escape(escape: str, byte: bytes) -> None:
    assert parse_mock_script(f"W a{escape}b") == (MockOp("W", b"a" + byte + b"b"),)


def test_escape_at_start_keeps_leading_space() -> None:
    assert parse_mock_script(r"R \ x") == (MockOp("R", b" x"),)
    assert parse_mock_script(r"R \x20x") == (MockOp("R", b" x"),)


def test_spaces_inside_and_after_data_are_kept() -> None:
    assert parse_mock_script("W ping |R a b  ") == (
        MockOp("W", b"ping "),
        MockOp("R", b"a b  "),
    )


def test_non_ascii_text_is_utf8() -> None:
    assert parse_mock_script("R héllo ✓|N сервер") == (
        MockOp("R", "héllo ✓".encode()),
        MockOp("N", "сервер"),
    )


def test_name_with_invalid_utf8_is_replaced() -> None:
    assert parse_mock_script(r"N a\xffb") == (MockOp("N", "a\ufffdb"),)


def test_empty_operations_and_separator_spaces_are_ignored() -> None:
    assert parse_mock_script("") == ()
    assert parse_mock_script("   ") == ()
    assert parse_mock_script("|| R a||  |W b|") == (
        MockOp("R", b"a"),
        MockOp("W", b"b"),
    )


def test_ops_are_plain_tuples() -> None:
    (op,) = parse_mock_script("R x")
    assert op.kind == "R" and op.data == b"x"
    assert isinstance(op, tuple) and tuple(op) == ("R", b"x")


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("R a|Y b", 4, "unknown operation 'Y' at 4; expected R, W, N, ER, EW, T, X, D, Q, ZR, ZW or I"),
        ("R a|  y", 6, "unknown operation 'y' at 6"),
        (
            "t5",
            0,
            "unknown operation 't' at 0; expected r, w, n, er, ew, t, x, d, q, zr, zw or i (e and t are upper case only)",
        ),
        ("er", 0, "(e and t are upper case only)"),
        ("R a|\rR b", 4, "unknown operation '\\r' at 4"),
        ("EX", 1, "unexpected 'x' at 1 after e; expected r or w (er, ew), '|' or end of script"),
        ("ER x", 3, "unexpected 'x' at 3 after e"),
        ("Z", 1, "unknown operation 'z' at 0: found end of script at 1; expected zr or zw"),
        ("ZQ1", 1, "found 'q' at 1; expected zr or zw"),
        ("T5R", 2, "bad number at 2 after t: found 'r'; expected decimal digits then '|' or end of script"),
        ("T1x", 2, "found 'x'; expected decimal digits"),
        ("ZR0xg", 4, "bad number at 4 after zr: found 'g'; expected hex digits"),
        ("ZWxx", 3, "after zw: found 'x'; expected hex digits"),
        ("I-1", 1, "bad number at 1 after i: found '-'; expected digits, or x/0x and hex digits,"),
        ("T18446744073709551616", 20, "number too large at 20 after t; the limit is 18446744073709551615"),
        (r"R a\x4", 3, "expected two hex digits after \\x"),
        (r"R a\xzz|W b", 3, "bad escape '\\\\xzz' at 3"),
        ("R a\\", 3, "lone backslash at 3"),
        ("é", 0, "unknown operation 'é' at 0"),
    ],
)
def test_errors_say_what_and_where(text: str, offset: int, fragment: str) -> None:
    with pytest.raises(MockScriptError) as info:
        parse_mock_script(text)
    message = str(info.value)
    assert fragment.lower() in message.lower()
    assert f" at {offset}" in message
    assert info.value.offset == offset
    assert isinstance(info.value, ValueError)


def test_error_messages_are_lower_case_sentences() -> None:
    for text in ("Y", "Ex", "Tq", "Z", "ERx", r"R \x", "R \\", "T99999999999999999999"):
        with pytest.raises(MockScriptError) as info:
            parse_mock_script(text)
        assert str(info.value)[0].islower()


def test_format_renders_canonical_text() -> None:
    ops = (
        MockOp("R", b"hello"),
        MockOp("W", b" ping |\\\x00\r\n\t\xff\x7f"),
        MockOp("T", 333),
        MockOp("ER", b""),
        MockOp("EW", b""),
        MockOp("N", "é"),
        MockOp("R", b""),
        MockOp("X", b""),
        MockOp("D", b""),
        MockOp("Q", b""),
        MockOp("ZR", 70000),
        MockOp("ZW", 0),
        MockOp("I", 4),
        MockOp("W", b"\tx"),
    )
    text = format_mock_ops(ops)
    assert text == (r"R hello|W \x20ping \|\\\0\r\n\t\xff\x7f|T333|ER|EW|N \xc3\xa9|R|X|D|Q|ZR70000|ZW0|I4|W \tx")
    assert parse_mock_script(text) == ops


def test_format_accepts_plain_tuples() -> None:
    assert format_mock_ops([("W", b"a"), ("T", 0)]) == "W a|T0"


@pytest.mark.parametrize(
    ("op", "error"),
    [
        (("Y", b""), ValueError),
        (("T", -1), ValueError),
        (("T", True), ValueError),
        (("ZR", 2**64), ValueError),
        (("I", "4"), ValueError),
        (("R", "text"), TypeError),
        (("N", b"bytes"), TypeError),
    ],
)
def test_format_rejects_bad_ops(op: tuple[str, bytes | int | str], error: type[Exception]) -> None:
    with pytest.raises(error):
        format_mock_ops([op])


names = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
ops_strategy = st.lists(
    st.one_of(
        st.builds(MockOp, st.sampled_from(["R", "W"]), st.binary(max_size=24)),
        st.builds(MockOp, st.sampled_from(["ER", "EW", "X", "D", "Q"]), st.just(b"")),
        st.builds(MockOp, st.sampled_from(["T", "ZR", "ZW", "I"]), st.integers(0, 2**64 - 1)),
        st.builds(MockOp, st.just("N"), names),
    ),
    max_size=10,
)


@given(ops_strategy)
def test_round_trip_format_then_parse(ops: list[MockOp]) -> None:
    assert parse_mock_script(format_mock_ops(ops)) == tuple(ops)


@given(st.text(st.sampled_from(list("RWENTXDQZIrwzxq0123 \t\n|\\xaf9é")), max_size=30))
def test_any_text_parses_or_fails_cleanly_and_formats_canonically(text: str) -> None:
    try:
        ops = parse_mock_script(text)
    except MockScriptError as exc:
        assert 0 <= exc.offset <= len(text)
        return
    canonical = format_mock_ops(ops)
    assert parse_mock_script(canonical) == ops
    assert format_mock_ops(parse_mock_script(canonical)) == canonical
