"""The HTTP upgrade alone, no framing: ``ws.request`` (ws-request:) and ``ws.accept_upgrade`` (ws-accept:).

Each returns the byte stream after the upgrade, for ``ws.framed`` or anything else to
go on with.  Scripts call them as ``ws.request`` and ``ws.accept_upgrade``: ws.py
re-exports them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TypedDict, Unpack

from websocat.runtime import stats
from websocat.runtime.context import note_request
from websocat.runtime.keywords import check, take
from websocat.runtime.timeouts import within
from websocat.runtime.overlays.ws_deflate import DeflateOptions
from websocat.runtime.overlays.ws_access import Access, StaticFile, Users
from websocat.runtime.overlays.ws_handshake import (
    ClientOptions,
    HeaderItem,
    ServerOptions,
    client_handshake,
    server_handshake,
)
from websocat.runtime.sockets import DEFAULT_READ, ByteStream, opening

__all__ = [
    "ClientHandshake",
    "ServerHandshake",
    "Upgraded",
    "accept_upgrade",
    "client_options",
    "request",
    "server_options",
    "upgrade_of",
]


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


class ClientHandshake(TypedDict, total=False):
    """The keywords of a client's upgrade request, which ws.request and ws.connect take.

    Their defaults are ws_handshake.ClientOptions', which says more of each.
    ``uri``: the request target ("/").  ``host``: the Host header (None: none).
    ``headers``: extra request headers, as ("Name", "value") pairs or "Name: value"
    strings.  ``protocol``: the Sec-WebSocket-Protocol asked for.  ``origin``,
    ``user_agent``: the Origin and User-Agent headers.  ``lax``: accept any 101 reply.
    ``omit_headers`` (--ws-omit-headers): leave out the upgrade headers.  ``verbose``:
    the request and reply on stderr.  ``basic_auth_file`` (--basic-auth-file): a file
    holding the ``user:password`` of an Authorization header.
    """

    uri: str
    host: str | None
    headers: Iterable[HeaderItem]
    protocol: str | None
    origin: str | None
    user_agent: str | None
    lax: bool
    omit_headers: bool
    verbose: bool
    basic_auth_file: str | bytes | None


class ServerHandshake(TypedDict, total=False):
    """The keywords of a server's answer to an upgrade, which ws.accept_upgrade and ws.accept take.

    Their defaults are ws_handshake.ServerOptions' and ws_access.Access', which say more
    of each.  ``headers``: extra reply headers.  ``protocol``: the Sec-WebSocket-Protocol
    to require and answer with (``protocol_lax``: do not require it; ``choose_first``:
    with none of our own, answer with the client's first).  ``lax``: skip the request's
    checks.  ``omit_headers`` (--ws-omit-headers): a bare reply.  ``verbose``: the request
    and reply on stderr.  ``restrict_uri``, ``allow_origins``, ``users`` (read_users),
    ``static_files``: who is let in, and the files served instead (ws_access.py).
    """

    headers: Iterable[HeaderItem]
    protocol: str | None
    lax: bool
    protocol_lax: bool
    choose_first: bool
    omit_headers: bool
    verbose: bool
    restrict_uri: str | None
    allow_origins: Iterable[str]
    users: Users | None
    static_files: Iterable[StaticFile]


def client_options(options: ClientHandshake, deflate: DeflateOptions | None = None) -> ClientOptions:
    """The ClientOptions of a client's keywords (others in ``options`` are ignored)."""
    given = take(options, ClientOptions)
    if "headers" in given:
        given["headers"] = tuple(given["headers"])
    return ClientOptions(**given, deflate=deflate)


def server_options(options: ServerHandshake, deflate: DeflateOptions | None = None) -> ServerOptions:
    """The ServerOptions of a server's keywords (others in ``options`` are ignored)."""
    given = take(options, ServerOptions)
    access = take(options, Access)
    for tupled, name in ((given, "headers"), (access, "allow_origins"), (access, "static_files")):
        if name in tupled:
            tupled[name] = tuple(tupled[name])
    return ServerOptions(**given, deflate=deflate, access=Access(**access))


@opening
async def request(
    stream: ByteStream, *, connect_timeout_ms: int | None = None, **options: Unpack[ClientHandshake]
) -> ByteStream:
    """Send an HTTP/1 WebSocket upgrade request and check the reply; then plain bytes (no framing).

    ``connect_timeout_ms``: fail with TimeoutExpired when the reply takes longer.  The
    other keywords: ClientHandshake."""
    check("request", options, ClientHandshake)
    handshake = client_options(options)
    started = time.monotonic()
    leftover = await within(client_handshake(stream, handshake), connect_timeout_ms, upgrade_of(stream))
    stats.note("upgrade", started)
    return Upgraded(stream, leftover)


@opening
async def accept_upgrade(stream: ByteStream, **options: Unpack[ServerHandshake]) -> ByteStream:
    """Answer an HTTP/1 WebSocket upgrade request; then plain bytes (no framing).

    The keywords: ServerHandshake."""
    check("accept_upgrade", options, ServerHandshake)
    accepted, leftover = await server_handshake(stream, server_options(options))
    note_request(accepted.target, accepted.headers)  # for the session's exec:/cmd: (-e)
    return Upgraded(stream, leftover)


def upgrade_of(stream: ByteStream) -> str:
    """'127.0.0.1:80: WebSocket upgrade', what a --connect-timeout-ms error names."""
    peer = getattr(stream, "peer", "")
    return f"{peer}: WebSocket upgrade" if peer else "WebSocket upgrade"
