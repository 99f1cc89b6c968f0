"""exec:/cmd: children of WebSocket and TCP servers with the request's context: -e
(WEBSOCAT_URI, WEBSOCAT_CLIENT, --header-to-env), stderr lines prefixed with the session's
number, and --exec-exit-on-disconnect.  Real websockets clients, real children."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time

from websockets.asyncio.client import connect

from conftest import Websocat
from test_process import read_line, state, wait_gone

# A child that prints its request variables, one per message (-t: lines), then waits for input.
SHOW_ENV = 'cmd:for v in WEBSOCAT_URI WEBSOCAT_CLIENT H_X_Token H_Cookie; do eval "echo $v=\\${$v-unset}"; done; cat'


async def _lines(ws: object, count: int) -> list[str]:
    got = []
    for _ in range(count):
        message = await asyncio.wait_for(ws.recv(), 10)  # type: ignore[attr-defined]
        got.append(message.strip() if isinstance(message, str) else message.decode().strip())
    return got


def test_set_environment_with_the_request(websocat: Websocat) -> None:
    """-e: the request target with its query, the client's host:port, a header by name;
    a header the request does not have stays unset."""
    proc, port = websocat.listen(
        "-t", "-e", "--header-to-env", "X-Token", "--header-to-env", "Cookie", "ws-l:127.0.0.1:0", SHOW_ENV
    )

    async def main() -> tuple[list[str], str]:
        async with connect(
            f"ws://127.0.0.1:{port}/chat/room?user=a%20b&x=1", additional_headers={"X-Token": "s3cr$t 'q'"}
        ) as ws:
            client = "%s:%d" % ws.local_address[:2]
            return await _lines(ws, 4), client

    lines, client = asyncio.run(main())
    assert lines == [
        "WEBSOCAT_URI=/chat/room?user=a%20b&x=1",
        f"WEBSOCAT_CLIENT={client}",
        "H_X_Token=s3cr$t 'q'",
        "H_Cookie=unset",
    ]
    proc.terminate()
    websocat.finish(proc)


def test_header_names_keep_v1_spelling_for_exec(websocat: Websocat) -> None:
    """exec: sees H_<name> as given (websocat v1), and H_<name with '_'> too."""
    show = "import os; print(os.environ.get('H_X-Token'), os.environ.get('H_X_Token'), flush=True)"
    proc, port = websocat.listen(
        "-t",
        "-e",
        "--header-to-env",
        "X-Token",
        "ws-l:127.0.0.1:0",
        f"exec:{sys.executable}",
        "--exec-args",
        "-c",
        show,
    )

    async def main() -> list[str]:
        async with connect(f"ws://127.0.0.1:{port}/", additional_headers={"x-token": "abc"}) as ws:
            return await _lines(ws, 1)

    assert asyncio.run(main()) == ["abc abc"]
    proc.terminate()
    websocat.finish(proc)


def test_without_set_environment_nothing_is_passed(websocat: Websocat) -> None:
    proc, port = websocat.listen("-t", "ws-l:127.0.0.1:0", SHOW_ENV)

    async def main() -> list[str]:
        async with connect(f"ws://127.0.0.1:{port}/x?y", additional_headers={"X-Token": "t"}) as ws:
            return await _lines(ws, 2)

    assert asyncio.run(main()) == ["WEBSOCAT_URI=unset", "WEBSOCAT_CLIENT=unset"]
    proc.terminate()
    websocat.finish(proc)


def test_tcp_listener_sets_the_client(websocat: Websocat) -> None:
    """tcp-l: has no request, but its client's address is known (as websocat v1)."""
    proc, port = websocat.listen("-e", "tcp-l:127.0.0.1:0", SHOW_ENV)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        client = "%s:%d" % sock.getsockname()[:2]
        assert read_line(sock) == b"WEBSOCAT_URI=unset\n"
        assert read_line(sock) == f"WEBSOCAT_CLIENT={client}\n".encode()
    proc.terminate()
    websocat.finish(proc)


