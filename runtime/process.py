"""run(): start a scenario's main(), apply process-wide options, turn failures into exit codes."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections.abc import Awaitable, Callable

from websocat.runtime import copying
from websocat.runtime.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_TIMEOUT,
    WebsocatError,
    os_error_text,
)

DEBUG_ENV = "WEBSOCAT_DEBUG"  # set to 1 for a traceback with every error


def report(message: str) -> None:
    """One line on stderr, prefixed like every websocat message."""
    sys.stderr.write(f"websocat: {message}\n")
    sys.stderr.flush()


def describe_error(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for a failure."""
    if isinstance(exc, WebsocatError):
        return exc.message, exc.exit_code
    if isinstance(exc, OSError):
        where = getattr(exc, "filename", None)
        prefix = f"{os.fsdecode(where)}: " if where else ""
        return f"{prefix}{os_error_text(exc)}", EXIT_FAILURE
    if isinstance(exc, copying.HangupExit):
        return str(exc), EXIT_OK
    return f"{type(exc).__name__}: {exc}", EXIT_FAILURE


def run(
    main: Callable[[], Awaitable[None]],
    *,
    global_timeout_ms: int | None = None,
    global_timeout_force_exit: bool = False,
    sleep_ms_before_start: int | None = None,
    exit_on_hangup: bool = False,
    random_seed: int | None = None,
) -> None:
    """Run a scenario's main() and exit the process with its status."""
    raise SystemExit(run_status(
        main,
        global_timeout_ms=global_timeout_ms,
        global_timeout_force_exit=global_timeout_force_exit,
        sleep_ms_before_start=sleep_ms_before_start,
        exit_on_hangup=exit_on_hangup,
        random_seed=random_seed,
    ))


def run_status(
    main: Callable[[], Awaitable[None]],
    *,
    global_timeout_ms: int | None = None,
    global_timeout_force_exit: bool = False,
    sleep_ms_before_start: int | None = None,
    exit_on_hangup: bool = False,
    random_seed: int | None = None,
) -> int:
    """Like run(), but return the exit status instead of exiting."""
    copying.HANGUP_EXITS = exit_on_hangup
    if random_seed is not None:
        from websocat.runtime import rng

        rng.seed(random_seed)
    # Message batches create thousands of short-lived tuples; with the default threshold
    # the cyclic collector runs every 700 of them and costs ~20% on small messages.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)

    async def scenario() -> None:
        _stop_on_signals()
        if sleep_ms_before_start:
            await asyncio.sleep(sleep_ms_before_start / 1000)
        if global_timeout_ms is None:
            await main()
            return
        try:
            await asyncio.wait_for(main(), global_timeout_ms / 1000)
        except TimeoutError:
            report(f"global timeout of {global_timeout_ms} ms expired")
            if global_timeout_force_exit:
                sys.stdout.flush()
                os._exit(EXIT_TIMEOUT)
            raise _Timeout from None

    try:
        asyncio.run(scenario())
    except _Timeout:
        return EXIT_TIMEOUT
    except KeyboardInterrupt:
        return 130
    except asyncio.CancelledError:
        if _stopped_by is None:
            raise
        return 128 + _stopped_by
    except (Exception, ExceptionGroup) as exc:  # noqa: BLE001 - every failure becomes one line
        failure = _first_leaf(exc)
        if os.environ.get(DEBUG_ENV):
            import traceback

            traceback.print_exception(failure)
        message, status = describe_error(failure)
        if status != EXIT_OK:
            report(message)
        return status
    return EXIT_OK


class _Timeout(Exception):
    pass


STOP_GRACE = 2.0  # seconds a stopped process has to close its sessions (Close 1001) and exit
_stopped_by: int | None = None  # the signal that stopped the scenario


def _stop_on_signals() -> None:
    """SIGTERM and SIGINT cancel the scenario: every session closes its WebSockets with
    Close 1001 (going away) and the process exits with 128 + the signal's number, within
    STOP_GRACE seconds; a second signal exits at once."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    if task is None:
        return

    def stop(signum: int) -> None:
        global _stopped_by
        if _stopped_by is not None:
            _exit_now(128 + signum)
        _stopped_by = signum
        task.cancel()
        loop.call_later(STOP_GRACE, _exit_now, 128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop, signum)
        except (RuntimeError, ValueError):
            pass  # not the main thread (a script run from a test harness, say)


def _exit_now(status: int) -> None:
    try:
        sys.stdout.flush()
    finally:
        os._exit(status)


def _first_leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc
