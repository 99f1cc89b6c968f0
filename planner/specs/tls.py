"""tls: and tls-accept: with their aliases, TLS client and server over any byte stream
(runtime/overlays/tls.py).

Certificates, keys and CAs are read once, before any connection, by a setup step in
main() (``tls_context1 = tls.server_context(...)``), so a bad file stops the command at
start; the sessions get the context.  A key's passphrase is never in the script: only the
name of the environment variable or of the file that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from websocat.planner.model import Endpoint, Kind, Overlay, SpecError, Var
from websocat.planner.specs import Rendered, Setup, option, register
from websocat.planner.specs import internal, keyword
from websocat.planner.specs.tcp import connect_timeout
from websocat.planner.values import ip_host_port, os_value


def _context_option(*names: str, convert: Any = None) -> Any:
    """A field filled from an option that goes to the setup call (the context), not to the
    per-connection call."""
    metadata = {
        "options": tuple(n.removeprefix("--").replace("-", "_") for n in names),
        "convert": convert,
        "always": False,
        "internal": True,
    }
    return field(default=None, metadata=metadata)


def _path(value: str) -> str | bytes:
    return os_value(value)


CONTEXT_TYPE = "tls.Context"


@register(
    "tls:",
    "ssl-connect:",
    "ssl-c:",
    "ssl:",
    "tls-connect:",
    "tls-c:",
    "c-ssl:",
    "connect-ssl:",
    "c-tls:",
    "connect-tls:",
)
@dataclass(frozen=True)
class TlsClient(Overlay):
    """Establishes client-side TLS connection using specified stream-oriented downstream connection.

    The domain (SNI and the name verified) is --tls-domain, else the host of the
    connection under it (the tls_domain fixup).  With --tls-ca or --tls-client-cert the
    context is made once in main() (tls.client_context), so a bad file is an error at start.
    """

    domain: str | None = option("--tls-domain", default=None, always=True)  # else the host under it
    insecure: bool = option("--insecure", default=False)
    keylog: bool = option("--enable-sslkeylog", default=False)
    ca: str | bytes | None = _context_option("--tls-ca", convert=_path)
    cert: str | bytes | None = _context_option("--tls-client-cert", convert=_path)
    key: str | bytes | None = _context_option("--tls-client-key", convert=_path)
    password_env: str | None = _context_option("--tls-key-password-env")
    password_file: str | bytes | None = _context_option("--tls-key-password-file", convert=_path)
    connect_timeout_ms: int | None = connect_timeout()
    enabled: bool = keyword(True)  # --follow-redirects: hop.secure (a hop is ws:// or wss://)
    render: ClassVar = Rendered("overlays.tls", "connect", "tls")
    setup: ClassVar = Setup(
        "overlays.tls",
        "client_context",
        "tls_context",
        CONTEXT_TYPE,
        "TLS client context: CA and client certificate files read once, at start",
        form="call",
    )

    def needs_setup(self) -> bool:
        return self.ca is not None or self.cert is not None

    def setup_arguments(self) -> tuple[Any, ...]:
        return ()

    def setup_keywords(self) -> dict[str, Any]:
        given = {
            "insecure": self.insecure,
            "keylog": self.keylog,
            "ca": self.ca,
            "cert": self.cert,
            "key": self.key,
            "password_env": self.password_env,
            "password_file": self.password_file,
        }
        return {name: value for name, value in given.items() if value not in (None, False)}

    def call_arguments(self, setup_var: str | None = None) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args, kwargs = super().call_arguments()
        if setup_var is None:
            return args, kwargs
        kwargs = {"domain": self.domain}  # insecure and keylog are the context's
        if self.connect_timeout_ms is not None:
            kwargs["connect_timeout_ms"] = self.connect_timeout_ms
        if self.enabled is not True:
            kwargs["enabled"] = self.enabled
        return (Var(setup_var),), kwargs


@register(
    "tls-accept:",
    "ssl-accept:",
    "ssl-a:",
    "tls-a:",
    "a-ssl:",
    "accept-ssl:",
    "accept-tls:",
)
@dataclass(frozen=True)
class TlsAccept(Overlay):
    """Accept an TLS connection using arbitrary backing stream.

    The certificate and key are --tls-cert and --tls-key (PEM files; websocat v1 took a
    PKCS#12 file); with --tls-client-ca, clients must present a certificate that CA
    signed, and its subject is shown in the session's error lines and by -v.
    """

    cert: str | bytes | None = _context_option("--tls-cert", convert=_path)
    key: str | bytes | None = _context_option("--tls-key", convert=_path)
    client_ca: str | bytes | None = _context_option("--tls-client-ca", convert=_path)
    password_env: str | None = _context_option("--tls-key-password-env")
    password_file: str | bytes | None = _context_option("--tls-key-password-file", convert=_path)
    keylog: bool = field(default=False, metadata={"options": ("enable_sslkeylog",), "convert": None, "internal": True})
    verbose: bool = option("--verbose", default=False)
    render: ClassVar = Rendered("overlays.tls", "accept", "tls")
    setup: ClassVar = Setup(
        "overlays.tls",
        "server_context",
        "tls_context",
        CONTEXT_TYPE,
        "TLS server context: certificate and key files read once, at start",
        form="call",
    )

    def needs_setup(self) -> bool:
        return True

    def setup_arguments(self) -> tuple[Any, ...]:
        if self.cert is None:
            raise SpecError(f"{self.prefix} needs --tls-cert (a PEM file; and --tls-key unless the key is in it)")
        return (self.cert,) if self.key is None else (self.cert, self.key)

    def setup_keywords(self) -> dict[str, Any]:
        given = {
            "client_ca": self.client_ca,
            "password_env": self.password_env,
            "password_file": self.password_file,
            "keylog": self.keylog,
        }
        return {name: value for name, value in given.items() if value not in (None, False)}

    def call_arguments(self, setup_var: str | None = None) -> tuple[tuple[Any, ...], dict[str, Any]]:
        _args, kwargs = super().call_arguments()
        return (Var(setup_var or "tls_context"),), kwargs


@register("ssl-listen:", "ssl-l:", "tls-l:", "tls-listen:", "l-ssl:", "listen-ssl:", "listen-tls:")
@dataclass(frozen=True)
class TlsListen(Endpoint):
    """Listen for SSL connections on a TCP port.

    tls-accept: over tcp-l: (the expand_websocket fixup); the certificate and key are
    --tls-cert and --tls-key (websocat v1 took a PKCS#12 file).
    """

    host: str = internal("")
    port: int = internal(0)
    provides: ClassVar[Kind] = Kind.BYTES
    listener: ClassVar[bool] = True
    grammar: ClassVar[str] = "ip:port"

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(*ip_host_port(value, cls.prefixes[0]))
