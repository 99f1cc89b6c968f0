"""wss:// and tls: against a real TLS server on 127.0.0.1, with a CA made in the test."""

from __future__ import annotations

import datetime
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Websocat
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.sync.server import ServerConnection, serve


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA, and a server certificate it signed for 'localhost' and 127.0.0.1."""
    folder = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("websocat test CA"))
        .issuer_name(_name("websocat test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture()
def wss_port(pki: dict[str, Path]) -> Iterator[int]:
    """A websockets echo server over TLS."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["cert"], pki["key"])

    def echo(conn: ServerConnection) -> None:
        for message in conn:
            conn.send(message)

    server = serve(echo, "127.0.0.1", 0, ssl=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.socket.getsockname()[1]
    server.shutdown()
    thread.join(10)


def trusting(websocat: Websocat, pki: dict[str, Path]) -> Websocat:
    websocat.env = dict(websocat.env, SSL_CERT_FILE=str(pki["ca"]))
    return websocat


def test_wss_verified(websocat: Websocat, pki: dict[str, Path], wss_port: int) -> None:
    got = trusting(websocat, pki).echo_through(b"hello\nworld\n", f"wss://localhost:{wss_port}/")
    assert got == b"hello\nworld\n"


def test_wss_binary(websocat: Websocat, pki: dict[str, Path], wss_port: int) -> None:
    data = bytes(range(256)) * 4096
    assert trusting(websocat, pki).echo_through(data, "-b", f"wss://127.0.0.1:{wss_port}/") == data


def test_wrong_name_is_rejected(websocat: Websocat, pki: dict[str, Path], wss_port: int) -> None:
    out = trusting(websocat, pki).run("--tls-domain", "other.example", f"wss://127.0.0.1:{wss_port}/")
    assert out.returncode == 3
    assert out.stderr.count(b"\n") == 1 and b"Traceback" not in out.stderr
    assert b"tls: other.example:" in out.stderr and b"other.example" in out.stderr


def test_untrusted_ca_is_rejected_and_insecure_accepts(websocat: Websocat, wss_port: int) -> None:
    out = websocat.run(f"wss://localhost:{wss_port}/", input=b"x\n")
    assert out.returncode == 3 and b"unable to get local issuer certificate" in out.stderr, out.stderr
    assert websocat.echo_through(b"x\n", "-k", f"wss://localhost:{wss_port}/") == b"x\n"


def test_tls_overlay_with_ws_connect(websocat: Websocat, pki: dict[str, Path], wss_port: int) -> None:
    args = ("--ws-c-uri", "/", f"ws-c:tls:tcp:127.0.0.1:{wss_port}")
    assert trusting(websocat, pki).echo_through(b"via overlays\n", *args) == b"via overlays\n"


def test_sslkeylog(websocat: Websocat, pki: dict[str, Path], wss_port: int, tmp_path: Path) -> None:
    keylog = tmp_path / "keys.log"
    trusting(websocat, pki)
    websocat.env = dict(websocat.env, SSLKEYLOGFILE=str(keylog))
    assert websocat.echo_through(b"k\n", "--enable-sslkeylog", f"wss://localhost:{wss_port}/") == b"k\n"
    assert b"CLIENT_TRAFFIC_SECRET_0" in keylog.read_bytes() or b"CLIENT_RANDOM" in keylog.read_bytes()
