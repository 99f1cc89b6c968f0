"""WebSocket specifiers: ws://, wss://, ws-listen: and the overlays ws-c:, ws-r:,
ws-upgrade:, ws-accept:, ws-ll-*: (runtime/overlays/ws.py).

Class names follow the runtime functions they render: `WsConnect` -> ``ws.connect``,
`WsRequest` -> ``ws.request``, `WsAccept` -> ``ws.accept``, `WsAcceptUpgrade` ->
``ws.accept_upgrade``, `WsFramedClient`/`WsFramedServer` -> ``ws.framed``.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from websocat.planner.model import Endpoint, Kind, Overlay, SpecError, Var
from websocat.planner.specs import Rendered, Setup, internal, keyword, option, register
from websocat.planner.specs.tcp import connect_timeout
from websocat.planner.values import ip_host_port, os_value, parse_ws_url, url_authorization

MAX_HEADER = 8192  # a longer header line is refused by common servers (and by ours: 64 KiB in all)


def request_headers(items: list[str], option: str = "-H") -> tuple[tuple[str, str], ...]:
    """-H / --server-header values 'Name: value' as (name, value) pairs."""
    pairs = []
    for item in items:
        name, colon, value = item.partition(":")
        if not colon or not name.strip() or any(c in item for c in "\r\n"):
            raise SpecError(f"option '{option}': expected 'Name: value', got {item!r}")
        if len(item) > MAX_HEADER:
            raise SpecError(f"option '{option}': header of {len(item)} bytes, longer than {MAX_HEADER}")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def server_headers(items: list[str]) -> tuple[tuple[str, str], ...]:
    return request_headers(items, "--server-header")


# The options every WebSocket layer shares, declared once (each class lists them in the
# order of its runtime function's keywords).
def _no_close() -> Any:
    return option("--no-close", default=False)


def _lax() -> Any:
    return option("--ws-dont-check-headers", default=False)


def _max_pongs() -> Any:
    return option("--inhibit-pongs", default=None)


def _ignore_masks() -> Any:
    return option("--ws-ignore-invalid-masks", default=False)


def _shutdown_on_eof() -> Any:
    return option("--ws-shutdown-socket-on-eof", default=False)


def _close_delay_ms() -> Any:
    return option("--close-delay-ms", default=None)


def _verbose() -> Any:
    return option("--verbose", default=False)


def seconds(name: str) -> Any:
    def convert(value: float) -> float:
        if not (0 < value < 10**9):  # also refuses nan and inf
            raise SpecError(f"option '{name}': expected a number of seconds above 0, got {value!r}")
        return value

    return convert


def _ping_interval() -> Any:
    return option("--ping-interval", default=None, convert=seconds("--ping-interval"))


def _ping_timeout() -> Any:
    return option("--ping-timeout", default=None, convert=seconds("--ping-timeout"))


def _print_ping_rtts() -> Any:
    return option("--print-ping-rtts", default=False)


def _max_sent_pings() -> Any:
    return option("--max-sent-pings", default=None)


def _max_message_length() -> Any:
    def convert(value: int) -> int:
        if not 1024 <= value < 1 << 63:
            raise SpecError(
                f"option '--max-ws-message-length': expected a number of bytes of at least 1024, got {value}"
            )
        return value

    return option("--max-ws-message-length", default=None, convert=convert)


def _compress() -> Any:
    return option("--compress", default=False)


def _compress_no_context_takeover() -> Any:
    return option("--compress-no-context-takeover", default=False)


def _compress_window_bits() -> Any:
    def convert(value: int) -> int:
        if not 9 <= value <= 15:
            raise SpecError(f"option '--compress-window-bits': expected 9 to 15, got {value}")
        return value

    return option("--compress-window-bits", default=None, convert=convert)


def _compress_level() -> Any:
    def convert(value: int) -> int:
        if not 0 <= value <= 9:
            raise SpecError(f"option '--compress-level': expected 0 to 9, got {value}")
        return value

    return option("--compress-level", default=6, convert=convert)


# Codes an endpoint may send in a Close frame (RFC 6455 7.4 and the IANA registry).
SENDABLE_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)} | set(range(3000, 5000)))


def close_code(value: int) -> int:
    if value not in SENDABLE_CLOSE_CODES:
        raise SpecError(
            f"option '--close-status-code': {value} cannot be sent in a Close frame "
            "(expected 1000, 1001-1003, 1007-1014 or 3000-4999)"
        )
    return value


def close_reason(value: str) -> str:
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise SpecError("option '--close-reason': expected UTF-8 text") from None
    if size > 123:
        raise SpecError(f"option '--close-reason': {size} bytes of UTF-8, more than a Close frame carries (123)")
    return value


def _close_code() -> Any:
    return option("--close-status-code", default=None, convert=close_code)


def _close_reason() -> Any:
    return option("--close-reason", default="", convert=close_reason)


def _omit_headers() -> Any:
    return option("--ws-omit-headers", default=False)


# ---------------------------------------------------------------- access control (ws_access.py)


def _restrict_uri(value: str) -> str:
    if not value.startswith("/") or any(c in value for c in "?# \r\n"):
        raise SpecError(f"option '--restrict-uri': expected a path starting with '/' (no query), got {value!r}")
    return value


def _origins(values: list[str]) -> tuple[str, ...]:
    for value in values:
        if not value or any(c in value for c in " \r\n,"):
            raise SpecError(f"option '--allow-origin': expected one origin such as https://example.com, got {value!r}")
    return tuple(values)


def _static_files(values: list[str]) -> tuple[tuple[str, str, str | bytes], ...]:
    """-F URI:CONTENT_TYPE:FILE values (websocat v1's syntax) as triples."""
    found = []
    for value in values:
        uri, colon1, rest = value.partition(":")
        content_type, colon2, path = rest.partition(":")
        if not (colon1 and colon2 and uri.startswith("/") and content_type and path):
            raise SpecError(
                f"option '--static-file': expected URI:CONTENT_TYPE:FILE such as /index.html:text/html:index.html,"
                f" got {value!r}"
            )
        if any(c in uri + content_type for c in "\r\n?#"):
            raise SpecError(f"option '--static-file': bad URI or content type in {value!r}")
        found.append((uri, content_type, os_value(path)))
    return tuple(found)


def _users_file() -> Any:
    """--server-basic-auth-file: read by a setup step in main(), not a keyword of the call."""
    metadata = {"options": ("server_basic_auth_file",), "convert": os_value, "always": False, "internal": True}
    return field(default=None, metadata=metadata)


def _basic_auth(value: str) -> str:
    if ":" not in value:
        raise SpecError("option '--basic-auth': expected user:password")
    return "Basic " + base64.b64encode(os.fsencode(value)).decode("ascii")


def _client_basic_auth() -> Any:
    """--basic-auth: merged into the request's headers (not a keyword of its own)."""
    metadata = {"options": ("basic_auth",), "convert": _basic_auth, "always": False, "internal": True}
    return field(default=None, repr=False, metadata=metadata)


def _basic_auth_file() -> Any:
    return option("--basic-auth-file", default=None, convert=os_value)


USERS_SETUP = Setup(
    "overlays.ws",
    "read_users",
    "users",
    "ws.Users",
    "HTTP Basic auth users (--server-basic-auth-file): read once, at start",
    form="call",
)


class _Guarded:
    """The access control of the server overlays (ws-upgrade:, ws-accept:): the users
    file is read by a setup step, whose variable the call is given as ``users=``."""

    users_file: str | bytes | None

    def needs_setup(self) -> bool:
        return self.users_file is not None

    def setup_arguments(self) -> tuple[Any, ...]:
        return (self.users_file,)

    def setup_keywords(self) -> dict[str, Any]:
        return {}

    def call_arguments(self, setup_var: str | None = None) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args, kwargs = super().call_arguments()  # type: ignore[misc]
        kwargs = _with_authorization(kwargs, None)
        for name in ("allow_origins", "static_files"):  # lists read best in the script
            if name in kwargs:
                kwargs[name] = list(kwargs[name])
        if setup_var is not None:
            keys = list(kwargs)
            at = keys.index("static_files") if "static_files" in keys else len(keys)
            items = list(kwargs.items())
            items.insert(at, ("users", Var(setup_var)))
            kwargs = dict(items)
        return args, kwargs


def _client_authorization(layer: WsConnect | WsRequest) -> str | None:
    """The Authorization a client sends unless -H gives one: --basic-auth-file (at run time)
    wins over --basic-auth, which wins over the URL's user:password."""
    if layer.basic_auth_file is not None:
        return None
    return layer.basic_auth or layer.authorization


def _with_authorization(kwargs: dict[str, Any], authorization: str | None) -> dict[str, Any]:
    """Headers as the script shows them (a list of pairs), with URL credentials first
    unless -H gave an Authorization; no host= when -H gave a Host (it replaces that one)."""
    headers = list(kwargs.get("headers", ()))
    names = {name.lower() for name, _ in headers}
    if authorization and "authorization" not in names:
        headers.insert(0, ("Authorization", authorization))
    if headers:
        kwargs["headers"] = headers
    if "host" in names:
        kwargs.pop("host", None)
    return kwargs


# ---------------------------------------------------------------- endpoints


@register("ws-listen:", "ws-l:", "l-ws:", "listen-ws:")
@dataclass(frozen=True)
class WsListen(Endpoint):
    """Listen for incoming WebSocket connections at specified TCP socket address."""

    host: str = internal("")
    port: int = internal(0)
    provides: ClassVar[Kind] = Kind.MESSAGES
    listener: ClassVar[bool] = True
    grammar: ClassVar[str] = "ip:port"

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(*ip_host_port(value, cls.prefixes[0]))


@register("wss-listen:", "wss-l:", "l-wss:", "listen-wss:")
@dataclass(frozen=True)
class WssListen(WsListen):
    """Listen for secure WebSocket connections on a TCP port.

    ws-accept: over tls-accept: over tcp-l:; the certificate and key are --tls-cert and
    --tls-key (websocat v1 took a PKCS#12 file).
    """


@register("ws://")
@dataclass(frozen=True)
class WsUrl(Endpoint):
    """Connect to specified WebSocket plain (insecure) URL."""

    host: str = internal("")
    port: int = internal(80)
    path: str = internal("/")
    host_header: str = internal("")
    # 'Basic ...' from the URL's user:password (kept out of repr, so out of phase dumps)
    authorization: str | None = internal(None, repr=False)
    provides: ClassVar[Kind] = Kind.MESSAGES
    grammar: ClassVar[str] = "host[:port][/path][?query]"

    @classmethod
    def from_value(cls, value: str) -> Self:
        url = cls.prefixes[0] + value
        _secure, host, port, path, host_header = parse_ws_url(url)
        return cls(host, port, path, host_header, url_authorization(url))


@register("wss://")
@dataclass(frozen=True)
class WssUrl(WsUrl):
    """Connect to specified WebSocket TLS URL."""

    port: int = internal(443)


# ---------------------------------------------------------------- overlays


@register("ws-connect:", "connect-ws:", "ws-c:", "c-ws:")
@dataclass(frozen=True)
class WsConnect(Overlay):
    """Combined WebSocket upgrader and framer, but without TCP or TLS things.

    URI is taken from --ws-c-uri; if it is not specified, it defaults to /, with a
    missing Host: header.
    """

    uri: str = keyword("/", always=True)
    host: str | None = keyword(None)
    headers: tuple[tuple[str, str], ...] = option("--header", default=(), convert=request_headers)
    protocol: str | None = option("--protocol", default=None)
    origin: str | None = option("--origin", default=None)
    user_agent: str | None = option("--ua", default=None)
    omit_headers: bool = _omit_headers()
    no_close: bool = _no_close()
    lax: bool = _lax()
    max_pongs: int | None = _max_pongs()
    ignore_masks: bool = _ignore_masks()
    shutdown_on_eof: bool = _shutdown_on_eof()
    close_delay_ms: int | None = _close_delay_ms()
    verbose: bool = _verbose()
    ping_interval: float | None = _ping_interval()
    ping_timeout: float | None = _ping_timeout()
    print_ping_rtts: bool = _print_ping_rtts()
    max_sent_pings: int | None = _max_sent_pings()
    max_message_length: int | None = _max_message_length()
    compress: bool = _compress()
    compress_no_context_takeover: bool = _compress_no_context_takeover()
    compress_window_bits: int | None = _compress_window_bits()
    compress_level: int = _compress_level()
    close_code: int | None = _close_code()
    close_reason: str = _close_reason()
    connect_timeout_ms: int | None = connect_timeout()
    basic_auth_file: str | bytes | None = _basic_auth_file()
    # from a ws://user:password@ URL or --ws-c-uri; an Authorization given with -H wins over it
    authorization: str | None = internal(None, repr=False)
    basic_auth: str | None = _client_basic_auth()
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.ws", "connect", "ws")

    def call_arguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args, kwargs = super().call_arguments()
        return args, _with_authorization(kwargs, _client_authorization(self))


@register("ws-request:", "ws-r:")
@dataclass(frozen=True)
class WsRequest(Overlay):
    """Send HTTP/1 WebSocket upgrade to specified stream-oriented connection and accept and parse a reply.

    Then connects (exchanges bytes) the downstream connection to upstream. Does not
    provide WebSocket framing. URI from --ws-c-uri (default /), no Host header.
    """

    uri: str = keyword("/", always=True)
    host: str | None = keyword(None)
    headers: tuple[tuple[str, str], ...] = option("--header", default=(), convert=request_headers)
    protocol: str | None = option("--protocol", default=None)
    origin: str | None = option("--origin", default=None)
    user_agent: str | None = option("--ua", default=None)
    omit_headers: bool = _omit_headers()
    lax: bool = _lax()
    verbose: bool = _verbose()
    connect_timeout_ms: int | None = connect_timeout()
    basic_auth_file: str | bytes | None = _basic_auth_file()
    authorization: str | None = internal(None, repr=False)
    basic_auth: str | None = _client_basic_auth()
    render: ClassVar = Rendered("overlays.ws", "request", "upgraded")

    def call_arguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args, kwargs = super().call_arguments()
        return args, _with_authorization(kwargs, _client_authorization(self))


@register("ws-upgrade:", "upgrade-ws:", "ws-u:", "u-ws:")
@dataclass(frozen=True)
class WsAccept(_Guarded, Overlay):
    """Combined WebSocket acceptor and framer."""

    headers: tuple[tuple[str, str], ...] = option("--server-header", default=(), convert=server_headers)
    protocol: str | None = option("--server-protocol", default=None)
    protocol_lax: bool = option("--server-protocol-lax", default=False)
    choose_first: bool = option("--server-protocol-choose-first", default=False)
    omit_headers: bool = _omit_headers()
    no_close: bool = _no_close()
    lax: bool = _lax()
    max_pongs: int | None = _max_pongs()
    ignore_masks: bool = _ignore_masks()
    shutdown_on_eof: bool = _shutdown_on_eof()
    close_delay_ms: int | None = _close_delay_ms()
    verbose: bool = _verbose()
    restrict_uri: str | None = option("--restrict-uri", default=None, convert=_restrict_uri)
    allow_origins: tuple[str, ...] = option("--allow-origin", default=(), convert=_origins)
    static_files: tuple[tuple[str, str, str | bytes], ...] = option("--static-file", default=(), convert=_static_files)
    users_file: str | bytes | None = _users_file()
    ping_interval: float | None = _ping_interval()
    ping_timeout: float | None = _ping_timeout()
    print_ping_rtts: bool = _print_ping_rtts()
    max_sent_pings: int | None = _max_sent_pings()
    max_message_length: int | None = _max_message_length()
    compress: bool = _compress()
    compress_no_context_takeover: bool = _compress_no_context_takeover()
    compress_window_bits: int | None = _compress_window_bits()
    compress_level: int = _compress_level()
    close_code: int | None = _close_code()
    close_reason: str = _close_reason()
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.ws", "accept", "ws")
    setup: ClassVar = USERS_SETUP


@register("ws-accept:")
@dataclass(frozen=True)
class WsAcceptUpgrade(_Guarded, Overlay):
    """Expects a HTTP/1 WebSocket upgrade request from downstream stream socket; if valid, replies with Upgrade.

    Then connects (exchanges bytes) downstream to upstream. Does not provide WebSocket framing.
    """

    headers: tuple[tuple[str, str], ...] = option("--server-header", default=(), convert=server_headers)
    protocol: str | None = option("--server-protocol", default=None)
    protocol_lax: bool = option("--server-protocol-lax", default=False)
    choose_first: bool = option("--server-protocol-choose-first", default=False)
    omit_headers: bool = _omit_headers()
    lax: bool = _lax()
    verbose: bool = _verbose()
    restrict_uri: str | None = option("--restrict-uri", default=None, convert=_restrict_uri)
    allow_origins: tuple[str, ...] = option("--allow-origin", default=(), convert=_origins)
    static_files: tuple[tuple[str, str, str | bytes], ...] = option("--static-file", default=(), convert=_static_files)
    users_file: str | bytes | None = _users_file()
    render: ClassVar = Rendered("overlays.ws", "accept_upgrade", "upgraded")
    setup: ClassVar = USERS_SETUP


@register("ws-lowlevel-client:", "ws-ll-client:", "ws-ll-c:")
@dataclass(frozen=True)
class WsFramedClient(Overlay):
    """Converts downstream stream to upstream packets using WebSocket framing (client side: masks frames).

    Automatically handles WebSocket pings and CloseFrames, but does not fully terminate
    the connection on CloseFrame, only signaling EOF instead.
    """

    client: bool = keyword(True, always=True)
    no_close: bool = _no_close()
    max_pongs: int | None = _max_pongs()
    ignore_masks: bool = _ignore_masks()
    shutdown_on_eof: bool = _shutdown_on_eof()
    close_delay_ms: int | None = _close_delay_ms()
    verbose: bool = _verbose()
    ping_interval: float | None = _ping_interval()
    ping_timeout: float | None = _ping_timeout()
    print_ping_rtts: bool = _print_ping_rtts()
    max_sent_pings: int | None = _max_sent_pings()
    max_message_length: int | None = _max_message_length()
    close_code: int | None = _close_code()
    close_reason: str = _close_reason()
    provides: ClassVar[Kind] = Kind.MESSAGES
    render: ClassVar = Rendered("overlays.ws", "framed", "ws")


@register("ws-lowlevel-server:", "ws-ll-server:", "ws-ll-s:")
@dataclass(frozen=True)
class WsFramedServer(WsFramedClient):
    """Converts downstream stream to upstream packets using WebSocket framing (server side: expects masked frames)."""

    client: bool = keyword(False, always=True)
