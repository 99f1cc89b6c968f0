"""tls: (and the TLS part of wss://): a TLS client over any byte stream, with the ssl module.

The TLS engine is an `ssl.SSLObject` between two memory buffers, so the layer under it
can be anything that is a ByteStream (TCP, a process, a mock), as the manual's overlays
compose.  Certificates are verified against the system store by default (OpenSSL also
honours SSL_CERT_FILE / SSL_CERT_DIR); `insecure` (-k) turns verification off.
"""

from __future__ import annotations

import os
import ssl

from websocat.runtime.errors import ConnectError
from websocat.runtime.sockets import DEFAULT_READ, ByteStream, opening


class TlsStream(ByteStream):
    """A stream socket whose bytes are carried by TLS over another stream socket."""

    name = "tls:"

    def __init__(self, stream: ByteStream, context: ssl.SSLContext, server_hostname: str) -> None:
        self.stream = stream
        self.server_hostname = server_hostname
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self.readable, self.writable, self.hangup = stream.readable, stream.writable, stream.hangup
        self._eof = False

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
                    raise ConnectError(f"tls: {self.server_hostname}: connection closed during the TLS handshake")
            except ssl.SSLCertVerificationError as exc:
                raise ConnectError(f"tls: {self.server_hostname}: {exc.verify_message or exc.reason}") from None
            except ssl.SSLError as exc:
                raise ConnectError(f"tls: {self.server_hostname}: {exc.reason or exc}") from None
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


def client_context(*, insecure: bool = False, keylog: bool = False) -> ssl.SSLContext:
    """The client's SSL context: system trust store, hostname check; -k turns both off."""
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    keylog_file = os.environ.get("SSLKEYLOGFILE")
    if keylog and keylog_file:
        context.keylog_filename = keylog_file
    return context


@opening
async def connect(stream: ByteStream, *, domain: str, insecure: bool = False, keylog: bool = False) -> TlsStream:
    """Establishes client-side TLS over `stream`; `domain` is sent as SNI and verified."""
    tls = TlsStream(stream, client_context(insecure=insecure, keylog=keylog), domain)
    await tls.handshake()
    return tls
