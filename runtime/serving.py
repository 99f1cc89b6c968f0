"""Serving sessions for any listener: one session per connection, owned by a TaskGroup.

A listener family (TCP, UDP, UNIX stream and seqpacket sockets, inherited sockets)
supplies only its listen primitive: ``open_listener(accept)`` starts listening, calls
``accept(conn)`` for each new connection (a ByteStream, or a MessageSocket such as a UDP
peer's session or a seqpacket connection), and
returns a `Listener`.  This module owns the rest:
``--oneshot`` and ``--exit-after-one-session``, the announced addresses, the ready line
of ``-s``, ``--conncap``, the one-line error of each failed or refused session, and each
session's number and client in its context (runtime/context.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypedDict

from websocat.runtime import stats, workers
from websocat.runtime.context import start_session
from websocat.runtime.errors import Answered, Refused
from websocat.runtime.sockets import Socket

__all__ = ["BUSY", "Listener", "Options", "after_listen", "serve"]


# Set in a session over --conncap (``conncap_http``): why its handshake answers 503.
BUSY: contextvars.ContextVar[str | None] = contextvars.ContextVar("websocat_busy", default=None)


class Listener(Protocol):
    """What a family's listen primitive returns."""

    def close(self) -> None:
        """Stop accepting connections (open sessions go on)."""

    def announcements(self) -> list[str]:
        """One ``proto=tcp,ip=...,port=...`` (``proto=udp``, ``proto=unix``) text per bound
        socket (--stdout-announce-listening-ports)."""

    def addresses(self) -> list[str]:
        """Each bound address as a user reads it, e.g. ``127.0.0.1:1234`` (the -s ready line)."""


Session = Callable[..., Awaitable[None]]


class Options(TypedDict, total=False):
    """serve()'s keywords, which every listener's serve function passes on as they are
    (``**serving_options: Unpack[serving.Options]``); see serve() for each."""

    oneshot: bool
    exit_after_one_session: bool
    announce: bool
    ready_message: str | None
    exec_after_listen: str | None
    exec_after_listen_append_port: bool
    conncap: int | None
    conncap_http: bool


