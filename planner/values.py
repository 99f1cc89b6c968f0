"""Parsers for the values that follow a prefix: addresses, ports, paths, URLs."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from websocat.planner.model import SpecError


def parse_port(text: str, what: str = "port") -> int:
    """A TCP/UDP port number 0-65535."""
    if not text.isdigit() or int(text) > 65535:
        raise SpecError(f"bad {what} {text!r}: expected a number from 0 to 65535")
    return int(text)


def split_host_port(value: str, prefix: str) -> tuple[str, int]:
    """'host:port', '[v6]:port' or 'v4:port' -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise SpecError(f"expected host:port after '{prefix}', got {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, parse_port(port)


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def ip_host_port(value: str, prefix: str) -> tuple[str, int]:
    """Like split_host_port, but the host must be an IP address (listeners bind to one)."""
    host, port = split_host_port(value, prefix)
    if host == "localhost":
        return "127.0.0.1", port
    if not is_ip(host):
        raise SpecError(f"'{prefix}' needs an IP address to bind to, got {host!r}")
    return host, port


def os_value(value: str) -> str | bytes:
    """A path or other OS string: str when it is valid UTF-8, else the raw bytes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(value)
    return value


def os_bytes(value: str) -> bytes:
    """The bytes the user typed (surrogate-escaped argv decoded back)."""
    return os.fsencode(value)


def parse_ws_url(url: str) -> tuple[bool, str, int, str, str]:
    """'ws://host:port/path?q' -> (secure, host, port, path_and_query, host_header).

    Userinfo (``user:pass@``) is left out here; `url_authorization` turns it into a
    header.  Error messages show the URL with its password hidden.
    """
    shown = repr(hide_credentials(url))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        if "@" in url:  # the detail could quote a piece of the password: take it from the shown URL
            try:
                urlsplit(hide_credentials(url)).port
            except ValueError as shown_exc:
                raise SpecError(f"bad WebSocket URL {shown}: {shown_exc}") from None
            raise SpecError(
                f"bad WebSocket URL {shown}: expected ws://user:password@host:port/path, with '/', '?', "
                "'#' and '@' in the user name or password percent-encoded (%2F, %3F, %23, %40)"
            ) from None
        raise SpecError(f"bad WebSocket URL {shown}: {exc}") from None
    if parts.scheme not in ("ws", "wss"):
        raise SpecError(f"bad WebSocket URL {shown}: expected ws:// or wss://")
    host = parts.hostname
    if not host:
        raise SpecError(f"bad WebSocket URL {shown}: no host")
    secure = parts.scheme == "wss"
    default_port = 443 if secure else 80
    netloc_host = parts.netloc.rpartition("@")[2]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return secure, host, port if port is not None else default_port, path, netloc_host


def request_target(uri: str) -> tuple[str, str | None, str | None]:
    """--ws-c-uri as websocat4 reads it: (request target, Host header, Authorization).

    A full URL ('ws://h:81/p?q') gives its path and query as the target and its
    authority as Host; its user:password becomes Basic auth, as for a ws:// endpoint.  A
    bare target ('/p?q') is sent as it is, with no Host header.
    """
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise SpecError(f"option '--ws-c-uri': bad URI {hide_credentials(uri)!r}: {exc}") from None
    if not (parts.scheme and parts.netloc):
        return uri, None, None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return target, parts.netloc.rpartition("@")[2] or None, url_authorization(uri)


def url_authorization(url: str) -> str | None:
    """The Authorization header value for a URL's userinfo: 'ws://u:p@h/' -> 'Basic dTpw'.

    As websocat v1 does, 'user:password' goes out as HTTP Basic auth ('user' alone as
    'user:').  Both parts are percent-decoded first, as curl, browsers and the
    websockets library do, so that a password can hold ':' or '@' (%3A, %40); v1 sends
    them still encoded.  None without userinfo (or with an empty one, 'ws://@h/').
    """
    netloc = urlsplit(url).netloc
    userinfo, at, _host = netloc.rpartition("@")
    if not at or not userinfo:
        return None
    user, _colon, password = os.fsencode(userinfo).partition(b":")
    raw = unquote_to_bytes(user) + b":" + unquote_to_bytes(password)
    return "Basic " + base64.b64encode(raw).decode("ascii")


_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def hide_credentials(arg: str) -> str:
    """One argument with a URL's password shown as ***: 'ws://u:p@h/' -> 'ws://u:***@h/'.

    A user name without a password may be a token, so it is hidden whole ('***@h').  When
    the part before the first '/' is not host:port and an '@' follows ('ws://u:p/w@h/',
    a password that needed percent-encoding), everything up to the last '@' is hidden.
    """
    match = _URL_START.search(arg)
    if match is None:
        return arg
    start, rest = arg[: match.end()], arg[match.end() :]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        userinfo, _at, host = authority.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        shown = f"{user}:***" if colon else "***"
        return f"{start}{shown}@{host}{rest[len(authority):]}"
    if "@" in rest and not _is_host_port(authority):
        return f"{start}***@{rest.rpartition('@')[2]}"
    return arg


# Options whose whole value is a secret 'user:password' (a URL's password is found by hide_credentials).
SECRET_OPTIONS = ("--socks5-user-pass", "--basic-auth")


def hide_secret_value(value: str) -> str:
    """'user:password' -> 'user:***'; a value without ':' -> '***'."""
    user, colon, _password = value.partition(":")
    return f"{user}:***" if colon else "***"


def hide_argv_credentials(argv: list[str] | tuple[str, ...]) -> list[str]:
    """Each argument as hide_credentials shows it, and the value of an option in
    SECRET_OPTIONS (given as the next word or after '=') as 'user:***'."""
    shown: list[str] = []
    secret_next = False
    for arg in argv:
        name, eq, value = arg.partition("=")
        if secret_next:
            shown.append(hide_secret_value(arg))
        elif eq and name in SECRET_OPTIONS:
            shown.append(f"{name}={hide_secret_value(value)}")
        else:
            shown.append(hide_credentials(arg))
        secret_next = not secret_next and arg in SECRET_OPTIONS
    return shown


def _is_host_port(authority: str) -> bool:
    try:
        urlsplit("ws://" + authority).port
    except ValueError:
        return False
    return True


class OptionMap(dict[str, object]):
    """A dict of option values that a frozen spec can hold (hashable); rendered as a dict."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda item: item[0])))


def socket_options(names: tuple[str, ...]) -> Callable[..., OptionMap | None]:
    """A converter for `option(*names)`: the options given, by dest name, for the runtime's
    ``sockopts=`` (runtime/socket_options.py); None when none was given."""
    from websocat.planner.options import find_option

    specs = [find_option(name) for name in names]

    def convert(*values: object) -> OptionMap | None:
        given = OptionMap()
        for spec, value in zip(specs, values):
            assert spec is not None
            if value in (spec.default, None):
                continue
            if spec.dest == "bind_before_connect":
                host, port = ip_host_port(str(value), "--bind-before-connect ")
                value = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            given[spec.dest] = value
        return given or None

    return convert


def milliseconds(name: str) -> Any:
    """A converter for option ``name`` refusing a number of milliseconds below 1."""

    def convert(value: int) -> int:
        if not 0 < value < 2**53:
            raise SpecError(f"option '{name}': expected a number of milliseconds above 0, got {value}")
        return value

    return convert
