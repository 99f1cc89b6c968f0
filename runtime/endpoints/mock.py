"""``mock_stream_socket:`` — a scripted byte stream for tests.

The socket plays a scenario of operations in order (see ``websocat.planner.mockscript``
for the text grammar; the generated program passes the parsed operations as a literal
list of ``(kind, data)`` tuples):

``("R", b"data")``  the next read returns this chunk (one chunk per read; a smaller
                    ``max_bytes`` takes a part and leaves the rest for the next read)
``("W", b"data")``  the program must write exactly these bytes; one write may cover part
                    of a W operation or span several consecutive ones (and wait for the
                    reads between them)
``("ER", b"")``     the next read raises ``MockInjectedError`` (an ``OSError``)
``("EW", b"")``     the next write raises ``MockInjectedError``
``("T", 0..9)``     pause for ``MOCK_SLEEP_SECONDS[n]``; reads and writes wait meanwhile
``("N", "name")``   name the mock in error messages (applies to the whole scenario)

Ordering is strict: while the head operation is a write (W, EW) reads wait, and while it
is a read (R, ER) writes wait, so a reader task and a writer task interleave exactly as
the scenario says.  After the last operation reads return b"" (EOF).

Failures are loud, because a mock that silently accepts the wrong traffic hides bugs:

* a write that differs from the expected bytes raises ``ProtocolError("mock_stream_socket
  NAME: expected b'...' but got b'...'")``; a write when no W operation is left raises
  ``ProtocolError("... unexpected write of b'...'")``.  After a mismatch every later read
  or write raises the same error, and so do reads and writes already waiting;
* ``write_eof()`` while W operations remain raises ``ProtocolError("... expected b'...'
  but got EOF")``;
* ``aclose()`` while W operations remain raises ``ProtocolError("... expected b'...' but
  the socket was closed")`` — once, and only if the mock has not already raised an error
  (a mismatch or an injected error) and ``async with`` is not already unwinding an
  exception, so the first failure is the one reported.  Reads and writes still waiting
  at close return b"" and raise ``BrokenPipeError`` respectively.
  Unread R data at close is not an error: producing data is not an assertion.

Differences from websocat4 (which builds on ``tokio_test::io::Mock``): there a write may
overtake pending reads and a mismatch panics the process; here the order is strict and a
mismatch is an ordinary ``ProtocolError`` (exit code 4).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import NoReturn

from ..errors import ProtocolError
from ..sockets import DEFAULT_READ, ByteStream

__all__ = ["MOCK_SLEEP_SECONDS", "MockInjectedError", "MockStream"]

# T0..T9 as in websocat4: roughly x3 per step up to one second, then 10 s, a minute and
# an hour, so that T7-T9 serve as "longer than any test waits".
MOCK_SLEEP_SECONDS: tuple[float, ...] = (
    0.001,  # T0
    0.003,  # T1
    0.010,  # T2
    0.033,  # T3
    0.100,  # T4
    0.333,  # T5
    1.0,  # T6
    10.0,  # T7
    60.0,  # T8
    3600.0,  # T9
)

DEFAULT_NAME = "mock_stream_socket"
_SHOW_LIMIT = 64  # bytes of data quoted in an error message


class MockInjectedError(OSError):
    """The error an ER or EW operation injects into a read or write."""


class _Op:
    """A mutable scenario step: R and W payloads shrink as they are consumed."""

    __slots__ = ("kind", "data", "step")

    def __init__(self, kind: str, data: bytes = b"", step: int = 0) -> None:
        self.kind = kind
        self.data = data
        self.step = step


class MockStream(ByteStream):
    """A byte stream that replays a scenario of reads and checks the program's writes."""

    name = DEFAULT_NAME

    def __init__(
        self, ops: Sequence[tuple[str, bytes | int | str]], name: str = DEFAULT_NAME
    ) -> None:
        self.mock_name = name
        self._ops: deque[_Op] = deque()
        for kind, data in ops:
            if kind in ("R", "W"):
                if isinstance(data, str):
                    data = data.encode("utf-8")  # hand-edited scripts may pass text
                if not isinstance(data, bytes | bytearray | memoryview):
                    raise TypeError(
                        f"{kind} operation needs bytes, not {type(data).__name__}"
                    )
                if data:  # an empty chunk would read as EOF; websocat4 skips it too
                    self._ops.append(_Op(kind, bytes(data)))
            elif kind in ("ER", "EW"):
                self._ops.append(_Op(kind))
            elif kind == "T":
                if not isinstance(data, int) or not 0 <= data < len(MOCK_SLEEP_SECONDS):
                    raise ValueError(f"T operation needs a step 0-9, not {data!r}")
                self._ops.append(_Op("T", step=data))
            elif kind == "N":
                self.mock_name = (
                    data.decode("utf-8", "replace")
                    if isinstance(data, bytes)
                    else str(data)
                )
            else:
                raise ValueError(
                    f"unknown mock operation {kind!r}; expected R, W, ER, EW, T or N"
                )
        self.label = (
            DEFAULT_NAME
            if self.mock_name in ("", DEFAULT_NAME)
            else f"{DEFAULT_NAME} {self.mock_name}"
        )
        self.hangup = None
        # Broadcast wake-up: waiters grab the current event; _wake sets it and installs a
        # fresh one, so every state change wakes every waiter exactly once.
        self._changed = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._failure: str | None = None  # message of a mismatch; later calls repeat it
        self._raised = False  # any error (mismatch or injected) already reported
        self._eof_written = False
        self._closed = False

    # -- ByteStream
    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        """The next R chunk (or part of it), b"" once the scenario is over."""
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        while True:
            self._check_failed()
            if self._closed:
                return b""
            op = self._head()
            if op is None:
                return b""
            if op.kind == "R":
                data = op.data
                if len(data) <= max_bytes:
                    self._pop()
                    return data
                op.data = data[max_bytes:]
                return data[:max_bytes]
            if op.kind == "ER":
                self._pop()
                self._raised = True
                raise MockInjectedError(f"{self.label}: injected read error")
            await self._wait()  # W, EW or T ahead: the writer or the timer moves on

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Check ``data`` against the expected W operations, waiting for reads or pauses before them."""
        data = bytes(data)
        pos = 0
        while pos < len(data):
            self._check_failed()
            if self._closed:
                raise BrokenPipeError(f"{self.label}: write after close")
            if self._eof_written:
                self._fail(
                    f"{self.label}: write of {_show(data[pos:])} after write_eof"
                )
            op = self._head()
            if op is None:
                self._fail(f"{self.label}: unexpected write of {_show(data[pos:])}")
            elif op.kind == "W":
                expected = op.data
                got = data[pos : pos + len(expected)]
                if not expected.startswith(got):
                    self._fail(
                        f"{self.label}: expected {_show(expected)} but got {_show(got)}"
                    )
                pos += len(got)
                if len(got) == len(expected):
                    self._pop()
                else:
                    op.data = expected[len(got) :]
            elif op.kind == "EW":
                self._pop()
                self._raised = True
                raise MockInjectedError(f"{self.label}: injected write error")
            elif not any(later.kind in ("W", "EW") for later in self._ops):
                # Fail now rather than after the reads ahead: no write can ever match.
                self._fail(f"{self.label}: unexpected write of {_show(data[pos:])}")
            else:
                await self._wait()  # R, ER or T ahead: the reader or the timer moves on

    async def write_eof(self) -> None:
        """Shut the write half; an error if the scenario still expects writes."""
        self._check_failed()
        if self._eof_written or self._closed:
            return
        self._eof_written = True
        expected = self._expected_writes()
        if expected is not None:
            self._fail(f"{self.label}: expected {_show(expected)} but got EOF")
        # Injected write errors can no longer fire; drop them so reads behind them go on.
        self._ops = deque(op for op in self._ops if op.kind != "EW")
        self._head()
        self._wake()

    async def aclose(self) -> None:
        """Stop the scenario; an error if expected writes never came (see the module doc)."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake()
        expected = self._expected_writes()
        if expected is not None and not self._raised:
            self._raised = True
            raise ProtocolError(
                f"{self.label}: expected {_show(expected)} but the socket was closed"
            )

    async def __aexit__(self, *exc: object) -> None:
        if exc and exc[0] is not None:
            # An exception is already propagating: report it, not missing writes.
            self._raised = True
        await self.aclose()

    # -- inspection
    @property
    def done(self) -> bool:
        """True once every operation has been played."""
        return not self._ops

    def remaining(self) -> list[tuple[str, bytes | int]]:
        """The operations not played yet, as ``(kind, data)`` tuples (T gives its step)."""
        return [(op.kind, op.step if op.kind == "T" else op.data) for op in self._ops]

    # -- internals
    def _head(self) -> _Op | None:
        """The current operation; starts its timer when it is a pause."""
        if not self._ops:
            return None
        op = self._ops[0]
        if op.kind == "T" and self._timer is None and not self._closed:
            self._timer = asyncio.get_running_loop().call_later(
                MOCK_SLEEP_SECONDS[op.step], self._timer_fired, op
            )
        return op

    def _timer_fired(self, op: _Op) -> None:
        self._timer = None
        if self._ops and self._ops[0] is op:
            self._pop()

    def _pop(self) -> None:
        self._ops.popleft()
        # Start a following pause now, so it counts from the end of the previous step
        # rather than from whenever the program next reads or writes.
        self._head()
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self) -> None:
        await self._changed.wait()

    def _expected_writes(self) -> bytes | None:
        """The first W chunk still expected, or None."""
        for op in self._ops:
            if op.kind == "W":
                return op.data
        return None

    def _check_failed(self) -> None:
        if self._failure is not None:
            raise ProtocolError(self._failure)

    def _fail(self, message: str) -> NoReturn:
        self._failure = message
        self._raised = True
        self._wake()  # waiting reads and writes re-raise it
        raise ProtocolError(message)


def _show(data: bytes) -> str:
    """repr() of the data, shortened for one-line error messages."""
    if len(data) <= _SHOW_LIMIT:
        return repr(data)
    return f"{data[:_SHOW_LIMIT]!r}... ({len(data)} bytes)"
