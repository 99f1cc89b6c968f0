"""The HTTP/1.1 WebSocket upgrade (RFC 6455 section 4) over any byte stream.

``client_handshake`` sends the upgrade request and checks the 101 reply;
``server_handshake`` reads a request and answers it.  Both return the bytes that
arrived after the HTTP header block: they belong to the WebSocket framer.  Each takes
its options as one frozen object (``ClientOptions``, ``ServerOptions``), which
``ws.connect``, ``ws.accept``, ``ws.request`` and ``ws.accept_upgrade`` build from their
keywords.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import sys
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from websocat.runtime.errors import ConnectError, ProtocolError, Refused, UsageError
from websocat.runtime.overlays.ws_access import BUSY_WAIT, Access, screen
from websocat.runtime.overlays.ws_deflate import Deflate, DeflateOptions, agreed, answer
from websocat.runtime.serving import BUSY
from websocat.runtime.rng import random_bytes
from websocat.runtime.sockets import ByteStream

__all__ = [
    "BODY_WAIT",
    "MAX_HEADER_BLOCK",
    "REDIRECTS",
    "SHOWN_BODY",
    "ClientOptions",
    "HandshakeRequest",
    "HeaderItem",
    "Redirected",
    "ServerOptions",
    "accept_key",
    "client_handshake",
    "client_upgrade",
    "server_handshake",
    "show",
]

MAX_HEADER_BLOCK = 64 * 1024  # a longer request or response head fails the handshake
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# A custom header: ("Name", "value") or "Name: value" (the -H / --server-header syntax).
HeaderItem = tuple[str, str] | str


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How a client upgrades: what its request says, and how the reply is checked.

    ``host=None`` omits the Host header; a Host among ``headers`` replaces it.  ``headers``: extra request headers.  ``lax``
    accepts any 101 reply without checking its Upgrade, Connection, Sec-WebSocket-Accept
    and -Protocol headers.  ``omit_headers`` (--ws-omit-headers) leaves out Connection,
    Upgrade, Sec-WebSocket-Version and -Key, for a caller who sends its own in
    ``headers``; the reply's Sec-WebSocket-Accept is then checked against that
    Sec-WebSocket-Key, and not at all when there is none.  ``verbose``: the request and
    reply on stderr.  ``deflate`` (--compress): offer permessage-deflate.
    """

    uri: str = "/"
    host: str | None = None
    headers: tuple[HeaderItem, ...] = ()
    protocol: str | None = None
    origin: str | None = None
    user_agent: str | None = None
    lax: bool = False
    omit_headers: bool = False
    verbose: bool = False
    deflate: DeflateOptions | None = None
    basic_auth_file: str | bytes | None = None


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How a server answers an upgrade request.

    ``headers``: extra reply headers.  ``protocol``: the Sec-WebSocket-Protocol to answer
    with; a client that does not offer it is rejected (with ``lax`` or ``protocol_lax``
    the header is just left out then).  ``choose_first`` (--server-protocol-choose-first):
    with no ``protocol`` of our own, answer with the first one the client offers.  ``lax``
    also skips the checks of Upgrade, Connection, Sec-WebSocket-Version and -Key (a
    request without a key gets a reply without Sec-WebSocket-Accept).  ``omit_headers``
    (--ws-omit-headers) replies with the status line, the chosen protocol and ``headers``
    only.  ``verbose``: the request and reply on stderr.  ``deflate`` (--compress): accept
    a permessage-deflate offer.  ``access``: who is let in, and the static files served
    (ws_access.py), checked before the upgrade.
    """

    headers: tuple[HeaderItem, ...] = ()
    protocol: str | None = None
    lax: bool = False
    protocol_lax: bool = False
    choose_first: bool = False
    omit_headers: bool = False
    verbose: bool = False
    deflate: DeflateOptions | None = None
    access: Access = Access()


@dataclass(frozen=True)
class HandshakeRequest:
    """The upgrade request a WebSocket server accepted: method, request target, headers."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    protocol: str | None = None  # the Sec-WebSocket-Protocol the reply chose
    deflate: Deflate | None = None  # the permessage-deflate parameters the reply agreed to

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


