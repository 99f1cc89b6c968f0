"""UDP endpoints: udp:, udp-bind: and udp-server: (runtime/endpoints/udp.py).

Each gives messages: one datagram is one message (binary; text with -t).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from websocat.planner.model import Endpoint, Kind, SpecError
from websocat.planner.specs import Listening, Rendered, option, positional, register
from websocat.planner.specs.unix import InheritedFd, NamedFd
from websocat.planner.values import ip_host_port, socket_options, split_host_port
from websocat.runtime.socket_options import DATAGRAM_OPTIONS

# Socket options of UDP sockets (runtime/socket_options.py): the bind options before
# bind/connect, then the IP-level ones, broadcast and multicast.
SOCKET_OPTIONS = (
    "--reuseaddr",
    "--reuseport",
    "--socket-bind-to-device",
    "--socket-transparent",
    "--socket-freebind",
    "--socket-only-v6",
    "--socket-tclass-v6",
    "--socket-tos-v4",
    "--socket-ttl",
    "--socket-cpu-affinity",
    "--socket-priority",
    "--socket-recv-buffer-size",
    "--socket-send-buffer-size",
    "--socket-mark",
    "--socket-broadcast",
    "--socket-multicast",
    "--socket-multicast-interface-addr",
    "--socket-multicast-interface-index",
    "--socket-multicast-specific-source",
    "--socket-multicast-all",
    "--socket-multicast-loop",
    "--socket-multicast-ttl",
)


def _sockopts() -> Any:
    return option(*SOCKET_OPTIONS, default=None, convert=socket_options(SOCKET_OPTIONS))


MAX_DATAGRAM = 65535


def _datagram_size(value: int) -> int:
    if not 0 <= value <= MAX_DATAGRAM:
        raise SpecError(f"option '--udp-max-send-datagram-size': {value} is not from 0 to {MAX_DATAGRAM}")
    return value


def _at_least_one(name: str) -> Any:
    def check(value: int) -> int:
        if value < 1:
            raise SpecError(f"option '{name}': {value} is not a positive number")
        return value

    return check


def _milliseconds(value: int) -> int:
    if value < 0:
        raise SpecError(f"option '--udp-server-timeout-ms': {value} is negative")
    return value


def _target(value: str) -> tuple[str, int]:
    return ip_host_port(value, "--udp-bind-target-addr")


def _restrict(restrict: bool, target: str | None, redirect: bool, connect_first: bool) -> bool:
    """--udp-bind-restrict-to-one-address, checked against the options it contradicts (as websocat4)."""
    if restrict and target is None:
        raise SpecError("--udp-bind-restrict-to-one-address needs --udp-bind-target-addr")
    if restrict and (redirect or connect_first):
        raise SpecError(
            "--udp-bind-restrict-to-one-address cannot be combined with "
            "--udp-bind-redirect-to-last-seen-address or --udp-bind-connect-to-first-seen-address"
        )
    return restrict


def _text() -> Any:
    return option("--text", default=False)


def _max_send() -> Any:
    return option("--udp-max-send-datagram-size", default=4096, convert=_datagram_size)


@register("udp:", "udp-connect:", "connect-udp:", "udp-c:", "c-udp:")
@dataclass(frozen=True)
class UdpConnect(Endpoint):
    """Connect to this UDP socket. Not affected by --udp-bind-* options."""

    host: str = positional("")
    port: int = positional(0)
    text: bool = _text()
    max_send_datagram_size: int = _max_send()
    provides: ClassVar[Kind] = Kind.MESSAGES
    grammar: ClassVar[str] = "host:port, [ipv6]:port"
    sockopts: dict[str, Any] | None = _sockopts()
    render: ClassVar = Rendered("endpoints.udp", "connect", "udp")

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(*split_host_port(value, cls.prefixes[0]))


@dataclass(frozen=True)
class BindOptions:
    """The options of a bound UDP socket (udp-bind:, udp-fd:): where replies go (a mixin)."""

    target: tuple[str, int] | None = option("--udp-bind-target-addr", default=None, convert=_target)
    restrict_to_one_address: bool = option(
        "--udp-bind-restrict-to-one-address",
        "--udp-bind-target-addr",
        "--udp-bind-redirect-to-last-seen-address",
        "--udp-bind-connect-to-first-seen-address",
        default=False,
        convert=_restrict,
    )
    redirect_to_last_seen_address: bool = option("--udp-bind-redirect-to-last-seen-address", default=False)
    connect_to_first_seen_address: bool = option("--udp-bind-connect-to-first-seen-address", default=False)
    inhibit_send_errors: bool = option("--udp-bind-inhibit-send-errors", default=False)
    text: bool = _text()
    max_send_datagram_size: int = _max_send()
    provides: ClassVar[Kind] = Kind.MESSAGES


@register("udp-bind:", "bind-udp:", "udp-listen:", "listen-udp:", "udp-l:", "l-udp:")
@dataclass(frozen=True)
class UdpBind(BindOptions, Endpoint):
    """Bind UDP socket to this address; --udp-bind-* options choose where replies go."""

    host: str = positional("")
    port: int = positional(0)
    grammar: ClassVar[str] = "ip:port"
    sockopts: dict[str, Any] | None = _sockopts()
    single: ClassVar[bool] = True
    render: ClassVar = Rendered("endpoints.udp", "bind", "udp")

    @classmethod
    def from_value(cls, value: str) -> Self:
        host, port = ip_host_port(value, cls.prefixes[0])
        return cls(host=host, port=port)


@dataclass(frozen=True)
class ServerOptions:
    """The options of a UDP server (udp-server:, udp-server-fd:): its clients (a mixin)."""

    announce: bool = option("--stdout-announce-listening-ports", default=False)
    timeout_ms: int | None = option("--udp-server-timeout-ms", default=None, convert=_milliseconds)
    max_clients: int | None = option(
        "--udp-server-max-clients", default=None, convert=_at_least_one("--udp-server-max-clients")
    )
    buffer_size: int = option(
        "--udp-server-buffer-size", default=4096, convert=_at_least_one("--udp-server-buffer-size")
    )
    qlen: int = option("--udp-server-qlen", default=1, convert=_at_least_one("--udp-server-qlen"))
    backpressure: bool = option("--udp-server-backpressure", default=False)
    text: bool = _text()
    inhibit_send_errors: bool = option("--udp-bind-inhibit-send-errors", default=False)
    max_send_datagram_size: int = _max_send()
    exec_after_listen: str | None = option("--exec-after-listen", default=None)
    exec_after_listen_append_port: bool = option("--exec-after-listen-append-port", default=False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    listener: ClassVar[bool] = True


@register("udp-server:")
@dataclass(frozen=True)
class UdpServer(ServerOptions, Endpoint):
    """Bind UDP socket and spawn a separate task for each client (peer address); a client's
    session ends after --udp-server-timeout-ms of silence, or when --udp-server-max-clients
    newer clients push it out."""

    host: str = positional("")
    port: int = positional(0)
    grammar: ClassVar[str] = "ip:port"
    sockopts: dict[str, Any] | None = _sockopts()
    # On the right: the session of the first client; on the left: one session per client.
    render: ClassVar = Rendered("endpoints.udp", "accept_one", "udp")
    listening: ClassVar = Listening("endpoints.udp", "serve", "udp.Socket")

    @classmethod
    def from_value(cls, value: str) -> Self:
        host, port = ip_host_port(value, cls.prefixes[0])
        return cls(host=host, port=port)


# -- inherited sockets (runtime/endpoints/fds.py): bound already, so only the options set
# after bind apply, as websocat4.
INHERITED_OPTIONS = tuple(
    name for name in SOCKET_OPTIONS if name[2:].replace("-", "_") in DATAGRAM_OPTIONS or "multicast" in name
)


def _inherited_sockopts() -> Any:
    return option(*INHERITED_OPTIONS, default=None, convert=socket_options(INHERITED_OPTIONS))


@register("udp-fd:", "udp-bind-fd:")
@dataclass(frozen=True)
class UdpFd(BindOptions, InheritedFd):
    """Use inherited pre-bound UDP socket from specified file descriptor."""

    sockopts: dict[str, Any] | None = _inherited_sockopts()
    single: ClassVar[bool] = True
    render: ClassVar = Rendered("endpoints.udp", "bind_fd", "udp")


@register("udp-fdname:", "udp-bind-fdname:")
@dataclass(frozen=True)
class UdpFdNamed(BindOptions, NamedFd):
    """Use inherited pre-bound UDP socket from specified file descriptor (using LISTEN_FDNAMES)."""

    sockopts: dict[str, Any] | None = _inherited_sockopts()
    single: ClassVar[bool] = True
    render: ClassVar = Rendered("endpoints.udp", "bind_fd", "udp")


@register("udp-server-fd:")
@dataclass(frozen=True)
class UdpServerFd(ServerOptions, InheritedFd):
    """Use inherited pre-bound UDP socket, spawning a task for each client."""

    sockopts: dict[str, Any] | None = _inherited_sockopts()
    render: ClassVar = Rendered("endpoints.udp", "accept_one_fd", "udp")
    listening: ClassVar = Listening("endpoints.udp", "serve_fd", "udp.Socket")


@register("udp-server-fdname:")
@dataclass(frozen=True)
class UdpServerFdNamed(ServerOptions, NamedFd):
    """Use inherited pre-bound UDP socket (LISTEN_FDNAMES), spawning a task for each client."""

    sockopts: dict[str, Any] | None = _inherited_sockopts()
    render: ClassVar = Rendered("endpoints.udp", "accept_one_fd", "udp")
    listening: ClassVar = Listening("endpoints.udp", "serve_fd", "udp.Socket")
