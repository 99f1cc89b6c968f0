"""The `websocat` command: plan, render and run a scenario; or dump it; or run a script file.

Start-up matters (a one-shot tool is started often), so the common path is kept lean:
the planner is pure (argv in, source out), so the compiled script of a command line
is cached (marshal, keyed by argv, Python and planner version); a cache hit runs the
script without importing argparse, jinja2 or the planner at all.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from types import CodeType

from websocat import __version__

EXIT_USAGE = 2
_HERE = os.path.dirname(os.path.abspath(__file__))
_PLANNER_PARTS = ("planner", "templates")


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "websocat-py")


def _planner_stamp() -> str:
    """Changes whenever the installed planner or templates change (mtimes and sizes)."""
    import websocat.planner as planner_pkg  # noqa: PLC0415 - light: an empty __init__

    parts = [__version__, sys.version]
    folders = [os.path.dirname(planner_pkg.__file__)]
    import websocat.templates as templates_pkg  # noqa: PLC0415

    folders.append(os.path.dirname(templates_pkg.__file__))
    for folder in folders:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.is_file():
                st = entry.stat()
                parts.append(f"{entry.name}:{st.st_mtime_ns}:{st.st_size}")
    return "\n".join(parts)


def _cache_path(argv: list[str]) -> str:
    key = hashlib.sha256()
    key.update(_planner_stamp().encode())
    for arg in argv:
        key.update(b"\0" + os.fsencode(arg))
    return os.path.join(_cache_dir(), key.hexdigest() + ".marshal")


def _load_cached(path: str) -> tuple[tuple[str, ...], CodeType] | None:
    try:
        with open(path, "rb") as f:
            warnings, code = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return tuple(warnings), code


def _store_cached(path: str, warnings: tuple[str, ...], code: CodeType) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            marshal.dump((list(warnings), code), f)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs start-up time


def _fail(message: str, status: int = EXIT_USAGE) -> int:
    sys.stderr.write(f"websocat: {message}\n")
    return status


def execute(code: CodeType, filename: str) -> int:
    """Run a compiled scenario as __main__; its run(main) call exits with the status."""
    namespace = {"__name__": "__main__", "__file__": filename, "__builtins__": __builtins__}
    try:
        exec(code, namespace)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return 0


def run_script_file(path: str) -> int:
    """-x: run a scenario file (as dumped, or edited)."""
    try:
        with open(path, "rb") as f:
            source = f.read()
        code = compile(source, path, "exec")
    except OSError as exc:
        return _fail(f"-x {path}: {exc.strerror}")
    except SyntaxError as exc:
        return _fail(f"-x {path}:{exc.lineno}: {exc.msg}")
    sys.argv = [path]
    return execute(code, path)


def _is_plain_run(argv: list[str]) -> bool:
    """True when argv asks to run a scenario (not help, a dump or -x)."""
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("--dump") or arg in ("-h", "--help", "-V", "--version", "--accept-from-fd"):
            return False
        if arg == "--scenario" or (arg.startswith("-") and not arg.startswith("--") and "x" in arg[1:]):
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `websocat` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    cache = _cache_path(argv) if _is_plain_run(argv) and not os.environ.get("WEBSOCAT_NO_CACHE") else None
    if cache is not None:
        hit = _load_cached(cache)
        if hit is not None:
            warnings, code = hit
            for warning in warnings:
                sys.stderr.write(f"websocat: warning: {warning}\n")
            return execute(code, "<websocat>")
    from websocat.cli import plan_and_run  # noqa: PLC0415 - only on a cache miss

    return plan_and_run(argv, cache, _store_cached)


if __name__ == "__main__":
    raise SystemExit(main())
