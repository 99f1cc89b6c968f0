"""TCP endpoints: tcp: (by IP, by hostname resolved once or per connection) and tcp-listen: (runtime/endpoints/tcp.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from websocat.planner.model import Endpoint, Var
from websocat.planner.specs import Listening, Rendered, Setup, internal, option, positional, register
from websocat.planner.values import ip_host_port, is_ip, milliseconds, socket_options, split_host_port

# Socket options (runtime/socket_options.py): set before bind/connect, then on each
# connected socket.  --exclude-ws-from-sockopts drops them from WebSocket stacks (fixups).
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
    "--socket-linger-s",
    "--socket-out-of-band-inline",
    "--socket-nodelay",
    "--socket-tcp-congestion",
    "--socket-cpu-affinity",
    "--socket-user-timeout-s",
    "--socket-priority",
    "--socket-recv-buffer-size",
    "--socket-send-buffer-size",
    "--socket-mss",
    "--socket-mark",
    "--socket-thin-linear-timeouts",
    "--socket-notsent-lowat",
    "--socket-keepalive",
    "--socket-keepalive-retries",
    "--socket-keepalive-interval-s",
    "--socket-keepalive-idletime-s",
)
CONNECT_OPTIONS = (*SOCKET_OPTIONS, "--bind-before-connect")
LISTEN_OPTIONS = (*SOCKET_OPTIONS, "--socket-listen-backlog")


def connect_timeout() -> Any:
    """--connect-timeout-ms, for each stage of connecting: TCP here, TLS (tls:) and the
    WebSocket upgrade (ws-c:, ws-r:)."""
    return option("--connect-timeout-ms", default=None, convert=milliseconds("--connect-timeout-ms"))


@register("tcp:", "tcp-connect:", "connect-tcp:", "tcp-c:", "c-tcp:")
@dataclass(frozen=True)
class TcpConnect(Endpoint):
    """Connect to a TCP socket by IP address or hostname (the planner picks one of the three below)."""

    host: str = positional("")
    port: int = positional(0)
    sockopts: dict[str, Any] | None = option(*CONNECT_OPTIONS, default=None, convert=socket_options(CONNECT_OPTIONS))
    connect_timeout_ms: int | None = connect_timeout()
    grammar: ClassVar[str] = "host:port, [ipv6]:port"

    @classmethod
    def from_value(cls, value: str) -> Self:
        host, port = split_host_port(value, "tcp:")
        if is_ip(host):
            return TcpConnectByIp(host, port)  # type: ignore[return-value]
        return cls(host, port)


@dataclass(frozen=True)
class TcpConnectByIp(TcpConnect):
    """Connected to a TCP socket using one explicitly specified IPv4 or IPv6 socket address."""

    render: ClassVar = Rendered("endpoints.tcp", "connect", "tcp")


@dataclass(frozen=True)
class TcpConnectByEarlyHostname(TcpConnect):
    """Connect to a TCP socket by hostname, resolved once when the scenario starts; several addresses are raced."""

    host: str = internal("")
    port: int = internal(0)
    race_interval_ms: int = option("--tcp-race-interval-ms", default=20)
    render: ClassVar = Rendered("endpoints.tcp", "connect_any", "tcp")
    setup: ClassVar = Setup(
        "endpoints.tcp",
        "resolve",
        "addrs",
        "tcp.Addrs",
        "resolved once, before any connection (--late-resolve: at each)",
    )

    def setup_arguments(self) -> tuple[Any, ...]:
        return (self.host, self.port)

    def call_arguments(self, setup_var: str = "addrs") -> tuple[tuple[Any, ...], dict[str, Any]]:
        _args, kwargs = super().call_arguments()
        return (Var(setup_var),), kwargs


@dataclass(frozen=True)
class TcpConnectByLateHostname(TcpConnect):
    """Connect to a TCP socket by hostname, resolved again at each connection; several addresses are raced."""

    race_interval_ms: int = option("--tcp-race-interval-ms", default=20)
    render: ClassVar = Rendered("endpoints.tcp", "connect_late", "tcp")


@register("tcp-listen:", "listen-tcp:", "tcp-l:", "l-tcp:")
@dataclass(frozen=True)
class TcpListen(Endpoint):
    """Listen for incoming TCP connections on one TCP socket, bound to the specified IPv4 or IPv6 address."""

    host: str = positional("")
    port: int = positional(0)
    announce: bool = option("--stdout-announce-listening-ports", default=False)
    exec_after_listen: str | None = option("--exec-after-listen", default=None)
    exec_after_listen_append_port: bool = option("--exec-after-listen-append-port", default=False)
    sockopts: dict[str, Any] | None = option(*LISTEN_OPTIONS, default=None, convert=socket_options(LISTEN_OPTIONS))
    listener: ClassVar[bool] = True
    grammar: ClassVar[str] = "ip:port"
    # On the right (one connection for the session) it is opened like any endpoint;
    # on the left it serves, one session per connection.
    render: ClassVar = Rendered("endpoints.tcp", "accept_one", "tcp")
    listening: ClassVar = Listening("endpoints.tcp", "serve", "tcp.Stream")

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(*ip_host_port(value, cls.prefixes[0]))
