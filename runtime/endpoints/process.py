"""exec: and cmd: (sh-c:): a child process whose stdin and stdout are the byte stream.

Its pipes go through asyncio's pipe transports with the stream protocol of every
socket (1 MiB pipes where the kernel allows).

The request (runtime/context.py):

- ``set_environment`` (-e): the child's environment has websocat v1's WEBSOCAT_URI (the
  WebSocket request target), WEBSOCAT_CLIENT (the TCP client's host:port) and, for each
  header named in ``header_to_env`` (--header-to-env), H_<name> with its value.
- The child's stderr is websocat's.  In a listener's session each of its lines is
  prefixed with the session's number, ``[3] `` (a last line without a newline too),
  unless ``stderr_inherit`` (--exec-stderr-inherit) gives it our stderr itself.

Lifetime:

- EOF on the child's stdout ends that direction; our EOF closes the child's stdin.
- The child's exit is observed as it happens (a pidfd, else a thread in waitpid).  Once
  the child has exited and its stdout is at EOF, the stream signals hangup, so the
  session does not wait for the other side: a child that exits early ends the session.
  With ``monitor_exits`` (--exec-monitor-exits), the exit alone ends it, at once,
  even with data still in the pipe or the pipe held open by a grandchild (websocat4).
- Writes to a child that closed its stdin are dropped (it wants no more input).
- Leaving the stream closes both pipes, gives the child EXIT_GRACE seconds to exit, then
  sends SIGTERM, then SIGKILL TERM_GRACE seconds later; when the session is cancelled
  (SIGINT, SIGTERM, --global-timeout-ms) SIGTERM is sent at once.  The child is always
  waited for: no zombie is left.
- With ``exit_on_disconnect`` (--exec-exit-on-disconnect) the other side's EOF (its
  client went away: a WebSocket Close, a TCP FIN) closes the child's stdin and sends
  SIGTERM at once, SIGKILL TERM_GRACE seconds later; leaving the stream does the same,
  without EXIT_GRACE.  What the child wrote before it died still goes out.
- A child that exits by itself with a non-zero status, or is killed by a signal we did
  not cause (SIGTERM or SIGKILL from us, SIGPIPE from writing to the stdout we closed),
  fails the session with one line (``exec:false: exited with status 1``).
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
from typing import Any, TypedDict, Unpack

from websocat.runtime import running
from websocat.runtime.context import SESSION, child_environment
from websocat.runtime.errors import ConnectError, WebsocatError, os_error_text
from websocat.runtime.keywords import check
from websocat.runtime.sockets import DEFAULT_READ, ByteStream, StreamProtocol

__all__ = [
    "EXIT_GRACE",
    "TERM_GRACE",
    "ChildFailed",
    "ChildOptions",
    "ProcessStream",
    "Stream",
    "shell",
    "shell_over",
    "spawn",
    "spawn_over",
]

EXIT_GRACE = 1.0  # seconds a child has, after its session ended normally, before SIGTERM
TERM_GRACE = 1.0  # seconds between SIGTERM and SIGKILL (within running.STOP_GRACE)
PIPE_SIZE = 1 << 20  # the unprivileged maximum of /proc/sys/fs/pipe-max-size
STDERR_LINE = 1 << 16  # a longer line of a child's stderr is prefixed in pieces of this size

Arg = str | bytes

_LIVE: set[subprocess.Popen[bytes]] = set()  # children not yet waited for


def _kill_all() -> None:
    """At a forced exit (a second signal, the stop grace over): no child outlives us."""
    for child in list(_LIVE):
        try:
            child.kill()
            child.wait(0.5)
        except (OSError, subprocess.TimeoutExpired):
            pass


class ChildFailed(WebsocatError):
    """The child exited by itself with a non-zero status."""


class ProcessStream(ByteStream):
    """A child process: read its stdout, write its stdin."""

    name = "process"

    def __init__(
        self,
        what: str,
        argv: list[Arg],
        executable: Arg,
        *,
        arg0: Arg | None = None,
        chdir: Arg | None = None,
        uid: int | None = None,
        gid: int | None = None,
        monitor_exits: bool = False,
        windows_creation_flags: int | None = None,
        set_environment: bool = False,
        header_to_env: tuple[str, ...] | list[str] = (),
        exit_on_disconnect: bool = False,
        stderr_inherit: bool = False,
    ) -> None:
        """Not started yet (``start``, or ``async with``); the keywords are ChildOptions'.

        ``argv[0]`` is replaced by ``arg0`` when one is given."""
        if windows_creation_flags is not None and sys.platform != "win32":
            raise ConnectError("--exec-windows-creation-flags is only available on Windows")
        self.what = what  # "exec:cat", as messages name it
        self.peer = what
        self._argv = argv if arg0 is None else [arg0, *argv[1:]]
        self._executable = executable
        self._chdir, self._uid, self._gid = chdir, uid, gid
        self._monitor_exits = monitor_exits
        self._set_environment, self._header_to_env = set_environment, tuple(header_to_env)
        self._exit_on_disconnect, self._stderr_inherit = exit_on_disconnect, stderr_inherit
        self._stderr: _PrefixedLines | None = None
        self._stopping: asyncio.Future[None] | None = None  # SIGTERM, then SIGKILL (exit_on_disconnect)
        self.child: subprocess.Popen[bytes] | None = None
        self._reader: StreamProtocol | None = None
        self._writer: StreamProtocol | None = None
        self.exited = asyncio.Event()  # the child was waited for; child.returncode is its status
        self.gone = asyncio.Event()  # exited, and stdout at EOF (monitor_exits: exited)
        self.hangup = self.gone
        self._closing = False  # we closed its stdout: a death by SIGPIPE is ours
        self._signalled = False  # we sent it SIGTERM or SIGKILL
        self._own_status: int | None = None  # the status of an exit we did not cause
        self._hangup_task: asyncio.Future[None] | None = None

    async def __aenter__(self) -> ProcessStream:
        self.managed = True
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        exc_type = exc[0] if exc else None
        # cancelled (stopping) or --exec-exit-on-disconnect: SIGTERM at once
        await self.aclose(terminate=exc_type is asyncio.CancelledError or self._exit_on_disconnect)
        if exc_type is None:
            self.check_status()

    async def start(self, dup2: tuple[int, list[int]] | None = None) -> None:
        """Spawn the child and connect its pipes; with ``dup2`` (fd, slots), the child gets
        that fd as each slot instead, and there are no pipes (--exec-dup2)."""
        stdin: int | None = subprocess.PIPE
        stdout: int | None = subprocess.PIPE
        session = SESSION.get().number
        prefixed = session is not None and not self._stderr_inherit
        stderr: int | None = subprocess.PIPE if prefixed else None
        above: list[int] = []
        if dup2 is not None:
            fd, slots = dup2
            stdin, stdout, stderr = (fd if slot in slots else None for slot in (0, 1, 2))
            above = [slot for slot in slots if slot > 2]
            prefixed = False  # its stderr is the socket, or ours
        env = child_environment(self._header_to_env) if self._set_environment else None
        try:
            child = subprocess.Popen(
                self._argv,
                executable=self._executable,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                # slots above 2 are made in the child, and so must survive close_fds
                preexec_fn=(lambda: _dup2_into(dup2[0], above)) if dup2 is not None and above else None,
                close_fds=not above,
                cwd=self._chdir,
                env=env,
                user=self._uid,
                group=self._gid,
                # Dropping to another user drops root's supplementary groups too (as Rust's uid()).
                extra_groups=[] if self._uid is not None and os.geteuid() == 0 else None,
            )
        except OSError as exc:
            raise ConnectError(_spawn_error(self.what, exc, self._chdir)) from None
        self.child = child
        _LIVE.add(child)
        if _kill_all not in running.AT_EXIT:
            running.AT_EXIT.append(_kill_all)
        if dup2 is not None:
            self.readable = self.writable = False
            _watch_exit(child, self._on_exit)
            return
        loop = asyncio.get_running_loop()
        assert child.stdin is not None and child.stdout is not None
        if prefixed and child.stderr is not None:
            _transport, self._stderr = await loop.connect_read_pipe(
                lambda: _PrefixedLines(f"[{session}] ".encode()), child.stderr
            )
        for pipe in (child.stdin, child.stdout):
            try:
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            except (OSError, AttributeError):
                pass  # a smaller pipe works too
        _write_transport, self._writer = await loop.connect_write_pipe(StreamProtocol, child.stdin)
        _read_transport, self._reader = await loop.connect_read_pipe(StreamProtocol, child.stdout)
        _watch_exit(child, self._on_exit)
        if not self._monitor_exits:
            self.read = self._reader.read  # type: ignore[method-assign]  # the fast path

    def _on_exit(self) -> None:
        assert self.child is not None
        _LIVE.discard(self.child)
        status = self.child.returncode
        if not self._signalled and not (status == -signal.SIGPIPE and self._closing):
            self._own_status = status  # not a SIGTERM/SIGKILL of ours, nor a write to the pipe we closed
        self.exited.set()
        if self._monitor_exits:
            self.gone.set()
            return
        reader = self._reader
        if reader is not None and not reader.closed.is_set():
            # hangup once the child's stdout is drained: what it wrote still goes out
            self._hangup_task = asyncio.ensure_future(_set_after(reader.closed, self.gone))
        else:
            self.gone.set()

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        """Only with monitor_exits: the child's exit ends reading at once."""
        reader = self._reader
        if reader is None or self.exited.is_set():
            return b""
        reading = asyncio.ensure_future(reader.read(max_bytes))
        exiting = asyncio.ensure_future(self.exited.wait())
        try:
            await asyncio.wait((reading, exiting), return_when=asyncio.FIRST_COMPLETED)
        finally:
            exiting.cancel()
            if not reading.done():
                reading.cancel()
        return reading.result() if reading.done() and not reading.cancelled() else b""

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        writer = self._writer
        if writer is None:
            return
        try:
            await writer.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child closed its stdin: it wants no more input

    async def write_eof(self) -> None:
        if self._writer is not None:
            try:
                await self._writer.write_eof()
            except (BrokenPipeError, ConnectionResetError):
                pass
        if self._exit_on_disconnect and self._stopping is None and self.child is not None:
            self._stopping = asyncio.ensure_future(self._stop())  # the client is gone: so is the child

    async def _stop(self) -> None:
        """SIGTERM, then SIGKILL after TERM_GRACE, until the child has exited."""
        child = self.child
        assert child is not None
        for signum, grace in ((signal.SIGTERM, TERM_GRACE), (signal.SIGKILL, None)):
            if self.exited.is_set():
                break
            if child.poll() is None:  # (reaps it if it just exited: its status is its own)
                self._signalled = True
                try:
                    child.send_signal(signum)
                except OSError:
                    pass
            try:
                await asyncio.wait_for(asyncio.shield(self.exited.wait()), grace)
            except TimeoutError:
                pass

    async def aclose(self, terminate: bool = False) -> None:
        """Close the pipes and wait for the child: EXIT_GRACE (none with ``terminate``),
        then SIGTERM, then SIGKILL after TERM_GRACE.  Idempotent."""
        child = self.child
        self._closing = True
        for protocol in (self._writer, self._reader):
            if protocol is not None and protocol.transport is not None:
                protocol.transport.close()
        if child is None:
            return
        if not self.exited.is_set() and not terminate:
            try:
                await asyncio.wait_for(self.exited.wait(), EXIT_GRACE)
            except TimeoutError:
                pass
        stopping, self._stopping = self._stopping, None
        if stopping is not None and self.exited.is_set():
            await asyncio.gather(stopping, return_exceptions=True)
        elif stopping is not None:
            await asyncio.shield(stopping)  # already signalled: it goes on to SIGKILL
        else:
            await self._stop()
        for protocol in (self._writer, self._reader):
            if protocol is not None and not protocol.closed.is_set():
                try:
                    await asyncio.wait_for(protocol.closed.wait(), 1)
                except TimeoutError:
                    pass
        if self._stderr is not None:
            await self._stderr.finish(TERM_GRACE)

    def check_status(self) -> None:
        """Raise ChildFailed for a child that failed by itself (non-zero exit, or a signal we did not send)."""
        status = self._own_status
        if status is None or status == 0:
            return
        if status < 0:
            try:
                name = signal.Signals(-status).name
            except ValueError:
                name = str(-status)
            raise ChildFailed(f"{self.what}: killed by signal {name}")
        raise ChildFailed(f"{self.what}: exited with status {status}")


