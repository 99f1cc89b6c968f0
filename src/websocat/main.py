"""The `websocat` command: plan, render and run a scenario; or dump it; or run a script file.

Start-up matters (a one-shot tool is started often), so the common path is kept lean:
the planner is pure (argv in, source out), so the compiled script of a command line
is cached (see cache.py); a cache hit runs the script without importing argparse,
jinja2 or the planner at all.
"""

from __future__ import annotations

import os
import sys
from types import CodeType

from websocat import __version__

EXIT_FAILURE = 1
EXIT_USAGE = 2


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
    try:
        return execute(code, path)
    except Exception as exc:  # noqa: BLE001 - raised before run(): at import or top level
        from websocat.runtime.running import DEBUG_ENV, located

        if os.environ.get(DEBUG_ENV):
            import traceback

            traceback.print_exception(exc)
        return _fail(located(exc, path), EXIT_FAILURE)


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
    from websocat import cache

    if not _is_plain_run(argv) or not cache.usable_for(argv):  # WEBSOCAT_NO_CACHE, credentials
        from websocat.cli import plan_and_run  # noqa: PLC0415 - only when not cached

        return plan_and_run(argv, None)

    stamp = cache.stamp()
    hit: cache.Cached | None = cache.load(cache.exact_key(stamp, argv))  # type: ignore[assignment]
    skeleton = cache.port_skeleton(argv)
    if hit is None and skeleton is not None and cache.valid_ports(skeleton[1]):
        template = cache.load(cache.port_key(stamp, skeleton[0]))
        if template is not None:
            hit = cache.compiled_from_template(template, skeleton[1])
    if hit is not None:
        warnings, code = hit
        for warning in warnings:
            sys.stderr.write(f"websocat: warning: {warning}\n")
        return execute(code, "<websocat>")
    from websocat.cli import plan_and_run  # noqa: PLC0415 - only on a cache miss

    return plan_and_run(argv, stamp)


if __name__ == "__main__":
    raise SystemExit(main())
