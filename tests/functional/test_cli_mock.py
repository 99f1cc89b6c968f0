"""mock_stream_socket: through the real command: every operation of the tokio-io-mock-fork
grammar alone, then with ws-ll-client:/ws-ll-server:, chunks: and lines:.

A mismatch is one line on stderr naming the mock and the action, exit code 4; a bad
scenario is a usage error, exit code 2.
"""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest
from conftest import Websocat

OK, FAILURE, USAGE, PROTOCOL = 0, 1, 2, 4


def esc(data: bytes) -> str:
    """Scenario text for arbitrary bytes."""
    return "".join(f"\\x{b:02x}" for b in data)


def check(result: subprocess.CompletedProcess[bytes], code: int, stdout: bytes | None = None, *fragments: str) -> None:
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert result.returncode == code, err
    if stdout is not None:
        assert result.stdout == stdout
    if code == OK:
        assert err == ""
    else:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("websocat: "), lines
        for fragment in fragments:
            assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


# -- every operation alone: (args, stdin, exit code, stdout, fragments of the error line)
ALONE: dict[str, tuple[list[str], bytes, int, bytes | None, tuple[str, ...]]] = {
    "R": (["-b", "mss:R hello|R  world"], b"", OK, b"helloworld", ()),
    "R-unread": (
        ["-b", "mss:R a|X|R b"],
        b"",
        PROTOCOL,
        b"a",
        ("action 3 (R): expected a read of b'b' but the socket was closed",),
    ),
    "W": (["-b", "mss:W hello"], b"hello", OK, b"", ()),
    "W-mismatch": (
        ["-b", "mss:W hello"],
        b"hellx",
        PROTOCOL,
        b"",
        ("mock_stream_socket: action 1 (W): expected b'hello' but got b'hellx'",),
    ),
    "W-missing": (["-b", "mss:W hello"], b"hel", PROTOCOL, b"", ("action 1 (W): expected b'lo' but got EOF",)),
    "N": (
        ["-b", "mss:N srv|W a"],
        b"b",
        PROTOCOL,
        b"",
        ("mock_stream_socket srv: action 2 (W): expected b'a' but got b'b'",),
    ),
    "ER": (["-b", "mss:R hi|ER"], b"", FAILURE, b"hi", ("mock_stream_socket: injected read error",)),
    "EW": (["-b", "mss:EW"], b"x", FAILURE, b"", ("mock_stream_socket: injected write error",)),
    "ERW": (["-b", "mss:ERW", "mirror:"], b"", FAILURE, b"", ("injected read error",)),
    "X": (["-b", "mss:R a|X"], b"", OK, b"a", ()),
    "X-unseen": (
        ["-b", "-U", "mss:X"],
        b"",
        PROTOCOL,
        b"",
        ("action 1 (X): expected a read (to return EOF) but the socket was closed",),
    ),
    "D": (["-b", "mss:W bye|D"], b"bye", OK, b"", ()),
    "D-before-reads": (["-b", "mss:R a|D|R b"], b"", OK, b"ab", ()),
    # ws-ll-server: never shuts down the stream below it, so that D is never met.
    "D-unmet": (
        ["-b", "chunks:mss:R A", r"ws-ll-server:mss:W \x82\x01A\x88\x00|X|D"],
        b"",
        PROTOCOL,
        b"",
        ("action 3 (D): expected a shutdown (write_eof) but the socket was closed",),
    ),
    "Q": (["-b", "mss:R hi|Q|W zz|R tail", "mirror:"], b"", OK, b"", ()),
    "ZR": (["-b", "mss:ZR70000|R !"], b"", OK, bytes(70000) + b"!", ()),
    "ZR-hex": (["-b", "mss:ZRx10|R |ZR0x10"], b"", OK, bytes(32), ()),
    "ZW": (["-b", "mss:ZW70000"], bytes(70000), OK, b"", ()),
    "ZW-mismatch": (
        ["-b", "mss:ZW70000"],
        bytes(69999) + b"\x01",
        PROTOCOL,
        b"",
        # how many bytes were still expected depends on how the pipe was read
        ("action 1 (ZW): expected ", " more of 70000 zero bytes but got b'\\x01' at offset 69999 of the span"),
    ),
    "I": (["-b", "mss:I4|W end"], b"\xde\xad\xbe\xefend", OK, b"", ()),
    "I-then-W-mismatch": (
        ["-b", "mss:I4|W end"],
        b"\xde\xad\xbe\xefEnd",
        PROTOCOL,
        b"",
        ("action 2 (W): expected b'end' but got b'End'",),
    ),
    "lower-case-letters": (["-b", "mss:r a|w b|zr1|zw1|i1|x|d|q"], b"b\x00z", OK, b"a\x00", ()),
    "whitespace": (["-b", "mss: R\t\na |\n W b|T 1 0"], b"b", OK, b"a ", ()),
    "lower-case-t": (["-b", "mss:t5"], b"", USAGE, b"", ("unknown operation 't' at 0", "upper case")),
    "bad-number": (["-b", "mss:ZR12x"], b"", USAGE, b"", ("bad number at 4 after ZR",)),
}


