"""-v on a refused upgrade: the start of the reply's body, read without waiting for a close."""

from __future__ import annotations

import asyncio

import pytest

from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays import ws_handshake
from websocat.runtime.testing import MemoryStream


class KeptOpen(MemoryStream):
    """Reads the chunks, then blocks as a keep-alive server that sends nothing more."""

    async def read(self, max_bytes: int = 65536) -> bytes:
        chunk = await super().read(max_bytes)
        if not chunk:
            await asyncio.Future()
        return chunk


def refused(chunks: list[bytes], capsys: pytest.CaptureFixture[str]) -> list[str]:
    async def attempt() -> None:
        with pytest.raises(ProtocolError, match="403"):
            options = ws_handshake.ClientOptions(verbose=True)
            await asyncio.wait_for(ws_handshake.client_handshake(KeptOpen(chunks), options), 1.0)

    asyncio.run(attempt())
    err = capsys.readouterr().err.splitlines()
    return [line.removeprefix("websocat: < ") for line in err if line.startswith("websocat: < ")]


HEAD = b"HTTP/1.1 403 Forbidden\r\n"


def test_content_length_body_split_over_reads(capsys: pytest.CaptureFixture[str]) -> None:
    shown = refused([HEAD + b"Content-Length: 11\r\n\r\nhello", b" world"], capsys)
    assert shown[-1] == "hello world"


def test_chunked_body_ends_at_the_last_chunk(capsys: pytest.CaptureFixture[str]) -> None:
    shown = refused([HEAD + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", b"2\r\nde\r\n0\r\n\r\n"], capsys)
    assert shown[-1] == "abcde"


def test_body_without_length_is_waited_for_a_bounded_time(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_handshake, "BODY_WAIT", 0.1)
    shown = refused([HEAD + b"\r\nno length \x01here"], capsys)
    assert shown[-1] == "no length \\x01here"  # control characters escaped


def test_empty_body_shows_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    shown = refused([HEAD + b"Content-Length: 0\r\n\r\n"], capsys)
    assert shown == ["HTTP/1.1 403 Forbidden", "Content-Length: 0"]


def request_lines(host: str | None, headers: tuple[ws_handshake.HeaderItem, ...]) -> list[str]:
    """The request head a client sends (the 403 reply stops it after the request)."""
    stream = MemoryStream([HEAD + b"Content-Length: 0\r\n\r\n"])

    async def attempt() -> None:
        with pytest.raises(ProtocolError):
            options = ws_handshake.ClientOptions(host=host, headers=headers)
            await ws_handshake.client_handshake(stream, options)

    asyncio.run(attempt())
    return bytes(stream.written).decode().split("\r\n")


def test_an_explicit_host_header_replaces_the_automatic_one() -> None:
    lines = request_lines("127.0.0.1:80", (("X-A", "1"), ("host", "example.com"), "X-B: 2"))
    assert [line for line in lines if line.lower().startswith("host:")] == ["host: example.com"]
    assert lines[1] == "host: example.com"  # where the automatic one goes
    assert lines[-4:-2] == ["X-A: 1", "X-B: 2"]


def test_an_explicit_host_header_is_sent_without_an_automatic_one() -> None:
    lines = request_lines(None, ("Host: h.example",))
    assert lines[1] == "Host: h.example"
    assert request_lines("127.0.0.1:80", ())[1] == "Host: 127.0.0.1:80"
