"""--base64, --base64-text, --text-prefix and --binary-prefix (websocat v1's): one session
carries text and binary messages both ways through stdin/stdout lines without damage
(vi/websocat#216), as a client (ws://) and as a server (-s, ws-l:)."""

from __future__ import annotations

import base64
import re
import subprocess
import pytest
from websockets.sync.client import connect

Message = str | bytes

# Text, binary with newlines and CR, invalid UTF-8, an empty binary message, non-ASCII text.
MIXED: list[Message] = ["hello", b"\x00\xff\nbin\r\n", "ünïcode text", b"", b"\xc3\x28 not utf-8", "last"]


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def shown(message: Message, text_prefix: bytes = b"", binary_prefix: bytes = b"", b64_text: bool = False) -> bytes:
    """The line websocat prints for a message (base64 for binary, as with --base64)."""
    if isinstance(message, bytes):
        return binary_prefix + b64(message) + b"\n"
    data = message.encode()
    return text_prefix + (b64(data) if b64_text else data) + b"\n"


# (options, the messages the peer sends, the lines websocat prints, the lines typed back,
#  the messages the peer receives)
CASES: dict[str, tuple[list[str], list[Message], bytes, bytes, list[Message]]] = {
    # --base64: binary as base64, text as it is; lines with the binary prefix are decoded
    "base64": (
        ["--base64", "--binary-prefix", "B:"],
        MIXED,
        b"".join(shown(m, binary_prefix=b"B:") for m in MIXED),
        b"plain text\nB:" + b64(b"\x00\xff\nbin\r\n") + b"\nB:\nB:" + b64(b"\xc3\x28") + b"\r\n",
        ["plain text", b"\x00\xff\nbin\r\n", b"", b"\xc3\x28"],
    ),
    # -b --base64: every line sent is base64 of a binary message (lines:, not chunks:)
    "base64-binary-mode": (
        ["-b", "--base64"],
        [b"\n\n", "text"],
        b64(b"\n\n") + b"\ntext\n",
        b64(b"\x01\n\x02") + b"\n" + b64(b"\xff" * 100) + b"\n",
        [b"\x01\n\x02", b"\xff" * 100],
    ),
    # --base64-text --base64: every message as base64, its kind told by the prefix
    "base64-text": (
        ["--base64", "--base64-text", "--text-prefix", "T:", "--binary-prefix", "B:"],
        ["two\nlines", b"\x00\n", "x"],
        b"T:" + b64("two\nlines".encode()) + b"\nB:" + b64(b"\x00\n") + b"\nT:" + b64(b"x") + b"\n",
        b"T:" + b64("ä\nb".encode()) + b"\nB:" + b64(b"\n\xfe") + b"\n" + b64(b"unprefixed is text") + b"\n",
        ["ä\nb", b"\n\xfe", "unprefixed is text"],
    ),
    # prefixes without base64: bytes without newlines go through unchanged either way
    "prefixes": (
        ["--text-prefix", "T:", "--binary-prefix", "B:"],
        ["text", b"\xff\xfe\x00 raw", "ü"],
        b"T:text\nB:\xff\xfe\x00 raw\nT:\xc3\xbc\n",
        b"T:typed text\nB:\x80\x81 binary\nno prefix: text\nT:B:binary (v1 checks both in turn)\n",
        ["typed text", b"\x80\x81 binary", "no prefix: text", b"binary (v1 checks both in turn)"],
    ),
}


def read_exactly(proc: subprocess.Popen[bytes], size: int) -> bytes:
    assert proc.stdout is not None
    got = b""
    while len(got) < size:
        chunk = proc.stdout.read1(65536)
        if not chunk:
            break
        got += chunk
    return got


@pytest.mark.parametrize("case", sorted(CASES))
def test_client_mixed_session(websocat, ws_server, case: str) -> None:
    options, greeting, printed, typed, received = CASES[case]
    server = ws_server(greeting=greeting)
    proc = websocat.spawn(*options, server.url, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    assert read_exactly(proc, len(printed)) == printed
    proc.stdin.write(typed)
    proc.stdin.close()  # after our lines: stdin's EOF closes the WebSocket
    assert server.wait_finished() == received
    _out, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert err == b""


_ANNOUNCE = re.compile(rb"^LISTEN proto=tcp,ip=127\.0\.0\.1,port=(\d+)\n$")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("listen", [["--oneshot", "-s", "0"], ["--oneshot", "ws-l:127.0.0.1:0", "-"], ["-s", "0"]])
def test_server_mixed_session(websocat, case: str, listen: list[str]) -> None:
    """The same session with websocat serving (with and without --oneshot: -s alone shares
    stdin through reuse-raw:) and a `websockets` client."""
    options, greeting, printed, typed, received = CASES[case]
    proc = websocat.spawn("--stdout-announce-listening-ports", *options, *listen, stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    announced = _ANNOUNCE.match(proc.stdout.readline())
    assert announced, "no LISTEN line"
    with connect(f"ws://127.0.0.1:{announced.group(1).decode()}/", open_timeout=5, max_size=None) as client:
        for message in greeting:
            client.send(message)
        assert read_exactly(proc, len(printed)) == printed
        proc.stdin.write(typed)
        proc.stdin.flush()  # stdin stays open until every reply is back
        got = [client.recv(timeout=10) for _ in received]
        assert got == received
    proc.stdin.close()
    if "--oneshot" in listen:
        _out, err = websocat.finish(proc)
        assert proc.returncode == 0, err
        assert b"Traceback" not in err
