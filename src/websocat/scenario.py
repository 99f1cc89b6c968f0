"""Running a compiled scenario, from the cache, the planner or a file (-x); the one-line failure.

Shared by main.py (the cache-hit path, kept light: no asyncio, argparse or planner here)
and cli.py (the cache-miss path).
"""

from __future__ import annotations

import os
import sys
from types import CodeType

from websocat.runtime.errors import EXIT_FAILURE, EXIT_USAGE

__all__ = ["execute", "fail", "run_script_file"]


def fail(message: str, status: int = EXIT_USAGE) -> int:
    """Print 'websocat: message' on stderr; return ``status`` for the command to exit with."""
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
        return fail(f"-x {path}: {exc.strerror}")
    except SyntaxError as exc:
        return fail(f"-x {path}:{exc.lineno}: {exc.msg}")
    from websocat.checks import check_script  # only for -x: libcst is slow to import

    problems = check_script(source.decode("utf-8", "replace"))
    for problem in problems:
        fail(f"-x {path}:{problem.line}: {problem.message}")
    if problems:
        return EXIT_USAGE
    sys.argv = [path]
    try:
        return execute(code, path)
    except Exception as exc:  # noqa: BLE001 - raised before run(): at import or top level
        from websocat.runtime.running import DEBUG_ENV, located

        if os.environ.get(DEBUG_ENV):
            import traceback

            traceback.print_exception(exc)
        return fail(located(exc, path), EXIT_FAILURE)
