"""--proxy (HTTP CONNECT), --socks5 (RFC 1928/1929) and --proxy-from-env, through proxies
written here (asyncio servers in a thread on 127.0.0.1) with `websockets` servers behind."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Websocat


class Proxy:
    """An HTTP CONNECT proxy and a SOCKS5 proxy, each on its own port, that record what
    clients asked for and relay to the target.

    ``credentials``: the user:password both require (None: no authentication).
    ``refuse``: the HTTP proxy answers every CONNECT with this status line instead.
    """

    def __init__(self, credentials: tuple[str, str] | None = None, refuse: str | None = None) -> None:
        self.credentials = credentials
        self.refuse = refuse
        self.requests: list[str] = []  # CONNECT request heads, or "socks5 TARGET" lines
        self.peers: list[str] = []  # the client address of each connection, as the proxy saw it
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        started = threading.Event()
        self.ports: dict[str, int] = {}

        async def main() -> None:
            http = await asyncio.start_server(self._http, "127.0.0.1", 0)
            socks = await asyncio.start_server(self._socks5, "127.0.0.1", 0)
            self.ports = {"http": http.sockets[0].getsockname()[1], "socks5": socks.sockets[0].getsockname()[1]}
            started.set()
            async with http, socks:
                await self.stop.wait()

        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(main(),), daemon=True)
        self.thread.start()
        assert started.wait(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            if dst.can_write_eof():
                dst.write_eof()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)
        up_writer.close()

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.peers.append(writer.get_extra_info("peername")[0])
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            self.requests.append(head)
            method, target, _version = head.split("\r\n")[0].split(" ")
            if self.refuse is not None:
                writer.write(f"{self.refuse}\r\nContent-Length: 0\r\n\r\n".encode())
                return
            if self.credentials is not None:
                token = base64.b64encode(":".join(self.credentials).encode()).decode()
                if f"Proxy-Authorization: Basic {token}" not in head.split("\r\n"):
                    writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                    return
            assert method == "CONNECT"
            host, _, port = target.rpartition(":")
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await self._relay(reader, writer, host.strip("[]"), int(port))
        finally:
            writer.close()

    async def _socks5(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.peers.append(writer.get_extra_info("peername")[0])
        try:
            version, count = await reader.readexactly(2)
            methods = await reader.readexactly(count)
            assert version == 5
            wanted = 2 if self.credentials is not None else 0
            if wanted not in methods:
                writer.write(b"\x05\xff")
                self.requests.append(f"socks5 methods {methods.hex()} refused")
                return
            writer.write(bytes([5, wanted]))
            if wanted == 2:
                _sub, ulen = await reader.readexactly(2)
                user = (await reader.readexactly(ulen)).decode()
                (plen,) = await reader.readexactly(1)
                password = (await reader.readexactly(plen)).decode()
                ok = (user, password) == self.credentials
                writer.write(b"\x01\x00" if ok else b"\x01\x01")
                if not ok:
                    self.requests.append(f"socks5 auth {user} refused")
                    return
            _v, command, _rsv, kind = await reader.readexactly(4)
            assert command == 1
            if kind == 3:
                (length,) = await reader.readexactly(1)
                host = (await reader.readexactly(length)).decode()
            else:
                host = str(ipaddress.ip_address(await reader.readexactly(4 if kind == 1 else 16)))
            port = int.from_bytes(await reader.readexactly(2), "big")
            self.requests.append(f"socks5 type {kind} {host}:{port}")
            writer.write(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00")
            await self._relay(reader, writer, host, port)
        finally:
            writer.close()


@pytest.fixture
def proxies() -> Iterator[type[Proxy]]:
    made: list[Proxy] = []

    class Tracked(Proxy):
        def __init__(self, credentials: tuple[str, str] | None = None, refuse: str | None = None) -> None:
            super().__init__(credentials, refuse)
            made.append(self)

    yield Tracked
    for proxy in made:
        proxy.close()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].strip("/"))


def test_http_connect_proxy_carries_a_ws_echo(websocat: Websocat, echo_url: str, proxies: type[Proxy]) -> None:
    proxy = proxies()
    target = f"ws://localhost:{_port(echo_url)}/"
    out = websocat.run("--proxy", f"http://127.0.0.1:{proxy.ports['http']}", target, input=b"hello\nworld\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"hello\nworld\n"
    assert len(proxy.requests) == 1
    lines = proxy.requests[0].split("\r\n")
    assert lines[0] == f"CONNECT localhost:{_port(echo_url)} HTTP/1.1"  # the name, for the proxy to resolve
    assert not any(line.startswith("Proxy-Authorization") for line in lines)


def test_http_proxy_basic_auth_and_407(websocat: Websocat, echo_url: str, proxies: type[Proxy]) -> None:
    proxy = proxies(credentials=("alice", "s3cret"))
    port = proxy.ports["http"]
    out = websocat.run("--proxy", f"http://alice:s3cret@127.0.0.1:{port}", echo_url, input=b"hi\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"hi\n"
    out = websocat.run("--proxy", f"http://alice:wrong@127.0.0.1:{port}", echo_url, input=b"hi\n")
    assert out.returncode == 3  # could not connect
    assert out.stderr.count(b"\n") == 1 and b"Traceback" not in out.stderr
    assert b"407 Proxy Authentication Required" in out.stderr and b"wrong" not in out.stderr
    assert f"proxy 127.0.0.1:{port} refused CONNECT 127.0.0.1:{_port(echo_url)}".encode() in out.stderr


def test_http_proxy_other_refusal_is_one_line(websocat: Websocat, echo_url: str, proxies: type[Proxy]) -> None:
    proxy = proxies(refuse="HTTP/1.1 403 Forbidden")
    out = websocat.run("--proxy", f"http://127.0.0.1:{proxy.ports['http']}", echo_url, input=b"hi\n")
    assert out.returncode == 3
    assert out.stderr.count(b"\n") == 1 and b": 403 Forbidden" in out.stderr


def test_wss_through_http_proxy(websocat: Websocat, pki: dict[str, Path], wss_port: int, proxies: type[Proxy]) -> None:
    proxy = proxies()
    websocat.env = dict(websocat.env, SSL_CERT_FILE=str(pki["ca"]))
    args = ("--proxy", f"http://127.0.0.1:{proxy.ports['http']}", f"wss://localhost:{wss_port}/")
    # As the wss tests in test_tls.py: stdin stays open until the echo is back (at once-EOF
    # the reply could lose the race with our Close; seen twice under load, left for a look).
    assert websocat.echo_through(b"secure\n", *args) == b"secure\n"
    assert proxy.requests[0].startswith(f"CONNECT localhost:{wss_port} HTTP/1.1\r\n")


def test_socks5_without_auth_sends_the_name(websocat: Websocat, echo_url: str, proxies: type[Proxy]) -> None:
    proxy = proxies()
    target = f"ws://localhost:{_port(echo_url)}/"
    out = websocat.run("--socks5", f"127.0.0.1:{proxy.ports['socks5']}", target, input=b"via socks\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"via socks\n"
    assert proxy.requests == [f"socks5 type 3 localhost:{_port(echo_url)}"]


def test_socks5_with_auth_and_a_wrong_password(websocat: Websocat, echo_url: str, proxies: type[Proxy]) -> None:
    proxy = proxies(credentials=("bob", "hunter2"))
    socks = ("--socks5", f"127.0.0.1:{proxy.ports['socks5']}")
    out = websocat.run(*socks, "--socks5-user-pass", "bob:hunter2", echo_url, input=b"authed\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"authed\n"
    assert proxy.requests == [f"socks5 type 1 127.0.0.1:{_port(echo_url)}"]
    out = websocat.run(*socks, "--socks5-user-pass", "bob:nope", echo_url, input=b"x\n")
    assert out.returncode == 3 and out.stderr.count(b"\n") == 1
    assert b"user name or password refused" in out.stderr and b"nope" not in out.stderr
    out = websocat.run(*socks, echo_url, input=b"x\n")  # no credentials: no method in common
    assert out.returncode == 3 and out.stderr.count(b"\n") == 1
    assert b"none of the authentication methods offered; it may need --socks5-user-pass" in out.stderr


def test_proxy_from_env_only_when_asked(websocat: Websocat, echo_url: str, proxies: type[Proxy]) -> None:
    proxy = proxies()
    websocat.env = dict(websocat.env, http_proxy=f"http://127.0.0.1:{proxy.ports['http']}")
    websocat.env.pop("NO_PROXY", None)
    websocat.env.pop("no_proxy", None)
    out = websocat.run(echo_url, input=b"direct\n")
    assert out.returncode == 0 and out.stdout == b"direct\n"
    assert proxy.requests == []  # the environment changes no route without --proxy-from-env
    out = websocat.run("--proxy-from-env", echo_url, input=b"proxied\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"proxied\n" and len(proxy.requests) == 1
    websocat.env = dict(websocat.env, ALL_PROXY=f"socks5h://127.0.0.1:{proxy.ports['socks5']}")
    websocat.env.pop("http_proxy")
    out = websocat.run("--proxy-from-env", echo_url, input=b"socks\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"socks\n" and proxy.requests[-1].startswith("socks5 ")


def test_credentials_stay_out_of_dumps(websocat: Websocat) -> None:
    out = websocat.run("--dump-spec", "--socks5-user-pass", "bob:hunter2", "--socks5", "127.0.0.1:1", "ws://h/")
    assert out.returncode == 0
    assert out.stdout.split(b"\n", 1)[0] == b"# websocat --socks5-user-pass 'bob:***' --socks5 127.0.0.1:1 ws://h/"
    out = websocat.run("--dump-spec-phase2", "--proxy", "http://u:pw123@127.0.0.1:1", "ws://h/")
    assert out.returncode == 0 and b"pw123" not in out.stdout and b"cHcxMjM" not in out.stdout


@pytest.mark.parametrize("kind", ["http", "socks5", "env"])
def test_socket_options_apply_to_the_proxy_connection(
    websocat: Websocat, echo_url: str, proxies: type[Proxy], kind: str
) -> None:
    """--bind-before-connect (like every socket option) shapes the connection to the proxy."""
    proxy = proxies()
    target = f"ws://localhost:{_port(echo_url)}/"
    if kind == "env":
        websocat.env = dict(websocat.env, ALL_PROXY=f"socks5h://127.0.0.1:{proxy.ports['socks5']}")
        route: tuple[str, ...] = ("--proxy-from-env",)
    else:
        route = (
            ("--proxy", f"http://127.0.0.1:{proxy.ports['http']}")
            if kind == "http"
            else ("--socks5", f"127.0.0.1:{proxy.ports['socks5']}")
        )
    out = websocat.run("--bind-before-connect", "127.0.0.2:0", *route, target, input=b"bound\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"bound\n"
    assert proxy.peers == ["127.0.0.2"]
