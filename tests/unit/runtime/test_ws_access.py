"""ws_access: the users file of --server-basic-auth-file and the credentials check."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

import pytest

from websocat.runtime.errors import ConnectError, UsageError
from websocat.runtime.overlays.ws_access import Users, read_users


def basic(user_pass: bytes) -> str:
    return "Basic " + base64.b64encode(user_pass).decode()


def hashed(password: bytes, salt: str = "NaCl", iterations: int = 10) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password, salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def users(tmp_path: Path, text: str) -> Users:
    path = tmp_path / "users.txt"
    path.write_text(text)
    return read_users(str(path))


def check(table: Users, header: str | None) -> str | None:
    return asyncio.run(table.check(header))


def test_plain_and_hashed_lines(tmp_path: Path) -> None:
    table = users(tmp_path, f"# admins\n\nalice:pass:with:colons\nbob:{hashed(b'hunter2')}\n")
    assert check(table, basic(b"alice:pass:with:colons")) is None
    assert check(table, basic(b"bob:hunter2")) is None
    assert check(table, basic(b"bob:hunter2")) is None  # remembered: no second hash
    assert check(table, basic(b"alice:pass")) == "wrong password for user 'alice'"
    assert check(table, basic(b"bob:hunter3")) == "wrong password for user 'bob'"
    assert check(table, basic(b"carol:x")) == "unknown user 'carol'"
    assert check(table, None) == "no credentials"
    assert check(table, "Bearer abc") == "Bearer credentials, not Basic"
    assert check(table, "Basic !!!") == "malformed Basic credentials"
    assert check(table, basic(b"no-colon")) == "malformed Basic credentials"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("nocolon\n", "line 1: expected user:password"),
        (":password\n", "line 1: expected user:password"),
        ("a:b\nbob:pbkdf2_sha256$10$salt\n", "line 2: expected pbkdf2_sha256$ITERATIONS$SALT$HASH"),
        ("bob:pbkdf2_sha256$0$salt$YQ==\n", "line 1: expected pbkdf2_sha256"),
        ("bob:pbkdf2_sha256$10$salt$not base64\n", "line 1: expected pbkdf2_sha256"),
        ("# nobody\n", "no user:password line"),
    ],
)
def test_malformed_files_are_usage_errors(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(UsageError) as info:
        users(tmp_path, text)
    assert error in info.value.message and "secret" not in info.value.message


def test_a_missing_file_is_a_connect_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectError) as info:
        read_users(str(tmp_path / "none.txt"))
    assert info.value.message.endswith("none.txt: No such file or directory")
