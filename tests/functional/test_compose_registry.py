"""--compose and the registry: several invocations in one process, connected by registry
addresses, run together (&), in sequence (;) or until the first ends (^)."""

from __future__ import annotations

import asyncio
import signal
import socket
import time

from conftest import Websocat, tcp_round_trip
from websockets.asyncio.client import connect


def test_registry_stream_joins_two_parts(websocat: Websocat) -> None:
    """A TCP listener part sends each connection to a registry listener part that echoes it."""
    proc, port = websocat.listen(
        "--compose",
        "-b",
        "tcp-l:127.0.0.1:0",
        "registry-send:pipe",
        "&",
        "-b",
        "registry-stream-listen:pipe",
        "mirror:",
    )
    data = bytes(range(256)) * 800  # 200 KB: many times --registry-connect-bufsize
    assert tcp_round_trip(port, data) == data
    assert tcp_round_trip(port, b"second client\n") == b"second client\n"
    proc.terminate()
    websocat.finish(proc)


def test_websocket_framing_on_both_sides_of_a_registry_pipe(websocat: Websocat) -> None:
    """Part 1 speaks WebSocket as a client over a registry connection; part 2 accepts the
    upgrade on the other end and echoes messages; bytes in, the same bytes out."""
    proc, port = websocat.listen(
        "--compose",
        "-b",
        "tcp-l:127.0.0.1:0",
        "ws-c:regstr-c:pipe",
        "&",
        "-b",
        "ws-u:regstr-l:pipe",
        "mirror:",
    )
    data = b"framed both ways " * 5000
    assert tcp_round_trip(port, data) == data
    proc.terminate()
    websocat.finish(proc)


def test_registry_datagrams_keep_messages_whole(websocat: Websocat) -> None:
    """A WebSocket server part hands each client to a datagram listener part: text stays
    text, binary stays binary, each message whole."""
    proc, port = websocat.listen("--compose", "ws-l:127.0.0.1:0", "regsend:chat", "&", "regdg-l:chat", "mirror:")

    async def client() -> list[str | bytes]:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            got = []
            for message in ("text", b"\x00\xffbinary", "x" * 70000):
                await ws.send(message)
                got.append(await asyncio.wait_for(ws.recv(), 20))
            return got

    assert asyncio.run(client()) == ["text", b"\x00\xffbinary", "x" * 70000]
    proc.terminate()
    websocat.finish(proc)


def test_sequence_runs_parts_in_order(websocat: Websocat) -> None:
    done = websocat.run(
        "--compose", "-u", "literal:one ", "-", ";", "-u", "literal:two ", "-", ";", "-u", "literal:three", "-"
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"one two three", b"")


def test_parallel_waits_for_every_part(websocat: Websocat) -> None:
    """`&` ends when all parts have: the second part starts later and still writes."""
    started = time.monotonic()
    done = websocat.run(
        "--compose", "-u", "literal:first ", "-", "&", "-u", "--sleep-ms-before-start", "300", "literal:second", "-"
    )
    assert (done.returncode, done.stdout) == (0, b"first second"), done.stderr
    assert time.monotonic() - started >= 0.3


def test_race_ends_with_the_first_part(websocat: Websocat) -> None:
    """`^`: a listener that would serve forever is cancelled when the other part ends."""
    done = websocat.run("--compose", "-u", "tcp-l:127.0.0.1:0", "mirror:", "^", "-u", "literal:bye", "-", timeout=20)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"bye", b"")


def test_race_reports_the_failure_of_the_first_part(websocat: Websocat) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    done = websocat.run(
        "--compose", "-u", "tcp-l:127.0.0.1:0", "mirror:", "^", "-u", f"tcp:127.0.0.1:{closed_port}", "-", timeout=20
    )
    assert done.returncode != 0
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and "refused" in lines[0], done.stderr


def test_socket_of_the_wrong_kind_is_refused_to_its_sender(websocat: Websocat) -> None:
    """A byte stream sent to a datagram listener: the sending session fails with one line."""
    proc, port = websocat.listen("--compose", "-b", "tcp-l:127.0.0.1:0", "regsend:x", "&", "regdg-l:x", "mirror:")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        assert conn.recv(100) == b""  # the session ended: the connection closes
    proc.terminate()
    _out, err = websocat.finish(proc)
    assert b"registry-datagram-listen:x takes datagrams, not" in err, err


def test_sigterm_stops_every_part(websocat: Websocat) -> None:
    proc, port = websocat.listen(
        "--compose", "-b", "tcp-l:127.0.0.1:0", "registry-send:p", "&", "-b", "registry-stream-listen:p", "mirror:"
    )
    assert tcp_round_trip(port, b"up\n") == b"up\n"
    proc.send_signal(signal.SIGTERM)
    websocat.finish(proc, timeout=10)
    assert proc.returncode == 128 + signal.SIGTERM


def test_bad_compose_lines_are_one_line_each(websocat: Websocat) -> None:
    cases = {
        ("--compose", "(", "literal:a", "-"): "--compose: '(' without its ')'",
        ("--compose", "literal:a", "-", ")"): "--compose: ')' without its '('",
        ("--compose", "literal:a", "-", "&"): "--compose: an empty part after '&'",
        ("--compose", "literal:a", "-", "&", ";", "literal:b", "-"): "--compose: an empty part after '&'",
        ("--compose", "literal:a", "-", "&", "literal:b", "-", "^", "literal:c", "-"): (
            "--compose: cannot mix '&' and '^' without parentheses; group them, as in ( A & B ) ^ C"
        ),
        ("literal:a", "-", "&", "literal:b", "-"): (
            "unexpected extra argument '&': '&', ';', '^', '(' and ')' separate the parts"
            " of a --compose command line; give --compose first"
        ),
        ("literal:a", "--compose", "-"): "--compose must be the first argument",
        (
            "--compose",
            "literal:a",
            "-",
            "&",
            "--lengthprefixed-nbytes",
            "9",
            "lengthprefixed:mirror:",
        ): "--compose part 2:",
    }
    for argv, message in cases.items():
        done = websocat.run(*argv)
        lines = done.stderr.decode().splitlines()
        assert done.returncode == 2 and len(lines) == 1, (argv, done.stderr)
        assert lines[0].startswith(f"websocat: {message}"), (argv, lines)