def basic_authorization(path: str | bytes) -> str:
    """The Authorization value for the ``user:password`` in file ``path`` (--basic-auth-file)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConnectError(f"--basic-auth-file {os.fsdecode(path)}: {exc.strerror or exc}") from None
    data = data.removesuffix(b"\n").removesuffix(b"\r")
    if b"\n" in data or b":" not in data:
        raise UsageError(f"--basic-auth-file {os.fsdecode(path)}: expected one line, user:password")
    return "Basic " + base64.b64encode(data).decode("ascii")


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value that answers Sec-WebSocket-Key ``key``."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode("ascii")


async def client_handshake(stream: ByteStream, options: ClientOptions) -> bytes:
    """Upgrade ``stream`` to a WebSocket as a client; return bytes read past the reply.

    Raises ProtocolError("websocket handshake failed: HTTP/1.1 404 Not Found") and the
    like.
    """
    return (await client_upgrade(stream, options))[0]


async def client_upgrade(stream: ByteStream, options: ClientOptions) -> tuple[bytes, Deflate | None]:
    """``client_handshake``, also returning the permessage-deflate parameters agreed (None:
    not offered, or the server declined)."""
    custom = _header_pairs(options.headers)
    if options.basic_auth_file is not None and not _values(custom, "authorization"):
        custom.insert(0, ("Authorization", basic_authorization(options.basic_auth_file)))
    lines = [f"GET {_no_breaks(options.uri or '/')} HTTP/1.1"]
    # A Host among the custom headers (-H 'Host: ...') replaces the automatic one and
    # takes its place, second line, as a server expects: never two Host headers.
    explicit_host = [(name, value) for name, value in custom if name.lower() == "host"]
    if explicit_host:
        custom = [pair for pair in custom if pair[0].lower() != "host"]
        lines += _header_lines(explicit_host)
    elif options.host is not None:
        lines.append(f"Host: {_no_breaks(options.host)}")
    key: str | None
    if options.omit_headers:
        keys = _values(custom, "sec-websocket-key")
        key = keys[0] if len(keys) == 1 else None
    else:
        key = base64.b64encode(random_bytes(16)).decode("ascii")
        lines += [
            "Connection: Upgrade",
            "Upgrade: websocket",
            "Sec-WebSocket-Version: 13",
            f"Sec-WebSocket-Key: {key}",
        ]
    if options.protocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {_no_breaks(options.protocol)}")
    if options.origin is not None:
        lines.append(f"Origin: {_no_breaks(options.origin)}")
    if options.user_agent is not None:
        lines.append(f"User-Agent: {_no_breaks(options.user_agent)}")
    if options.deflate is not None:
        lines.append(f"Sec-WebSocket-Extensions: {options.deflate.offer()}")
    lines += _header_lines(custom)
    if options.verbose:
        show(">", lines)
    await stream.write(_encode_head(lines))

    head, leftover = await _read_head(stream, "reply")
    if head is None:
        raise ProtocolError("websocket handshake failed: connection closed before the HTTP reply")
    if options.verbose:
        show("<", head.decode("latin-1").split("\r\n"))
    status, reply_headers = _parse_head(head, "reply")
    parts = status.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or parts[1] != "101":
        if options.verbose:
            show("<", await _body_start(stream, leftover, reply_headers, parts[1]))
        message = f"websocket handshake failed: {status}{_explaining(reply_headers)}"
        locations = _values(reply_headers, "location")
        if parts[1:2] and parts[1] in REDIRECTS and len(locations) == 1:
            credentials = any(name.lower() in ("authorization", "cookie") for name, _value in custom)
            raise Redirected(message, parts[1], locations[0], credentials)
        raise ProtocolError(message)
    if not options.lax:
        _check_client_reply(reply_headers, key, options.protocol)
    deflate = None
    if options.deflate is not None:
        deflate = agreed(_values(reply_headers, "sec-websocket-extensions"), options.deflate)
    return leftover, deflate


# The statuses --follow-redirects follows (runtime/overlays/redirects.py); without it the
# Location is only shown in the error line.
REDIRECTS = frozenset({"301", "302", "303", "307", "308"})


class Redirected(ProtocolError):
    """A 3xx reply with one Location to the upgrade request: the error line when not
    followed; ``credentials``: the request carried an Authorization or Cookie header."""

    def __init__(self, message: str, status: str, location: str, credentials: bool) -> None:
        super().__init__(message)
        self.status, self.location, self.credentials = status, location, credentials


SHOWN_BODY = 1024  # -v shows this much of a refusing reply's body, which often says why
BODY_WAIT = 2.0  # seconds to wait for it: a keep-alive server need not close


async def _body_start(stream: ByteStream, data: bytes, headers: list[tuple[str, str]], code: str) -> list[str]:
    """-v: the first KiB of a refusing reply's body, as lines to show (none when it is empty)."""
    if code.startswith("1") or code in ("204", "304"):
        return []  # replies without a body
    lengths = _values(headers, "content-length")
    declared = int(lengths[0]) if lengths and lengths[0].strip().isdigit() else None
    want = SHOWN_BODY if declared is None else min(SHOWN_BODY, declared)
    chunked = "chunked" in _tokens(_values(headers, "transfer-encoding"))
    try:
        async with asyncio.timeout(BODY_WAIT):
            while not _have(data, want, chunked):
                more = await stream.read()
                if not more:
                    break
                data += more
    except (TimeoutError, OSError):
        pass  # show what came
    body = _dechunk(data)[0] if chunked else data
    if not body:
        return []
    text = body[:want].decode("utf-8", "replace")
    lines = [
        "".join(c if c.isprintable() or c == "\t" else f"\\x{ord(c):02x}" for c in line) for line in text.splitlines()
    ]
    if len(body) > want or (declared or 0) > want:
        lines.append(f"[body shown up to {SHOWN_BODY} bytes]")
    return lines


