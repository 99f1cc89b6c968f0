"""--follow-redirects against `websockets` servers that answer the upgrade with 3xx replies."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RedirectingServer, Websocat

EXIT_PROTOCOL = 4


@pytest.fixture
def servers() -> Iterator[list[RedirectingServer]]:
    """Append servers to the list; each is shut down after the test."""
    started: list[RedirectingServer] = []
    yield started
    for server in started:
        server.close()


def _server(
    servers: list[RedirectingServer], routes: dict[str, tuple[int, str]], **kw: ssl.SSLContext
) -> RedirectingServer:
    server = RedirectingServer(routes, **kw)
    servers.append(server)
    return server


def _tls_context(pki: dict[str, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["cert"], pki["key"])
    return context


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_relative_redirect_is_followed_with_the_same_headers(
    websocat: Websocat, servers: list[RedirectingServer], status: int
) -> None:
    server = _server(servers, {"/old": (status, "/new?x=1")})
    out = websocat.run(
        "--follow-redirects", "1", "-H", "X-Test: kept", f"ws://127.0.0.1:{server.port}/old", input=b"hello\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"hello\n"
    assert server.paths() == ["/old", "/new?x=1"]
    assert [headers.get("X-Test") for _path, headers in server.requests] == ["kept", "kept"]
    assert server.requests[1][1]["Host"] == f"127.0.0.1:{server.port}"


def test_a_redirect_to_another_server_by_http_url(websocat: Websocat, servers: list[RedirectingServer]) -> None:
    target = _server(servers, {})
    first = _server(servers, {"/": (301, f"http://localhost:{target.port}/there")})
    out = websocat.run("-v", "--follow-redirects", "2", f"ws://127.0.0.1:{first.port}/", input=b"one\ntwo\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"one\ntwo\n"
    assert target.paths() == ["/there"]
    assert target.requests[0][1]["Host"] == f"localhost:{target.port}"
    line = f"websocat: 301 redirect 1 of at most 2: ws://127.0.0.1:{first.port}/ -> ws://localhost:{target.port}/there"
    assert line in out.stderr.decode()


def test_without_the_option_the_location_is_only_shown(websocat: Websocat, servers: list[RedirectingServer]) -> None:
    server = _server(servers, {"/old": (302, "/new")})
    out = websocat.run(f"ws://127.0.0.1:{server.port}/old", input=b"hello\n")
    assert out.returncode == EXIT_PROTOCOL
    assert out.stderr.decode() == "websocat: websocket handshake failed: HTTP/1.1 302 Found (Location: /new)\n"
    assert server.paths() == ["/old"]


def test_a_redirect_loop_ends_after_the_limit(websocat: Websocat, servers: list[RedirectingServer]) -> None:
    server = _server(servers, {"/a": (307, "/b"), "/b": (307, "/a")})
    out = websocat.run("--follow-redirects", "3", f"ws://127.0.0.1:{server.port}/a", input=b"hello\n")
    assert out.returncode == EXIT_PROTOCOL
    assert server.paths() == ["/a", "/b", "/a", "/b"]
    assert out.stderr.decode() == (
        "websocat: websocket handshake failed: HTTP/1.1 307 Temporary Redirect (Location: /a):"
        " more than 3 redirect(s) (--follow-redirects)\n"
    )


def test_ws_to_wss_gets_tls_verified_with_the_given_ca(
    websocat: Websocat, servers: list[RedirectingServer], pki: dict[str, Path]
) -> None:
    secure = _server(servers, {}, context=_tls_context(pki))
    plain = _server(servers, {"/": (308, f"wss://localhost:{secure.port}/tls")})
    args = ("--follow-redirects", "1", f"ws://127.0.0.1:{plain.port}/")
    out = websocat.run("--tls-ca", str(pki["ca"]), *args, input=b"secret\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"secret\n"
    assert secure.paths() == ["/tls"]
    untrusted = websocat.run(*args, input=b"secret\n")  # the test CA is not in the system store
    assert untrusted.returncode == 3
    assert untrusted.stderr == b"websocat: tls: localhost: unable to get local issuer certificate\n"


def test_wss_to_ws_is_refused_unless_insecure(
    websocat: Websocat, servers: list[RedirectingServer], pki: dict[str, Path]
) -> None:
    plain = _server(servers, {})
    secure = _server(servers, {"/": (302, f"ws://127.0.0.1:{plain.port}/plain")}, context=_tls_context(pki))
    url = f"wss://localhost:{secure.port}/"
    out = websocat.run("--tls-ca", str(pki["ca"]), "--follow-redirects", "1", url, input=b"hello\n")
    assert out.returncode == EXIT_PROTOCOL
    assert out.stderr.decode() == (
        f"websocat: refusing a redirect from {url} to ws://127.0.0.1:{plain.port}/plain:"
        " it leaves TLS (-k allows it)\n"
    )
    assert plain.paths() == []
    out = websocat.run("-k", "--follow-redirects", "1", url, input=b"hello\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"hello\n"
    assert plain.paths() == ["/plain"]


def test_credentials_go_only_to_the_same_origin(websocat: Websocat, servers: list[RedirectingServer]) -> None:
    other = _server(servers, {})
    server = _server(servers, {"/here": (302, "/there"), "/away": (302, f"ws://127.0.0.1:{other.port}/")})
    same = websocat.run(
        "--follow-redirects", "1", "--basic-auth", "u:p", f"ws://127.0.0.1:{server.port}/here", input=b"x\n"
    )
    assert same.returncode == 0, same.stderr
    assert [headers.get("Authorization") for _path, headers in server.requests] == ["Basic dTpw", "Basic dTpw"]
    away = f"ws://127.0.0.1:{server.port}/away"
    out = websocat.run("--follow-redirects", "1", "-H", "Cookie: c=1", away, input=b"x\n")
    assert out.returncode == EXIT_PROTOCOL
    assert "the request's credentials (Authorization or Cookie) would go to another host" in out.stderr.decode()
    assert other.paths() == []
    out = websocat.run("--follow-redirects", "1", away, input=b"x\n")  # none: followed
    assert out.returncode == 0, out.stderr
    assert other.paths() == ["/"]


def test_a_location_that_is_not_a_websocket_url(websocat: Websocat, servers: list[RedirectingServer]) -> None:
    server = _server(servers, {"/": (302, "ftp://127.0.0.1/x")})
    out = websocat.run("--follow-redirects", "1", f"ws://127.0.0.1:{server.port}/", input=b"x\n")
    assert out.returncode == EXIT_PROTOCOL
    assert out.stderr.decode() == (
        "websocat: cannot follow a redirect to 'ftp://127.0.0.1/x': not a ws, wss, http or https URL\n"
    )