@pytest.mark.parametrize("args, stdin, code, stdout, fragments", list(ALONE.values()), ids=list(ALONE))
def test_each_operation(
    websocat: Websocat, args: list[str], stdin: bytes, code: int, stdout: bytes | None, fragments: tuple[str, ...]
) -> None:
    check(websocat.run(*args, input=stdin), code, stdout, *fragments)


def test_t_pauses_milliseconds(websocat: Websocat) -> None:
    start = time.monotonic()
    check(websocat.run("-b", "mss:R a|T400|R b"), OK, b"ab")
    assert time.monotonic() - start >= 0.4


def test_q_without_which_the_same_scenario_fails(websocat: Websocat) -> None:
    check(websocat.run("-b", "mss:R hi|Q|W zz", "mirror:"), OK, b"")
    check(websocat.run("-b", "mss:R hi|W zz", "mirror:"), PROTOCOL, b"", "action 2 (W): expected b'zz' but got b'hi'")


def test_read_eof_then_shutdown_with_a_mirror(websocat: Websocat) -> None:
    check(websocat.run("-b", "mss:R hello|W hello|X|D", "mirror:"), OK, b"")
    check(websocat.run("-b", "mss:R hello|W hello|X|D|R more", "mirror:"), PROTOCOL, b"", "action 5 (R)")


# -- with ws-ll-client: (masked frames: I4 skips the random key)


def test_ws_client_close_at_eof_is_empty_and_masked(websocat: Websocat) -> None:
    check(websocat.run("-b", "chunks:mss:R ABC", r"ws-ll-client:mss:W \x82\x83|I7|W \x88\x80|I4"), OK)


def test_ws_client_mismatch_names_the_action(websocat: Websocat) -> None:
    check(
        websocat.run("-b", "chunks:mss:R ABC", r"ws-ll-client:mss:N ws|W \x82\x83|I7|W \x88\x00"),
        PROTOCOL,
        b"",
        "mock_stream_socket ws: action 4 (W): expected b'\\x88\\x00' but got b'\\x88\\x80'",
    )


def test_ws_client_echoes_the_peers_close_code(websocat: Websocat) -> None:
    check(websocat.run("-b", r"ws-ll-client:mss:R \x88\x02\x03\xe8|W \x88\x82|I6", "mirror:"), OK)