def test_ws_accept_passes_the_request_too(websocat: Websocat) -> None:
    """ws-accept: (the upgrade alone, raw bytes after it) sets WEBSOCAT_URI as well."""
    proc, port = websocat.listen("-e", "ws-accept:tcp-l:127.0.0.1:0", "cmd:echo $WEBSOCAT_URI")
    request = (
        "GET /upgrade?q=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        got = b""
        while not got.endswith(b"\n") or b"\r\n\r\n" not in got or got.endswith(b"\r\n\r\n"):
            chunk = sock.recv(4096)
            assert chunk, got
            got += chunk
    assert got.startswith(b"HTTP/1.1 101 ")
    assert got.partition(b"\r\n\r\n")[2] == b"/upgrade?q=1\n"
    proc.terminate()
    websocat.finish(proc)


# -- stderr of the children


def test_stderr_lines_are_prefixed_per_session(websocat: Websocat) -> None:
    """Two concurrent sessions: every stderr line of each child comes whole, after its
    session's number; a last line without a newline too; none lost."""
    child = 'cmd:read n; i=0; while [ $i -lt 200 ]; do echo "$n line $i" >&2; i=$((i+1)); done; printf "$n last" >&2; echo done'
    proc, port = websocat.listen("-t", "ws-l:127.0.0.1:0", child)

    async def client(name: str) -> None:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send(name + "\n")
            assert (await asyncio.wait_for(ws.recv(), 10)).strip() == "done"

    async def main() -> None:
        await asyncio.gather(client("a"), client("b"))

    asyncio.run(main())
    time.sleep(0.5)  # both sessions' ends, written before the processes are gone
    proc.terminate()
    _out, err = websocat.finish(proc)
    lines = err.decode().splitlines()
    children = [line for line in lines if line.startswith("[")]
    assert len(children) == 2 * 201, lines
    numbers = {}
    for line in children:
        match = re.fullmatch(r"\[(\d+)\] ([ab]) (line \d+|last)", line)
        assert match, line
        numbers.setdefault(match.group(2), set()).add(match.group(1))
    assert sorted(map(len, numbers.values())) == [1, 1]  # one number per session
    assert numbers["a"] != numbers["b"]
    for name in "ab":
        mine = [line.split(" ", 2)[2] for line in children if line.split(" ")[1] == name]
        assert mine == [f"line {i}" for i in range(200)] + ["last"]


def test_stderr_inherit_leaves_lines_alone(websocat: Websocat) -> None:
    proc, port = websocat.listen("--exec-stderr-inherit", "tcp-l:127.0.0.1:0", "cmd:echo plain >&2; echo ok")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        assert read_line(sock) == b"ok\n"
    time.sleep(0.3)
    proc.terminate()
    _out, err = websocat.finish(proc)
    assert b"plain\n" in err.splitlines(keepends=True) or err.startswith(b"plain\n"), err
    assert b"] plain" not in err


def test_no_prefix_outside_a_listener(websocat: Websocat) -> None:
    result = websocat.run("-", "cmd:echo said >&2")
    assert result.returncode == 0
    assert result.stderr == b"said\n"


# -- --exec-exit-on-disconnect


def _ws_child_ignoring_eof(websocat: Websocat, command: str, *extra: str) -> tuple[subprocess.Popen[bytes], int, float]:
    """A WebSocket client of a child that ignores its stdin's EOF: connect, learn the
    child's pid (it echoes $$), leave; returns websocat, the pid, and when leaving began."""
    proc, port = websocat.listen(*extra, "-t", "ws-l:127.0.0.1:0", command)

    async def main() -> tuple[int, float]:
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            pid = int(await asyncio.wait_for(ws.recv(), 10))
            return pid, time.monotonic()  # the Close goes out as the block is left

    pid, left = asyncio.run(main())
    return proc, pid, left


def test_exit_on_disconnect_stops_the_child(websocat: Websocat) -> None:
    proc, pid, left = _ws_child_ignoring_eof(websocat, "cmd:echo $$; exec sleep 100", "--exec-exit-on-disconnect")
    assert wait_gone(pid, 5), f"child {pid} left behind, state {state(pid)}"
    assert time.monotonic() - left < 0.9  # SIGTERM at once, not after a grace
    assert proc.poll() is None  # still serving
    proc.terminate()
    _out, err = websocat.finish(proc)
    assert b"exited" not in err and b"signal" not in err, err  # our SIGTERM is no failure


def test_exit_on_disconnect_sigkills_a_child_ignoring_sigterm(websocat: Websocat) -> None:
    command = "cmd:trap '' TERM; echo $$; sleep 100"
    proc, pid, left = _ws_child_ignoring_eof(websocat, command, "--exec-exit-on-disconnect")
    assert wait_gone(pid, 5), f"child {pid} left behind, state {state(pid)}"
    assert 0.8 < time.monotonic() - left < 3  # SIGKILL after TERM_GRACE
    proc.terminate()
    websocat.finish(proc)


def _tcp_child_ignoring_eof(websocat: Websocat, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    proc, port = websocat.listen(*extra, "tcp-l:127.0.0.1:0", "cmd:echo $$; exec sleep 100")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        pid = int(read_line(sock))
    return proc, pid


def test_exit_on_disconnect_over_tcp(websocat: Websocat) -> None:
    """A TCP client that leaves: without the option its child is left to read EOF (and
    goes on sleeping); with it the child is stopped at once."""
    proc, pid = _tcp_child_ignoring_eof(websocat)
    time.sleep(1.5)
    assert state(pid) not in (None, "Z")
    proc.terminate()
    websocat.finish(proc)
    assert wait_gone(pid, 3)
    proc, pid = _tcp_child_ignoring_eof(websocat, "--exec-exit-on-disconnect")
    left = time.monotonic()
    assert wait_gone(pid, 5), f"child {pid} left behind, state {state(pid)}"
    assert time.monotonic() - left < 0.9
    proc.terminate()
    websocat.finish(proc)


def test_request_options_without_effect_are_warned(websocat: Websocat) -> None:
    result = websocat.run("--header-to-env", "X-A", "-", "cmd:true")
    assert result.returncode == 0
    assert "--header-to-env has no effect without -e" in result.stderr.decode()
    result = websocat.run("--header-to-env", "a b", "-", "cmd:true")
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and "header name" in result.stderr.decode()


def test_exit_on_disconnect_refused_where_stdin_is_shut_at_once(websocat: Websocat) -> None:
    result = websocat.run("-U", "--exec-exit-on-disconnect", "ws-l:127.0.0.1:0", "cmd:true")
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and "add --unidirectional-late-drop" in result.stderr.decode()
