"""Proxied TCP connections under ws:// and wss:// clients: --proxy (HTTP CONNECT),
--socks5 (with --socks5-user-pass) and --proxy-from-env (runtime/endpoints/proxy.py).

No prefix of their own: `route` (called by fixups.expand_websocket) puts one of them
where the URL's tcp: would be.  The target's name is not resolved here: the proxy does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from websocat.planner.model import Endpoint, SpecError
from websocat.planner.specs import Rendered, internal, keyword, option, positional
from websocat.planner.specs.tcp import CONNECT_OPTIONS, connect_timeout
from websocat.planner.values import hide_credentials, socket_options, split_host_port, url_authorization


@dataclass(frozen=True)
class ProxyAddress:
    """Where a proxy listens."""

    host: str
    port: int


def http_proxy(url: str) -> tuple[ProxyAddress, str | None]:
    """--proxy 'http://[user:password@]host:port' -> (address, Proxy-Authorization value)."""
    shown = repr(hide_credentials(url))
    expected = "expected http://[user:password@]host:port"
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise SpecError(f"option '--proxy': bad proxy URL {shown}: {expected}") from None
    if parts.scheme != "http":
        hint = " (for a SOCKS5 proxy use --socks5 host:port)" if parts.scheme.startswith("socks") else ""
        raise SpecError(f"option '--proxy': bad proxy URL {shown}: {expected}{hint}")
    if not host or port is None or parts.path not in ("", "/") or parts.query:
        raise SpecError(f"option '--proxy': bad proxy URL {shown}: {expected}")
    return ProxyAddress(host, port), url_authorization(url)


def socks5_address(value: str) -> ProxyAddress:
    return ProxyAddress(*split_host_port(value, "--socks5 "))


def socks5_user_pass(value: str) -> tuple[str, str]:
    """--socks5-user-pass 'user:password' (RFC 1929: a user name of 1-255 bytes, a password of at most 255)."""
    user, colon, password = value.partition(":")
    if not colon or not user:
        raise SpecError("option '--socks5-user-pass': expected user:password")
    if len(user.encode("utf-8", "surrogateescape")) > 255 or len(password.encode("utf-8", "surrogateescape")) > 255:
        raise SpecError("option '--socks5-user-pass': user name and password are 255 bytes at most (RFC 1929)")
    return user, password


@dataclass(frozen=True)
class HttpProxyConnect(Endpoint):
    """Connect to the target host:port through an HTTP proxy's CONNECT tunnel (--proxy)."""

    proxy_host: str = positional("")
    proxy_port: int = positional(0)
    host: str = positional("")
    port: int = positional(0)
    authorization: str | None = keyword(None, repr=False)  # Proxy-Authorization, from the URL's user:password
    # socket options for the connection to the proxy (the tunnel is that connection)
    sockopts: dict[str, Any] | None = option(*CONNECT_OPTIONS, default=None, convert=socket_options(CONNECT_OPTIONS))
    connect_timeout_ms: int | None = connect_timeout()
    render: ClassVar = Rendered("endpoints.proxy", "connect_http", "tcp")
    consumes: ClassVar[tuple[str, ...]] = ("proxy",)
    applies_to: ClassVar[str] = "ws:// or wss:// client"


@dataclass(frozen=True)
class Socks5Connect(Endpoint):
    """Connect to the target host:port through a SOCKS5 proxy (--socks5); the proxy resolves a name."""

    proxy_host: str = positional("")
    proxy_port: int = positional(0)
    host: str = positional("")
    port: int = positional(0)
    user_pass: tuple[str, str] | None = keyword(None, repr=False)  # --socks5-user-pass
    # socket options for the connection to the proxy (the tunnel is that connection)
    sockopts: dict[str, Any] | None = option(*CONNECT_OPTIONS, default=None, convert=socket_options(CONNECT_OPTIONS))
    connect_timeout_ms: int | None = connect_timeout()
    render: ClassVar = Rendered("endpoints.proxy", "connect_socks5", "tcp")
    consumes: ClassVar[tuple[str, ...]] = ("socks5", "socks5_user_pass")
    applies_to: ClassVar[str] = "ws:// or wss:// client with --socks5"


@dataclass(frozen=True)
class EnvProxyConnect(Endpoint):
    """Connect to the target host:port through the proxy the environment names, else directly (--proxy-from-env)."""

    host: str = positional("")
    port: int = positional(0)
    secure: bool = keyword(False)
    # socket options for the connection to the proxy (the tunnel is that connection)
    sockopts: dict[str, Any] | None = option(*CONNECT_OPTIONS, default=None, convert=socket_options(CONNECT_OPTIONS))
    connect_timeout_ms: int | None = connect_timeout()
    render: ClassVar = Rendered("endpoints.proxy", "connect_from_env", "tcp")
    consumes: ClassVar[tuple[str, ...]] = ("proxy_from_env",)
    applies_to: ClassVar[str] = "ws:// or wss:// client without --proxy or --socks5"


def check_proxy_options(opts: argparse.Namespace) -> None:
    """Bad proxy option values are errors even where no ws:// client would use them."""
    if opts.proxy is not None:
        http_proxy(opts.proxy)
    if opts.socks5 is not None:
        socks5_address(opts.socks5)
    if opts.socks5_user_pass is not None:
        socks5_user_pass(opts.socks5_user_pass)
    if opts.proxy is not None and opts.socks5 is not None:
        raise SpecError("--proxy and --socks5 name two routes to the target; give one")


def route(host: str, port: int, secure: bool, opts: argparse.Namespace) -> Endpoint | None:
    """The proxied connection a ws:// (``secure``: wss://) URL's TCP connection becomes, or None (direct)."""
    check_proxy_options(opts)
    if opts.proxy is not None:
        address, authorization = http_proxy(opts.proxy)
        return HttpProxyConnect(address.host, address.port, host, port, authorization)
    if opts.socks5 is not None:
        address = socks5_address(opts.socks5)
        user_pass = socks5_user_pass(opts.socks5_user_pass) if opts.socks5_user_pass is not None else None
        return Socks5Connect(address.host, address.port, host, port, user_pass)
    if opts.proxy_from_env:
        return EnvProxyConnect(host, port, secure)
    return None


__all__ = [
    "EnvProxyConnect",
    "HttpProxyConnect",
    "Socks5Connect",
    "check_proxy_options",
    "http_proxy",
    "route",
    "socks5_address",
    "socks5_user_pass",
]
