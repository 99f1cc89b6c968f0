"""--follow-redirects: a ws:// or wss:// URL whose upgrade is answered with a redirect is
connected again at the redirect's Location.

The script holds the URL's stack in a coroutine of its own,
``async def connect1(hop: redirects.Hop)``, whose layers take the target from ``hop``
(``tcp.connect_late(hop.host, hop.port)``, ``ws.connect(..., uri=hop.uri)``) and which hands
the WebSocket over with ``await hop.use(ws1)``, as autoreconnect:'s coroutines do.  `follow`
runs it for the URL given, and again for each 301, 302, 303, 307 or 308 reply with a
Location, at most ``limit`` times; every hop sends the same headers.

Refused, each with one line: a Location that is not ws, wss, http or https; a redirect
from wss to ws (from TLS to plain text) unless ``insecure`` (-k); a redirect to another
origin (scheme, host or port) when the request carried credentials (an Authorization or
Cookie header, --basic-auth, a URL's user:password), which would hand them to that host,
as curl refuses; more than ``limit`` redirects.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urljoin, urlsplit

from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays.reconnect import Connection, Slot, open_once
from websocat.runtime.overlays.ws_handshake import Redirected
from websocat.runtime.running import report
from websocat.runtime.sockets import MessageSocket

__all__ = ["Following", "Hop", "follow"]

_SCHEMES = {"ws": False, "http": False, "wss": True, "https": True}  # scheme -> TLS


class Hop(Slot):
    """Where one hop connects, parsed from its URL: ``host`` and ``port`` for the TCP
    connection, ``secure`` (wss://: TLS to ``host``), ``uri`` (path and query) and
    ``host_header`` for the request.  The coroutine hands its socket to ``use``."""

    def __init__(self, url: str) -> None:
        super().__init__()
        parts = urlsplit(url)
        secure = _SCHEMES.get(parts.scheme.lower())
        try:
            port = parts.port
        except ValueError:
            port = -1
        if secure is None or not parts.hostname or port == -1:
            raise ProtocolError(f"cannot follow a redirect to {url!r}: not a ws, wss, http or https URL")
        self.secure = secure
        self.host = parts.hostname
        self.port = port if port is not None else 443 if secure else 80
        self.uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.host_header = parts.netloc.rpartition("@")[2]
        self.url = f"{'wss' if secure else 'ws'}://{self.host_header}{self.uri}"

    @property
    def origin(self) -> tuple[bool, str, int]:
        return self.secure, self.host.lower(), self.port


Opener = Callable[..., Coroutine[Any, Any, None]]


class Following:
    """``async with`` it: the WebSocket of the last hop (the socket itself, so the copy
    loop sees the WebSocket), closed with its stack when the block is left."""

    def __init__(
        self, opener: Opener, args: tuple[Any, ...], url: str, limit: int, insecure: bool, verbose: bool
    ) -> None:
        self.opener, self.args, self.url, self.limit = opener, args, url, limit
        self.insecure, self.verbose = insecure, verbose
        self.conn: Connection | None = None

    async def __aenter__(self) -> MessageSocket:
        hop = Hop(self.url)
        for redirects in range(self.limit + 1):
            try:
                self.conn = await open_once(self.opener, self.args, hop)
                return self.conn.sock
            except Redirected as redirect:
                if redirects == self.limit:
                    raise ProtocolError(
                        f"{redirect.message}: more than {self.limit} redirect(s) (--follow-redirects)"
                    ) from None
                hop = self._next(hop, redirect, redirects + 1)
        raise AssertionError("unreachable")

    def _next(self, hop: Hop, redirect: Redirected, number: int) -> Hop:
        url = urljoin(hop.url, redirect.location.strip())
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("http", "https"):  # an HTTP server's redirect names the HTTP scheme
            url = ("wss" if scheme == "https" else "ws") + url[len(scheme) :]
        after = Hop(url)
        if hop.secure and not after.secure and not self.insecure:
            raise ProtocolError(f"refusing a redirect from {hop.url} to {after.url}: it leaves TLS (-k allows it)")
        if redirect.credentials and after.origin != hop.origin:
            raise ProtocolError(
                f"refusing a redirect from {hop.url} to {after.url}: the request's credentials"
                " (Authorization or Cookie) would go to another host"
            )
        if self.verbose:
            report(f"{redirect.status} redirect {number} of at most {self.limit}: {hop.url} -> {after.url}")
        return after

    async def __aexit__(self, *exc: object) -> None:
        if self.conn is not None:
            await self.conn.close()


def follow(
    opener: Opener, *args: Any, url: str, limit: int, insecure: bool = False, verbose: bool = False
) -> Following:
    """The WebSocket ``opener(hop, *args)`` opens for ``url``, opened again at the Location of each
    redirect, at most ``limit`` times (--follow-redirects); ``insecure`` (-k): a redirect
    from wss to ws is followed too; ``verbose``: one line per redirect."""
    return Following(opener, args, url, limit, insecure, verbose)
