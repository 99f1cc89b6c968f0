"""TLS planning: wss-l: and -s with --tls-cert expand to tls-accept:, certificate options
bind to the setup step in main(), the lints on TLS options, and what never reaches a script."""

from __future__ import annotations

import pytest

from websocat.planner.model import SpecError
from websocat.planner.pipeline import plan, script_source
from websocat.planner.specs.tcp import TcpListen
from websocat.planner.specs.tls import TlsAccept, TlsClient
from websocat.planner.specs.ws import WsAccept

SERVER = ["--tls-cert", "s.pem", "--tls-key", "s.key"]


def test_wss_listen_is_ws_accept_over_tls_accept_over_tcp_listen() -> None:
    got = plan([*SERVER, "wss-l:127.0.0.1:8443", "mirror:"])
    assert got.left.endpoint == TcpListen("127.0.0.1", 8443)
    assert got.left.overlays == (WsAccept(), TlsAccept(cert="s.pem", key="s.key"))


def test_server_mode_with_certificate_serves_wss() -> None:
    got = plan([*SERVER, "-s", "8443"])
    assert [type(layer) for layer in got.left.overlays] == [WsAccept, TlsAccept]
    assert got.serving.ready_message == "Listening on wss://{}/"
    assert plan(["-s", "8443"]).serving.ready_message == "Listening on ws://{}/"


def test_files_are_read_in_main_and_the_context_passed_to_sessions() -> None:
    source, _warnings = script_source([*SERVER, "--tls-client-ca", "ca.pem", "wss-l:127.0.0.1:1", "mirror:"])
    assert "tls_context1 = tls.server_context('s.pem', 's.key', client_ca='ca.pem')" in source
    assert "lambda conn1: session(conn1, tls_context1)" in source
    assert "tls.accept(conn1, tls_context1)" in source


def test_client_context_only_with_files() -> None:
    plain, _ = script_source(["-k", "wss://localhost:1/"])
    assert "client_context" not in plain and "insecure=True" in plain
    source, _ = script_source(["-k", "--tls-ca", "ca.pem", "--tls-client-cert", "c.pem", "wss://localhost:1/"])
    assert "tls.client_context(insecure=True, ca='ca.pem', cert='c.pem')" in source
    assert "tls.connect(tcp1, tls_context1, domain='localhost')" in source


def test_passphrase_options_name_where_it_is_not_what_it_is() -> None:
    source, _ = script_source([*SERVER, "--tls-key-password-env", "PW", "tls-a:tcp-l:127.0.0.1:1", "mirror:"])
    assert "password_env='PW'" in source
    got = plan(["--tls-client-cert", "c.pem", "--tls-key-password-file", "/run/pw", "tls:tcp:127.0.0.1:1"])
    assert got.left.overlays[0] == TlsClient(domain="127.0.0.1", cert="c.pem", password_file="/run/pw")


def test_tls_accept_without_certificate_is_refused() -> None:
    with pytest.raises(SpecError, match="tls-accept: needs --tls-cert"):
        script_source(["tls-accept:tcp-l:127.0.0.1:1", "mirror:"])


def test_tls_options_without_their_layer_warn() -> None:
    got = plan(["--tls-cert", "s.pem", "--tls-client-ca", "ca.pem", "ws://localhost:1/"])
    assert got.warnings == (
        "--tls-cert/--tls-client-ca given but the plan has no TLS server (tls-accept:, ssl-l:, wss-l:, -s with --tls-cert);"
        " they have no effect",
    )
    assert plan(["--tls-ca", "ca.pem", "wss-l:127.0.0.1:1", "mirror:", *SERVER]).warnings == (
        "--tls-ca given but the plan has no TLS client (tls:, wss://); they have no effect",
    )
    assert plan(["--tls-client-key", "k.pem", "wss://localhost:1/"]).warnings == (
        "--tls-client-key has no effect without --tls-client-cert",
    )
    assert plan([*SERVER, "--tls-ca", "ca.pem", "wss-l:127.0.0.1:1", "wss://localhost:2/"]).warnings == ()


def test_context_in_a_shared_stack_is_made_once_and_handed_to_its_coroutine() -> None:
    source, _warnings = script_source(["--tls-ca", "ca.pem", "-u", "ws-l:127.0.0.1:1", "reuse-raw:wss://localhost:1/"])
    assert source.count("tls.client_context(") == 1
    assert "async def upstream2(slot: reuse.Slot, addrs2: tcp.Addrs, tls_context2: tls.Context) -> None:" in source
    assert "tls.connect(tcp2, tls_context2, " in source
    assert "reuse.listener(upstream2, addrs2, tls_context2)" in source


def test_ssl_listen_is_tls_accept_over_tcp_listen() -> None:
    got = plan([*SERVER, "-b", "tls-listen:127.0.0.1:1234", "mirror:"])
    assert got.left.endpoint == TcpListen("127.0.0.1", 1234)
    assert got.left.overlays == (TlsAccept(cert="s.pem", key="s.key"),)
    with pytest.raises(SpecError, match="needs the planner's fixups"):
        plan([*SERVER, "--no-fixups", "ssl-l:127.0.0.1:1234", "mirror:"])
