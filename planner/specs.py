"""The prefix table: every endpoint and overlay of the manual, declared once.

Each class carries its prefixes (all aliases), the grammar of its value, the socket
kind it gives, its doc text (the manual's) and how it is rendered.  `PREFIXES` maps
every prefix to its class; --help, docs/ and the parser read it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from argparse import Namespace
from typing import Any, Callable, ClassVar, Self, TypeVar

from websocat.planner.model import Endpoint, Kind, Overlay, Spec, SpecError, Var
from websocat.planner.values import (
    is_ip,
    ip_host_port,
    os_bytes,
    os_value,
    parse_ws_url,
    request_target,
    split_host_port,
    url_authorization,
)

Args = tuple[tuple[Any, ...], dict[str, Any]]
SPECS: list[type[Spec]] = []
PREFIXES: dict[str, type[Spec]] = {}

S = TypeVar("S", bound=type[Spec])


def register(*prefixes: str) -> Callable[[S], S]:
    """Add a class to the table under each of its prefixes (the first is canonical)."""

    def add(cls: S) -> S:
        cls.prefixes = prefixes
        SPECS.append(cls)
        for prefix in prefixes:
            assert prefix not in PREFIXES, prefix
            PREFIXES[prefix] = cls
        return cls

    return add


# Rendering: how a layer appears in the script.  `form` is "with" (async with CALL as
# VAR), "await" (VAR = await CALL) or "call" (VAR = CALL).  The layer's `arguments`
# method gives the call's literal arguments; overlays get the inner socket first.
@dataclass(frozen=True)
class Rendered:
    module: str  # runtime module, e.g. "endpoints.tcp"
    form: str
    function: str  # function in that module, e.g. "connect"
    var: str  # stem of the variable that holds the socket, e.g. "tcp"


def _non_default(value: Any, default: Any) -> Any:
    return None if value is None or value == default else value


MAX_HEADER = 8192  # a longer header line is refused by common servers (and by ours: 64 KiB in all)


def request_headers(items: list[str], option: str) -> list[tuple[str, str]]:
    """-H / --server-header values 'Name: value' as (name, value) pairs."""
    pairs = []
    for item in items:
        name, colon, value = item.partition(":")
        if not colon or not name.strip() or any(c in item for c in "\r\n"):
            raise SpecError(f"option '{option}': expected 'Name: value', got {item!r}")
        if len(item) > MAX_HEADER:
            raise SpecError(f"option '{option}': header of {len(item)} bytes, longer than {MAX_HEADER}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _framer_options(opts: Namespace) -> dict[str, Any]:
    """Options every WebSocket layer takes: --ws-dont-check-headers, --inhibit-pongs, ..."""
    return {
        "lax": opts.ws_dont_check_headers or None,
        "max_pongs": opts.inhibit_pongs,
        "ignore_masks": opts.ws_ignore_invalid_masks or None,
        "shutdown_on_eof": opts.ws_shutdown_socket_on_eof or None,
        "close_delay_ms": opts.close_delay_ms or None,
        "verbose": opts.verbose or None,
    }


# ---------------------------------------------------------------- endpoints: trivial


@register("stdio:", "-")
@dataclass(frozen=True)
class Stdio(Endpoint):
    """Console, terminal: read bytes from stdin, write bytes to stdout."""

    render: ClassVar = Rendered("endpoints.stdio", "with", "open", "stdio")

    def arguments(self, opts: Namespace) -> Args:
        return (), {}


@register("literal:")
@dataclass(frozen=True)
class Literal(Endpoint):
    """Byte stream socket that produces specified content and ignores incoming data."""

    data: bytes = b""
    grammar: ClassVar[str] = "any text (the bytes to produce)"
    render: ClassVar = Rendered("endpoints.trivial", "call", "literal", "literal")

    def arguments(self, opts: Namespace) -> Args:
        return (self.data,), {"hangup": opts.dummy_hangup or None}

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(os_bytes(value))


@register("literal-base64:")
@dataclass(frozen=True)
class LiteralBase64(Literal):
    """Byte stream socket that produces specified content (base64-encoded) and ignores incoming data."""

    grammar: ClassVar[str] = "base64 text"

    @classmethod
    def from_value(cls, value: str) -> Self:
        try:
            return cls(base64.b64decode(value.encode("ascii"), validate=True))
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise SpecError(f"'literal-base64:' value is not valid base64: {exc}") from None


@register("devnull:", "dummy-stream:")
@dataclass(frozen=True)
class DummyStream(Endpoint):
    """Byte stream socket that ignores all incoming data and immediately EOF-s read attempts."""

    render: ClassVar = Rendered("endpoints.trivial", "call", "devnull", "devnull")

    def arguments(self, opts: Namespace) -> Args:
        return (), {"hangup": opts.dummy_hangup or None}


@register("empty:", "null:", "dummy-datagrams:", "dummy:")
@dataclass(frozen=True)
class DummyDatagrams(Endpoint):
    """Datagram socket that ignores all incoming data and signals EOF immediately."""

    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("endpoints.trivial", "call", "empty", "empty")

    def arguments(self, opts: Namespace) -> Args:
        return (), {"hangup": opts.dummy_hangup or None}


@register("zero:")
@dataclass(frozen=True)
class Zero(Endpoint):
    """Generate zero bytes."""

    render: ClassVar = Rendered("endpoints.trivial", "call", "zero", "zero")

    def arguments(self, opts: Namespace) -> Args:
        return (), {"hangup": opts.dummy_hangup or None}


@register("random:")
@dataclass(frozen=True)
class Random(Endpoint):
    """Generate random bytes."""

    render: ClassVar = Rendered("endpoints.trivial", "call", "random_bytes", "random")

    def arguments(self, opts: Namespace) -> Args:
        return (), {"fast": opts.random_fast or None}


@register("mirror:")
@dataclass(frozen=True)
class Mirror(Endpoint):
    """Read data that is written to this endpoint.

    A byte mirror when its peer carries bytes; the message mirror (flags kept) when its
    peer carries messages, as the planner infers it.
    """

    render: ClassVar = Rendered("endpoints.trivial", "call", "mirror", "mirror")

    def arguments(self, opts: Namespace) -> Args:
        return (), {"bufsize": _non_default(opts.mirror_bufsize, 1024)}


@dataclass(frozen=True)
class MessageMirror(Mirror):
    """Mirror whose peer carries messages: each message comes back whole, flags kept."""

    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("endpoints.trivial", "call", "message_mirror", "mirror")


@register("mock_stream_socket:", "mock-stream-socket:", "mss:")
@dataclass(frozen=True)
class MockStreamSocket(Endpoint):
    """Byte stream socket for tests that can produce and consume (assert) data according to special scenario supplied as an argument."""

    ops: tuple[tuple[str, bytes | int | str], ...] = ()
    grammar: ClassVar[str] = (
        "operations separated by |: R data, W data, N name, ER, EW, T<ms>, X (read EOF), "
        "D (expect shutdown), Q (stop checking), ZR<n>, ZW<n> (zero bytes), I<n> (ignore "
        "written bytes); numbers decimal or hex after x/0x; the tokio-io-mock-fork text scenario grammar"
    )
    render: ClassVar = Rendered("endpoints.mock", "call", "MockStream", "mock")

    def arguments(self, opts: Namespace) -> Args:
        return (list(self.ops),), {}

    @classmethod
    def from_value(cls, value: str) -> Self:
        from websocat.planner.mockscript import MockScriptError, parse_mock_script

        try:
            ops = parse_mock_script(value)
        except MockScriptError as exc:
            raise SpecError(f"'mock_stream_socket:' {exc}") from None
        return cls(tuple((op[0], op[1]) for op in ops))


# ---------------------------------------------------------------- endpoints: files


@dataclass(frozen=True)
class FileEndpoint(Endpoint):
    path: str | bytes = ""
    grammar: ClassVar[str] = "a file path"

    @classmethod
    def from_value(cls, value: str) -> Self:
        if not value:
            raise SpecError(f"'{cls.prefixes[0]}' expects a file path")
        return cls(os_value(value))


@register("readfile:")
@dataclass(frozen=True)
class ReadFile(FileEndpoint):
    """Read specified file. Ignores writes."""

    render: ClassVar = Rendered("endpoints.files", "with", "read", "file")

    def arguments(self, opts: Namespace) -> Args:
        return (self.path,), {}


@register("writefile:")
@dataclass(frozen=True)
class WriteFile(FileEndpoint):
    """Write specified file."""

    render: ClassVar = Rendered("endpoints.files", "with", "write", "file")

    def arguments(self, opts: Namespace) -> Args:
        return (self.path,), {
            "no_overwrite": opts.write_file_no_overwrite or None,
            "auto_rename": opts.write_file_auto_rename or None,
        }


@register("appendfile:")
@dataclass(frozen=True)
class AppendFile(FileEndpoint):
    """Append to specified file."""

    render: ClassVar = Rendered("endpoints.files", "with", "append", "file")

    def arguments(self, opts: Namespace) -> Args:
        return (self.path,), {}


# ---------------------------------------------------------------- endpoints: TCP and WebSocket


@register("tcp:", "tcp-connect:", "connect-tcp:", "tcp-c:", "c-tcp:")
@dataclass(frozen=True)
class TcpConnect(Endpoint):
    """Connect to a TCP socket by IP address or hostname (the planner picks one of the three below)."""

    host: str = ""
    port: int = 0
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

    render: ClassVar = Rendered("endpoints.tcp", "with", "connect", "tcp")

    def arguments(self, opts: Namespace) -> Args:
        return (self.host, self.port), {}


@dataclass(frozen=True)
class TcpConnectByEarlyHostname(TcpConnect):
    """Connect to a TCP socket by hostname, resolved once when the scenario starts; several addresses are raced."""

    render: ClassVar = Rendered("endpoints.tcp", "with", "connect_any", "tcp")

    def arguments(self, opts: Namespace) -> Args:
        # The addresses come from a `tcp.resolve` step in main(), see render.py.
        return (Var("addrs"),), {"race_interval_ms": _non_default(opts.tcp_race_interval_ms, 20)}


@dataclass(frozen=True)
class TcpConnectByLateHostname(TcpConnect):
    """Connect to a TCP socket by hostname, resolved again at each connection; several addresses are raced."""

    render: ClassVar = Rendered("endpoints.tcp", "with", "connect_late", "tcp")

    def arguments(self, opts: Namespace) -> Args:
        return (self.host, self.port), {"race_interval_ms": _non_default(opts.tcp_race_interval_ms, 20)}


@register("tcp-listen:", "listen-tcp:", "tcp-l:", "l-tcp:")
@dataclass(frozen=True)
class TcpListen(Endpoint):
    """Listen for incoming TCP connections on one TCP socket, bound to the specified IPv4 or IPv6 address."""

    host: str = ""
    port: int = 0
    listener: ClassVar[bool] = True
    grammar: ClassVar[str] = "ip:port"
    render: ClassVar = Rendered("endpoints.tcp", "with", "accept_one", "tcp")

    def arguments(self, opts: Namespace) -> Args:
        return (self.host, self.port), {"announce": opts.stdout_announce_listening_ports or None}

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(*ip_host_port(value, cls.prefixes[0]))


@register("ws-listen:", "ws-l:", "l-ws:", "listen-ws:")
@dataclass(frozen=True)
class WsListen(Endpoint):
    """Listen for incoming WebSocket connections at specified TCP socket address."""

    host: str = ""
    port: int = 0
    provides: ClassVar[Kind] = Kind.MESSAGES
    listener: ClassVar[bool] = True
    grammar: ClassVar[str] = "ip:port"

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(*ip_host_port(value, cls.prefixes[0]))


@register("ws://")
@dataclass(frozen=True)
class WsUrl(Endpoint):
    """Connect to specified WebSocket plain (insecure) URL."""

    host: str = ""
    port: int = 80
    path: str = "/"
    host_header: str = ""
    # 'Basic ...' from the URL's user:password (kept out of repr, so out of phase dumps)
    authorization: str | None = field(default=None, repr=False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    grammar: ClassVar[str] = "host[:port][/path][?query]"

    @classmethod
    def from_value(cls, value: str) -> Self:
        url = cls.prefixes[0] + value
        secure, host, port, path, host_header = parse_ws_url(url)
        return cls(host, port, path, host_header, url_authorization(url))


@register("wss://")
@dataclass(frozen=True)
class WssUrl(WsUrl):
    """Connect to specified WebSocket TLS URL."""

    port: int = 443

    @classmethod
    def from_value(cls, value: str) -> Self:
        url = cls.prefixes[0] + value
        secure, host, port, path, host_header = parse_ws_url(url)
        return cls(host, port, path, host_header, url_authorization(url))


# ---------------------------------------------------------------- overlays


@register(
    "tls:", "ssl-connect:", "ssl-c:", "ssl:", "tls-connect:", "tls-c:", "c-ssl:", "connect-ssl:", "c-tls:", "connect-tls:"
)
@dataclass(frozen=True)
class TlsClient(Overlay):
    """Establishes client-side TLS connection using specified stream-oriented downstream connection.

    The domain (SNI and the name verified) is --tls-domain, else the host of the
    connection under it.
    """

    domain: str | None = None
    render: ClassVar = Rendered("overlays.tls", "await", "connect", "tls")

    def arguments(self, opts: Namespace) -> Args:
        return (), {
            "domain": self.domain,
            "insecure": opts.insecure or None,
            "keylog": opts.enable_sslkeylog or None,
        }


@register("lines:")
@dataclass(frozen=True)
class LineChunks(Overlay):
    """Convert downstream stream-oriented socket to packet-oriented socket by using newline byte as a packet separator.

    Written data get modified to ensure that one line = one message. May be
    automatically inserted in text (-t) mode.
    """

    separator: int = 0x0A
    separator_n: int = 1
    substitute: bool = True
    inline: bool = False
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.lines", "call", "framed", "lines")

    def arguments(self, opts: Namespace) -> Args:
        return (), {
            "separator": _non_default(self.separator, 0x0A),
            "separator_n": _non_default(self.separator_n, 1),
            "substitute": _non_default(self.substitute, True),
            "inline": self.inline or None,
        }


@register("chunks:")
@dataclass(frozen=True)
class StreamChunks(Overlay):
    """Converts downstream stream-oriented socket to packet-oriented socket by chunking the stream arbitrarily.

    May be automatically inserted in binary (-b) mode.
    """

    max_bytes: int | None = None
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.chunks", "call", "framed", "chunks")

    def arguments(self, opts: Namespace) -> Args:
        return (), {"max_bytes": opts.buffer_size}


@register("ws-connect:", "connect-ws:", "ws-c:", "c-ws:")
@dataclass(frozen=True)
class WsClient(Overlay):
    """Combined WebSocket upgrader and framer, but without TCP or TLS things.

    URI is taken from --ws-c-uri; if it is not specified, it defaults to /, with a
    missing Host: header.
    """

    uri: str = "/"
    host: str | None = None
    no_close: bool = False
    # from a ws://user:password@ URL; an Authorization given with -H wins over it
    authorization: str | None = field(default=None, repr=False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.ws", "with", "connect", "ws")

    def arguments(self, opts: Namespace) -> Args:
        headers = request_headers(opts.header, "-H")
        if self.authorization and not any(name.lower() == "authorization" for name, _ in headers):
            headers = [("Authorization", self.authorization), *headers]
        return (), {
            "uri": self.uri,
            "host": self.host,
            "headers": headers or None,
            "protocol": opts.protocol,
            "origin": opts.origin,
            "user_agent": opts.ua,
            "omit_headers": opts.ws_omit_headers or None,
            "no_close": self.no_close or None,
            **_framer_options(opts),
        }


@register("ws-request:", "ws-r:")
@dataclass(frozen=True)
class WsRequest(Overlay):
    """Send HTTP/1 WebSocket upgrade to specified stream-oriented connection and accept and parse a reply.

    Then connects (exchanges bytes) the downstream connection to upstream. Does not
    provide WebSocket framing. URI from --ws-c-uri (default /), no Host header.
    """

    uri: str = "/"
    render: ClassVar = Rendered("overlays.ws", "await", "request", "upgraded")

    def arguments(self, opts: Namespace) -> Args:
        uri, host, authorization = request_target(opts.ws_c_uri) if opts.ws_c_uri else (self.uri, None, None)
        client = WsClient(uri=uri, host=host, authorization=authorization).arguments(opts)[1]
        return (), {k: v for k, v in client.items() if k in _HANDSHAKE_CLIENT}


@register("ws-accept:")
@dataclass(frozen=True)
class WsAccept(Overlay):
    """Expects a HTTP/1 WebSocket upgrade request from downstream stream socket; if valid, replies with Upgrade.

    Then connects (exchanges bytes) downstream to upstream. Does not provide WebSocket framing.
    """

    render: ClassVar = Rendered("overlays.ws", "await", "accept_upgrade", "upgraded")

    def arguments(self, opts: Namespace) -> Args:
        server = WsServer().arguments(opts)[1]
        wanted = ("headers", "protocol", "protocol_lax", "choose_first", "omit_headers", "lax", "verbose")
        return (), {k: v for k, v in server.items() if k in wanted}


_HANDSHAKE_CLIENT = (
    "uri", "host", "headers", "protocol", "origin", "user_agent", "omit_headers", "lax", "verbose"
)


@register("ws-upgrade:", "upgrade-ws:", "ws-u:", "u-ws:")
@dataclass(frozen=True)
class WsServer(Overlay):
    """Combined WebSocket acceptor and framer."""

    no_close: bool = False
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.ws", "with", "accept", "ws")

    def arguments(self, opts: Namespace) -> Args:
        return (), {
            "headers": request_headers(opts.server_header, "--server-header") or None,
            "protocol": opts.server_protocol,
            "protocol_lax": opts.server_protocol_lax or None,
            "choose_first": opts.server_protocol_choose_first or None,
            "omit_headers": opts.ws_omit_headers or None,
            "no_close": self.no_close or None,
            **_framer_options(opts),
        }


@register("ws-lowlevel-client:", "ws-ll-client:", "ws-ll-c:")
@dataclass(frozen=True)
class WsFramerClient(Overlay):
    """Converts downstream stream to upstream packets using WebSocket framing (client side: masks frames).

    Automatically handles WebSocket pings and CloseFrames, but does not fully terminate
    the connection on CloseFrame, only signaling EOF instead.
    """

    no_close: bool = False
    client: ClassVar[bool] = True
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.ws", "with", "framed", "ws")

    def arguments(self, opts: Namespace) -> Args:
        options = _framer_options(opts)
        options.pop("lax")  # no handshake here
        return (), {"client": self.client, "no_close": self.no_close or None, **options}


@register("ws-lowlevel-server:", "ws-ll-server:", "ws-ll-s:")
@dataclass(frozen=True)
class WsFramerServer(WsFramerClient):
    """Converts downstream stream to upstream packets using WebSocket framing (server side: expects masked frames)."""

    client: ClassVar[bool] = False


# ---------------------------------------------------------------- declared, not implemented yet


def declare(
    name: str, doc: str, *prefixes: str, grammar: str = "", overlay: bool = False, provides: Kind = Kind.BYTES
) -> None:
    """A kind from the manual that is recognised but fails with 'not implemented yet'."""
    base: type[Spec] = Overlay if overlay else Endpoint
    attrs = {"__doc__": doc, "implemented": False, "provides": provides, "grammar": grammar}
    register(*prefixes)(dataclass(frozen=True)(type(name, (base,), attrs)))


ADDR = "host:port"
PATH = "a filesystem path"
ABSTRACT = "an abstract socket name"
FD = "a file descriptor number"
FDNAME = "a name from LISTEN_FDNAMES"
REG = "a registry address (any text)"


M = Kind.MESSAGES
declare(
    "AbstractConnect",
    "Connect to the specified abstract-namespaced UNIX socket (Linux).",
    "abstract:",
    "abstract-connect:",
    "connect-abstract:",
    "abstract-c:",
    "c-abstract:",
    "abs:",
    grammar=ABSTRACT,
)
declare(
    "AbstractListen",
    "Listen UNIX socket on specified abstract path (Linux).",
    "abstract-listen:",
    "listen-abstract:",
    "abstract-l:",
    "l-abstract:",
    "l-abs:",
    "abs-l:",
    grammar=ABSTRACT,
)
declare(
    "AbstractSeqpacketConnect",
    "Connect to specified UNIX SOCK_SEQPACKET socket by abstract (Linux) name.",
    "seqpacket-abstract:",
    "seqpacket-abstract-connect:",
    "seqpacket-abstract-c:",
    "abstract-seqpacket:",
    "abstract-seqpacket-connect:",
    "abstract-seqpacket-c:",
    "abs-seqp:",
    "seqp-abs:",
    provides=M,
    grammar=ABSTRACT,
)
declare(
    "AbstractSeqpacketListen",
    "Listen specified UNIX SOCK_SEQPACKET socket by abstract (Linux) name.",
    "seqpacket-abstract-listen:",
    "seqpacket-abstract-l:",
    "abstract-seqpacket-listen:",
    "abstract-seqpacket-l:",
    "abs-seqp-l:",
    "seqp-abs-l:",
    "l-abs-seqp:",
    "l-seqp-abs:",
    provides=M,
    grammar=ABSTRACT,
)
declare(
    "AsyncFd", "Use specified inherited file descriptor for reading and writing.", "async-fd:", "open-fd:", grammar=FD
)
declare(
    "Cmd",
    "Execute given command line and use its stdin/stdout as a socket.",
    "cmd:",
    "sh-c:",
    grammar="a shell command line",
)
declare(
    "Exec",
    "Execute given program as a subprocess and use its stdin/stdout as a socket.",
    "exec:",
    grammar="a program (arguments: --exec-args)",
)
declare(
    "RegistryDatagramConnect",
    "Connect to a virtual intra-Websocat address using a datagram socket.",
    "registry-datagram-connect:",
    "regdg-c:",
    provides=M,
    grammar=REG,
)
declare(
    "RegistryDatagramListen",
    "Listen for virtual intra-Websocat datagram connections at specified address.",
    "registry-datagram-listen:",
    "regdg-l:",
    provides=M,
    grammar=REG,
)
declare(
    "RegistrySend",
    "Send the socket this endpoint is paired with to a virtual intra-Websocat address.",
    "registry-send:",
    "regsend:",
    grammar=REG,
)
declare(
    "RegistryStreamConnect",
    "Connect to a virtual intra-Websocat address using a stream socket.",
    "registry-stream-connect:",
    "regstr-c:",
    grammar=REG,
)
declare(
    "RegistryStreamListen",
    "Listen for virtual intra-Websocat stream connections at specified address.",
    "registry-stream-listen:",
    "regstr-l:",
    grammar=REG,
)
declare(
    "SeqpacketConnect",
    "Connect to specified UNIX SOCK_SEQPACKET socket by path.",
    "seqpacket:",
    "seqpacket-connect:",
    "connect-seqpacket:",
    "seqpacket-c:",
    "c-seqpacket:",
    "seqp:",
    provides=M,
    grammar=PATH,
)
declare(
    "SeqpacketListen",
    "Listen specified UNIX SOCK_SEQPACKET socket.",
    "seqpacket-listen:",
    "listen-seqpacket:",
    "seqpacket-l:",
    "l-seqpacket:",
    "l-seqp:",
    "seqp-l:",
    provides=M,
    grammar=PATH,
)
declare(
    "SeqpacketListenFd",
    "Listen for SOCK_SEQPACKET connections on an inherited listening socket (file descriptor).",
    "seqpacket-listen-fd:",
    "listen-seqpacket-fd:",
    "seqpacket-l-fd:",
    "l-seqpacket-fd:",
    "l-seqp-fd:",
    "seqp-l-fd:",
    provides=M,
    grammar=FD,
)
declare(
    "SeqpacketListenFdNamed",
    "Listen for SOCK_SEQPACKET connections on an inherited socket named by LISTEN_FDNAMES.",
    "seqpacket-listen-fdname:",
    "listen-seqpacket-fdname:",
    "seqpacket-l-fdname:",
    "l-seqpacket-fdname:",
    "l-seqp-fdname:",
    "seqp-l-fdname:",
    provides=M,
    grammar=FDNAME,
)
declare(
    "TcpListenFd",
    "Listen for incoming TCP connections on an inherited listening socket (file descriptor).",
    "tcp-listen-fd:",
    "listen-tcp-fd:",
    "tcp-l-fd:",
    "l-tcp-fd:",
    grammar=FD,
)
declare(
    "TcpListenFdNamed",
    "Listen for incoming TCP connections on an inherited socket named by LISTEN_FDNAMES.",
    "tcp-listen-fdname:",
    "listen-tcp-fdname:",
    "tcp-l-fdname:",
    "l-tcp-fdname:",
    grammar=FDNAME,
)
declare(
    "UdpBind",
    "Bind UDP socket to this address; --udp-bind-* options shape its behaviour.",
    "udp-bind:",
    "bind-udp:",
    "udp-listen:",
    "listen-udp:",
    "udp-l:",
    "l-udp:",
    provides=M,
    grammar=ADDR,
)
declare(
    "UdpConnect",
    "Connect to this UDP socket. Not affected by --udp-bind-* options.",
    "udp:",
    "udp-connect:",
    "connect-udp:",
    "udp-c:",
    "c-udp:",
    provides=M,
    grammar=ADDR,
)
declare(
    "UdpFd",
    "Use inherited pre-bound UDP socket from specified file descriptor.",
    "udp-fd:",
    "udp-bind-fd:",
    provides=M,
    grammar=FD,
)
declare(
    "UdpFdNamed",
    "Use inherited pre-bound UDP socket from specified file descriptor (using LISTEN_FDNAMES).",
    "udp-fdname:",
    "udp-bind-fdname:",
    provides=M,
    grammar=FDNAME,
)
declare(
    "UdpServer", "Bind UDP socket and spawn a separate task for each client.", "udp-server:", provides=M, grammar=ADDR
)
declare(
    "UdpServerFd",
    "Use inherited pre-bound UDP socket, spawning a task for each client.",
    "udp-server-fd:",
    provides=M,
    grammar=FD,
)
declare(
    "UdpServerFdNamed",
    "Use inherited pre-bound UDP socket (LISTEN_FDNAMES), spawning a task for each client.",
    "udp-server-fdname:",
    provides=M,
    grammar=FDNAME,
)
declare(
    "UnixConnect",
    "Connect to the specified UNIX socket path using stream socket.",
    "unix:",
    "unix-connect:",
    "connect-unix:",
    "unix-c:",
    "c-unix:",
    grammar=PATH,
)
declare(
    "UnixListen",
    "Listen specified UNIX socket path for SOCK_STREAM connections.",
    "unix-listen:",
    "listen-unix:",
    "unix-l:",
    "l-unix:",
    grammar=PATH,
)
declare(
    "UnixListenFd",
    "Listen for AF_UNIX SOCK_STREAM connections on an inherited listening socket.",
    "unix-listen-fd:",
    "listen-unix-fd:",
    "unix-l-fd:",
    "l-unix-fd:",
    grammar=FD,
)
declare(
    "UnixListenFdNamed",
    "Listen for AF_UNIX SOCK_STREAM connections on an inherited socket (LISTEN_FDNAMES).",
    "unix-listen-fdname:",
    "listen-unix-fdname:",
    "unix-l-fdname:",
    "l-unix-fdname:",
    grammar=FDNAME,
)

declare(
    "Defragment",
    "Defragment potential partial messages into complete messages.",
    "defragment:",
    overlay=True,
    provides=M,
)
declare(
    "LengthPrefixedChunks",
    "Convert a byte stream to messages by prefixing each message with its length.",
    "lengthprefixed:",
    overlay=True,
    provides=M,
)
declare("Log", "Print encountered data to stderr for debugging.", "log:", overlay=True)
declare(
    "ReadChunkLimiter",
    "Limit this stream's read buffer size to --read-buffer-limit.",
    "read_chunk_limiter:",
    overlay=True,
)
declare(
    "SimpleReuser",
    "Share underlying datagram connection between multiple outer users.",
    "reuse-raw:",
    "raw-reuse:",
    overlay=True,
    provides=M,
)
declare(
    "Tee",
    "Use both this underlying datagram specifier and also additional ones specified by --tee.",
    "tee:",
    overlay=True,
    provides=M,
)
declare(
    "WriteBuffer",
    "Insert write buffering layer that combines multiple write calls to one bigger.",
    "write_buffer:",
    overlay=True,
)
declare(
    "WriteChunkLimiter",
    "Limit this stream's write buffer size to --write-buffer-limit.",
    "write_chunk_limiter:",
    overlay=True,
)
declare(
    "WriteSplitoff",
    "Only read from inner specifier, route writes to other, CLI-specified Socket.",
    "write-splitoff:",
    "write-divert:",
    "wrdvrt:",
    overlay=True,
)


def endpoint_prefixes() -> list[str]:
    """The manual's short list of endpoint prefixes: the canonical prefix of each kind."""
    return [cls.prefixes[0] for cls in sorted(SPECS, key=_manual_order) if not cls.is_overlay]


def overlay_prefixes() -> list[str]:
    return [cls.prefixes[0] for cls in sorted(SPECS, key=_manual_order) if cls.is_overlay]


def _manual_order(cls: type[Spec]) -> str:
    """The manual lists kinds by name."""
    return cls.__name__
