"""Line mode (`-t`) edge cases end to end, through real processes and sockets.

Three set-ups:

* our client ``websocat -t [OPTS] ws://...`` with stdin, against a `websockets` server that
  sends some messages first and records what it gets;
* ``websocat -t [OPTS] readfile:IN ws://...`` into ``websocat -t [OPTS] --oneshot ws-l:...
  writefile:OUT`` (line mode on both ends);
* a `websockets` client sending messages to ``websocat -t --oneshot ws-l:... writefile:OUT``.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

# (options, what our stdin holds, messages the server must get,
#  messages the server sends, what our stdout must hold)
CLIENT_CASES = {
    "crlf-lines-lose-the-cr": (
        [],
        b"one\r\ntwo\r\nthree\r\n",
        ["one", "two", "three"],
        ["reply"],
        b"reply\n",
    ),
    "last-line-without-newline": (
        [],
        b"first\nsecond\nlast",
        ["first", "second", "last"],
        [],
        b"",
    ),
    "only-line-without-newline": (
        [],
        "no newline at all é".encode(),
        ["no newline at all é"],
        [],
        b"",
    ),
    "embedded-newlines-become-spaces": (
        [],
        b"ping\n",
        ["ping"],
        ["multi\nline\nmessage", "plain", "two\n\nbreaks"],
        b"multi line message\nplain\ntwo  breaks\n",
    ),
    "separator-n-2": (
        ["--separator-n", "2"],
        b"a\nb\n\nsingle\n\nc\nd",
        ["a\nb", "single", "c\nd"],
        ["x\ny", "z"],
        b"x\ny\n\nz\n\n",
    ),
    "null-terminated": (
        ["-0"],
        b"a\x00b\nc\x00last",
        ["a", "b\nc", "last"],
        ["p", "q\nr"],
        b"p\x00q\nr\x00",
    ),
    "null-terminated-embedded-nul-becomes-space": (
        ["-0"],
        b"",
        [],
        ["q\x00r"],
        b"q r\x00",
    ),
    "separator-inline": (
        ["--separator-inline"],
        b"a\nb\n\nc",
        ["a\n", "b\n", "\n", "c"],
        ["x\n", "y"],
        b"x\ny\n",
    ),
}


@pytest.mark.parametrize(
    "options, stdin, expected_received, greeting, expected_stdout",
    list(CLIENT_CASES.values()),
    ids=list(CLIENT_CASES),
)
def test_text_client(
    websocat,
    ws_server,
    options: list[str],
    stdin: bytes,
    expected_received: list[str],
    greeting: list[str],
    expected_stdout: bytes,
) -> None:
    server = ws_server(greeting=greeting)
    proc = websocat.spawn("-t", *options, server.url, stdin=subprocess.PIPE)
    # Our stdin is held open until the server's messages are out, so that our close
    # cannot overtake them.
    assert server.greeted.wait(15), "the client did not connect"
    try:
        out, err = proc.communicate(stdin, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("websocat -t ws:// did not exit after stdin EOF")
    assert proc.returncode == 0, err
    assert err == b""
    assert out == expected_stdout
    received = server.wait_finished()
    assert received == expected_received
    assert all(isinstance(m, str) for m in received), "line mode sends text messages"


# (options for both processes, content of IN, content OUT must get)
PIPELINE_CASES = {
    "crlf-and-unterminated-last-line": ([], b"one\r\ntwo\r\nlast", b"one\ntwo\nlast\n"),
    "utf8": ([], "żółw\n🐢\n".encode(), "żółw\n🐢\n".encode()),
    "separator-n-2": (["--separator-n", "2"], b"a\nb\n\nc", b"a\nb\n\nc\n\n"),
    "null-terminated": (["-0"], b"a\x00b\nc", b"a\x00b\nc\x00"),
    "separator-inline": (["--separator-inline"], b"a\nb", b"a\nb\n"),
}


@pytest.mark.parametrize("options, content, expected", list(PIPELINE_CASES.values()), ids=list(PIPELINE_CASES))
def test_text_client_into_text_server(
    websocat, tmp_path: Path, options: list[str], content: bytes, expected: bytes
) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(content)
    out = tmp_path / "out.txt"
    server, port = websocat.listen("-t", *options, "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{out}")
    client = websocat.run("-t", *options, f"readfile:{source}", f"ws://127.0.0.1:{port}/")
    assert client.returncode == 0, client.stderr
    assert client.stderr == b""
    _, err = websocat.finish(server)
    assert server.returncode == 0, err
    assert err == b""
    assert out.read_bytes() == expected


def test_text_server_writes_messages_as_single_lines(websocat, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    proc, port = websocat.listen("-t", "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{out}")
    with connect(f"ws://127.0.0.1:{port}/", open_timeout=5, close_timeout=10) as ws:
        ws.send("multi\nline\nmessage")
        ws.send("plain")
        ws.send(b"binary\nmessage")
        ws.send("last")
    _, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert out.read_bytes() == b"multi line message\nplain\nbinary message\nlast\n"


def summary(data: bytes | list[str]) -> object:
    """Lengths and a hash, so a mismatch of megabyte payloads prints briefly."""
    if isinstance(data, list):
        return [summary(m.encode()) for m in data]
    return len(data), hashlib.sha256(data).hexdigest()[:16]


def test_long_lines_both_directions(websocat, ws_server) -> None:
    """Lines far longer than any read or fragment size, with multibyte characters."""
    long_line = "żółw 🐢 " * 300_000  # 3.9 MB
    long_message = "\n".join([long_line[:500_000]] * 6)  # embedded newlines
    server = ws_server(greeting=[long_message, "short"])
    proc = websocat.spawn("-t", server.url, stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    # Read stdout meanwhile: the greeting is larger than the pipes and socket buffers, and
    # websocat rightly stops reading the socket while nobody reads its stdout.
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    assert server.greeted.wait(15), "the client did not connect"
    proc.stdin.write(f"{long_line}\nshort\n{long_line}".encode())
    proc.stdin.close()
    reader.join(30)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        pytest.fail("websocat -t ws:// did not exit after stdin EOF")
    err = proc.stderr.read()
    out = received[0] if received else b""
    assert proc.returncode == 0, err
    assert summary(out) == summary((long_message.replace("\n", " ") + "\nshort\n").encode())
    assert summary(server.wait_finished()) == summary([long_line, "short", long_line])


def test_long_lines_into_text_server(websocat, tmp_path: Path) -> None:
    content = ("żółw 🐢 " * 300_000 + "\n") * 2 + "tail"
    source = tmp_path / "in.txt"
    source.write_text(content)
    out = tmp_path / "out.txt"
    server, port = websocat.listen("-t", "--oneshot", "ws-l:127.0.0.1:0", f"writefile:{out}")
    client = websocat.run("-t", f"readfile:{source}", f"ws://127.0.0.1:{port}/")
    assert client.returncode == 0, client.stderr
    _, err = websocat.finish(server)
    assert server.returncode == 0, err
    assert summary(out.read_bytes()) == summary((content + "\n").encode())


def test_crlf_split_across_writes(websocat, ws_server) -> None:
    """A CR at the end of one read and its LF at the start of the next still make one line break."""
    server = ws_server()
    proc = websocat.spawn("-t", server.url, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for piece in [b"one\r", b"\ntwo", b"\r", b"\n", b"thr", b"ee\r\n", b"a\n", b"\nb\r", b"\n"]:
        proc.stdin.write(piece)
        proc.stdin.flush()
        time.sleep(0.05)  # separate reads on our side, most likely
    proc.stdin.close()
    _, err = websocat.finish(proc)
    assert proc.returncode == 0, err
    assert server.wait_finished() == ["one", "two", "three", "a", "", "b"]