def _have(data: bytes, want: int, chunked: bool) -> bool:
    if not chunked:
        return len(data) >= want
    body, last = _dechunk(data)
    return last or len(body) >= want


def _dechunk(data: bytes) -> tuple[bytes, bool]:
    """The payload of the whole or partial chunks of a chunked body that `data` holds, and
    whether the last chunk (size 0) is among them."""
    out, pos = b"", 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return out, False
        try:
            size = int(data[pos:end].split(b";")[0].strip() or b"x", 16)
        except ValueError:
            return out, True  # not chunked after all: stop waiting
        if size == 0:
            return out, True
        out += data[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2
        if pos > len(data):
            return out, False


# Reply headers that tell a user why an upgrade was refused (redirects, auth, versions).
_EXPLAINING = ("location", "www-authenticate", "sec-websocket-version", "retry-after", "upgrade")


def _explaining(headers: list[tuple[str, str]]) -> str:
    shown = [f"{name}: {value}" for name, value in headers if name.lower() in _EXPLAINING]
    return f" ({'; '.join(shown)})" if shown else ""


def _check_client_reply(headers: list[tuple[str, str]], key: str | None, protocol: str | None) -> None:
    """Fail unless a 101 reply really accepts our upgrade (``key``: None when none was sent)."""
    if not _has_token(headers, "upgrade", "websocket"):
        raise ProtocolError("websocket handshake failed: reply lacks 'Upgrade: websocket'")
    if not _has_token(headers, "connection", "upgrade"):
        raise ProtocolError("websocket handshake failed: reply lacks 'Connection: Upgrade'")
    accept = _values(headers, "sec-websocket-accept")
    if key is not None and accept != [accept_key(key)]:
        got = ", ".join(accept) or "none"
        raise ProtocolError(f"websocket handshake failed: wrong Sec-WebSocket-Accept ({got})")
    chosen = _values(headers, "sec-websocket-protocol")
    if chosen:
        offered = _tokens([protocol] if protocol else [])
        if len(chosen) > 1 or chosen[0].strip().lower() not in offered:
            raise ProtocolError(
                f"websocket handshake failed: server chose protocol {', '.join(chosen)!r}," " which was not offered"
            )


async def server_handshake(stream: ByteStream, options: ServerOptions) -> tuple[HandshakeRequest, bytes]:
    """Accept a WebSocket upgrade request on ``stream``; return it and bytes read past it.

    A bad request gets a 400 reply, then ProtocolError("websocket handshake failed: ...");
    one that ``options.access`` refuses its 404/403/401 (503 over --conncap), then
    Refused; a static file request its file, then Answered.
    """
    head: bytes | None = b""
    busy = BUSY.get()
    try:
        if busy is None:
            head, leftover = await _read_head(stream, "request")
        else:  # over --conncap: the 503 waits a short while only
            try:
                async with asyncio.timeout(BUSY_WAIT):
                    head, leftover = await _read_head(stream, "request")
            except TimeoutError:
                raise Refused(f"{busy}; no request within {BUSY_WAIT:g} s") from None
        if head is None:
            raise ProtocolError("websocket handshake failed: connection closed before the HTTP request")
        if options.verbose:
            show("<", head.decode("latin-1").split("\r\n"))
        request_line, request_headers = _parse_head(head, "request")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise ProtocolError(f"websocket handshake failed: bad request line {request_line!r}")
        method, target, _version = parts
    except ProtocolError as exc:
        if head is not None and not isinstance(exc, Refused):  # a peer that hung up gets no reply
            await _reject(stream, exc.message)
        raise
    await screen(stream, options.access, method, target, request_headers, options.verbose)
    try:
        key = _check_request(request_headers, method, options.lax)
        chosen = _choose_protocol(
            request_headers, options.protocol, options.lax or options.protocol_lax, options.choose_first
        )
        extension = None
        if options.deflate is not None:
            extension = answer(_values(request_headers, "sec-websocket-extensions"), options.deflate)
    except ProtocolError as exc:
        if head is not None:  # a peer that hung up gets no reply
            await _reject(stream, exc.message)
        raise
    lines = ["HTTP/1.1 101 Switching Protocols"]
    if not options.omit_headers:
        lines += ["Upgrade: websocket", "Connection: Upgrade"]
        if key is not None:
            lines.append(f"Sec-WebSocket-Accept: {accept_key(key)}")
    if chosen is not None:
        lines.append(f"Sec-WebSocket-Protocol: {chosen}")
    if extension is not None:
        lines.append(f"Sec-WebSocket-Extensions: {extension[0]}")
    lines += _header_lines(_header_pairs(options.headers))
    if options.verbose:
        show(">", lines)
    await stream.write(_encode_head(lines))
    deflate = None if extension is None else extension[1]
    return HandshakeRequest(method, target, tuple(request_headers), chosen, deflate), leftover


def show(direction: str, lines: list[str]) -> None:
    """-v: handshake lines on stderr, '>' sent and '<' received; credentials shown as ***."""
    for line in lines:
        if line:
            sys.stderr.write(f"websocat: {direction} {_hide_credential(line)}\n")
    sys.stderr.flush()


# Request headers whose values are credentials; -v shows only their auth scheme.
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")


def _hide_credential(line: str) -> str:
    """'Authorization: Basic dTpw' -> 'Authorization: Basic ***'; other lines unchanged."""
    name, colon, value = line.partition(":")
    if not colon or name.strip().lower() not in _CREDENTIAL_HEADERS:
        return line
    scheme = value.split()[0] + " " if name.strip().lower() != "cookie" and len(value.split()) > 1 else ""
    return f"{name}: {scheme}***"


def _check_request(headers: list[tuple[str, str]], method: str, lax: bool) -> str | None:
    """Fail unless the request is a WebSocket upgrade; return its Sec-WebSocket-Key.

    ``lax``: no checks; the key is None unless there is exactly one.
    """
    keys = _values(headers, "sec-websocket-key")
    if lax:
        return keys[0] if len(keys) == 1 else None
    if len(keys) != 1:
        raise ProtocolError("websocket handshake failed: request needs one Sec-WebSocket-Key")
    key = keys[0]
    if method != "GET":
        raise ProtocolError(f"websocket handshake failed: method {method}, expected GET")
    if not _has_token(headers, "upgrade", "websocket"):
        raise ProtocolError("websocket handshake failed: request lacks 'Upgrade: websocket'")
    if not _has_token(headers, "connection", "upgrade"):
        raise ProtocolError("websocket handshake failed: request lacks 'Connection: Upgrade'")
    if _values(headers, "sec-websocket-version") != ["13"]:
        raise ProtocolError("websocket handshake failed: request lacks 'Sec-WebSocket-Version: 13'")
    try:
        raw = base64.b64decode(key.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != 16:
        raise ProtocolError(f"websocket handshake failed: bad Sec-WebSocket-Key {key!r}")
    return key


def _choose_protocol(
    headers: list[tuple[str, str]], protocol: str | None, lax: bool, choose_first: bool = False
) -> str | None:
    """The Sec-WebSocket-Protocol of the reply: ``protocol`` if the client offers it.

    ``choose_first`` (--server-protocol-choose-first): with no ``protocol`` of our own,
    answer with the first one the client offers.
    """
    if protocol is None:
        if choose_first:
            offered = [t.strip() for v in _values(headers, "sec-websocket-protocol") for t in v.split(",")]
            return next((t for t in offered if t), None)
        return None
    if protocol.strip().lower() in _tokens(_values(headers, "sec-websocket-protocol")):
        return protocol
    if lax:
        return None
    raise ProtocolError(f"websocket handshake failed: client did not offer protocol {protocol!r}")


async def _reject(stream: ByteStream, message: str) -> None:
    """Reply 400 with ``message`` as the body, ignoring a peer that is already gone."""
    body = (message + "\n").encode("utf-8", "replace")
    head = _encode_head(
        [
            "HTTP/1.1 400 Bad Request",
            "Content-Type: text/plain; charset=utf-8",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
    )
    try:
        await stream.write(head + body)
        await stream.write_eof()
    except OSError:
        pass


async def _read_head(stream: ByteStream, what: str) -> tuple[bytes | None, bytes]:
    """Read up to the blank line ending an HTTP head: (head, rest), or (None, b"") at EOF."""
    data = b""
    while True:
        chunk = await stream.read()
        if not chunk:
            return None, b""
        searched = max(0, len(data) - 3)  # the terminator may straddle two reads
        data += chunk
        end = data.find(b"\r\n\r\n", searched)
        if end >= 0:
            if end > MAX_HEADER_BLOCK:
                break
            return data[:end], data[end + 4 :]
        if len(data) > MAX_HEADER_BLOCK:
            break
    raise ProtocolError(f"websocket handshake failed: HTTP {what} head over {MAX_HEADER_BLOCK} bytes")


def _parse_head(head: bytes, what: str) -> tuple[str, list[tuple[str, str]]]:
    """Split an HTTP head into its first line and (name, value) header pairs."""
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise ProtocolError(f"websocket handshake failed: bad header line in HTTP {what}: {line!r}")
        headers.append((name, value.strip()))
    return lines[0], headers


def _values(headers: list[tuple[str, str]], name: str) -> list[str]:
    """Every value of header ``name`` (lower case)."""
    return [value for key, value in headers if key.lower() == name]


def _tokens(values: list[str]) -> set[str]:
    """The comma-separated tokens of header values, lower-cased."""
    return {token.strip().lower() for value in values for token in value.split(",") if token.strip()}


def _has_token(headers: list[tuple[str, str]], name: str, token: str) -> bool:
    """Whether header ``name`` lists ``token`` (case-insensitive)."""
    return token in _tokens(_values(headers, name))


def _header_pairs(headers: Iterable[HeaderItem]) -> list[tuple[str, str]]:
    """Custom headers as checked ("Name", "value") pairs."""
    pairs = []
    for item in headers:
        if isinstance(item, str):
            name, colon, value = item.partition(":")
            if not colon:
                raise UsageError(f"header {item!r} lacks a colon between name and value")
        else:
            name, value = item
        name = name.strip()
        if not name:
            raise UsageError(f"header {item!r} has an empty name")
        pairs.append((_no_breaks(name), _no_breaks(value.strip())))
    return pairs


def _header_lines(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Header pairs as "Name: value" lines."""
    return [f"{name}: {value}" for name, value in pairs]


def _no_breaks(text: str) -> str:
    """``text`` unchanged; fails on CR or LF, which would inject headers."""
    if "\r" in text or "\n" in text:
        raise UsageError(f"line break in an HTTP header or request line: {text!r}")
    return text


def _encode_head(lines: list[str]) -> bytes:
    """An HTTP head (header lines and the blank line) as bytes.

    UTF-8 with surrogateescape, so that header values given as non-UTF-8 OS strings go
    out as the original bytes.
    """
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