def test_ws_client_payload_checked_with_a_seed(websocat: Websocat) -> None:
    """With --random-seed the key is known: I4 then the masked payload, checked exactly."""
    rng = random.Random(7)
    key = rng.randbytes(4)
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(b"ABC"))
    scenario = rf"W \x82\x83|I4|W {esc(payload)}|W \x88\x80|I4"
    check(websocat.run("-b", "--random-seed", "7", "chunks:mss:R ABC", f"ws-ll-client:mss:{scenario}"), OK)
    wrong = rf"W \x82\x83|I4|W {esc(bytes(3))}|W \x88\x80|I4"
    check(
        websocat.run("-b", "--random-seed", "7", "chunks:mss:R ABC", f"ws-ll-client:mss:{wrong}"),
        PROTOCOL,
        b"",
        "action 3 (W): expected b'\\x00\\x00\\x00' but got",
    )


def test_ws_client_reads_a_large_zero_frame(websocat: Websocat, tmp_path: Path) -> None:
    frame_header = b"\x82\x7f" + (70000).to_bytes(8, "big")
    scenario = rf"R {esc(frame_header)}|ZR70000|R \x88\x00|W \x88\x80|I4"
    check(websocat.run("-b", f"ws-ll-client:mss:{scenario}", "writefile:out.bin", cwd=tmp_path), OK)
    assert (tmp_path / "out.bin").read_bytes() == bytes(70000)


def test_ws_client_into_lines(websocat: Websocat) -> None:
    """ws-ll-client: on the left, lines: on the right: the message becomes a line, D meets its EOF."""
    check(websocat.run("-t", r"ws-ll-client:mss:R \x81\x02hi|R \x88\x00|W \x88\x80|I4", r"lines:mss:W hi\n|D"), OK)


# -- with ws-ll-server: and chunks:


def test_chunks_each_read_is_a_message(websocat: Websocat) -> None:
    check(websocat.run("-b", "chunks:mss:R ABC|R DE|X", r"ws-ll-server:mss:W \x82\x03ABC|W \x82\x02DE|W \x88\x00"), OK)


def test_chunks_of_a_zero_span_become_frames(websocat: Websocat) -> None:
    """ZR70000 reads as 65536 + 4464 bytes: two binary frames, checked with ZW."""
    frames = r"W \x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00|ZW65536|W \x82\x7e\x11\x70|ZW4464|W \x88\x00"
    check(websocat.run("-b", "chunks:mss:ZR70000", f"ws-ll-server:mss:{frames}"), OK)
    check(
        websocat.run("-b", "chunks:mss:ZR70000", f"ws-ll-server:mss:{frames.replace('ZW4464', 'ZW4463|W x')}"),
        PROTOCOL,
        b"",
        "action 5 (W): expected b'x' but got b'\\x00",
    )


def test_ws_server_unmasks_into_chunks(websocat: Websocat) -> None:
    """websocat4's wsll4 scenario: a masked frame in, an unmasked reply and the empty Close out."""
    check(
        websocat.run(
            "-b",
            "chunks:mss:W ABC|R qwerty",
            r"ws-lowlevel-server:mss:R \x82\x83\x1d\xfb\x9f\x97\\\xb9\xdc|W \x82\x06qwerty\x88\x00",
        ),
        OK,
    )


# -- with lines:


def test_lines_through_a_mirror_with_eof_and_shutdown(websocat: Websocat) -> None:
    check(websocat.run("-t", r"lines:mss:R one\r\ntwo\n|W one\ntwo\n|X|D", "mirror:"), OK)


def test_lines_into_text_frames(websocat: Websocat) -> None:
    check(websocat.run("-t", r"lines:mss:R hello\n|X", r"ws-ll-server:mss:W \x81\x05hello\x88\x00"), OK)


def test_lines_with_zero_bytes_inside_a_line(websocat: Websocat) -> None:
    check(websocat.run("-t", r"lines:mss:R a|ZR3|R \n", r"ws-ll-server:mss:W \x81\x04a\x00\x00\x00\x88\x00"), OK)


def test_lines_mismatch(websocat: Websocat) -> None:
    check(
        websocat.run("-t", r"lines:mss:R one\n|W onx\n", "mirror:"),
        PROTOCOL,
        b"",
        "action 2 (W): expected b'onx\\n' but got b'one\\n'",
    )
