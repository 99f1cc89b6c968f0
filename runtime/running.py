"""run(): start a scenario's main(), apply process-wide options, turn failures into exit codes."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections.abc import Awaitable, Callable

from websocat.runtime import copying, errors
from websocat.runtime import stats as _stats
from websocat.runtime.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PEER_CLOSED,
    WebsocatError,
    os_error_text,
)

__all__ = ["AT_EXIT", "DEBUG_ENV", "STOP_GRACE", "describe_error", "located", "report", "run", "run_status"]

DEBUG_ENV = "WEBSOCAT_DEBUG"  # set to 1 for a traceback with every error


def report(message: str) -> None:
    """One line on stderr, prefixed like every websocat message."""
    sys.stderr.write(f"websocat: {message}\n")
    sys.stderr.flush()


# The file of the script being run (`-x run.py`, `python run.py`), whose frames locate a
# failure; None for the command's own script, whose lines the user never sees.
SCRIPT_FILE: str | None = None


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
    return located(exc, SCRIPT_FILE), EXIT_FAILURE


def located(exc: BaseException, script: str | None) -> str:
    """'run.py:12: NameError: name 'x' is not defined': an unexpected exception (a bug in an
    edited script, most likely) at the innermost line of `script` that it passed through."""
    text = f"{type(exc).__name__}: {exc}"
    if script is None:
        return text
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == script:
            line = tb.tb_lineno
        tb = tb.tb_next
    return text if line is None else f"{script}:{line}: {text}"


def run(
    main: Callable[[], Awaitable[None]],
    *,
    global_timeout_ms: int | None = None,
    global_timeout_force_exit: bool = False,
    sleep_ms_before_start: int | None = None,
    exit_on_hangup: bool = False,
    random_seed: int | None = None,
    workers: int | None = None,
    stats: str | None = None,
) -> None:
    """Run a scenario's main() and exit the process with its status.

    ``workers``: run it in that many processes (runtime/workers.py).  ``stats``: "text"
    (--stats) or "json" (--stats-json): one summary line on stderr at the end of each
    session (runtime/stats.py).
    """

    def run_one() -> int:
        return run_status(
            main,
            global_timeout_ms=global_timeout_ms,
            global_timeout_force_exit=global_timeout_force_exit,
            sleep_ms_before_start=sleep_ms_before_start,
            exit_on_hangup=exit_on_hangup,
            random_seed=random_seed,
            stats=stats,
        )

    if workers is not None and workers > 1:
        from websocat.runtime import workers as supervisor

        raise SystemExit(supervisor.supervise(workers, run_one))
    raise SystemExit(run_one())


def run_status(
    main: Callable[[], Awaitable[None]],
    *,
    global_timeout_ms: int | None = None,
    global_timeout_force_exit: bool = False,
    sleep_ms_before_start: int | None = None,
    exit_on_hangup: bool = False,
    random_seed: int | None = None,
    stats: str | None = None,
) -> int:
    """Like run(), but return the exit status instead of exiting."""
    global SCRIPT_FILE
    filename = getattr(getattr(main, "__code__", None), "co_filename", "<websocat>")
    SCRIPT_FILE = None if filename.startswith("<") else filename
    copying.HANGUP_EXITS = exit_on_hangup
    errors.PEER_CLOSED_ABNORMALLY = False
    _stats.MODE = stats
    session_stats = _stats.session()  # the scenario's own (a listener's sessions each have one)
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
        # As websocat4, which races the scenario against a sleep: the timeout is how a run
        # is meant to end ("run for N ms"), so it is silent and the status is 0.  With
        # --global-timeout-force-exit websocat4 calls exit_process(1) without cleaning up.
        try:
            async with asyncio.timeout(global_timeout_ms / 1000) as deadline:
                await main()
        except TimeoutError:
            if not deadline.expired():
                raise  # a timeout of the scenario's own, not the global one
            if global_timeout_force_exit:
                report(f"global timeout of {global_timeout_ms} ms expired")
                _exit_now(EXIT_FAILURE)

    error: str | None = None
    try:
        asyncio.run(scenario())
    except KeyboardInterrupt:
        error = "interrupted"
        return EXIT_INTERRUPTED
    except asyncio.CancelledError:
        if _stopped_by is None:
            raise
        error = f"stopped by signal {_stopped_by}"
        return 128 + _stopped_by
    except (Exception, ExceptionGroup) as exc:  # noqa: BLE001 - every failure becomes one line
        failure = _first_leaf(exc)
        if os.environ.get(DEBUG_ENV):
            import traceback

            traceback.print_exception(failure)
        message, status = describe_error(failure)
        if status != EXIT_OK:
            report(message)
            error = message
        return _after_closes(status)
    finally:
        if session_stats is not None and session_stats.used:
            session_stats.report(error)
        _stats.CURRENT.set(None)
    return _after_closes(EXIT_OK)


def _after_closes(status: int) -> int:
    """EXIT_PEER_CLOSED instead of 0 when a peer closed a WebSocket with an unusual code
    (the line saying so was printed when its Close arrived)."""
    return EXIT_PEER_CLOSED if status == EXIT_OK and errors.PEER_CLOSED_ABNORMALLY else status


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


# Called before a forced exit (os._exit skips every cleanup): e.g. process.py kills the
# children it has not waited for yet.
AT_EXIT: list[Callable[[], None]] = []


def _exit_now(status: int) -> None:
    try:
        for hook in AT_EXIT:
            hook()
        sys.stdout.flush()
    finally:
        os._exit(status)


def _first_leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc
