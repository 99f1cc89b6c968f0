"""TCP connections through a proxy: an HTTP proxy's CONNECT tunnel (--proxy), a SOCKS5
proxy (--socks5, RFC 1928; user name and password, RFC 1929), or the one the environment
names (--proxy-from-env).

The target's name goes to the proxy as it is (CONNECT host:port; SOCKS5 address type 3),
so the proxy resolves it, not this machine.  Each function returns the tunnel as a plain
byte stream: TLS (wss://) and the WebSocket upgrade go on over it.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from typing import Any
from urllib.parse import unquote, urlsplit

from websocat.runtime import socket_options
from websocat.runtime.endpoints import tcp
from websocat.runtime.endpoints.tcp import SockOpts
from websocat.runtime.errors import ConnectError, UsageError
from websocat.runtime.sockets import TransportStream

MAX_REPLY_HEAD = 65536  # an HTTP proxy's reply head longer than this is refused

# SOCKS5 reply codes (RFC 1928, section 6)
SOCKS5_REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}


def _show(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _ip_version(host: str) -> int | None:
    try:
        return ipaddress.ip_address(host).version
    except ValueError:
        return None


class _Reader:
    """Reads exact amounts or an HTTP head from a stream; what it read past the end is
    put back into the stream (``done``), for the protocol that follows."""

    def __init__(self, stream: TransportStream, what: str) -> None:
        self.stream = stream
        self.what = what
        self.buffer = b""

    async def _more(self) -> None:
        chunk = await self.stream.read()
        if not chunk:
            raise ConnectError(f"{self.what}: the proxy closed the connection during the handshake")
        self.buffer += chunk

    async def exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self._more()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    async def head(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > MAX_REPLY_HEAD:
                raise ConnectError(f"{self.what}: the proxy's reply head is longer than {MAX_REPLY_HEAD} bytes")
            await self._more()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        return head

    def done(self) -> TransportStream:
        self.stream.protocol.unread(self.buffer)
        return self.stream


async def _http_tunnel(
    proxy_host: str, proxy_port: int, host: str, port: int, authorization: str | None, sockopts: SockOpts = None
) -> TransportStream:
    target = _show(host, port)
    what = f"proxy {_show(proxy_host, proxy_port)}"
    stream = await tcp._open(proxy_host, proxy_port, sockopts)
    try:
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
        if authorization is not None:
            lines.append(f"Proxy-Authorization: {authorization}")
        if any("\r" in line or "\n" in line for line in lines):
            raise UsageError(f"line break in the CONNECT request to {what}")
        await stream.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape"))
        reader = _Reader(stream, what)
        status = (await reader.head()).split(b"\r\n", 1)[0].decode("latin-1")
        parts = status.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ConnectError(f"{what}: not an HTTP reply to CONNECT {target}: {status[:80]!r}")
        if not parts[1].startswith("2"):  # any 2xx opens the tunnel (RFC 9110, 9.3.6)
            reason = parts[2] if len(parts) > 2 else ""
            hint = " (check the user:password in --proxy)" if parts[1] == "407" else ""
            raise ConnectError(f"{what} refused CONNECT {target}: {parts[1]} {reason}{hint}".rstrip())
        return reader.done()
    except BaseException:
        await stream.aclose()
        raise


async def _socks5_tunnel(
    proxy_host: str, proxy_port: int, host: str, port: int, user_pass: tuple[str, str] | None, sockopts: SockOpts = None
) -> TransportStream:
    target = _show(host, port)
    what = f"socks5 proxy {_show(proxy_host, proxy_port)}"
    version = _ip_version(host)
    if version == 4:
        address = b"\x01" + ipaddress.IPv4Address(host).packed
    elif version == 6:
        address = b"\x04" + ipaddress.IPv6Address(host).packed
    else:
        name = host.encode("idna") if not host.isascii() else host.encode("ascii")
        if not 0 < len(name) < 256:
            raise UsageError(f"{what}: host name {host!r} is too long for SOCKS5 (255 bytes at most)")
        address = b"\x03" + bytes([len(name)]) + name
    credentials = None
    if user_pass is not None:
        user, password = (part.encode("utf-8", "surrogateescape") for part in user_pass)
        if not (0 < len(user) < 256 and len(password) < 256):
            raise UsageError(f"{what}: user name and password must be 1-255 and 0-255 bytes (RFC 1929)")
        credentials = b"\x01" + bytes([len(user)]) + user + bytes([len(password)]) + password
    stream = await tcp._open(proxy_host, proxy_port, sockopts)
    try:
        reader = _Reader(stream, what)
        methods = b"\x00\x02" if credentials is not None else b"\x00"
        await stream.write(b"\x05" + bytes([len(methods)]) + methods)
        version_byte, method = await reader.exact(2)
        if version_byte != 5:
            raise ConnectError(f"{what}: not a SOCKS5 server (its reply starts with {version_byte:#04x})")
        if method == 0x02 and credentials is not None:
            await stream.write(credentials)
            _sub_version, status = await reader.exact(2)
            if status != 0:
                raise ConnectError(f"{what}: user name or password refused (--socks5-user-pass)")
        elif method == 0xFF or method not in methods:
            hint = "; it may need --socks5-user-pass" if credentials is None else ""
            raise ConnectError(f"{what} accepts none of the authentication methods offered{hint}")
        await stream.write(b"\x05\x01\x00" + address + port.to_bytes(2, "big"))
        version_byte, reply, _reserved, kind = await reader.exact(4)
        if version_byte != 5:
            raise ConnectError(f"{what}: not a SOCKS5 reply to CONNECT {target}")
        if reply != 0:
            reason = SOCKS5_REPLIES.get(reply, f"reply code {reply}")
            raise ConnectError(f"{what} refused CONNECT {target}: {reason}")
        if kind == 1:
            await reader.exact(4 + 2)
        elif kind == 4:
            await reader.exact(16 + 2)
        elif kind == 3:
            (length,) = await reader.exact(1)
            await reader.exact(length + 2)
        else:
            raise ConnectError(f"{what}: unknown address type {kind} in its reply")
        return reader.done()
    except BaseException:
        await stream.aclose()
        raise


def connect_http(
    proxy_host: str,
    proxy_port: int,
    host: str,
    port: int,
    *,
    authorization: str | None = None,
    sockopts: SockOpts = None,
    connect_timeout_ms: int | None = None,
) -> Any:
    """Connect to host:port through an HTTP proxy's CONNECT tunnel (--proxy).

    ``authorization``: the Proxy-Authorization header's value, e.g. ``"Basic dTpw"``.  A
    reply other than 2xx (407 Proxy Authentication Required, 403, 502, ...) fails with
    its status and reason.  ``sockopts``: socket options for the connection to the proxy,
    as tcp.connect's.  ``connect_timeout_ms``: for the TCP connect and the CONNECT
    exchange together.
    """
    socket_options.check(sockopts)
    tunnel = _http_tunnel(proxy_host, proxy_port, host, port, authorization, sockopts)
    return tcp._closing(tcp._timed(tunnel, connect_timeout_ms, _stage(proxy_host, proxy_port, host, port)))


def connect_socks5(
    proxy_host: str,
    proxy_port: int,
    host: str,
    port: int,
    *,
    user_pass: tuple[str, str] | None = None,
    sockopts: SockOpts = None,
    connect_timeout_ms: int | None = None,
) -> Any:
    """Connect to host:port through a SOCKS5 proxy (--socks5); a host name is sent to the proxy to resolve.

    ``user_pass``: (user, password) for RFC 1929 authentication (--socks5-user-pass);
    without it only "no authentication" is offered.  ``sockopts``: as connect_http's.
    ``connect_timeout_ms``: for the TCP connect and the SOCKS5 exchange together.
    """
    socket_options.check(sockopts)
    tunnel = _socks5_tunnel(proxy_host, proxy_port, host, port, user_pass, sockopts)
    return tcp._closing(tcp._timed(tunnel, connect_timeout_ms, _stage(proxy_host, proxy_port, host, port)))


def _stage(proxy_host: str, proxy_port: int, host: str, port: int) -> str:
    """What a --connect-timeout-ms error names: '127.0.0.1:1080: proxy tunnel to example.com:443'."""
    return f"{_show(proxy_host, proxy_port)}: proxy tunnel to {_show(host, port)}"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _bypassed(host: str, no_proxy: str | None) -> bool:
    """Whether NO_PROXY ('*', or a comma-separated list of hosts and domain suffixes) names ``host``."""
    for entry in (no_proxy or "").split(","):
        entry = entry.strip().lower().lstrip(".")
        if entry == "*" or (entry and (host.lower() == entry or host.lower().endswith("." + entry))):
            return True
    return False


def proxy_from_env(host: str, secure: bool) -> str | None:
    """The proxy URL the environment names for a ws:// (``secure=False``) or wss:// connection to ``host``.

    wss://: HTTPS_PROXY or https_proxy; ws://: http_proxy (lower case only, as curl: a CGI
    program's HTTP_PROXY can come from a request's Proxy header); then ALL_PROXY or
    all_proxy.  None when none is set or NO_PROXY (no_proxy) names the host.
    """
    names = ("HTTPS_PROXY", "https_proxy") if secure else ("http_proxy",)
    url = _env(*names, "ALL_PROXY", "all_proxy")
    if url is None or _bypassed(host, _env("NO_PROXY", "no_proxy")):
        return None
    return url


async def _env_tunnel(host: str, port: int, secure: bool, sockopts: SockOpts) -> TransportStream:
    url = proxy_from_env(host, secure)
    if url is None:
        return await tcp._race(await tcp.resolve(host, port), 20, sockopts)
    parts = urlsplit(url if "://" in url else "http://" + url)
    try:
        proxy_host, proxy_port = parts.hostname, parts.port
    except ValueError:
        proxy_host = proxy_port = None
    if not proxy_host or not proxy_port:
        raise UsageError(
            f"the proxy named in the environment is not scheme://host:port: {parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        )
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password or "")
    if parts.scheme == "http":
        authorization = None
        if user is not None:
            raw = f"{user}:{password}".encode("utf-8", "surrogateescape")
            authorization = "Basic " + base64.b64encode(raw).decode("ascii")
        return await _http_tunnel(proxy_host, proxy_port, host, port, authorization, sockopts)
    if parts.scheme in ("socks5", "socks5h"):
        return await _socks5_tunnel(proxy_host, proxy_port, host, port, (user, password) if user else None, sockopts)
    raise UsageError(
        f"the proxy named in the environment has scheme {parts.scheme!r}; expected http://, socks5:// or socks5h://"
    )


def connect_from_env(
    host: str, port: int, *, secure: bool = False, sockopts: SockOpts = None, connect_timeout_ms: int | None = None
) -> Any:
    """Connect to host:port through the proxy the environment names (--proxy-from-env), else directly.

    See `proxy_from_env` for the variables read; an http:// proxy is used with CONNECT,
    a socks5:// or socks5h:// one with SOCKS5 (the name sent to the proxy either way).
    Without one, the name is resolved here and the addresses raced, as tcp.connect_late.
    ``connect_timeout_ms``: for the connect, through the proxy or not.
    """
    socket_options.check(sockopts)
    stage = f"{_show(host, port)}: connect (--proxy-from-env)"
    return tcp._closing(tcp._timed(_env_tunnel(host, port, secure, sockopts), connect_timeout_ms, stage))


__all__ = ["SOCKS5_REPLIES", "connect_from_env", "connect_http", "connect_socks5", "proxy_from_env"]