async def serve(
    open_listener: Callable[[Callable[[Socket], None]], Awaitable[Listener]],
    session: Session,
    *args: Any,
    oneshot: bool = False,
    exit_after_one_session: bool = False,
    announce: bool = False,
    ready_message: str | None = None,
    exec_after_listen: str | None = None,
    exec_after_listen_append_port: bool = False,
    conncap: int | None = None,
    conncap_http: bool = False,
) -> None:
    """Run ``session(stream, *args)`` for each connection, concurrently, until cancelled.

    A failing session is reported on stderr and serving goes on, except with
    ``oneshot`` (serve the first connection only), where its failure is the process's.
    ``exit_after_one_session``: return when the first session ends, cancelling the
    others.  ``ready_message``: printed on stderr once listening, ``{}`` replaced by the
    bound address (the port that port 0 got, say).  ``exec_after_listen``: a command
    line run (``sh -c``) once listening; connections wait until it exits.

    ``conncap`` (--conncap): at most that many sessions at once; a connection beyond is
    closed at once, or with ``conncap_http`` (a WebSocket listener) runs its session
    marked busy (ws_access.BUSY), whose handshake answers 503 and opens nothing else.
    A session whose client is refused (`Refused`: --conncap, --restrict-uri,
    --allow-origin, --server-basic-auth-file) prints ``refused PEER: REASON``; one that a
    static file answered (`Answered`) ends quietly.
    """
    first_done: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
    listener: Listener | None = None
    running: set[asyncio.Task[None]] = set()
    ready = asyncio.Event()
    if exec_after_listen is None or not workers.is_first():
        ready.set()

    async def run_session(stream: Socket, number: int) -> None:
        error: BaseException | None = None
        start_session(number, stream)  # this task's own: its children read it (runtime/context.py)
        session_stats = stats.session(getattr(stream, "peer", "")) if stats.MODE is not None else None
        # A refused client or a static file is no session for --exit-after-one-session
        # (with --oneshot the listener is closed already: it ends the process).
        counts = True
        try:
            if not ready.is_set():
                await ready.wait()  # --exec-after-listen is still running
            await session(stream, *args)
        except (Exception, ExceptionGroup) as exc:
            error = _leaf(exc)
            peer = getattr(stream, "peer", "")  # now: tls-accept: adds the client certificate's subject
            if isinstance(error, Answered):
                error, counts = None, oneshot  # a static file was served: a normal end
            elif isinstance(error, Refused):
                error, counts = error.with_peer(peer), oneshot
                if not oneshot:
                    _report(error.message)
            elif not oneshot:
                _report_session_error(peer, exc)
        finally:
            await stream.aclose()
            if session_stats is not None:
                session_stats.report(_error_text(error) if error is not None else None)
            if counts and not first_done.done():
                first_done.set_result(error)

    async def refuse_busy(stream: Socket, reason: str) -> None:
        """Over --conncap: let the session's handshake answer 503 (it raises Refused)."""
        BUSY.set(reason)
        try:
            await session(stream, *args)
        except (Exception, ExceptionGroup) as exc:
            error = _leaf(exc)
            if isinstance(error, Refused):
                _report(error.with_peer(getattr(stream, "peer", "")).message)
        finally:
            await stream.aclose()

    async with asyncio.TaskGroup() as sessions:  # every session has an owner
        accepted = 0

        busy: set[asyncio.Task[None]] = set()

        def accept(stream: Socket) -> None:
            nonlocal accepted
            accepted += 1
            if oneshot and accepted > 1:
                asyncio.ensure_future(stream.aclose())  # serve only the first one
                return
            if conncap is not None and len(running) >= conncap:
                reason = f"--conncap {conncap} reached"
                if conncap_http and len(busy) < max(conncap, 8):
                    task = sessions.create_task(refuse_busy(stream, reason))
                    busy.add(task)
                    task.add_done_callback(busy.discard)
                else:
                    peer = getattr(stream, "peer", "")
                    _report(f"refused {peer}: {reason}, closed at once" if peer else f"refused: {reason}")
                    asyncio.ensure_future(stream.aclose())
                return
            if oneshot and listener is not None:
                listener.close()
            task = sessions.create_task(run_session(stream, accepted))
            running.add(task)
            task.add_done_callback(running.discard)

        listener = await open_listener(accept)
        first = workers.is_first()  # --workers: one announcement, one --exec-after-listen
        if announce and first:
            sys.stdout.write("".join(f"LISTEN {text}\n" for text in listener.announcements()))
            sys.stdout.flush()
        if ready_message is not None and first:
            sys.stderr.write("".join(ready_message.format(address) + "\n" for address in listener.addresses()))
            sys.stderr.flush()
        try:
            if exec_after_listen is not None and first:
                port = getattr(listener, "port", lambda: None)()
                await after_listen(exec_after_listen, port if exec_after_listen_append_port else None)
                ready.set()
            if oneshot or exit_after_one_session:
                error = await first_done
                if error is not None and oneshot:
                    raise error
                return
            await asyncio.Future()  # serve until cancelled
        finally:
            listener.close()
            if exit_after_one_session:
                for task in running:
                    task.cancel()


async def after_listen(command: str, port: int | None = None) -> None:
    """--exec-after-listen: run ``sh -c COMMAND`` (with `` PORT`` appended, given one:
    --exec-after-listen-append-port) and wait for it; its exit status is ignored."""
    if port is not None:
        command = f"{command} {port}"
    child = await asyncio.create_subprocess_exec("sh", "-c", command)
    try:
        await child.wait()
    except asyncio.CancelledError:
        if child.returncode is None:
            child.terminate()
            await asyncio.shield(child.wait())
        raise


def _error_text(exc: BaseException) -> str:
    from websocat.runtime.running import describe_error

    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return describe_error(exc)[0]


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _report(message: str) -> None:
    from websocat.runtime.running import report

    report(message)


def _report_session_error(peer: str, exc: BaseException) -> None:
    from websocat.runtime.running import describe_error, report

    message, _status = describe_error(_leaf(exc))
    report(f"{peer}: {message}" if peer else message)
