"""wss:// and tls: against a real TLS server on 127.0.0.1, with a CA made in the test."""

from __future__ import annotations

from pathlib import Path

from conftest import Websocat


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
