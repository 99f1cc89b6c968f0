"""``mock_stream_socket:`` — a scripted byte stream for tests.

The socket plays a scenario of operations in order (see ``websocat.planner.mockscript``
for the text grammar; the generated program passes the parsed operations as a literal
list of ``(kind, data)`` tuples):

``("R", b"data")``  the next read returns this chunk (one chunk per read; a smaller
                    ``max_bytes`` takes a part and leaves the rest for the next read)
``("W", b"data")``  the program must write exactly these bytes; one write may cover part
                    of a W operation or span several consecutive write operations (and
                    wait for the reads between them)
``("ZR", n)``       reads return n zero bytes in all, at most ``max_bytes`` per read
``("ZW", n)``       the program must write n zero bytes
``("I", n)``        the next n written bytes are accepted unchecked
``("X", b"")``      the next read returns b"" (EOF); later R operations can still be read
``("D", b"")``      the program must call ``write_eof()`` here
``("Q", b"")``      stop checking once the scenario gets here (see below)
``("ER", b"")``     the next read raises ``MockInjectedError`` (an ``OSError``)
``("EW", b"")``     the next write raises ``MockInjectedError``
``("T", ms)``       pause for ms milliseconds; reads and writes wait meanwhile
``("N", "name")``   name the mock in error messages (applies to the whole scenario)

Zero spans cost no memory: ZR/ZW/I keep a count, reads hand out ``bytes(n)`` of at most
``max_bytes``, and written zeros are checked with one ``bytes.count`` call per write.

Ordering is strict: while the head operation is a write (W, ZW, I, EW, D) reads wait, and
while it is a read (R, ZR, X, ER) writes wait, so a reader task and a writer task
interleave exactly as the scenario says.  After the last operation reads return b""
(EOF).  So a program that reads until EOF before it shuts down its writing needs an X
before the D (``R a|W a|X|D`` with ``mirror:``): the read of EOF would wait for the D.

Failures are loud and one line, naming the mock (``mock_stream_socket NAME`` after an N)
and the operation by its 1-based position in the list, N operations included:

* a write that differs from the scenario raises ``ProtocolError("mock_stream_socket:
  action 2 (W): expected b'world' but got b'hello'")``; writing where a D, a read with no
  write after it, or the end of the scenario stands fails at once the same way.  After a
  mismatch every later read or write raises the same error, and so do those waiting;
* ``write_eof()`` meets the next D at once, even if reads come before it (so a program
  may shut a direction before it reads, as with ``-u``); where W, ZW, I or EW operations
  are still expected it fails (``... but got EOF``).  Without a D in the scenario a
  ``write_eof()`` at any other point is fine;
* ``aclose()`` checks that every operation was played, T excepted: unread data, an X
  that no read saw, expected writes, a D without a ``write_eof()`` and injected errors that
  never fired all raise ``ProtocolError("... expected ... but the socket was closed")``,
  once, and only if the mock has not already raised an error and ``async with`` is not
  already unwinding an exception, so the first failure is the one reported.  Reads and
  writes still waiting at close return b"" and raise ``BrokenPipeError`` respectively.
  ``exchange_bytes``/``exchange_packets`` let this error end the session (exit code 4).

After Q nothing is compared: writes consume the W, ZW and I operations that follow
without checking them (reads behind those still wait for that many bytes), writes beyond
them or at a D are accepted and dropped, ``write_eof()`` discards the writes still
expected, and ``aclose()`` checks nothing.

Differences from websocat4 (which builds on the ``tokio-io-mock-fork`` crate): there a
write may overtake pending reads, a mismatch panics the process, and reads block forever
once Q is reached; here the order is strict, a mismatch is an ordinary ``ProtocolError``
(exit code 4), and the scenario plays on after Q.  websocat4 does not check at the end
that a D was met or that injected errors fired; this mock does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import NoReturn

from ..errors import ProtocolError
from ..sockets import DEFAULT_READ, ByteStream

__all__ = ["MockInjectedError", "MockStream"]

DEFAULT_NAME = "mock_stream_socket"
MAX_NUMBER = 2**64 - 1
_SHOW_LIMIT = 64  # bytes of data quoted in an error message
_WRITES = frozenset({"W", "ZW", "I", "EW", "D"})
_TAKES_WRITES = _WRITES - {"D"}
_FLAGS = frozenset({"X", "D", "Q", "ER", "EW"})  # operations without data
_COUNTED = frozenset({"T", "ZR", "ZW", "I"})  # data is a number


class MockInjectedError(OSError):
    """The error an ER or EW operation injects into a read or write."""


class _Op:
    """A mutable scenario step: payloads and counts shrink as they are consumed."""

    __slots__ = ("index", "kind", "data", "count", "total")

    def __init__(self, index: int, kind: str, data: bytes = b"", count: int = 0) -> None:
        self.index = index  # 1-based position in the scenario, for messages
        self.kind = kind
        self.data = data  # R, W: what is left
        self.count = count  # ZR, ZW, I: bytes left; T: milliseconds
        self.total = count

    def expected(self) -> str:
        """What the scenario expects here, in the words of an error message."""
        kind = self.kind
        if kind == "W":
            return _show(self.data)
        if kind == "ZW":
            more = f" more of {self.total}" if self.count != self.total else ""
            return f"{self.count}{more} zero bytes"
        if kind == "I":
            return f"{self.count} more bytes (any)"
        if kind == "D":
            return "a shutdown (write_eof)"
        if kind == "EW":
            return "a write (to fail it)"
        if kind == "R":
            return f"a read of {_show(self.data)}"
        if kind == "ZR":
            return f"a read of {self.count} zero bytes"
        if kind == "X":
            return "a read (to return EOF)"
        if kind == "ER":
            return "a read (to fail it)"
        return f"a pause of {self.count} ms"


class MockStream(ByteStream):
    """A byte stream that replays a scenario of reads and checks the program's writes."""

    name = DEFAULT_NAME

    def __init__(self, ops: Sequence[tuple[str, bytes | int | str]], name: str = DEFAULT_NAME) -> None:
        self.mock_name = name
        self._ops: deque[_Op] = deque()
        self._count = len(ops)
        for index, (kind, data) in enumerate(ops, 1):
            if kind in ("R", "W"):
                if isinstance(data, str):
                    data = data.encode("utf-8")  # hand-edited scripts may pass text
                if not isinstance(data, bytes | bytearray | memoryview):
                    raise TypeError(f"{kind} operation needs bytes, not {type(data).__name__}")
                if data:  # an empty chunk would read as EOF; websocat4 skips it too
                    self._ops.append(_Op(index, kind, bytes(data)))
            elif kind in _COUNTED:
                if not isinstance(data, int) or isinstance(data, bool) or not 0 <= data <= MAX_NUMBER:
                    raise ValueError(f"{kind} operation needs a number 0-{MAX_NUMBER}, not {data!r}")
                if data or kind == "T":  # ZR0, ZW0 and I0 do nothing, as in websocat4
                    self._ops.append(_Op(index, kind, count=data))
            elif kind in _FLAGS:
                self._ops.append(_Op(index, kind))
            elif kind == "N":
                self.mock_name = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
            else:
                raise ValueError(
                    f"unknown mock operation {kind!r}; expected R, W, N, ER, EW, T, X, " "D, Q, ZR, ZW or I"
                )
        self.label = DEFAULT_NAME if self.mock_name in ("", DEFAULT_NAME) else f"{DEFAULT_NAME} {self.mock_name}"
        self.hangup = None
        # Broadcast wake-up: waiters grab the current event; _wake sets it and installs a
        # fresh one, so every state change wakes every waiter exactly once.
        self._changed = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._checking = True  # False once a Q is reached
        self._failure: str | None = None  # message of a mismatch; later calls repeat it
        self._raised = False  # any error (mismatch or injected) already reported
        self._eof_written = False
        self._closed = False

    # -- ByteStream
    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        """The next R chunk or zero span (or part of it), b"" at X and once the scenario is over."""
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        while True:
            self._check_failed()
            if self._closed:
                return b""
            op = self._head()
            if op is None:
                return b""
            kind = op.kind
            if kind == "R":
                data = op.data
                if len(data) <= max_bytes:
                    self._pop()
                    return data
                op.data = data[max_bytes:]
                return data[:max_bytes]
            if kind == "ZR":
                n = min(op.count, max_bytes)
                op.count -= n
                if not op.count:
                    self._pop()
                return bytes(n)
            if kind == "X":
                self._pop()
                return b""
            if kind == "ER":
                self._pop()
                self._raised = True
                raise MockInjectedError(f"{self.label}: injected read error")
            await self._wait()  # a write or T ahead: the writer or the timer moves on

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Check ``data`` against the expected writes, waiting for reads or pauses before them."""
        data = bytes(data)
        pos = 0
        while pos < len(data):
            self._check_failed()
            if self._closed:
                raise BrokenPipeError(f"{self.label}: write after close")
            if self._eof_written and self._checking:
                self._fail(f"{self.label}: write of {_show(data[pos:])} after write_eof")
            op = self._head()
            if op is None or op.kind not in _TAKES_WRITES:
                if self._cannot_write(op, data[pos:]):
                    return  # nothing is compared any more: drop the data
                await self._wait()  # a read or T ahead: the reader or the timer moves on
                continue
            kind = op.kind
            if kind == "W":
                expected = op.data
                got = data[pos : pos + len(expected)]
                if self._checking and not expected.startswith(got):
                    self._fail_at(op, f"got {_show(got)}")
                pos += len(got)
                if len(got) == len(expected):
                    self._pop()
                else:
                    op.data = expected[len(got) :]
            elif kind in ("ZW", "I"):
                n = min(op.count, len(data) - pos)
                if kind == "ZW" and self._checking:
                    chunk = data[pos : pos + n]
                    if chunk.count(0) != n:  # one C-level pass, no per-byte Python work
                        bad = n - len(chunk.lstrip(b"\0"))
                        self._fail_at(
                            op,
                            f"got {_show(chunk[bad : bad + 16])} at offset " f"{op.total - op.count + bad} of the span",
                        )
                pos += n
                op.count -= n
                if not op.count:
                    self._pop()
            else:  # EW
                self._pop()
                self._raised = True
                raise MockInjectedError(f"{self.label}: injected write error")

    async def write_eof(self) -> None:
        """Shut the write half: meets the next D, or fails if the scenario still expects writes."""
        self._check_failed()
        if self._eof_written or self._closed:
            return
        self._eof_written = True
        ahead = self._next_write()
        if ahead is not None and ahead.kind == "D" and self._checking:
            # Met at once, even with reads before it (as in the crate): waiting for them
            # could deadlock a program that shuts a direction before it starts reading.
            self._ops.remove(ahead)
            self._head()
        elif ahead is not None and ahead.kind != "Q" and self._checking:
            self._fail_at(ahead, "got EOF")
        self._drop_writes_if_unchecked()
        self._wake()

    async def aclose(self) -> None:
        """Stop the scenario; an error if an operation was not played (see the module doc)."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._head()  # a Q at the head turns checking off
        self._wake()
        if self._raised or not self._checking:
            return
        for op in self._ops:
            if op.kind == "Q":
                break  # never reached, but nothing after it would be checked
            if op.kind != "T":
                self._raised = True
                raise ProtocolError(
                    f"{self.label}: action {op.index} ({op.kind}): expected "
                    f"{op.expected()} but the socket was closed"
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
        """The operations not played yet, as ``(kind, data)`` tuples, counts for T, ZR, ZW, I."""
        return [(op.kind, op.count if op.kind in _COUNTED else op.data) for op in self._ops]

    # -- internals
    def _head(self) -> _Op | None:
        """The current operation; passes a Q and starts the timer of a pause."""
        while self._ops and self._ops[0].kind == "Q":
            self._ops.popleft()
            self._checking = False
            self._drop_writes_if_unchecked()
        if not self._ops:
            return None
        op = self._ops[0]
        if op.kind == "T" and self._timer is None and not self._closed:
            self._timer = asyncio.get_running_loop().call_later(op.count / 1000, self._timer_fired, op)
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

    def _cannot_write(self, op: _Op | None, rest: bytes) -> bool:
        """At a head that takes no bytes: fail if no later operation can take ``rest``
        either; after Q, True to drop it.  False: wait for the head to pass."""
        ahead = self._next_write()
        if not self._checking:
            return ahead is None or ahead is op
        if op is None:
            self._fail(f"{self.label}: unexpected write of {_show(rest)} after the last action " f"({self._count})")
        if ahead is None:
            # Fail now rather than after the reads ahead: no write can ever match.
            self._fail_at(op, f"got a write of {_show(rest)} (no write follows)")
        if ahead.kind == "D":
            self._fail_at(ahead, f"got {_show(rest)}")
        return False

    def _next_write(self) -> _Op | None:
        """The first write-side operation (W, ZW, I, EW, D) still ahead, or a Q before it."""
        for op in self._ops:
            if op.kind in _WRITES or op.kind == "Q":
                return op
        return None

    def _drop_writes_if_unchecked(self) -> None:
        """After Q and write_eof no write will come: let the reads behind them go on."""
        if not self._checking and self._eof_written:
            self._ops = deque(op for op in self._ops if op.kind not in _WRITES)

    def _check_failed(self) -> None:
        if self._failure is not None:
            raise ProtocolError(self._failure)

    def _fail_at(self, op: _Op, actual: str) -> NoReturn:
        self._fail(f"{self.label}: action {op.index} ({op.kind}): expected {op.expected()} but {actual}")

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
