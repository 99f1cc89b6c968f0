"""runtime/overlays/redirects.py: where a hop goes, and which redirects are refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays.redirects import Following, Hop
from websocat.runtime.overlays.ws_handshake import Redirected


def hop(url: str) -> Hop:
    async def made() -> Hop:
        return Hop(url)

    return asyncio.run(made())


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("ws://example.com/chat?room=1", (False, "example.com", 80, "/chat?room=1", "example.com")),
        ("wss://Example.COM", (True, "example.com", 443, "/", "Example.COM")),
        ("https://u:p@h:8443/x#frag", (True, "h", 8443, "/x", "h:8443")),
        ("http://[::1]:81/", (False, "::1", 81, "/", "[::1]:81")),
    ],
)
def test_a_hop_is_parsed_from_its_url(url: str, where: tuple[Any, ...]) -> None:
    got = hop(url)
    assert (got.secure, got.host, got.port, got.uri, got.host_header) == where


@pytest.mark.parametrize("url", ["ftp://h/x", "ws://", "ws://h:99999/", "/relative"])
def test_a_hop_that_is_not_a_websocket_url_is_refused(url: str) -> None:
    with pytest.raises(ProtocolError, match="cannot follow a redirect to"):
        hop(url)


def _next(start: str, location: str, *, credentials: bool = False, insecure: bool = False) -> str:
    async def after() -> str:
        following = Following(lambda slot: None, (), start, 5, insecure, False)  # type: ignore[arg-type,return-value]
        redirect = Redirected("handshake failed", "302", location, credentials)
        return following._next(Hop(start), redirect, 1).url

    return asyncio.run(after())


@pytest.mark.parametrize(
    ("location", "url"),
    [
        ("/b?q", "ws://h:1/b?q"),
        ("c", "ws://h:1/a/c"),
        ("//other/x", "ws://other/x"),
        ("http://other:2/x", "ws://other:2/x"),
        ("https://other/x", "wss://other/x"),
        ("  wss://other/x ", "wss://other/x"),
    ],
)
def test_the_location_is_taken_relative_to_the_hop(location: str, url: str) -> None:
    assert _next("ws://h:1/a/b", location) == url


def test_leaving_tls_needs_insecure() -> None:
    with pytest.raises(ProtocolError, match="it leaves TLS"):
        _next("wss://h/", "ws://h/")
    assert _next("wss://h/", "ws://h/", insecure=True) == "ws://h/"
    assert _next("ws://h/", "wss://h/") == "wss://h/"


def test_credentials_stay_with_their_origin() -> None:
    assert _next("ws://h:1/a", "/b", credentials=True) == "ws://h:1/b"
    assert _next("ws://h:1/a", "ws://H:1/c", credentials=True) == "ws://H:1/c"
    for elsewhere in ("ws://h:2/", "ws://g:1/", "wss://h:1/"):
        with pytest.raises(ProtocolError, match="would go to another host"):
            _next("ws://h:1/a", elsewhere, credentials=True)
        assert _next("ws://h:1/a", elsewhere) == elsewhere
