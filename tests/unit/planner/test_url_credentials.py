"""ws://user:password@host/: sent as HTTP Basic auth, never shown (dumps, phase dumps, errors)."""

from __future__ import annotations

import ast
import base64
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from script_ast import constants, header_is_comments, shape
from websocat.planner.model import SpecError
from websocat.planner.pipeline import dump_phase0, dump_phase1, dump_phase2, dump_spec, script_source
from websocat.planner.values import hide_credentials, parse_ws_url, url_authorization


def basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("url", "raw"),
    [
        ("ws://user:pass@h/", b"user:pass"),
        ("ws://user@h/", b"user:"),  # as v1: a user alone is 'user:'
        ("wss://:token@h:8443/p", b":token"),
        ("ws://us%40er:p%3As%2Fs%25@h/", b"us@er:p:s/s%"),  # percent-decoded
        ("ws://u:a:b@h/", b"u:a:b"),  # the first ':' splits
        ("ws://u:p@ss@h/", b"u:p@ss"),  # the last '@' ends the userinfo, as urlsplit
        ("ws://u:%C3%A9\u00e9@h/", "u:\u00e9\u00e9".encode()),  # UTF-8
    ],
)
def test_userinfo_becomes_basic_auth(url: str, raw: bytes) -> None:
    assert url_authorization(url) == basic(raw)


@pytest.mark.parametrize("url", ["ws://h/", "ws://@h/", "ws://h/p@q", "wss://h:1/?a=b@c"])
def test_no_userinfo_no_header(url: str) -> None:
    assert url_authorization(url) is None


@pytest.mark.parametrize(
    ("arg", "shown"),
    [
        ("ws://user:pass@h:1/x", "ws://user:***@h:1/x"),
        ("ws://token@h/", "ws://***@h/"),
        ("lines:wss://u:p@h/", "lines:wss://u:***@h/"),
        ("--ws-c-uri=ws://u:p@h/", "--ws-c-uri=ws://u:***@h/"),
        ("ws://u:pa/ss@h/x", "ws://***@h/x"),  # unparseable: hidden up to the last '@'
        ("ws://h/@me", "ws://h/@me"),
        ("ws://h:1/p?q=a@b", "ws://h:1/p?q=a@b"),
        ("tcp:127.0.0.1:1", "tcp:127.0.0.1:1"),
    ],
)
def test_hide_credentials(arg: str, shown: str) -> None:
    assert hide_credentials(arg) == shown
    assert hide_credentials(shown) == shown


def test_dumped_script_has_the_header_hidden_and_the_credential_as_a_literal() -> None:
    text = dump_spec(["-t", "ws://alice:s3cr%27%22et@127.0.0.1:1234/x"])
    lines = text.splitlines()
    assert lines[0] == "# websocat -t 'ws://alice:***@127.0.0.1:1234/x'"
    assert "s3cr" not in text
    assert repr(("Authorization", basic(b"alice:s3cr'\"et"))).replace("'", '"') in text
    compile(text, "dump", "exec")


def test_explicit_authorization_header_wins_over_the_url() -> None:
    text = dump_spec(["-H", "authorization: Bearer T", "ws://alice:pw@127.0.0.1:1234/"])
    assert '("authorization", "Bearer T")' in text and "Basic" not in text


def test_phase_dumps_hide_the_password() -> None:
    argv = ["ws://alice:pw123@127.0.0.1:1234/", "--ws-c-uri", "ws://bob:pw456@h/"]
    for dump in (dump_phase0, dump_phase1, dump_phase2):
        text = dump(argv)
        assert "pw123" not in text and "pw456" not in text, dump.__name__
        assert basic(b"alice:pw123") not in text


@pytest.mark.parametrize("url", ["ws://u:pw123@127.0.0.1:1:2/", "ws://u:pw/123@127.0.0.1:1/", "ws://u:pw123@/"])
def test_url_errors_hide_the_password(url: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_ws_url(url)
    assert "pw" not in str(info.value) and "123" not in str(info.value)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=20), st.binary(min_size=1, max_size=20))
def test_any_credential_reaches_the_script_as_a_constant_and_only_there(user: bytes, password: bytes) -> None:
    url = f"ws://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:1234/"
    source, _ = script_source([url])
    assert header_is_comments(source)
    assert shape(source) == shape(script_source(["ws://u:p@127.0.0.1:1234/"])[0])
    assert basic(user + b":" + password) in constants(source)
    comments = [line for line in source.splitlines() if line.lstrip().startswith("#")]
    assert not any(f":{quote(password, safe='')}@" in line for line in comments)


# -- --ws-c-uri: a full URL gives the target, Host and Basic auth, as websocat4 splits it


@pytest.mark.parametrize(
    ("uri", "target", "host", "authorization"),
    [
        ("/chat", "/chat", None, None),
        ("/chat?x=1", "/chat?x=1", None, None),
        ("ws://example.com:81/x?y=1", "/x?y=1", "example.com:81", None),
        ("ws://h", "/", "h", None),
        ("ws://u:p@h/z", "/z", "h", "Basic " + base64.b64encode(b"u:p").decode()),
    ],
)
def test_ws_c_uri_is_split_like_websocat4(uri: str, target: str, host: str | None, authorization: str | None) -> None:
    from websocat.planner.values import request_target

    assert request_target(uri) == (target, host, authorization)


def test_ws_c_uri_with_credentials_authenticates_and_hides_them() -> None:
    argv = ["--ws-c-uri", "ws://user:secret@example.com/x", "ws-c:tcp:127.0.0.1:1"]
    source = dump_spec(argv)
    assert 'uri="/x"' in source and 'host="example.com"' in source
    assert ("Authorization", "Basic " + base64.b64encode(b"user:secret").decode()) in _header_pairs(source)
    assert "secret" not in source and "secret" not in dump_phase2(argv)


def _header_pairs(source: str) -> list[tuple[str, str]]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "headers":
            return [tuple(elt.value for elt in item.elts) for item in node.value.elts]  # type: ignore[attr-defined]
    return []