Stream = ProcessStream


class _PrefixedLines(asyncio.Protocol):
    """A child's stderr pipe: each line to our stderr after ``prefix``, whole lines per
    write (lines of concurrent sessions do not mix); a last line without a newline is
    ended with one."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        self.partial = b""
        self.transport: asyncio.BaseTransport | None = None
        self.done = asyncio.Event()  # EOF: the child (and any child of its) closed it

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.partial:
            data = self.partial + data
        end = data.rfind(b"\n") + 1
        if len(data) - end >= STDERR_LINE:
            end = len(data)  # a long line with no end in sight: out in pieces
        self.partial = data[end:]
        if end:
            self._emit(data[:end])

    def _emit(self, lines: bytes) -> None:
        body = lines[:-1] if lines.endswith(b"\n") else lines
        _to_stderr(self.prefix + body.replace(b"\n", b"\n" + self.prefix) + b"\n")

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.flush()
        self.done.set()

    def flush(self) -> None:
        partial, self.partial = self.partial, b""
        if partial:
            self._emit(partial)

    async def finish(self, grace: float) -> None:
        """After the child's exit: the rest of the pipe, for up to ``grace`` seconds (a
        child of the child may hold it open), then close it."""
        if not self.done.is_set():
            try:
                await asyncio.wait_for(self.done.wait(), grace)
            except TimeoutError:
                pass
        self.flush()
        if self.transport is not None:
            self.transport.close()


def _to_stderr(data: bytes) -> None:
    err = sys.stderr
    try:
        binary = getattr(err, "buffer", None)
        if binary is None:  # a replaced sys.stderr, text only
            err.write(data.decode(errors="replace"))
        else:
            err.flush()
            binary.write(data)
            binary.flush()
        err.flush()
    except (OSError, ValueError):
        pass  # our stderr is gone: nowhere to say it


async def _set_after(done: asyncio.Event, then: asyncio.Event) -> None:
    await done.wait()
    then.set()


def _watch_exit(child: subprocess.Popen[bytes], on_exit: Any) -> None:
    """Call on_exit() in the loop once the child has exited and been waited for."""
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(child.pid)
    except (OSError, AttributeError):
        pidfd = -1
    if pidfd >= 0:

        def readable() -> None:
            if child.poll() is None:
                return  # not yet (spurious wakeup)
            loop.remove_reader(pidfd)
            os.close(pidfd)
            on_exit()

        loop.add_reader(pidfd, readable)
        return

    def wait() -> None:  # no pidfd (not Linux, or an old kernel): a thread blocks in waitpid
        child.wait()
        try:
            loop.call_soon_threadsafe(on_exit)
        except RuntimeError:
            pass  # the loop is gone

    threading.Thread(target=wait, daemon=True).start()


def _dup2_into(fd: int, slots: list[int]) -> None:
    """In the child (or before execve): fd as each slot, inheritable."""
    for slot in slots:
        if slot == fd:
            os.set_inheritable(fd, True)  # dup2 onto itself would keep close-on-exec
        else:
            os.dup2(fd, slot)


def _socket_of(sock: ByteStream) -> tuple[int, asyncio.Transport]:
    """The fd of a socket the script holds, and its transport, paused: from now on the
    child reads it, not us."""
    protocol = getattr(sock, "protocol", None)
    transport = getattr(protocol, "transport", None)
    raw = transport.get_extra_info("socket") if isinstance(transport, asyncio.Transport) else None
    if raw is None or not isinstance(transport, asyncio.Transport) or not isinstance(protocol, StreamProtocol):
        raise WebsocatError(f"--exec-dup2: {sock.name} has no file descriptor to hand over")
    chunks, _eof = protocol.take_buffered()
    transport.pause_reading()
    if chunks:
        raise WebsocatError(f"--exec-dup2: {sum(map(len, chunks))} bytes were read before the hand-over")
    return raw.fileno(), transport


async def _hand_over(
    sock: ByteStream, stream: ProcessStream, slots: list[int], keep_nonblocking: bool, execve: bool
) -> None:
    fd, transport = _socket_of(sock)
    if not keep_nonblocking:
        os.set_blocking(fd, True)  # the socket's file description: shared with the child
    if execve:
        _execve(stream, fd, slots)
    stream.managed = True
    try:
        await stream.start((fd, slots))
        transport.abort()  # our copy of the socket; the child has its own
        await stream.exited.wait()
    except BaseException as exc:
        await stream.__aexit__(type(exc), exc, None)  # cancelled: SIGTERM, then SIGKILL
        raise
    await stream.__aexit__(None, None, None)  # its exit status, as for a piped child


def _execve(stream: ProcessStream, fd: int, slots: list[int]) -> None:
    """--exec-dup2-execve: become the program, with the socket in its slots."""
    executable = shutil.which(stream._executable)  # as Popen would find it, checked while we can still say so
    if executable is None:
        raise ConnectError(f"{stream.what}: {os.strerror(errno.ENOENT)}")
    try:
        if stream._chdir is not None:
            os.chdir(stream._chdir)
        if stream._gid is not None:
            os.setgid(stream._gid)
        if stream._uid is not None:
            if os.geteuid() == 0:
                os.setgroups([])
            os.setuid(stream._uid)
    except OSError as exc:
        raise ConnectError(_spawn_error(stream.what, exc, exc.filename)) from None
    sys.stdout.flush()
    _dup2_into(fd, slots)
    try:
        if stream._set_environment:
            os.execve(executable, stream._argv, child_environment(stream._header_to_env))
        else:
            os.execv(executable, stream._argv)
    except OSError as exc:
        os.write(2, f"websocat: {stream.what}: {os_error_text(exc)}\n".encode())
        os._exit(127)


def _spawn_error(what: str, exc: OSError, chdir: Arg | None) -> str:
    text = os_error_text(exc)
    if exc.errno == errno.EPERM:  # setuid/setgid refused (exec itself says EACCES)
        return f"{what}: cannot switch to the --exec-uid/--exec-gid given: {text}"
    where = exc.filename  # the directory, when chdir failed
    if where is not None and chdir is not None and os.fsencode(where) == os.fsencode(chdir):
        return f"{what}: --exec-chdir {os.fsdecode(chdir)}: {text}"
    return f"{what}: {text}"


class ChildOptions(TypedDict, total=False):
    """The keywords of a child process, which spawn, shell, spawn_over and shell_over take.

    Their defaults are ProcessStream's (none of them set: a plain child).  ``arg0``: the
    argv[0] it sees (--exec-arg0).  ``chdir``: its working directory (--exec-chdir).
    ``uid``, ``gid``: the user and group it runs as (--exec-uid, --exec-gid).
    ``monitor_exits`` (--exec-monitor-exits): its exit alone ends the stream, at once.
    ``windows_creation_flags``: Windows only; elsewhere an error.  ``set_environment``
    (-e): the session's request in its environment, WEBSOCAT_URI, WEBSOCAT_CLIENT and
    H_<name> for each header in ``header_to_env``.  ``exit_on_disconnect``: SIGTERM once
    the other side's EOF reaches it.  ``stderr_inherit``: its stderr lines are not
    prefixed with the session's number.
    """

    arg0: Arg | None
    chdir: Arg | None
    uid: int | None
    gid: int | None
    monitor_exits: bool
    windows_creation_flags: int | None
    set_environment: bool
    header_to_env: list[str] | tuple[str, ...]
    exit_on_disconnect: bool
    stderr_inherit: bool


async def spawn_over(
    sock: ByteStream,
    program: Arg,
    args: list[Arg] | tuple[Arg, ...] = (),
    *,
    dup2: list[int] | tuple[int, ...] = (),
    dup2_keep_nonblocking: bool = False,
    dup2_execve: bool = False,
    **options: Unpack[ChildOptions],
) -> None:
    """--exec-dup2: run the program with ``sock`` itself as the fds in ``dup2`` (0, 1:
    its stdin and stdout), no copying through websocat; return when it exits.
    ``dup2_execve``: become the program instead (this process ends there).  The other
    keywords: ChildOptions."""
    await _hand_over(sock, spawn(program, args, **options), list(dup2), dup2_keep_nonblocking, dup2_execve)


async def shell_over(
    sock: ByteStream,
    command: Arg,
    *,
    dup2: list[int] | tuple[int, ...] = (),
    dup2_keep_nonblocking: bool = False,
    dup2_execve: bool = False,
    **options: Unpack[ChildOptions],
) -> None:
    """--exec-dup2 with a shell command line (``sh -c``): as spawn_over."""
    await _hand_over(sock, shell(command, **options), list(dup2), dup2_keep_nonblocking, dup2_execve)


def _describe(prefix: str, value: Arg) -> str:
    return prefix + (os.fsdecode(value) if isinstance(value, bytes) else value)


def spawn(program: Arg, args: list[Arg] | tuple[Arg, ...] = (), **options: Unpack[ChildOptions]) -> ProcessStream:
    """Execute given program as a subprocess and use its stdin/stdout as a socket.

    ``args``: its arguments (--exec-args).  The keywords: ChildOptions (``arg0``: the
    argv[0] it sees; ``set_environment``: the session's request in its environment...).
    """
    check("spawn", options, ChildOptions)
    return ProcessStream(_describe("exec:", program), [program, *args], program, **options)


def shell(command: Arg, **options: Unpack[ChildOptions]) -> ProcessStream:
    """Execute given command line (``sh -c``) and use its stdin/stdout as a socket.

    ``arg0``: the shell's argv[0] (--exec-arg0); the other keywords as spawn's (ChildOptions).
    """
    check("shell", options, ChildOptions)
    return ProcessStream(_describe("cmd:", command), ["sh", "-c", command], "sh", **options)
