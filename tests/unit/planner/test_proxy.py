"""--proxy, --socks5, --socks5-user-pass, --proxy-from-env in the planner: which stacks go
through the proxy, bad values refused in one line, credentials kept out of what is shown."""

from __future__ import annotations

import base64

import pytest

from websocat.planner.model import Invocation, SpecError
from websocat.planner.pipeline import dump_phase0, dump_phase2, plan, script_source
from websocat.planner.specs.proxy import EnvProxyConnect, HttpProxyConnect, Socks5Connect
from websocat.planner.specs.tcp import TcpConnectByEarlyHostname, TcpConnectByIp
from websocat.planner.values import hide_argv_credentials


def _planned(*argv: str) -> Invocation:
    planned = plan(list(argv))
    assert isinstance(planned, Invocation)
    return planned


def test_http_proxy_replaces_the_urls_tcp_and_keeps_the_name_unresolved() -> None:
    inv = _planned("--proxy", "http://u:p@proxy.example:3128", "wss://example.com/x", "mirror:")
    assert inv.left is not None
    ep = inv.left.endpoint
    assert isinstance(ep, HttpProxyConnect)
    assert (ep.proxy_host, ep.proxy_port, ep.host, ep.port) == ("proxy.example", 3128, "example.com", 443)
    assert ep.authorization == "Basic " + base64.b64encode(b"u:p").decode()
    source, _warnings = script_source(["--proxy", "http://127.0.0.1:1", "wss://example.com/x"])
    assert "tcp.resolve" not in source and "tls.connect(tcp1, domain='example.com')" in source


def test_socks5_with_user_pass_and_from_env() -> None:
    inv = _planned("--socks5", "[::1]:1080", "--socks5-user-pass", "bob:a:b", "ws://10.0.0.1:81/")
    assert inv.left is not None and isinstance(inv.left.endpoint, Socks5Connect)
    assert inv.left.endpoint.proxy_host == "::1" and inv.left.endpoint.user_pass == ("bob", "a:b")
    inv = _planned("--proxy-from-env", "wss://example.com/")
    assert inv.left is not None and inv.left.endpoint == EnvProxyConnect("example.com", 443, True)


def test_plain_tcp_and_listeners_are_not_proxied() -> None:
    inv = _planned("--proxy", "http://127.0.0.1:1", "ws-l:127.0.0.1:1", "tcp:127.0.0.1:2")
    assert inv.right is not None and isinstance(inv.right.endpoint, TcpConnectByIp)
    inv = _planned("ws://example.com/")
    assert inv.left is not None and isinstance(inv.left.endpoint, TcpConnectByEarlyHostname)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--proxy", "socks5://h:1"], "for a SOCKS5 proxy use --socks5"),
        (["--proxy", "http://h"], "expected http://[user:password@]host:port"),
        (["--proxy", "https://h:1"], "expected http://"),
        (["--proxy", "http://u:sekrit@h:1/path"], "'http://u:***@h:1/path'"),
        (["--socks5", "h"], "expected host:port"),
        (["--socks5-user-pass", "bob"], "expected user:password"),
        (["--socks5-user-pass", "bob:" + "x" * 256], "255 bytes at most"),
        (["--proxy", "http://h:1", "--socks5", "h:2"], "give one"),
    ],
)
def test_bad_values_are_refused_even_without_a_ws_client(argv: list[str], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        plan([*argv, "tcp:127.0.0.1:1", "mirror:"])
    assert message in str(caught.value) and "sekrit" not in str(caught.value)


def test_credentials_are_hidden_in_shown_command_lines_and_dumps() -> None:
    argv = ["--socks5-user-pass", "bob:hunter2", "--socks5", "127.0.0.1:1", "ws://h/"]
    assert hide_argv_credentials(argv)[1] == "bob:***"
    assert hide_argv_credentials(["--socks5-user-pass=bob:hunter2"]) == ["--socks5-user-pass=bob:***"]
    assert hide_argv_credentials(["--proxy", "http://u:p@h:1"]) == ["--proxy", "http://u:***@h:1"]
    for dump in (dump_phase0, dump_phase2):
        assert "hunter2" not in dump(argv)
    assert "cDE=" not in dump_phase2(["--proxy", "http://u:p1@h:1", "ws://h/"])
