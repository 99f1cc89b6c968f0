"""The HTTP upgrade alone, no framing: ``ws.request`` (ws-request:) and ``ws.accept_upgrade`` (ws-accept:).

Each returns the byte stream after the upgrade, for ``ws.framed`` or anything else to
go on with.  Scripts call them as ``ws.request`` and ``ws.accept_upgrade``: ws.py
re-exports them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from websocat.runtime import stats
from websocat.runtime.context import note_request
from websocat.runtime.timeouts import within
from websocat.runtime.overlays.ws_access import Access, StaticFile, Users
from websocat.runtime.overlays.ws_handshake import (
    ClientOptions,
    HeaderItem,
    ServerOptions,
    client_handshake,
    server_handshake,
)
from websocat.runtime.sockets import DEFAULT_READ, ByteStream, opening

__all__ = ["Upgraded", "accept_upgrade", "request"]


class Upgraded(ByteStream):
    """The byte stream after an HTTP upgrade: bytes read past the HTTP head come first."""

    name = "upgraded"

    def __init__(self, stream: ByteStream, leftover: bytes) -> None:
        self.stream = stream
        self._leftover = leftover
        self.readable, self.writable, self.hangup = stream.readable, stream.writable, stream.hangup
        self.write = stream.write  # type: ignore[method-assign]
        self.write_eof = stream.write_eof  # type: ignore[method-assign]
        self.aclose = stream.aclose  # type: ignore[method-assign]

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        if self._leftover:
            data, self._leftover = self._leftover[:max_bytes], self._leftover[max_bytes:]
            return data
        return await self.stream.read(max_bytes)


@opening
async def request(
    stream: ByteStream,
    *,
    uri: str = "/",
    host: str | None = None,
    headers: Iterable[HeaderItem] = (),
    protocol: str | None = None,
    origin: str | None = None,
    user_agent: str | None = None,
    lax: bool = False,
    omit_headers: bool = False,
    verbose: bool = False,
    connect_timeout_ms: int | None = None,
    basic_auth_file: str | bytes | None = None,
) -> ByteStream:
    """Send an HTTP/1 WebSocket upgrade request and check the reply; then plain bytes (no framing).

    ``connect_timeout_ms``: fail with TimeoutExpired when the reply takes longer."""
    options = ClientOptions(
        uri=uri,
        host=host,
        headers=tuple(headers),
        protocol=protocol,
        origin=origin,
        user_agent=user_agent,
        lax=lax,
        omit_headers=omit_headers,
        verbose=verbose,
        basic_auth_file=basic_auth_file,
    )
    started = time.monotonic()
    peer = getattr(stream, "peer", "")
    what = f"{peer}: WebSocket upgrade" if peer else "WebSocket upgrade"
    leftover = await within(client_handshake(stream, options), connect_timeout_ms, what)
    stats.note("upgrade", started)
    return Upgraded(stream, leftover)


@opening
async def accept_upgrade(
    stream: ByteStream,
    *,
    headers: Iterable[HeaderItem] = (),
    protocol: str | None = None,
    lax: bool = False,
    protocol_lax: bool = False,
    choose_first: bool = False,
    omit_headers: bool = False,
    verbose: bool = False,
    restrict_uri: str | None = None,
    allow_origins: Iterable[str] = (),
    users: Users | None = None,
    static_files: Iterable[StaticFile] = (),
) -> ByteStream:
    """Answer an HTTP/1 WebSocket upgrade request; then plain bytes (no framing)."""
    options = ServerOptions(
        headers=tuple(headers),
        protocol=protocol,
        lax=lax,
        protocol_lax=protocol_lax,
        choose_first=choose_first,
        omit_headers=omit_headers,
        verbose=verbose,
        access=Access(restrict_uri, tuple(allow_origins), users, tuple(static_files)),
    )
    accepted, leftover = await server_handshake(stream, options)
    note_request(accepted.target, accepted.headers)  # for the session's exec:/cmd: (-e)
    return Upgraded(stream, leftover)
