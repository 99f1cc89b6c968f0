"""The script cache: a command line's compiled scenario, kept so that the next run skips planning.

The planner is pure (argv in, source out), so its output can be cached by argv.  Two
kinds of entry live under ~/.cache/websocat-py/:

* exact: argv -> (lint warnings, compiled code);
* by port: argv with its TCP ports blanked -> the source with port slots.  Servers and
  clients are often started with a fresh port each time; this entry serves them all.
  It is made on a miss by planning twice (the real ports, then each port changed) and
  kept only when the two scripts differ in nothing but those ports' digits, so a port
  can only ever reach the script where the planner itself put it.

Secrets stay out: a command line that carries a credential (see `carries_credential`)
is never cached, and the cache can be turned off with WEBSOCAT_NO_CACHE=1.  What is
cached is private: the folder is 0700 and each file 0600, written to a temporary file
and renamed into place; a folder that someone else owns or can write is not used.

Only the standard library's lightest modules are imported here: this runs on every start.
"""

from __future__ import annotations

import marshal
import os
import re
import stat
import sys
import zlib
from types import CodeType

from websocat import __version__

# A port: the digits after the last ':' of an address, at the end of the argument or
# before a URL's path or query ('tcp:127.0.0.1:8080', 'ws://h:8080/p').
_PORT = re.compile(r"(?<=:)(\d{1,5})(?=$|[/?#])")
_SLOT = "\x00"  # never in argv (C strings), so it cannot clash with user text


# What makes a command line secret, so that it is never cached.  Extend these lists when
# an option that carries a credential is implemented.
#
# Headers whose value is a credential.  Any argument that holds "Name:" for one of them
# counts, whichever option gives it (-H, --header=..., -HName:..., --server-header, ...);
# a harmless match elsewhere (literal:Cookie: x) only costs the start-up time of planning.
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
# Options whose value is a credential (websocat v1's names; --socks5-user-pass is
# implemented, the others are refused today and kept out of the cache when they come):
# Basic auth, proxy credentials, TLS key passphrases.  --proxy's user:password is URL
# userinfo, found below.
CREDENTIAL_OPTIONS = (
    "--basic-auth",
    "--socks5-user-pass",
    "--pkcs12-passwd",
    "--client-pkcs12-passwd",
)
_CREDENTIAL_HEADER = re.compile("(?:" + "|".join(map(re.escape, CREDENTIAL_HEADERS)) + r")\s*:", re.IGNORECASE)
# URL userinfo: 'ws://user:pass@host/', '--ws-c-uri=wss://token@h/' (an '@' before the path).
_URL_USERINFO = re.compile(r"://[^/?#]*@")


def carries_credential(argv: list[str]) -> bool:
    """True when a word of argv holds a credential: a credential header, URL userinfo, a secret option."""
    for arg in argv:
        if _CREDENTIAL_HEADER.search(arg) or _URL_USERINFO.search(arg):
            return True
        if arg.split("=", 1)[0] in CREDENTIAL_OPTIONS:
            return True
    return False


def usable_for(argv: list[str]) -> bool:
    """Whether this command line may be served from and stored in the cache."""
    return not os.environ.get("WEBSOCAT_NO_CACHE") and not carries_credential(argv)


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "websocat-py")


def stamp() -> bytes:
    """Changes whenever Python or the installed planner and templates change."""
    import websocat.planner as planner_pkg
    import websocat.templates as templates_pkg

    parts = [__version__, sys.version]
    for pkg in (planner_pkg, templates_pkg):
        folder = os.path.dirname(pkg.__file__ or "")
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.is_file():
                st = entry.stat()
                parts.append(f"{entry.name}:{st.st_mtime_ns}:{st.st_size}")
    return "\n".join(parts).encode()


def exact_key(stamp_: bytes, argv: list[str]) -> bytes:
    return b"exact\0" + stamp_ + b"".join(b"\0" + os.fsencode(a) for a in argv)


