"""TLS servers (tls-accept:, ssl-l:, wss-l:, -s with --tls-cert) and client certificates (mTLS),
with CAs and certificates made in the test (the pki fixture)."""

from __future__ import annotations

import os
import select
import socket
import ssl
from pathlib import Path

import pytest
from conftest import KEY_PASSPHRASE, Websocat
from websockets.sync.client import connect


def _server(pki: dict[str, Path], *extra: str) -> tuple[str, ...]:
    return ("--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"]), *extra)


def _client_context(pki: dict[str, Path], cert: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    if cert is not None:
        context.load_cert_chain(pki[f"{cert}_cert"], pki[f"{cert}_key"])
    return context


def _one_line(err: bytes) -> bool:
    return err.count(b"\n") == 1 and b"Traceback" not in err


def test_wss_listen_mirror_with_websockets_client(websocat: Websocat, pki: dict[str, Path]) -> None:
    # a chain in the certificate file
    proc, port = websocat.listen(
        "--tls-cert", str(pki["chain"]), "--tls-key", str(pki["key"]), "wss-l:127.0.0.1:0", "mirror:"
    )
    with connect(f"wss://localhost:{port}/", ssl=_client_context(pki)) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        ws.send(b"\x00\x01binary")
        assert ws.recv(timeout=10) == b"\x00\x01binary"
    proc.kill()


@pytest.mark.parametrize("prefix", ["tls-accept:tcp-l:", "ssl-listen:"])
def test_tls_accept_with_key_in_cert_file(
    websocat: Websocat, pki: dict[str, Path], tmp_path: Path, prefix: str
) -> None:
    both = tmp_path / "both.pem"
    both.write_bytes(pki["cert"].read_bytes() + pki["key"].read_bytes())
    proc, port = websocat.listen("-b", "--tls-cert", str(both), prefix + "127.0.0.1:0", "mirror:")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with _client_context(pki).wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"plain bytes over TLS")
            got = b""
            while len(got) < 20:
                got += tls.recv(100)
    assert got == b"plain bytes over TLS"
    proc.kill()


def test_server_mode_serves_wss(websocat: Websocat, pki: dict[str, Path]) -> None:
    proc, port = websocat.listen(*_server(pki), "-s", "0")
    with connect(f"wss://127.0.0.1:{port}/", ssl=_client_context(pki)) as ws:
        ws.send("from the client")
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"from the client\n"
    proc.kill()
    _out, err = websocat.finish(proc)
    assert f"Listening on wss://127.0.0.1:{port}/".encode() in err


def test_encrypted_key_from_environment_and_file(websocat: Websocat, pki: dict[str, Path], tmp_path: Path) -> None:
    websocat.env = dict(websocat.env, KEY_PW=KEY_PASSPHRASE.decode())
    args = ("--tls-cert", str(pki["cert"]), "--tls-key", str(pki["enc_key"]))
    proc, port = websocat.listen(*args, "--tls-key-password-env", "KEY_PW", "wss-l:127.0.0.1:0", "mirror:")
    with connect(f"wss://localhost:{port}/", ssl=_client_context(pki)) as ws:
        ws.send("x")
        assert ws.recv(timeout=10) == "x"
    proc.kill()
    password_file = tmp_path / "pw"
    password_file.write_bytes(KEY_PASSPHRASE + b"\n")
    proc, port = websocat.listen(*args, "--tls-key-password-file", str(password_file), "wss-l:127.0.0.1:0", "mirror:")
    with connect(f"wss://localhost:{port}/", ssl=_client_context(pki)) as ws:
        ws.send("y")
        assert ws.recv(timeout=10) == "y"
    proc.kill()


def test_mtls_accepted_and_subject_shown(websocat: Websocat, pki: dict[str, Path]) -> None:
    server, port = websocat.listen(
        *_server(pki, "--tls-client-ca", str(pki["ca"]), "-v"), "wss-l:127.0.0.1:0", "mirror:"
    )
    client = ("--tls-ca", str(pki["ca"]), "--tls-client-cert", str(pki["client_cert"]))
    got = websocat.echo_through(
        b"mutual\n", *client, "--tls-client-key", str(pki["client_key"]), f"wss://localhost:{port}/"
    )
    assert got == b"mutual\n"
    with connect(f"wss://localhost:{port}/", ssl=_client_context(pki, "client")) as ws:
        ws.send("from websockets")
        assert ws.recv(timeout=10) == "from websockets"
    server.kill()
    _out, err = websocat.finish(server)
    assert err.count(b"client certificate CN=websocat test client") == 2, err


@pytest.mark.parametrize(
    "cert", [None, "other_client", "expired_client"], ids=["no-certificate", "other-ca", "expired"]
)
def test_mtls_refused_one_line_each_side(websocat: Websocat, pki: dict[str, Path], cert: str | None) -> None:
    server, port = websocat.listen(
        *_server(pki, "--tls-client-ca", str(pki["ca"]), "--oneshot"), "wss-l:127.0.0.1:0", "mirror:"
    )
    client = ["--tls-ca", str(pki["ca"])]
    if cert is not None:
        client += ["--tls-client-cert", str(pki[f"{cert}_cert"]), "--tls-client-key", str(pki[f"{cert}_key"])]
    out = websocat.run(*client, f"wss://localhost:{port}/", input=b"x\n")
    assert out.returncode == 3 and _one_line(out.stderr), out.stderr
    assert out.stderr.startswith(b"websocat: tls: localhost: "), out.stderr
    _out, err = websocat.finish(server)
    assert server.returncode == 3 and _one_line(err), err
    assert b"tls-accept: " in err
    want = {
        None: b"peer did not return a certificate",
        "other_client": b"client certificate refused: unable to get local issuer certificate",
        "expired_client": b"client certificate refused: certificate has expired",
    }
    assert want[cert] in err, err


