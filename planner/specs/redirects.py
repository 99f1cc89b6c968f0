"""--follow-redirects: a ws:// or wss:// URL's stack opened again at each redirect
(runtime/overlays/redirects.py).

The websocket fixup (fixups.expand_websocket) builds the URL's stack with its target
taken from the hop (``hop.host``, ``hop.port``, ``hop.uri``, ``hop.host_header``,
``hop.secure``) and puts `FollowRedirects` over it; after the lints it becomes
`FollowRedirectsEndpoint`, whose ``reopens`` declaration makes the renderer write that
stack as ``async def connect1(hop: redirects.Hop)``, run once per hop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from websocat.planner.model import Endpoint, Invocation, Kind, Overlay, Role, SpecError, Stack, Var
from websocat.planner.specs import Rendered, Shared, internal, keyword, option
from websocat.planner.specs.reconnect import ReopeningEndpoint

# What the layers of a followed URL's stack take from the hop, in place of the URL's parts
# (typed Any: each stands where a str, int or bool field's value goes).
HOST: Any = Var("hop.host")
PORT: Any = Var("hop.port")
URI: Any = Var("hop.uri")
HOST_HEADER: Any = Var("hop.host_header")
SECURE: Any = Var("hop.secure")


def redirect_limit(value: int) -> int:
    if value < 0:
        raise SpecError(f"option '--follow-redirects': {value} is not a number of redirects (0 or more)")
    return value


@dataclass(frozen=True)
class FollowRedirects(Overlay):
    """Follow a ws:// or wss:// URL's redirects (--follow-redirects N): the stack under
    it is opened again at each redirect's Location, at most N times, with the same
    headers. A redirect from wss to ws needs -k (--insecure); one to another origin is
    refused when the request carries credentials; each is one line with -v."""

    url: str = internal("")
    limit: int = option("--follow-redirects", default=0, convert=redirect_limit)
    insecure: bool = option("--insecure", default=False)
    verbose: bool = option("--verbose", default=False)
    accepts: ClassVar[Kind | None] = Kind.MESSAGES
    provides: ClassVar[Kind | None] = Kind.MESSAGES
    applies_to: ClassVar[str] = "ws:// or wss:// client"

    def as_endpoint(self, under: Stack, inv: Invocation, role: Role | None) -> Endpoint:
        return FollowRedirectsEndpoint(
            reopened=under, url=self.url, limit=self.limit, insecure=self.insecure, verbose=self.verbose
        )


@dataclass(frozen=True)
class FollowRedirectsEndpoint(ReopeningEndpoint):
    """Implementation detail of --follow-redirects: the stack ``reopened``, opened for
    the URL and again at each redirect."""

    url: str = keyword("", always=True)
    limit: int = keyword(0, always=True)
    insecure: bool = keyword(False)
    verbose: bool = keyword(False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.redirects", "follow", "redirected")
    reopens: ClassVar = Shared("connect", "hop", "redirects.Hop", "use", "opened again at each redirect")
