"""The script cache: exact entries, and templates that serve the same command with other ports."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from websocat import cache
from websocat.planner.pipeline import script_source


def test_port_skeleton_finds_ports_only() -> None:
    skeleton, ports = cache.port_skeleton(["-B", "4096", "ws-l:127.0.0.1:8080", "ws://h:99/p?x=1"]) or ([], [])
    assert ports == ["8080", "99"]
    assert skeleton[:2] == ["-B", "4096"] and skeleton[2] == "ws-l:127.0.0.1:\0"
    assert cache.port_skeleton(["literal:x", "-"]) is None


def test_template_reproduces_the_planner_for_other_ports() -> None:
    argv = ["-b", "tcp-l:127.0.0.1:1234", "ws://127.0.0.1:5678/x"]
    skeleton, ports = cache.port_skeleton(argv) or ([], [])
    other = cache.perturbed(ports)
    source_a, _ = script_source(argv)
    source_b, _ = script_source(cache.with_ports(skeleton, other))
    template = cache.make_template(source_a, source_b, ports, other)
    assert template is not None
    for new_ports in (["1", "65535"], ["40000", "40001"]):
        want, _ = script_source(cache.with_ports(skeleton, new_ports))
        assert cache.fill(template, new_ports) == want


def test_no_template_when_texts_differ_elsewhere() -> None:
    assert cache.make_template("a 12 b", "a 11 c", ["12"], ["11"]) is None
    assert cache.make_template("x=5 y=5", "x=4 y=4", ["5", "5"], ["4", "4"]) is None  # ambiguous


def test_valid_ports() -> None:
    assert cache.valid_ports(["0", "65535"])
    assert not cache.valid_ports(["65536"]) and not cache.valid_ports(["080"])


def test_cli_uses_the_cache_and_the_port_template(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    env.pop("WEBSOCAT_NO_CACHE", None)

    def run(*argv: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "websocat", *argv],
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
        )

    assert run("literal:hello").stdout == b"hello"
    assert run("literal:hello").stdout == b"hello"  # from the cache
    first = run("--global-timeout-ms", "1", "tcp-l:127.0.0.1:0", "devnull:")
    files = set(os.listdir(tmp_path / "websocat-py"))
    # A refused connection on another port is reported with that port: the template filled it.
    out = run("tcp:127.0.0.1:9", "devnull:")
    assert out.returncode == 3 and b"127.0.0.1:9" in out.stderr
    out = run("tcp:127.0.0.1:7", "devnull:")
    assert out.returncode == 3 and b"127.0.0.1:7:" in out.stderr
    assert first.returncode == 0  # --global-timeout-ms ends a run normally, as websocat4
    assert len(os.listdir(tmp_path / "websocat-py")) > len(files)


def imported_modules(argv: list[str], env: dict[str, str]) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "websocat", *argv],
        env=env,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return {line.rsplit("|", 1)[-1].strip() for line in out.stderr.decode().splitlines() if "|" in line}


def test_running_never_imports_black_or_libcst_and_a_cache_hit_not_even_the_planner(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    env.pop("WEBSOCAT_NO_CACHE", None)
    miss = imported_modules(["literal:x"], env)
    assert "jinja2" in miss and "black" not in miss and "libcst" not in miss
    hit = imported_modules(["literal:x"], env)
    assert not {"black", "libcst", "jinja2", "argparse", "websocat.planner.specs"} & hit


def test_cache_is_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(cache, "MAX_ENTRIES", 10)
    for i in range(25):
        cache.store(b"key%d" % i, i)
    assert len(os.listdir(tmp_path / "websocat-py")) <= 11
    assert cache.load(b"key24") == 24


# ---------------------------------------------------------------- no secrets in the cache


def _cli(tmp_path: Path, *argv: str, **extra_env: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "WEBSOCAT_NO_CACHE"}
    env.update(XDG_CACHE_HOME=str(tmp_path), **extra_env)
    return subprocess.run(
        [sys.executable, "-m", "websocat", *argv], env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=30
    )


def _cached_bytes(tmp_path: Path) -> bytes:
    folder = tmp_path / "websocat-py"
    return b"".join(p.read_bytes() for p in folder.iterdir()) if folder.exists() else b""


def test_cache_folder_is_0700_and_its_files_0600(tmp_path: Path) -> None:
    assert _cli(tmp_path, "literal:x", "tcp:127.0.0.1:9").returncode == 3
    folder = tmp_path / "websocat-py"
    assert folder.stat().st_mode & 0o777 == 0o700
    files = list(folder.iterdir())
    assert len(files) == 2  # the exact entry and the port template
    assert all(p.stat().st_mode & 0o777 == 0o600 and p.suffix == ".marshal" for p in files)


def test_a_folder_made_by_an_older_version_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "websocat-py"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert _cli(tmp_path, "literal:x").stdout == b"x"
    assert folder.stat().st_mode & 0o777 == 0o700 and len(list(folder.iterdir())) == 1


def test_entries_in_a_folder_others_can_write_are_not_run(tmp_path: Path) -> None:
    assert _cli(tmp_path, "literal:hello").stdout == b"hello"
    (entry,) = (tmp_path / "websocat-py").iterdir()
    # Plant another script under this key: it runs only while the folder is private.
    argv = ["literal:hello"]
    key = cache.exact_key(cache.stamp(), argv)
    code = compile("import sys; sys.stdout.write('planted')", "<websocat>", "exec")
    entry.write_bytes(marshal.dumps((key, ([], code))))
    assert _cli(tmp_path, *argv).stdout == b"planted"  # the test itself wrote it: private folder
    (tmp_path / "websocat-py").chmod(0o777)
    out = _cli(tmp_path, *argv)
    assert out.stdout == b"hello" and out.returncode == 0


def test_store_writes_atomically_leaving_no_temporary_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache.store(b"k", "v1")
    cache.store(b"k", "v2")
    assert cache.load(b"k") == "v2"
    assert [p.suffix for p in (tmp_path / "websocat-py").iterdir()] == [".marshal"]


def test_store_does_not_follow_a_planted_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    victim = tmp_path / "victim"
    victim.mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "websocat-py").symlink_to(victim)
    cache.store(b"k", "v")
    assert list(victim.iterdir()) == [] and cache.load(b"k") is None


@pytest.mark.parametrize(
    "argv",
    [
        ["-H", "Authorization: Bearer TOKEN", "ws://127.0.0.1:9/"],
        ["--header=authorization:Bearer TOKEN", "ws://127.0.0.1:9/"],
        ["-HCookie: session=TOKEN", "ws://127.0.0.1:9/"],
        ["--header", "Proxy-Authorization: Basic TOKEN", "ws://127.0.0.1:9/"],
        ["--server-header", "Set-Cookie: TOKEN", "tcp:127.0.0.1:9", "ws-u:mirror:"],
        ["ws://user:TOKEN@127.0.0.1:9/"],
        ["-t", "ws://TOKEN@127.0.0.1:9/path"],
        ["--ws-c-uri=ws://u:TOKEN@h/", "ws-c:tcp:127.0.0.1:9"],
        ["--proxy", "http://u:TOKEN@127.0.0.1:9", "ws://127.0.0.1:9/"],
        ["--socks5", "127.0.0.1:9", "--socks5-user-pass", "u:TOKEN", "ws://127.0.0.1:9/"],
    ],
    ids=[
        "-H",
        "--header=",
        "-HCookie",
        "proxy-auth",
        "server-header",
        "userinfo",
        "user-only",
        "ws-c-uri",
        "--proxy",
        "--socks5-user-pass",
    ],
)
def test_a_command_with_a_credential_is_never_cached(tmp_path: Path, argv: list[str]) -> None:
    assert cache.carries_credential(argv)
    out = _cli(tmp_path, *argv)
    assert out.returncode == 3, out.stderr  # it ran (the connection is refused)
    assert b"TOKEN" not in _cached_bytes(tmp_path)
    assert not (tmp_path / "websocat-py").exists()


@pytest.mark.parametrize("option", cache.CREDENTIAL_OPTIONS)
def test_options_that_carry_credentials_count(option: str) -> None:
    assert cache.carries_credential([option, "u:p", "ws://h/"])
    assert cache.carries_credential([f"{option}=u:p", "ws://h/"])


def test_ordinary_commands_carry_no_credential() -> None:
    assert not cache.carries_credential(["-H", "X-Token-Name: a", "ws://127.0.0.1:1/p@q", "-s", "1234"])
    assert not cache.carries_credential(["ws://host/path?u=a@b", "literal:hello"])


def test_websocat_no_cache_turns_the_cache_off(tmp_path: Path) -> None:
    out = _cli(tmp_path, "literal:hello", WEBSOCAT_NO_CACHE="1")
    assert out.stdout == b"hello" and not (tmp_path / "websocat-py").exists()
