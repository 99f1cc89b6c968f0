"""Socket options: --reuseaddr, --reuseport, --bind-before-connect, --socket-*.

A script passes the options given as one dict, keyed by option name without the
dashes: ``tcp.connect("10.0.0.1", 80, sockopts={"socket_nodelay": True})``.  As in
websocat4 they fall in two groups:

* bind options, set on a new socket before it binds or connects: reuseaddr, reuseport,
  socket_bind_to_device, socket_freebind, socket_transparent, socket_only_v6 (and the
  bind_before_connect address and the socket_listen_backlog of listen(2));
* stream options, set on each connected socket (after connect, or on each accepted one).

Each is a setsockopt(2); one the OS refuses (no privilege, no such option) fails with
one line that names the option, e.g. ``--socket-mark: cannot set SO_MARK: Operation not
permitted``.  Options that need CAP_NET_ADMIN: --socket-mark, --socket-transparent,
--socket-priority above 6; CAP_NET_RAW: --socket-bind-to-device (Linux before 5.7).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Callable, Mapping
from typing import Any

from websocat.runtime.errors import ConnectError, UsageError, os_error_text

__all__ = [
    "BIND_OPTIONS",
    "DATAGRAM_OPTIONS",
    "MULTICAST_OPTIONS",
    "STREAM_OPTIONS",
    "apply_bind",
    "apply_datagram",
    "apply_stream",
    "bind_address",
    "check",
    "listen_backlog",
]

_IPPROTO_IP = getattr(socket, "IPPROTO_IP", 0)
_IPPROTO_IPV6 = getattr(socket, "IPPROTO_IPV6", 41)
_TCP = getattr(socket, "IPPROTO_TCP", 6)
_SOL = socket.SOL_SOCKET

# name: (the socket option's name in messages, level, number, how the value is packed),
# numbers from Linux where the socket module lacks a constant.
Setting = tuple[str, int, int, Callable[[Any], int | bytes]]


def _flag(value: Any) -> int:
    return 1 if value else 0


def _int(value: Any) -> int:
    return int(value)


def _text(value: Any) -> bytes:
    return str(value).encode()


def _seconds_as_ms(value: Any) -> int:
    return int(value) * 1000


def _linger(value: Any) -> bytes:
    return struct.pack("ii", 1, int(value))


def _const(name: str, fallback: int) -> int:
    return int(getattr(socket, name, fallback))


BIND_OPTIONS: dict[str, tuple[Setting, Setting | None]] = {
    # name: (IPv4 setting, IPv6 setting; None: IPv6 only / not for IPv6)
    "reuseaddr": (("SO_REUSEADDR", _SOL, socket.SO_REUSEADDR, _flag),) * 2,
    "reuseport": (("SO_REUSEPORT", _SOL, _const("SO_REUSEPORT", 15), _flag),) * 2,
    "socket_bind_to_device": (("SO_BINDTODEVICE", _SOL, _const("SO_BINDTODEVICE", 25), _text),) * 2,
    "socket_freebind": (
        ("IP_FREEBIND", _IPPROTO_IP, _const("IP_FREEBIND", 15), _flag),
        ("IPV6_FREEBIND", _IPPROTO_IPV6, 78, _flag),
    ),
    "socket_transparent": (
        ("IP_TRANSPARENT", _IPPROTO_IP, _const("IP_TRANSPARENT", 19), _flag),
        ("IPV6_TRANSPARENT", _IPPROTO_IPV6, 75, _flag),
    ),
    "socket_only_v6": (("", 0, 0, _flag), ("IPV6_V6ONLY", _IPPROTO_IPV6, _const("IPV6_V6ONLY", 26), _flag)),
}

STREAM_OPTIONS: dict[str, tuple[Setting, Setting | None]] = {
    "socket_tclass_v6": (("", 0, 0, _int), ("IPV6_TCLASS", _IPPROTO_IPV6, _const("IPV6_TCLASS", 67), _int)),
    "socket_tos_v4": (("IP_TOS", _IPPROTO_IP, _const("IP_TOS", 1), _int), None),
    "socket_ttl": (
        ("IP_TTL", _IPPROTO_IP, _const("IP_TTL", 2), _int),
        ("IPV6_UNICAST_HOPS", _IPPROTO_IPV6, _const("IPV6_UNICAST_HOPS", 16), _int),
    ),
    "socket_linger_s": (("SO_LINGER", _SOL, socket.SO_LINGER, _linger),) * 2,
    "socket_out_of_band_inline": (("SO_OOBINLINE", _SOL, socket.SO_OOBINLINE, _flag),) * 2,
    "socket_nodelay": (("TCP_NODELAY", _TCP, socket.TCP_NODELAY, _flag),) * 2,
    "socket_tcp_congestion": (("TCP_CONGESTION", _TCP, _const("TCP_CONGESTION", 13), _text),) * 2,
    "socket_cpu_affinity": (("SO_INCOMING_CPU", _SOL, _const("SO_INCOMING_CPU", 49), _int),) * 2,
    "socket_user_timeout_s": (("TCP_USER_TIMEOUT", _TCP, _const("TCP_USER_TIMEOUT", 18), _seconds_as_ms),) * 2,
    "socket_priority": (("SO_PRIORITY", _SOL, _const("SO_PRIORITY", 12), _int),) * 2,
    "socket_recv_buffer_size": (("SO_RCVBUF", _SOL, socket.SO_RCVBUF, _int),) * 2,
    "socket_send_buffer_size": (("SO_SNDBUF", _SOL, socket.SO_SNDBUF, _int),) * 2,
    "socket_mss": (("TCP_MAXSEG", _TCP, _const("TCP_MAXSEG", 2), _int),) * 2,
    "socket_mark": (("SO_MARK", _SOL, _const("SO_MARK", 36), _int),) * 2,
    "socket_thin_linear_timeouts": (("TCP_THIN_LINEAR_TIMEOUTS", _TCP, 16, _flag),) * 2,
    "socket_notsent_lowat": (("TCP_NOTSENT_LOWAT", _TCP, _const("TCP_NOTSENT_LOWAT", 25), _int),) * 2,
    "socket_keepalive": (("SO_KEEPALIVE", _SOL, socket.SO_KEEPALIVE, _flag),) * 2,
    "socket_keepalive_retries": (("TCP_KEEPCNT", _TCP, _const("TCP_KEEPCNT", 6), _int),) * 2,
    "socket_keepalive_interval_s": (("TCP_KEEPINTVL", _TCP, _const("TCP_KEEPINTVL", 5), _int),) * 2,
    "socket_keepalive_idletime_s": (("TCP_KEEPIDLE", _TCP, _const("TCP_KEEPIDLE", 4), _int),) * 2,
}

# On UDP sockets (after bind or connect): the IP-level stream options, and broadcast.
DATAGRAM_OPTIONS: dict[str, tuple[Setting, Setting | None]] = {
    name: STREAM_OPTIONS[name]
    for name in (
        "socket_tclass_v6",
        "socket_tos_v4",
        "socket_ttl",
        "socket_cpu_affinity",
        "socket_priority",
        "socket_recv_buffer_size",
        "socket_send_buffer_size",
        "socket_mark",
    )
}
DATAGRAM_OPTIONS["socket_broadcast"] = (("SO_BROADCAST", _SOL, socket.SO_BROADCAST, _flag),) * 2

MULTICAST_OPTIONS = (
    "socket_multicast",
    "socket_multicast_interface_addr",
    "socket_multicast_interface_index",
    "socket_multicast_specific_source",
    "socket_multicast_all",
    "socket_multicast_loop",
    "socket_multicast_ttl",
)

# Not setsockopt: where to bind before connecting, and listen(2)'s backlog.
OTHER_OPTIONS = ("bind_before_connect", "socket_listen_backlog")
DEFAULT_BACKLOG = 1024


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def check(options: Mapping[str, Any] | None) -> None:
    """Reject a name that is no socket option (an edited script's typo)."""
    for name in options or {}:
        known = (BIND_OPTIONS, STREAM_OPTIONS, DATAGRAM_OPTIONS, MULTICAST_OPTIONS, OTHER_OPTIONS)
        if not any(name in table for table in known):
            raise UsageError(f"sockopts: no socket option {name!r}")


def _apply(
    sock: socket.socket, options: Mapping[str, Any], table: Mapping[str, tuple[Setting, Setting | None]]
) -> None:
    v6 = sock.family == socket.AF_INET6
    for name, value in options.items():
        settings = table.get(name)
        if settings is None:
            continue
        setting = settings[1] if v6 else settings[0]
        if setting is None or not setting[0]:
            continue  # an IPv4-only option on IPv6, or the reverse: as websocat4, not applied
        label, level, number, pack = setting
        try:
            sock.setsockopt(level, number, pack(value))
        except OSError as exc:
            raise ConnectError(f"{_option(name)}: cannot set {label}: {os_error_text(exc)}") from None


def apply_bind(sock: socket.socket, options: Mapping[str, Any] | None) -> None:
    """The bind options, on a socket that has not bound or connected yet."""
    if options:
        _apply(sock, options, BIND_OPTIONS)


def apply_stream(sock: socket.socket, options: Mapping[str, Any] | None) -> None:
    """The stream options, on a connected (or accepted) socket."""
    if options:
        _apply(sock, options, STREAM_OPTIONS)


def listen_backlog(options: Mapping[str, Any] | None) -> int:
    return int((options or {}).get("socket_listen_backlog", DEFAULT_BACKLOG))


def bind_address(options: Mapping[str, Any] | None) -> tuple[str, int] | None:
    """--bind-before-connect's address: "ip:port", "[ipv6]:port", or an ip alone (any port)."""
    text = (options or {}).get("bind_before_connect")
    if text is None:
        return None
    text = str(text)
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text.strip("[]"), "0"
    try:
        return host, int(port or 0)
    except ValueError:
        raise UsageError(f"--bind-before-connect: bad address {text!r}") from None


def apply_datagram(sock: socket.socket, options: Mapping[str, Any] | None) -> None:
    """The options of a bound or connected UDP socket: IP-level ones, broadcast, multicast."""
    if options:
        _apply(sock, options, DATAGRAM_OPTIONS)
        _multicast(sock, options)


def _address(options: Mapping[str, Any], name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = options.get(name)
    if value is None:
        return None
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise UsageError(f"{_option(name)}: not an IP address: {value!r}") from None


def _set(sock: socket.socket, name: str, label: str, level: int, number: int, value: int | bytes) -> None:
    try:
        sock.setsockopt(level, number, value)
    except OSError as exc:
        raise ConnectError(f"{_option(name)}: cannot set {label}: {os_error_text(exc)}") from None


def _multicast(sock: socket.socket, options: Mapping[str, Any]) -> None:
    """Join --socket-multicast's group (websocat4's rules for the interface and source)."""
    group = _address(options, "socket_multicast")
    interface = _address(options, "socket_multicast_interface_addr")
    index = options.get("socket_multicast_interface_index")
    source = _address(options, "socket_multicast_specific_source")
    if interface is not None and index is not None:
        raise UsageError("--socket-multicast-interface-addr and --socket-multicast-interface-index: give one of them")
    if group is None:
        given = [_option(name) for name in MULTICAST_OPTIONS[1:] if options.get(name) is not None]
        if given:
            raise UsageError(f"{given[0]} needs --socket-multicast")
        return
    name = "socket_multicast"
    if group.version == 4:
        local = (interface or ipaddress.IPv4Address(0)).packed
        if source is not None:
            if index is not None:
                raise UsageError("--socket-multicast-specific-source takes an interface address, not an index")
            # struct ip_mreq_source: group, interface, source
            _set(sock, name, "IP_ADD_SOURCE_MEMBERSHIP", _IPPROTO_IP, 39, group.packed + local + source.packed)
        elif index is not None:
            # struct ip_mreqn: group, address, interface index
            _set(sock, name, "IP_ADD_MEMBERSHIP", _IPPROTO_IP, 35, group.packed + local + struct.pack("@i", int(index)))
        else:
            _set(sock, name, "IP_ADD_MEMBERSHIP", _IPPROTO_IP, 35, group.packed + local)
        level, all_, loop, ttl = (
            _IPPROTO_IP,
            ("IP_MULTICAST_ALL", 49),
            ("IP_MULTICAST_LOOP", 34),
            ("IP_MULTICAST_TTL", 33),
        )
    else:
        if interface is not None:
            raise UsageError("--socket-multicast-interface-addr: an IPv6 group takes an interface index")
        if source is not None:
            raise UsageError("--socket-multicast-specific-source is not supported for IPv6 groups")
        mreq = group.packed + struct.pack("@I", int(index or 0))  # struct ipv6_mreq
        _set(sock, name, "IPV6_JOIN_GROUP", _IPPROTO_IPV6, _const("IPV6_JOIN_GROUP", 20), mreq)
        level = _IPPROTO_IPV6
        all_, loop, ttl = ("IPV6_MULTICAST_ALL", 29), ("IPV6_MULTICAST_LOOP", 19), ("IPV6_MULTICAST_HOPS", 18)
    for option, (label, number) in (("socket_multicast_all", all_), ("socket_multicast_loop", loop)):
        if options.get(option) is not None:
            _set(sock, option, label, level, number, _flag(options[option]))
    if options.get("socket_multicast_ttl") is not None:
        _set(sock, "socket_multicast_ttl", ttl[0], level, ttl[1], int(options["socket_multicast_ttl"]))
