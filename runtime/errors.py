"""Errors the runtime reports as one line on stderr, and the exit code of each kind."""

from __future__ import annotations

import os

# Documented exit codes: README's table, the --help epilog and docs/reference.md read EXIT_CODES.
EXIT_OK = 0  # normal end, also when --global-timeout-ms expires (as websocat4)
EXIT_FAILURE = 1  # any other runtime failure; --global-timeout-ms with --global-timeout-force-exit
EXIT_USAGE = 2  # bad command line: unknown option or prefix, bad value, not implemented
EXIT_CONNECT = 3  # could not connect, bind, open or resolve
EXIT_PROTOCOL = 4  # the peer broke the protocol (bad handshake, invalid frame, mock mismatch)
EXIT_TIMEOUT = 5  # a timeout that is an error (connect, handshake, idle); not --global-timeout-ms
EXIT_PEER_CLOSED = 6  # the peer closed a WebSocket with a code other than 1000, 1001, 1005
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2
EXIT_TERMINATED = 143  # SIGTERM: 128 + 15

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "normal end, also when --global-timeout-ms expires"),
    (EXIT_FAILURE, "other runtime failure; --global-timeout-ms expired with --global-timeout-force-exit"),
    (EXIT_USAGE, "usage error: unknown/invalid option or prefix, a bad --compose line"),
    (EXIT_CONNECT, "could not connect, listen, open a file or resolve a name"),
    (EXIT_PROTOCOL, "protocol error (bad WebSocket handshake or frame, mock scenario mismatch)"),
    (EXIT_TIMEOUT, "a timeout: --connect-timeout-ms (TCP, TLS or upgrade), --idle-timeout-ms, --ping-timeout"),
    (
        EXIT_PEER_CLOSED,
        "a peer closed a WebSocket with a code other than 1000, 1001, 1005 (the run went well otherwise)",
    ),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C, SIGINT); WebSockets were closed with 1001"),
    (EXIT_TERMINATED, "stopped by SIGTERM; WebSockets were closed with 1001"),
)


class WebsocatError(Exception):
    """A failure with a one-line message for the user and an exit code."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(WebsocatError):
    exit_code = EXIT_USAGE


class ConnectError(WebsocatError):
    exit_code = EXIT_CONNECT


class ProtocolError(WebsocatError):
    exit_code = EXIT_PROTOCOL


class TimeoutExpired(WebsocatError):
    exit_code = EXIT_TIMEOUT


class IdleTimeout(TimeoutExpired):
    """--idle-timeout-ms: no data either way; a WebSocket is closed with 1001 'idle timeout'."""

    close_code = 1001
    close_reason = "idle timeout"


# Set when a peer closed a WebSocket with an unusual code (the line is printed then):
# run() turns an exit status of 0 into EXIT_PEER_CLOSED.
PEER_CLOSED_ABNORMALLY = False


def note_abnormal_close() -> None:
    global PEER_CLOSED_ABNORMALLY
    PEER_CLOSED_ABNORMALLY = True


def os_error_text(exc: OSError) -> str:
    """The OS error text without Python's '[Errno N]' decoration."""
    if exc.errno:
        return os.strerror(exc.errno)  # asyncio replaces strerror with 'Connect call failed ...'
    return exc.strerror or str(exc)


class Refused(ProtocolError):
    """A server let a client in no further: --restrict-uri, --allow-origin,
    --server-basic-auth-file, --conncap.  The message is the reason; the serving loop
    prints ``refused PEER: REASON`` (``with_peer``)."""

    def __init__(self, reason: str, peer: str = "") -> None:
        super().__init__(f"refused {peer}: {reason}" if peer else f"refused: {reason}")
        self.reason = reason

    def with_peer(self, peer: str) -> Refused:
        return Refused(self.reason, peer) if peer else self


class Answered(WebsocatError):
    """A plain HTTP request the WebSocket server answered itself (a --static-file): the
    session's normal end, no error."""

    exit_code = EXIT_OK
