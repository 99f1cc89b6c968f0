"""Who a WebSocket server lets in, and the plain HTTP requests it answers itself.

``screen`` runs in the server handshake (ws_handshake.server_handshake) after the
request head is parsed and before the upgrade is checked or answered.  In this order:

1. over ``--conncap`` (the serving loop marks the session busy): 503;
2. a GET or HEAD without Upgrade of a ``--static-file`` URI: 401 without the right
   ``--server-basic-auth-file`` credentials, else 200 with the file (read at each
   request, so an edited page shows without a restart);
3. a path other than ``--restrict-uri`` (the query is not compared): 404;
4. any other request without Upgrade, when static files are served: 404;
5. an ``Origin`` not among ``--allow-origin``: 403 (a request without ``Origin``, which
   browsers always send on WebSocket upgrades, is not from a browser and is let in);
6. missing or wrong ``--server-basic-auth-file`` credentials: 401 with
   ``WWW-Authenticate: Basic realm="websocat"``.

A refusal raises `Refused` (serving prints ``refused PEER: REASON``); a served file
raises `Answered`, the session's normal end.  Either way the session's other layers
(the ``cmd:`` on the right, say) are never opened.

Users file (``read_users``, once at start): one ``user:password`` per line, or
``user:pbkdf2_sha256$ITERATIONS$SALT$HASH`` (HASH: base64 of
``hashlib.pbkdf2_hmac("sha256", password, SALT, ITERATIONS)``); blank lines and lines
starting with ``#`` are skipped.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from websocat.runtime.errors import Answered, ConnectError, Refused, UsageError
from websocat.runtime.serving import BUSY
from websocat.runtime.sockets import ByteStream

__all__ = ["BUSY_WAIT", "Access", "StaticFile", "Users", "read_users", "screen"]

BUSY_WAIT = 5.0  # seconds a busy session waits for the request head before it is dropped

REALM = "websocat"
HASH_SCHEME = "pbkdf2_sha256"

# A static file: (URI, Content-Type, path), websocat v1's -F URI:CONTENT_TYPE:FILE.
StaticFile = tuple[str, str, str | bytes]


@dataclass
class Users:
    """The credentials of --server-basic-auth-file: user -> password or salted hash.

    ``check`` compares in constant time (hmac.compare_digest); a hash is computed in a
    thread, and credentials already verified are remembered (as a SHA-256 digest of the
    header value) so a hash costs its iterations once per process, not per connection.
    """

    path: str
    entries: dict[str, tuple[str, bytes, int, bytes]]  # user -> (scheme, salt, iterations, secret)
    _verified: set[bytes] = field(default_factory=set)

    async def check(self, authorization: str | None) -> str | None:
        """Why the Authorization header value does not let in (None: it does)."""
        if authorization is None:
            return "no credentials"
        scheme, _space, token = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return f"{scheme or 'empty'} credentials, not Basic"
        try:
            raw = base64.b64decode(token.strip().encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return "malformed Basic credentials"
        user_bytes, colon, password = raw.partition(b":")
        user = user_bytes.decode("utf-8", "replace")
        if not colon:
            return "malformed Basic credentials"
        digest = hashlib.sha256(raw).digest()
        if digest in self._verified:
            return None
        entry = self.entries.get(user)
        if entry is None:
            hmac.compare_digest(password, password)  # about the same time as a known user's
            return f"unknown user {user!r}"
        scheme_name, salt, iterations, secret = entry
        if scheme_name == HASH_SCHEME:
            given = await asyncio.to_thread(hashlib.pbkdf2_hmac, "sha256", password, salt, iterations)
        else:
            given = password
        if not hmac.compare_digest(given, secret):
            return f"wrong password for user {user!r}"
        self._verified.add(digest)
        return None


def read_users(path: str | bytes) -> Users:
    """Read a --server-basic-auth-file once, at start (see the module's docstring).

    A missing or unreadable file: ConnectError (exit 3); a malformed line: UsageError
    (exit 2), naming the file and the line, never its content.
    """
    shown = os.fsdecode(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConnectError(f"--server-basic-auth-file {shown}: {exc.strerror or exc}") from None
    entries: dict[str, tuple[str, bytes, int, bytes]] = {}
    for number, line_bytes in enumerate(data.splitlines(), 1):
        line = line_bytes.decode("utf-8", "surrogateescape").strip()
        if not line or line.startswith("#"):
            continue
        user, colon, secret = line.partition(":")
        where = f"--server-basic-auth-file {shown}: line {number}"
        if not colon or not user:
            raise UsageError(f"{where}: expected user:password or user:{HASH_SCHEME}$ITERATIONS$SALT$HASH")
        if secret.startswith(HASH_SCHEME + "$"):
            parts = secret.split("$")
            try:
                if len(parts) != 4 or not parts[2]:
                    raise ValueError
                iterations = int(parts[1])
                hashed = base64.b64decode(parts[3].encode("ascii"), validate=True)
                if iterations < 1 or not hashed:
                    raise ValueError
            except (ValueError, binascii.Error, UnicodeEncodeError):
                raise UsageError(f"{where}: expected {HASH_SCHEME}$ITERATIONS$SALT$HASH (HASH in base64)") from None
            entries[user] = (HASH_SCHEME, parts[2].encode("utf-8", "surrogateescape"), iterations, hashed)
        else:
            entries[user] = ("plain", b"", 0, secret.encode("utf-8", "surrogateescape"))
    if not entries:
        raise UsageError(f"--server-basic-auth-file {shown}: no user:password line")
    return Users(shown, entries)


@dataclass(frozen=True, slots=True)
class Access:
    """What a WebSocket server checks before it upgrades (see the module's docstring)."""

    restrict_uri: str | None = None
    allow_origins: tuple[str, ...] = ()
    users: Users | None = None
    static_files: tuple[StaticFile, ...] = ()

    @property
    def open(self) -> bool:
        """Nothing to check or serve: screen() has nothing to do but the --conncap check."""
        return self.restrict_uri is None and not self.allow_origins and self.users is None and not self.static_files


async def screen(
    stream: ByteStream,
    access: Access,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    verbose: bool = False,
) -> None:
    """Let the request through (return), or answer it and raise Refused or Answered."""
    busy = BUSY.get()
    if busy is not None:
        await reply(stream, "503 Service Unavailable", busy, ["Retry-After: 1"], verbose=verbose)
        raise Refused(busy)
    if access.open:
        return
    path = urlsplit(target).path or "/"
    upgrade = any(name.lower() == "upgrade" for name, _value in headers)
    if not upgrade and method in ("GET", "HEAD"):
        for uri, content_type, file in access.static_files:
            if path == uri:
                await _authorize(stream, access, headers, verbose)
                await _serve_file(stream, method, target, content_type, file, verbose)
    if access.restrict_uri is not None and path != access.restrict_uri:
        why = f"path {path} is not {access.restrict_uri} (--restrict-uri)"
        await reply(stream, "404 Not Found", "not found", verbose=verbose)
        raise Refused(why)
    if not upgrade and access.static_files:
        await reply(stream, "404 Not Found", "not found", verbose=verbose)
        raise Refused(f"{method} {path}: no such static file (-F) and not a WebSocket upgrade")
    if access.allow_origins:
        origins = [value for name, value in headers if name.lower() == "origin"]
        allowed = {_origin(o) for o in access.allow_origins}
        for origin in origins:
            if _origin(origin) not in allowed:
                await reply(stream, "403 Forbidden", "origin not allowed", verbose=verbose)
                raise Refused(f"origin {origin} is not allowed (--allow-origin)")
    await _authorize(stream, access, headers, verbose)


async def _authorize(stream: ByteStream, access: Access, headers: list[tuple[str, str]], verbose: bool) -> None:
    if access.users is None:
        return
    given = [value for name, value in headers if name.lower() == "authorization"]
    why = await access.users.check(given[0] if len(given) == 1 else None)
    if why is not None:
        challenge = f'WWW-Authenticate: Basic realm="{REALM}"'
        await reply(stream, "401 Unauthorized", "authorization required", [challenge], verbose=verbose)
        raise Refused(f"{why} (--server-basic-auth-file)")


async def _serve_file(
    stream: ByteStream, method: str, target: str, content_type: str, file: str | bytes, verbose: bool
) -> None:
    try:
        body = await asyncio.to_thread(_read, file)
    except OSError as exc:
        await reply(stream, "404 Not Found", "not found", verbose=verbose)
        raise Refused(f"static file {os.fsdecode(file)}: {exc.strerror or exc} (-F)") from None
    await reply(stream, "200 OK", body, [f"Content-Type: {content_type}"], head_only=method == "HEAD", verbose=verbose)
    raise Answered(f"{method} {target}: served {os.fsdecode(file)} (-F)")


def _read(file: str | bytes) -> bytes:
    with open(file, "rb") as f:
        return f.read()


def _origin(value: str) -> str:
    """An Origin as compared: scheme and host are case-insensitive; a trailing / is dropped."""
    return value.strip().rstrip("/").lower()


async def reply(
    stream: ByteStream,
    status: str,
    body: str | bytes,
    headers: Iterable[str] = (),
    *,
    head_only: bool = False,
    verbose: bool = False,
) -> None:
    """Answer an HTTP request that gets no upgrade, then close our half (a peer already
    gone is ignored)."""
    data = body if isinstance(body, bytes) else (body + "\n").encode("utf-8", "replace")
    if not isinstance(body, bytes):
        headers = ["Content-Type: text/plain; charset=utf-8", *headers]
    lines = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(data)}", "Connection: close"]
    if verbose:
        from websocat.runtime.overlays.ws_handshake import show

        show(">", lines)
    try:
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
        await stream.write(head if head_only else head + data)  # one write: one packet for small replies
        await stream.write_eof()
    except OSError:
        pass
