"""tls: and tls-accept: (and the TLS part of wss:// and wss-l:): TLS over any byte stream,
with the ssl module.

The TLS engine is an `ssl.SSLObject` between two memory buffers, so the layer under it
can be anything that is a ByteStream (TCP, a process, a mock), as the manual's overlays
compose.  Certificates are verified against the system store by default (OpenSSL also
honours SSL_CERT_FILE / SSL_CERT_DIR), or against --tls-ca; `insecure` (-k) turns
verification off.  Contexts that read files (certificates, keys, CAs) are made once,
before any connection, by `client_context` and `server_context`, so that a bad file is
an error at start.
"""

from __future__ import annotations

import os
import ssl
import sys
import time
from collections.abc import Mapping
from typing import Any

from websocat.runtime import stats
from websocat.runtime.timeouts import within
from websocat.runtime.errors import ConnectError, os_error_text
from websocat.runtime.sockets import DEFAULT_READ, ByteStream, opening

Context = ssl.SSLContext  # what client_context and server_context make, for the script's annotations


class TlsStream(ByteStream):
    """A stream socket whose bytes are carried by TLS over another stream socket."""

    name = "tls:"

    def __init__(
        self, stream: ByteStream, context: ssl.SSLContext, server_hostname: str, *, server_side: bool = False
    ) -> None:
        self.stream = stream
        self.server_hostname = server_hostname
        self.label = f"{'tls-accept' if server_side else 'tls'}: {server_hostname}"  # what error lines start with
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        if server_side:
            self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        else:
            self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self.readable, self.writable, self.hangup = stream.readable, stream.writable, stream.hangup
        self._eof = False
        self.peer: str = getattr(stream, "peer", "")
        self.subject: str | None = None  # the verified client certificate's subject (tls-accept: with --tls-client-ca)

    async def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            await self.stream.write(data)

    async def _fill(self) -> bool:
        """Feed the TLS engine one read of ciphertext; False at EOF."""
        data = await self.stream.read(DEFAULT_READ)
        if not data:
            self._incoming.write_eof()
            return False
        self._incoming.write(data)
        return True

    async def handshake(self) -> None:
        while True:
            try:
                self._tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._flush()
                if not await self._fill():
                    raise ConnectError(f"{self.label}: connection closed during the TLS handshake")
            except ssl.SSLCertVerificationError as exc:
                await self._flush()  # the alert tells the peer why
                refused = "client certificate refused: " if self._tls.server_side else ""
                raise ConnectError(f"{self.label}: {refused}{exc.verify_message or _reason(exc)}") from None
            except ssl.SSLError as exc:
                await self._flush()
                raise ConnectError(f"{self.label}: {_reason(exc)}") from None
        await self._flush()

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        while not self._eof:
            try:
                return self._tls.read(max_bytes)
            except ssl.SSLWantReadError:
                await self._flush()  # e.g. TLS 1.3 session tickets need no answer, but be safe
                if not await self._fill():
                    self._eof = True
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self._eof = True  # close_notify, or the peer closed the connection without one
            except ssl.SSLError as exc:
                # e.g. a TLS 1.3 server refusing our certificate (or its absence) after the handshake
                raise ConnectError(f"{self.label}: {_reason(exc)}") from None
        return b""

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        self._tls.write(data)
        await self._flush()

    async def write_eof(self) -> None:
        """TLS has no half-close: send close_notify; the connection stays open for reading."""
        try:
            self._tls.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        await self._flush()

    async def aclose(self) -> None:
        await self.stream.aclose()


def _reason(exc: ssl.SSLError) -> str:
    """OpenSSL's reason in words: 'TLSV13_ALERT_CERTIFICATE_REQUIRED' -> 'tlsv13 alert certificate required'."""
    reason = exc.reason or str(exc)
    return reason.lower().replace("_", " ") if reason.isupper() else reason


def _password(password_env: str | None, password_file: str | bytes | None) -> bytes | None:
    """A key's passphrase from an environment variable or a file (never the command line)."""
    if password_env is not None:
        value = os.environb.get(password_env.encode())
        if value is None:
            raise ConnectError(f"--tls-key-password-env: environment variable {password_env} is not set")
        return value
    if password_file is not None:
        try:
            with open(password_file, "rb") as f:
                return f.read().rstrip(b"\r\n")
        except OSError as exc:
            raise ConnectError(f"--tls-key-password-file: {os.fsdecode(password_file)}: {os_error_text(exc)}") from None
    return None


def _check_readable(option: str, path: str | bytes) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ConnectError(f"{option}: {os.fsdecode(path)}: {os_error_text(exc)}") from None


def _load_identity(
    context: ssl.SSLContext,
    options: tuple[str, str],
    cert: str | bytes,
    key: str | bytes | None,
    password: bytes | None,
) -> None:
    """Load a certificate (chain) and its key, with one line for each way it can fail."""
    _check_readable(options[0], cert)
    if key is not None:
        _check_readable(options[1], key)
    try:
        context.load_cert_chain(cert, key, password=password if password is not None else _no_password)
    except ssl.SSLError as exc:
        where = f"{options[0]} {os.fsdecode(cert)}" + (f" and {options[1]} {os.fsdecode(key)}" if key else "")
        text = _reason(exc)
        if "key values mismatch" in text.lower():
            raise ConnectError(f"{where}: the key does not match the certificate") from None
        if password is not None and any(word in text.lower() for word in ("bad decrypt", "pem lib", "nested asn1")):
            raise ConnectError(f"{where}: wrong key passphrase, or not a PEM certificate and key") from None
        raise ConnectError(f"{where}: not a PEM certificate and key ({text})") from None
    except _NoPassword:
        raise ConnectError(
            f"{options[1] if key else options[0]} {os.fsdecode(key or cert)}: the key is encrypted:"
            " give its passphrase with --tls-key-password-env or --tls-key-password-file"
        ) from None


