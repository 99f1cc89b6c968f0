"""The script cache: a command line's compiled scenario, kept so that the next run skips planning.

The planner is pure (argv in, source out), so its output can be cached by argv.  Two
kinds of entry live under ~/.cache/websocat-py/:

* exact: argv -> (lint warnings, compiled code);
* by port: argv with its TCP ports blanked -> the source with port slots.  Servers and
  clients are often started with a fresh port each time; this entry serves them all.
  It is made on a miss by planning twice (the real ports, then each port changed) and
  kept only when the two scripts differ in nothing but those ports' digits, so a port
  can only ever reach the script where the planner itself put it.

Only the standard library's lightest modules are imported here: this runs on every start.
"""

from __future__ import annotations

import marshal
import os
import re
import sys
import zlib
from types import CodeType

from websocat import __version__

# A port: the digits after the last ':' of an address, at the end of the argument or
# before a URL's path or query ('tcp:127.0.0.1:8080', 'ws://h:8080/p').
_PORT = re.compile(r"(?<=:)(\d{1,5})(?=$|[/?#])")
_SLOT = "\x00"  # never in argv (C strings), so it cannot clash with user text


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


def load(key: bytes) -> object:
    """The payload stored under key, or None (missing, damaged, or another key's file)."""
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


def store(key: bytes, payload: object) -> None:
    path = _path(key)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _prune(os.path.dirname(path))
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            marshal.dump((key, payload), f)  # type: ignore[arg-type]  # plain data and code objects
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs start-up time


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
