"""--follow-redirects: which stacks follow, and what the hop's coroutine is given."""

from __future__ import annotations

from websocat.planner.model import Var
from websocat.planner.pipeline import plan, script_source
from websocat.planner.specs.redirects import FollowRedirectsEndpoint
from websocat.planner.specs.tcp import TcpConnectByLateHostname
from websocat.planner.specs.tls import TlsClient
from websocat.planner.specs.ws import WsConnect


def test_a_url_is_reopened_per_hop_with_its_target_from_the_hop() -> None:
    got = plan(["--follow-redirects", "2", "-k", "ws://u:p@example.com:8080/a?b", "mirror:"])
    follow = got.left.endpoint
    assert isinstance(follow, FollowRedirectsEndpoint)
    assert (follow.url, follow.limit, follow.insecure) == ("ws://example.com:8080/a?b", 2, True)  # no password
    reopened = follow.reopened
    assert reopened.endpoint == TcpConnectByLateHostname(Var("hop.host"), Var("hop.port"))
    ws, tls = reopened.overlays
    assert isinstance(ws, WsConnect) and isinstance(tls, TlsClient)
    assert (ws.uri, ws.host, ws.authorization) == ("hop.uri", "hop.host_header", "Basic dTpw")
    assert (tls.domain, tls.enabled, tls.insecure) == ("hop.host", "hop.secure", True)


def test_zero_follows_none_and_says_so_at_the_first_redirect() -> None:
    source, warnings = script_source(["--follow-redirects", "0", "ws://h/", "mirror:"])
    assert "redirects.follow(connect1, url='ws://h/', limit=0)" in source
    assert warnings == ()


def test_only_urls_follow() -> None:
    source, warnings = script_source(["--follow-redirects", "2", "ws-c:tcp:127.0.0.1:1", "mirror:"])
    assert "redirects." not in source
    assert warnings == ("--follow-redirects has no effect here: no ws:// or wss:// client in this command",)
