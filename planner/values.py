"""Parsers for the values that follow a prefix: addresses, ports, paths, URLs."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

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
    """'ws://host:port/path?q' -> (secure, host, port, path_and_query, host_header)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SpecError(f"bad WebSocket URL {url!r}: {exc}") from None
    if parts.scheme not in ("ws", "wss"):
        raise SpecError(f"bad WebSocket URL {url!r}: expected ws:// or wss://")
    host = parts.hostname
    if not host:
        raise SpecError(f"bad WebSocket URL {url!r}: no host")
    secure = parts.scheme == "wss"
    default_port = 443 if secure else 80
    netloc_host = parts.netloc.rpartition("@")[2]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return secure, host, port if port is not None else default_port, path, netloc_host
