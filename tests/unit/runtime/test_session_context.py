"""runtime/context.py (a session's request, per task) and the process endpoint's use of it:
the environment of -e and the session-numbered stderr lines, with real children."""

from __future__ import annotations

import asyncio
import sys

import pytest

from websocat.runtime.context import SESSION, child_environment, note_request, start_session
from websocat.runtime.endpoints import process
from websocat.runtime.testing import tcp_pair


def test_each_session_task_has_its_own_context() -> None:
    async def session(number: int, target: str) -> tuple[int | None, str | None]:
        start_session(number, None)
        await asyncio.sleep(0.01)  # the other session sets its own meanwhile
        note_request(target, ())
        await asyncio.sleep(0.01)
        context = SESSION.get()
        return context.number, context.uri

    async def main() -> list[tuple[int | None, str | None]]:
        return list(await asyncio.gather(session(1, "/a"), session(2, "/b")))

    assert asyncio.run(main()) == [(1, "/a"), (2, "/b")]
    assert SESSION.get().number is None  # the tasks' values stayed theirs


def test_client_address_of_a_tcp_stream() -> None:
    async def main() -> tuple[str | None, str]:
        async with tcp_pair() as (a, b):
            start_session(1, b)
            host, port = a.protocol.transport.get_extra_info("sockname")[:2]  # type: ignore[attr-defined]
            return SESSION.get().client, f"{host}:{port}"

    got, want = asyncio.run(main())
    assert got == want


def test_child_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBSOCAT_URI", "inherited")  # ours, never the parent's
    monkeypatch.setenv("KEPT", "yes")

    async def main() -> dict[str, str]:
        start_session(1, None)
        note_request("/p?q=1", (("user-agent", "ua/1"), ("X-Two", "first"), ("x-two", "second"), ("X-Nul", "a\0b")))
        return child_environment(["User-Agent", "X-Two", "X-Missing", "X-Nul"])

    env = asyncio.run(main())
    assert env["KEPT"] == "yes"
    assert env["WEBSOCAT_URI"] == "/p?q=1"
    assert "WEBSOCAT_CLIENT" not in env  # not a TCP client
    assert env["H_User-Agent"] == env["H_User_Agent"] == "ua/1"  # v1's name, and one sh keeps
    assert env["H_X-Two"] == "first"  # the first value (v1)
    assert not {"H_X-Missing", "H_X_Missing", "H_X-Nul", "H_X_Nul"} & env.keys()


def _stderr_of(code: str, capfdbinary: pytest.CaptureFixture[bytes], *, session: int | None) -> bytes:
    """Run a python child with ``code`` (writing to its stderr) in a session numbered
    ``session`` (None: outside a listener); what reached our stderr."""

    async def main() -> None:
        if session is not None:
            start_session(session, None)
        async with process.spawn(sys.executable, ["-c", code]) as child:
            while await child.read():
                pass

    capfdbinary.readouterr()
    asyncio.run(main())
    return capfdbinary.readouterr().err


def test_stderr_lines_get_the_session_number(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    code = (
        "import sys, time; w = sys.stderr.buffer; w.write(b'one\\ntw'); w.flush(); time.sleep(0.05); "
        "w.write(b'o\\n\\nthree'); w.flush()"
    )
    assert _stderr_of(code, capfdbinary, session=7) == b"[7] one\n[7] two\n[7] \n[7] three\n"


def test_a_long_line_is_cut_into_prefixed_pieces(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    size = process.STDERR_LINE * 2 + 10
    got = _stderr_of(f"import sys; sys.stderr.write('x' * {size})", capfdbinary, session=2)
    pieces = got.split(b"\n")[:-1]
    assert all(piece.startswith(b"[2] ") for piece in pieces) and len(pieces) >= 3
    assert sum(len(piece) - 4 for piece in pieces) == size


def test_stderr_outside_a_listener_is_untouched(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert _stderr_of("import sys; sys.stderr.write('as is')", capfdbinary, session=None) == b"as is"
