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
        ("er", MockOp("ER", b"")),
        ("ew", MockOp("EW", b"")),
        ("t3", MockOp("T", 3)),
        ("Rabc", MockOp("R", b"abc")),  # no space needed after the letter
        ("R    abc", MockOp("R", b"abc")),  # every space after the letter is skipped
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


@pytest.mark.parametrize("step", range(10))
def test_every_sleep_step(step: int) -> None:
    assert parse_mock_script(f"T{step}") == (MockOp("T", step),)


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
        ("R a|Q b", 4, "unknown operation 'Q' at 4; expected R, W, ER, EW, T0-T9 or N"),
        ("R a|  x", 6, "unknown operation 'x' at 6"),
        ("EX", 1, "expected er or ew"),
        ("R a|E", 5, "found end of script at 5; expected er or ew"),
        ("T", 1, "expected a digit 0-9 after t"),
        ("Tx", 1, "found 'x' at 1"),
        ("T10", 2, "unexpected '0' at 2 after t1"),
        ("ER x", 3, "unexpected 'x' at 3 after er; expected '|' or end of script"),
        ("EWW", 2, "after ew"),
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
    for text in ("Q", "E", "T", "ERx", r"R \x", "R \\"):
        with pytest.raises(MockScriptError) as info:
            parse_mock_script(text)
        assert str(info.value)[0].islower()


def test_format_renders_canonical_text() -> None:
    ops = (
        MockOp("R", b"hello"),
        MockOp("W", b" ping |\\\x00\r\n\t\xff\x7f"),
        MockOp("T", 9),
        MockOp("ER", b""),
        MockOp("EW", b""),
        MockOp("N", "é"),
        MockOp("R", b""),
    )
    text = format_mock_ops(ops)
    assert text == r"R hello|W \x20ping \|\\\0\r\n\t\xff\x7f|T9|ER|EW|N \xc3\xa9|R"
    assert parse_mock_script(text) == ops


def test_format_accepts_plain_tuples() -> None:
    assert format_mock_ops([("W", b"a"), ("T", 0)]) == "W a|T0"


@pytest.mark.parametrize(
    ("op", "error"),
    [
        (("Q", b""), ValueError),
        (("T", 10), ValueError),
        (("T", True), ValueError),
        (("R", "text"), TypeError),
        (("N", b"bytes"), TypeError),
    ],
)
def test_format_rejects_bad_ops(
    op: tuple[str, bytes | int | str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        format_mock_ops([op])


names = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
ops_strategy = st.lists(
    st.one_of(
        st.builds(MockOp, st.sampled_from(["R", "W"]), st.binary(max_size=24)),
        st.builds(MockOp, st.sampled_from(["ER", "EW"]), st.just(b"")),
        st.builds(MockOp, st.just("T"), st.integers(0, 9)),
        st.builds(MockOp, st.just("N"), names),
    ),
    max_size=10,
)


@given(ops_strategy)
def test_round_trip_format_then_parse(ops: list[MockOp]) -> None:
    assert parse_mock_script(format_mock_ops(ops)) == tuple(ops)


@given(st.text(st.sampled_from(list("RWENT0123 |\\xaf9Qé")), max_size=30))
def test_any_text_parses_or_fails_cleanly_and_formats_canonically(text: str) -> None:
    try:
        ops = parse_mock_script(text)
    except MockScriptError as exc:
        assert 0 <= exc.offset <= len(text)
        return
    canonical = format_mock_ops(ops)
    assert parse_mock_script(canonical) == ops
    assert format_mock_ops(parse_mock_script(canonical)) == canonical
