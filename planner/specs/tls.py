"""tls: and its aliases, a TLS client over any byte stream (runtime/overlays/tls.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from websocat.planner.model import Overlay
from websocat.planner.specs import Rendered, option, register


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
    connection under it (the tls_domain fixup).
    """

    domain: str | None = option("--tls-domain", default=None, always=True)  # else the host under it
    insecure: bool = option("--insecure", default=False)
    keylog: bool = option("--enable-sslkeylog", default=False)
    render: ClassVar = Rendered("overlays.tls", "connect", "tls")