def port_skeleton(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """argv with each port blanked, and the ports in order; None when argv has no port."""
    ports: list[str] = []

    def blank(match: re.Match[str]) -> str:
        ports.append(match.group(1))
        return _SLOT

    skeleton = []
    for arg in argv:
        skeleton.append(_PORT.sub(blank, arg) if not arg.startswith("-") else arg)
    return (skeleton, ports) if ports else None


def port_key(stamp_: bytes, skeleton: list[str]) -> bytes:
    return b"ports\0" + stamp_ + b"".join(b"\0" + os.fsencode(a) for a in skeleton)


def valid_ports(ports: list[str]) -> bool:
    """Ports a template may take: what the planner accepts, written as it would print them."""
    return all(int(p) <= 65535 and (p == "0" or not p.startswith("0")) for p in ports)


def _path(key: bytes) -> str:
    return os.path.join(cache_dir(), f"{zlib.crc32(key):08x}-{zlib.adler32(key):08x}.marshal")


def _private(folder: str) -> bool:
    """True when folder is a real directory of ours that no one else can read or write."""
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    owner_ok = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return stat.S_ISDIR(st.st_mode) and owner_ok and not st.st_mode & 0o077


def load(key: bytes) -> object:
    """The payload stored under key, or None (missing, damaged, another key's file, unsafe folder)."""
    if not _private(cache_dir()):
        return None  # code from a folder that others can write is not run
    try:
        with open(_path(key), "rb") as f:
            stored_key, payload = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return payload if stored_key == key else None


MAX_ENTRIES = 1000  # past this, the older half is removed on the next store (a miss)


def _prune(folder: str) -> None:
    entries = [e for e in os.scandir(folder) if e.name.endswith(".marshal")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for entry in entries[: len(entries) // 2]:
        try:
            os.unlink(entry.path)
        except OSError:
            pass


def _make_private(folder: str) -> bool:
    """Create folder 0700 (or tighten ours to 0700); False when it cannot be made private."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.lstat(folder)
        if stat.S_ISDIR(st.st_mode) and st.st_mode & 0o077 and (not hasattr(os, "getuid") or st.st_uid == os.getuid()):
            os.chmod(folder, 0o700)  # made by an older version, or under a wide umask
    except OSError:
        return False
    return _private(folder)


def store(key: bytes, payload: object) -> None:
    """Write the entry 0600, atomically: a temporary file renamed into place."""
    path = _path(key)
    folder = os.path.dirname(path)
    if not _make_private(folder):
        return  # a read-only home only costs start-up time
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        _prune(folder)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            marshal.dump((key, payload), f)  # type: ignore[arg-type]  # plain data and code objects
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


Template = list[str | int]  # text, and port slots by index


def fill(template: Template, ports: list[str]) -> str:
    return "".join(part if isinstance(part, str) else ports[part] for part in template)


Cached = tuple[tuple[str, ...], CodeType]


def compiled_from_template(payload: object, ports: list[str]) -> Cached:
    source_template: Template
    warning_templates: list[Template]
    source_template, warning_templates = payload  # type: ignore[misc]
    warnings = tuple(fill(w, ports) for w in warning_templates)
    return warnings, compile(fill(source_template, ports), "<websocat>", "exec")


def make_template(text_a: str, text_b: str, ports_a: list[str], ports_b: list[str]) -> Template | None:
    """text_a with port slots, if text_a and text_b differ exactly in those ports' digits."""
    digits = re.compile(r"(\d+)")
    parts_a, parts_b = digits.split(text_a), digits.split(text_b)
    if len(parts_a) != len(parts_b):
        return None
    pairs = {(a, b): i for i, (a, b) in enumerate(zip(ports_a, ports_b))}
    if len(pairs) != len(ports_a):
        return None  # the same port twice: which slot a digit run is would be ambiguous
    template: Template = []
    for index, (a, b) in enumerate(zip(parts_a, parts_b)):
        if a == b:
            template.append(a)
        elif index % 2 == 1 and (a, b) in pairs:
            template.append(pairs[(a, b)])
        else:
            return None
    return template


def perturbed(ports: list[str]) -> list[str]:
    """Each port changed in its last digit, staying a valid port of the same length."""
    out = []
    for port in ports:
        last = int(port[-1])
        out.append(port[:-1] + str(last - 1 if last > 0 else last + 1))
    return out


def with_ports(skeleton: list[str], ports: list[str]) -> list[str]:
    it = iter(ports)
    return [re.sub(_SLOT, lambda _m: next(it), arg) for arg in skeleton]
