"""log: and --log-traffic from the command line: websocat4's lines on stderr, and stdout
carrying only the data."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import threading

from conftest import Websocat
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


def lines_of(err: bytes) -> list[str]:
    return err.decode().splitlines()


def split(lines: list[str]) -> tuple[list[str], list[str]]:
    """The WRITE lines and the READ lines, each in order."""
    return [x for x in lines if x.startswith("WRITE")], [x for x in lines if x.startswith("READ")]


def test_log_traffic_shows_the_websocket_bytes(websocat: Websocat, echo_url: str) -> None:
    """ws:// with --log-traffic: log: sits under ws-c:, so the handshake and the frames show;
    the replies, and nothing else, reach stdout."""
    done = websocat.run("--log-traffic", echo_url, input=b"hello\nsecond\n")
    assert (done.returncode, done.stdout) == (0, b"hello\nsecond\n"), done.stderr
    lines = lines_of(done.stderr)
    assert re.fullmatch(r'WRITE \d+ "GET / HTTP/1\.1\\r\\nHost: 127\.0\.0\.1:\d+\\r\\n.*\\r\\n\\r\\n"', lines[0]), lines
    assert re.fullmatch(r'READ \d+ "HTTP/1\.1 101 Switching Protocols\\r\\n.*"', lines[1]), lines
    # The server's frames are unmasked: text frames of 5 and 6 bytes, content escaped.
    assert any(line.startswith("READ ") and "\\x81\\x05hello" in line for line in lines), lines
    assert any(line.startswith('WRITE 6 "\\x88') for line in lines), lines  # our masked Close frame
    assert all(re.match(r"(READ|WRITE) ", line) for line in lines), lines


def test_log_over_messages_with_flags(websocat: Websocat, echo_url: str) -> None:
    """log: over ws:// logs messages: text ones, flagged T with --log-verbose."""
    done = websocat.run("--log-verbose", f"log:{echo_url}", input=b"hello\nwide\n")
    assert (done.returncode, done.stdout) == (0, b"hello\nwide\n"), done.stderr
    lines = lines_of(done.stderr)
    assert 'WRITE bufcap=5 5 "hello" [T]' in lines and 'WRITE bufcap=4 4 "wide" [T]' in lines, lines
    assert 'READ 5 "hello" [T]' in lines and 'READ 4 "wide" [T]' in lines, lines
    assert "WRITE bufcap=0 0 [E]" in lines[-4:] or 'WRITE bufcap=0 0 "" [E]' in lines, lines


def test_log_traffic_omit_content_on_a_tcp_relay(websocat: Websocat) -> None:
    """-b --log-traffic --log-omit-content tcp-l: -> tcp:: sizes only, adding up to what passed."""
    data = bytes(range(256)) * 4096  # 1 MiB
    with socket.socket() as sink:
        sink.bind(("127.0.0.1", 0))
        sink.listen()
        received = bytearray()

        def drain() -> None:
            conn, _ = sink.accept()
            with conn:
                while chunk := conn.recv(1 << 16):
                    received.extend(chunk)
                conn.sendall(b"bye")

        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
        proc, port = websocat.listen(
            "-b",
            "--oneshot",
            "--log-traffic",
            "--log-omit-content",
            "tcp-l:127.0.0.1:0",
            f"tcp:{sink.getsockname()[0]}:{sink.getsockname()[1]}",
        )
        with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
            client.sendall(data)
            client.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := client.recv(1 << 16):
                reply += chunk
        drainer.join(20)
    assert bytes(received) == data and reply == b"bye"
    out, err = websocat.finish(proc)
    assert out == b"", out  # the announcement was read by listen(); nothing else on stdout
    lines = lines_of(err)
    # log: is over the right side (tcp:): WRITE is what went to the sink, READ what came back
    writes = [int(m[1]) for line in lines if (m := re.fullmatch(r"WRITE (\d+)", line))]
    reads = [int(m[1]) for line in lines if (m := re.fullmatch(r"READ (\d+)", line))]
    assert sum(writes) == len(data) and reads == [3, 0], lines
    assert lines.count("WRITE shutdown") == 1
    assert all(re.fullmatch(r"(READ|WRITE) (\d+|shutdown)", line) for line in lines), lines


def test_log_hex_and_timestamps(websocat: Websocat) -> None:
    done = websocat.run("-b", "--log-hex", "--log-timestamps", "-", "log:mirror:", input=b"a\x00\xff")
    assert (done.returncode, done.stdout) == (0, b"a\x00\xff"), done.stderr
    lines = lines_of(done.stderr)
    stamps = [re.fullmatch(r"(\d{6}\.\d{6}) (.*)", line) for line in lines]
    assert all(stamps), lines
    # the two directions interleave as they happen; each in its own order
    assert split([m[2] for m in stamps if m]) == (["WRITE 3 6100ff", "WRITE shutdown"], ["READ 3 6100ff", "READ 0 "])
    times = [float(m[1]) for m in stamps if m]
    assert times == sorted(times) and times[-1] < 30


def test_log_options_without_log_warn(websocat: Websocat) -> None:
    done = websocat.run("--log-hex", "-b", "literal:x", "-")
    assert (done.returncode, done.stdout) == (0, b"x")
    assert done.stderr == (
        b"websocat: warning: --log-hex: no log: overlay is in the plan (add log: or --log-traffic); no effect\n"
    )


def test_log_traffic_with_nowhere_to_go_warns(websocat: Websocat) -> None:
    done = websocat.run("-b", "--log-traffic", "-", "mirror:", input=b"q")
    assert (done.returncode, done.stdout) == (0, b"q")
    assert b"--log-traffic: no side has a network, socket or process endpoint" in done.stderr
    assert b"READ" not in done.stderr


def test_dumped_script_logs_too(websocat: Websocat) -> None:
    """The script --dump-spec prints runs with log: as the command does."""
    dumped = websocat.run("--dump-spec", "-b", "--log-omit-content", "-", "log:mirror:")
    assert dumped.returncode == 0 and b"log.log(mirror2, omit_content=True)" in dumped.stdout
    script = websocat.cwd / "run.py"
    script.write_bytes(dumped.stdout)
    done = subprocess.run(
        [*websocat.command(["-x", str(script)])], input=b"xyz", capture_output=True, env=websocat.env, timeout=30
    )
    assert (done.returncode, done.stdout) == (0, b"xyz")
    assert split(lines_of(done.stderr)) == (["WRITE 3", "WRITE shutdown"], ["READ 3", "READ 0"])


def test_websocket_under_log_still_says_why_the_session_failed(websocat: Websocat) -> None:
    """log: over ws-l:: when the right side fails, the client gets Close 1011, as without log:."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = unused.getsockname()[1]  # nothing listens here once the socket closes
    proc, port = websocat.listen("-b", "--oneshot", "log:ws-l:127.0.0.1:0", f"tcp:127.0.0.1:{dead}")

    async def client() -> int | None:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            try:
                await asyncio.wait_for(ws.recv(), 20)
            except ConnectionClosed:
                pass
            return ws.close_code

    assert asyncio.run(client()) == 1011
    _out, err = websocat.finish(proc)
    lines = lines_of(err)
    assert any(line.startswith("websocat: ") and "Connection refused" in line for line in lines), lines
