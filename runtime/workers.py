"""--workers N: N processes run the same scenario; the kernel spreads connections among them.

Each worker binds its own listening socket with SO_REUSEPORT (the planner turns
--reuseport on), so Linux balances new connections across the workers by a hash of the
address pair.  Sessions are independent: what a process shares between sessions
(`broadcast:`, `reuse-raw:`, the registry) is shared within one worker only.

The parent only supervises.  Ctrl-C and SIGTERM reach it (the workers are in a process
group of their own, so a terminal's Ctrl-C is not delivered twice) and are passed on to
every worker; each closes its sessions as a single process would.  A worker that exits
by itself (a bind failure, say) stops the others, and its status becomes the run's.  A
worker whose parent dies is sent SIGTERM by the kernel (PR_SET_PDEATHSIG): no worker is
left behind.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

__all__ = ["INDEX", "is_first", "supervise"]

INDEX: int | None = None  # this worker's number (0..N-1); None without --workers
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def is_first() -> bool:
    """Whether this process announces listeners and runs --exec-after-listen: worker 0, or the only process."""
    return not INDEX


def supervise(count: int, run_one: Callable[[], int]) -> int:
    """Fork ``count`` workers each calling ``run_one()``; return the run's exit status."""
    global INDEX
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    children: dict[int, int] = {}
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            INDEX = index
            status = 1
            try:
                os.setpgid(0, 0)
                _die_with(parent)
                status = run_one()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        children[pid] = index
    return _wait_for(children)


def _die_with(parent: int) -> None:
    """Have the kernel send SIGTERM to this worker when the supervising parent dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the parent's own handlers are all there is
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(128 + signal.SIGTERM)


def _wait_for(children: dict[int, int]) -> int:
    stopped_by: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopped_by.append(signum)
        _signal_all(children, signum)

    for signum in _STOP_SIGNALS:
        signal.signal(signum, stop)
    status: int | None = None
    while children:
        try:
            pid, wait_status = os.wait()
        except ChildProcessError:
            break
        children.pop(pid, None)
        code = os.waitstatus_to_exitcode(wait_status)
        code = 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell shows it
        if status is None:
            status = code
            if not stopped_by:  # a worker ended by itself: the others follow
                _signal_all(children, signal.SIGTERM)
    if stopped_by:
        return 128 + stopped_by[0]
    return status or 0


def _signal_all(children: dict[int, int], signum: int) -> None:
    for pid in children:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