def test_expired_server_certificate_refused(websocat: Websocat, pki: dict[str, Path]) -> None:
    args = ("--tls-cert", str(pki["expired_cert"]), "--tls-key", str(pki["expired_key"]), "--oneshot")
    server, port = websocat.listen(*args, "wss-l:127.0.0.1:0", "mirror:")
    out = websocat.run("--tls-ca", str(pki["ca"]), f"wss://localhost:{port}/", input=b"x\n")
    assert out.returncode == 3 and _one_line(out.stderr), out.stderr
    assert b"certificate has expired" in out.stderr
    _out, err = websocat.finish(server)
    assert server.returncode == 3 and _one_line(err), err


def test_custom_ca_replaces_system_store(websocat: Websocat, pki: dict[str, Path]) -> None:
    server, port = websocat.listen(*_server(pki), "wss-l:127.0.0.1:0", "mirror:")
    assert websocat.echo_through(b"ca\n", "--tls-ca", str(pki["ca"]), f"wss://localhost:{port}/") == b"ca\n"
    out = websocat.run("--tls-ca", str(pki["other_ca"]), f"wss://localhost:{port}/", input=b"x\n")
    assert out.returncode == 3 and b"unable to get local issuer certificate" in out.stderr, out.stderr
    server.kill()


@pytest.mark.parametrize(
    "case",
    [
        "missing-cert",
        "missing-key",
        "not-pem",
        "key-mismatch",
        "encrypted-no-passphrase",
        "wrong-passphrase",
        "unset-env",
    ],
)
def test_bad_files_fail_at_start(websocat: Websocat, pki: dict[str, Path], tmp_path: Path, case: str) -> None:
    cert, key, extra = str(pki["cert"]), str(pki["key"]), []
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    if case == "missing-cert":
        cert, want = (
            str(tmp_path / "nope.pem"),
            b"--tls-cert: " + str(tmp_path / "nope.pem").encode() + b": No such file",
        )
    elif case == "missing-key":
        key, want = str(tmp_path / "nope.pem"), b"--tls-key: "
    elif case == "not-pem":
        cert, want = str(wrong), b"not a PEM certificate and key"
    elif case == "key-mismatch":
        key, want = str(pki["client_key"]), b"the key does not match the certificate"
    elif case == "encrypted-no-passphrase":
        key, want = str(pki["enc_key"]), b"the key is encrypted"
    elif case == "wrong-passphrase":
        key, extra, want = str(pki["enc_key"]), ["--tls-key-password-file", str(wrong)], b"wrong key passphrase"
    else:
        key, extra, want = (
            str(pki["enc_key"]),
            ["--tls-key-password-env", "NO_SUCH_VAR_HERE"],
            b"NO_SUCH_VAR_HERE is not set",
        )
    out = websocat.run("--tls-cert", cert, "--tls-key", key, *extra, "wss-l:127.0.0.1:0", "mirror:", timeout=15)
    assert out.returncode == 3 and _one_line(out.stderr), out.stderr
    assert want in out.stderr, out.stderr


def test_bad_client_certificate_fails_at_start(websocat: Websocat, pki: dict[str, Path], tmp_path: Path) -> None:
    # a right side under a listener: no connection is made, yet the file is read at start
    args = ("--tls-client-cert", str(tmp_path / "none.pem"), "tcp-l:127.0.0.1:0", f"tls:tcp:127.0.0.1:9")
    out = websocat.run(*args, timeout=15)
    assert out.returncode == 3 and _one_line(out.stderr), out.stderr
    assert b"--tls-client-cert: " in out.stderr


def test_tls_accept_needs_a_certificate(websocat: Websocat) -> None:
    out = websocat.run("tls-a:tcp-l:127.0.0.1:0", "mirror:")
    assert out.returncode == 2 and _one_line(out.stderr) and b"needs --tls-cert" in out.stderr, out.stderr


def test_passphrase_never_in_the_script(websocat: Websocat, pki: dict[str, Path]) -> None:
    out = websocat.run("--dump-spec", *_server(pki, "--tls-key-password-env", "KEY_PW"), "wss-l:127.0.0.1:0", "mirror:")
    assert out.returncode == 0 and b'password_env="KEY_PW"' in out.stdout


def test_session_error_line_names_the_client_subject(websocat: Websocat, pki: dict[str, Path]) -> None:
    # the right side cannot connect (nothing listens on port 1): the session's error line names the client
    args = _server(pki, "--tls-client-ca", str(pki["ca"]), "-b")
    server, port = websocat.listen(*args, "tls-accept:tcp-l:127.0.0.1:0", "tcp:127.0.0.1:1")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with _client_context(pki, "client").wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.recv(100) == b""  # the session ends
    assert server.stderr is not None
    ready, _, _ = select.select([server.stderr], [], [], 10)  # the line comes after the connection is closed
    assert ready, "no error line"
    err = os.read(server.stderr.fileno(), 4096)
    assert err.startswith(b"websocat: 127.0.0.1:") and _one_line(err), err
    assert b" (CN=websocat test client): tcp:127.0.0.1:1: " in err, err
    server.kill()
