"""The `websocat` command: plan, render and run a scenario; or dump it; or run a script file.

Start-up matters (a one-shot tool is started often), so the common path is kept lean:
the planner is pure (argv in, source out), so the compiled script of a command line
is cached (see cache.py); a cache hit runs the script without importing argparse,
jinja2 or the planner at all.
"""

from __future__ import annotations

import sys

from websocat.scenario import execute


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
