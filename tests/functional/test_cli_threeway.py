"""A command line behaves the same however it is run.

Each case runs in its own fresh directory (same relative file names, same starting
files) in four ways:

* ``direct``       - ``python -m websocat ARGS`` (plans, renders and runs; stores the script cache);
* ``direct-again`` - the same command once more (runs from the script cache);
* ``dump``         - ``websocat --dump-spec ARGS > run.py; python run.py``;
* ``x``            - ``python -m websocat -x run.py``;

and the exit code, stdout, stderr (warnings aside: only the planner prints those) and
every file in the directory afterwards must be identical.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from websockets.sync.server import ServerConnection, serve

from websocat.planner.render import command_text

WAYS = ("direct", "direct-again", "dump", "x")
IN_BIN = b"line one\nline two\r\n\x00\xff binary tail"
EXISTING = b"existing content\n"


class Outcome(NamedTuple):
    code: int
    stdout: bytes
    stderr: str  # without warning lines
    files: dict[str, bytes]


Execute = Callable[[list[str], Path], subprocess.CompletedProcess[bytes]]


def prepare(workdir: Path) -> None:
    workdir.mkdir()
    (workdir / "in.bin").write_bytes(IN_BIN)
    (workdir / "existing.txt").write_bytes(EXISTING)


def run_all_ways(websocat, base: Path, args: list[str], execute: Execute) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for way in WAYS:
        workdir = base / way
        prepare(workdir)
        script = base / f"{way}-run.py"  # outside workdir, so its listing stays comparable
        if way in ("dump", "x"):
            dumped = websocat.run("--dump-spec", *args, cwd=workdir)
            assert dumped.returncode == 0, dumped.stderr
            # line 1 is the command that runs the script: the dump flag left out
            assert dumped.stdout.startswith(f"# {command_text(tuple(args))}\n".encode()), dumped.stdout[:200]
            script.write_bytes(dumped.stdout)
        if way == "dump":
            argv = [sys.executable, str(script)]
        elif way == "x":
            argv = [sys.executable, "-m", "websocat", "-x", str(script)]
        else:
            argv = websocat.command(args)
        result = execute(argv, workdir)
        stderr = result.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr, f"{way}: {stderr}"
        kept = "".join(line for line in stderr.splitlines(True) if not line.startswith("websocat: warning:"))
        files = {p.name: p.read_bytes() for p in sorted(workdir.iterdir())}
        outcomes[way] = Outcome(result.returncode, result.stdout, kept, files)
    return outcomes


def assert_same(outcomes: dict[str, Outcome]) -> Outcome:
    reference = outcomes["direct"]
    for way, outcome in outcomes.items():
        assert outcome == reference, f"{way} differs from direct"
    return reference


# (args, stdin, expected exit code, expected stdout or None, expected new/changed files)
CASES: dict[str, tuple[list[str], bytes, int, bytes | None, dict[str, bytes]]] = {
    "literal": (["literal:hello"], b"", 0, b"hello", {}),
    "literal-base64": (["literal-base64:aGVsbG8="], b"", 0, b"hello", {}),
    "literal-base64-binary": (["-b", "literal-base64:AP8K"], b"", 0, b"\x00\xff\n", {}),
    "text-literal-multiline": (["-t", "literal:a\nb\nc"], b"", 0, b"a\nb\nc", {}),
    "readfile-to-stdout": (["-b", "readfile:in.bin"], b"", 0, IN_BIN, {}),
    "readfile-to-writefile": (["-u", "readfile:in.bin", "writefile:out.bin"], b"", 0, b"", {"out.bin": IN_BIN}),
    "readfile-to-appendfile": (
        ["-b", "readfile:in.bin", "appendfile:existing.txt"],
        b"",
        0,
        b"",
        {"existing.txt": EXISTING + IN_BIN},
    ),
    "stdin-to-writefile": (["-b", "-", "writefile:out.bin"], IN_BIN, 0, b"", {"out.bin": IN_BIN}),
    "lines-readfile-to-lines-writefile": (
        ["-t", "lines:readfile:in.bin", "lines:writefile:out.txt"],
        b"",
        0,
        b"",
        {"out.txt": b"line one\nline two\n\x00\xff binary tail\n"},
    ),
    "mock-echo": (["-b", "mss:R hello|W hello", "mirror:"], b"", 0, b"", {}),
    "mock-lines-crlf": (["-t", r"lines:mss:R one\r\ntwo\n|W one\ntwo\n", "mirror:"], b"", 0, b"", {}),
    "mock-separator-n-2": (
        ["-t", "--separator-n", "2", r"lines:mss:R a\nb\n\nc\n\n|W a\nb\n\nc\n\n", "mirror:"],
        b"",
        0,
        b"",
        {},
    ),
    "mock-null-terminated": (["-t", "-0", r"lines:mss:R a\0b\nc\0|W a\0b\nc\0", "mirror:"], b"", 0, b"", {}),
    "mock-lines-to-writefile": (
        ["-t", r"lines:mss:R one\r\ntwo\nthree", "lines:writefile:out.txt"],
        b"",
        0,
        b"",
        {"out.txt": b"one\ntwo\nthree\n"},
    ),
    "mock-pause": (["-b", r"mss:R abc|T1|R def"], b"", 0, b"abcdef", {}),
    "mock-mismatch": (["-b", "mss:R hello|W world", "mirror:"], b"", 4, b"", {}),
    "mock-read-error": (["mss:R hi|ER"], b"", 1, b"hi", {}),
    "global-timeout": (["-b", "-u", "--global-timeout-ms", "300", "zero:", "devnull:"], b"", 0, b"", {}),
    "missing-file": (["readfile:missing.bin"], b"", 3, b"", {}),
    "no-overwrite": (["--write-file-no-overwrite", "literal:new", "writefile:existing.txt"], b"", 3, b"", {}),
    "auto-rename": (
        ["--write-file-auto-rename", "literal:new", "writefile:existing.txt"],
        b"",
        0,
        b"",
        {"existing.txt.1": b"new"},
    ),
    "separator-options-without-lines": (["-t", "-0", "readfile:in.bin"], b"", 0, IN_BIN, {}),
}


@pytest.mark.parametrize("args, stdin, code, stdout, changed", list(CASES.values()), ids=list(CASES))
def test_same_outcome_every_way(
    websocat,
    tmp_path: Path,
    args: list[str],
    stdin: bytes,
    code: int,
    stdout: bytes | None,
    changed: dict[str, bytes],
) -> None:
    def execute(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
        return websocat.run(argv=argv, cwd=cwd, input=stdin)

    outcome = assert_same(run_all_ways(websocat, tmp_path, args, execute))
    assert outcome.code == code, outcome.stderr
    if stdout is not None:
        assert outcome.stdout == stdout
    expected_files = {"in.bin": IN_BIN, "existing.txt": EXISTING, **changed}
    assert outcome.files == expected_files
    if code == 0:
        assert outcome.stderr == ""
    else:
        assert outcome.stderr.startswith("websocat: ") and outcome.stderr.count("\n") == 1, outcome.stderr


class GreetingServer:
    """A `websockets` server: each connection gets ``greeting``, then what it sends is recorded."""

    def __init__(self, greeting: list[str | bytes]) -> None:
        self.greeting = greeting
        self.greeted: queue.Queue[int] = queue.Queue()
        self.sessions: list[list[str | bytes]] = []
        self.finished: queue.Queue[int] = queue.Queue()
        self.server = serve(self.handler, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def handler(self, conn: ServerConnection) -> None:
        received: list[str | bytes] = []
        self.sessions.append(received)
        index = len(self.sessions) - 1
        try:
            for message in self.greeting:
                conn.send(message)
            self.greeted.put(index)
            for message in conn:
                received.append(message)
        finally:
            self.finished.put(index)


@pytest.fixture
def greeting_server() -> Iterator[GreetingServer]:
    server = GreetingServer(["hello", "multi\nline", b"bin"])
    try:
        yield server
    finally:
        server.server.shutdown()
        server.thread.join(10)


@pytest.mark.parametrize("mode", ["-t", "-b"])
def test_websocket_client_same_outcome_every_way(
    websocat, tmp_path: Path, greeting_server: GreetingServer, mode: str
) -> None:
    stdin = "one\ntwo é\nthree".encode()

    def execute(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=websocat.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        websocat.procs.append(proc)
        try:
            greeting_server.greeted.get(timeout=15)  # stdin stays open until the server has spoken
        except queue.Empty:
            proc.kill()
            pytest.fail(f"{argv!r} did not connect: {proc.communicate()[1]!r}")
        out, err = proc.communicate(stdin, timeout=30)
        greeting_server.finished.get(timeout=15)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)

    outcome = assert_same(run_all_ways(websocat, tmp_path, [mode, greeting_server.url], execute))
    assert outcome.code == 0, outcome.stderr
    assert len(greeting_server.sessions) == len(WAYS)
    if mode == "-t":
        assert outcome.stdout == b"hello\nmulti line\nbin\n"
        expected: list[str | bytes] = ["one", "two é", "three"]
        assert all(session == expected for session in greeting_server.sessions), greeting_server.sessions
    else:
        assert outcome.stdout == b"hellomulti\nlinebin"
        for session in greeting_server.sessions:
            assert all(isinstance(m, bytes) for m in session)
            assert b"".join(session) == stdin  # type: ignore[arg-type]