class _NoPassword(Exception):
    """An encrypted key and no passphrase given."""


def _no_password() -> bytes:
    raise _NoPassword()


def _load_ca(context: ssl.SSLContext, option: str, path: str | bytes) -> None:
    _check_readable(option, path)
    try:
        context.load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        raise ConnectError(f"{option}: {os.fsdecode(path)}: not a PEM certificate ({_reason(exc)})") from None


def _keylog(context: ssl.SSLContext, keylog: bool) -> None:
    keylog_file = os.environ.get("SSLKEYLOGFILE")
    if keylog and keylog_file:
        context.keylog_filename = keylog_file


def client_context(
    *,
    insecure: bool = False,
    keylog: bool = False,
    ca: str | bytes | None = None,
    cert: str | bytes | None = None,
    key: str | bytes | None = None,
    password_env: str | None = None,
    password_file: str | bytes | None = None,
) -> ssl.SSLContext:
    """The client's SSL context: the system trust store (or the CA file `ca`, --tls-ca) and
    the hostname check, -k turning both off; `cert` and `key`: the client certificate
    (--tls-client-cert, --tls-client-key), whose key's passphrase is read from the
    environment variable `password_env` or the file `password_file`."""
    context = ssl.create_default_context()
    if ca is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # this CA only, not the system store (as curl --cacert)
        _load_ca(context, "--tls-ca", ca)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        _load_identity(
            context, ("--tls-client-cert", "--tls-client-key"), cert, key, _password(password_env, password_file)
        )
    _keylog(context, keylog)
    return context


def server_context(
    cert: str | bytes,
    key: str | bytes | None = None,
    *,
    client_ca: str | bytes | None = None,
    password_env: str | None = None,
    password_file: str | bytes | None = None,
    keylog: bool = False,
) -> ssl.SSLContext:
    """The server's SSL context: certificate (a chain allowed) and key from PEM files
    (--tls-cert, --tls-key; the key may be in the certificate file); `client_ca`
    (--tls-client-ca): clients must present a certificate that this CA signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _load_identity(context, ("--tls-cert", "--tls-key"), cert, key, _password(password_env, password_file))
    if client_ca is not None:
        _load_ca(context, "--tls-client-ca", client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    _keylog(context, keylog)
    return context


@opening
async def connect(
    stream: ByteStream,
    context: ssl.SSLContext | None = None,
    *,
    domain: str,
    insecure: bool = False,
    keylog: bool = False,
    connect_timeout_ms: int | None = None,
    enabled: bool = True,
) -> TlsStream | ByteStream:
    """Establishes client-side TLS over `stream`; `domain` is sent as SNI and verified.

    `context`: made by `client_context` (with --tls-ca or a client certificate); without
    it, one with the system trust store (`insecure`, `keylog` apply to that one).
    `connect_timeout_ms`: fail with TimeoutExpired when the handshake takes longer.
    `enabled`: False gives `stream` itself, without TLS (--follow-redirects' hops, which
    are wss:// or ws:// by their URL)."""
    if not enabled:
        return stream
    if context is None:
        context = client_context(insecure=insecure, keylog=keylog)
    tls = TlsStream(stream, context, domain)
    started = time.monotonic()
    where = getattr(stream, "peer", "") or domain
    await within(tls.handshake(), connect_timeout_ms, f"{where}: TLS handshake")
    stats.note("tls", started)
    return tls


_SHORT_NAMES = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C"}


def subject_text(cert: Mapping[str, Any]) -> str:
    """A certificate's subject (as `SSLObject.getpeercert` gives it) as one line: 'CN=client,O=example'."""
    return ",".join(f"{_SHORT_NAMES.get(name, name)}={value}" for rdn in cert.get("subject", ()) for name, value in rdn)


@opening
async def accept(stream: ByteStream, context: ssl.SSLContext, *, verbose: bool = False) -> TlsStream:
    """Accepts server-side TLS over `stream` with a context made by `server_context`.

    With a required client certificate, its verified subject is the stream's `subject`
    and is added to its `peer` text (and to that of `stream`, which the listener's error
    lines for the session name); `verbose` (-v) prints it on stderr."""
    peer = getattr(stream, "peer", "") or "client"
    tls = TlsStream(stream, context, peer, server_side=True)
    await tls.handshake()
    cert = tls._tls.getpeercert()
    if cert:
        tls.subject = subject_text(cert)
        tls.peer = f"{peer} ({tls.subject})"
        if isinstance(getattr(stream, "peer", None), str):
            stream.peer = tls.peer  # type: ignore[attr-defined]  # the listener's error lines name the subject too
    if verbose:
        shown = f"client certificate {tls.subject}" if tls.subject else "no client certificate"
        sys.stderr.write(f"websocat: tls-accept: {peer}: {tls._tls.version()}, {shown}\n")
        sys.stderr.flush()
    return tls
