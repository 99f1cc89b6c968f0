"""What a session knows about the request that started it: its number, its client, and
the WebSocket upgrade request, for the exec:/cmd: children it starts.

A listener's session runs in a task of its own (runtime/serving.py), so a context
variable set there is that session's alone.  The listener sets the session's number and,
for a TCP connection, the client's ``host:port``; a WebSocket server handshake
(``ws.accept``, ``ws.accept_upgrade``) adds the request target and headers.  The process
endpoints read it when they start a child: ``-e`` (--set-environment) puts it in the
child's environment, and the number prefixes the child's stderr lines.

Nothing else is passed along the script for this, so a scenario reads as before; the
keywords of ``process.spawn`` and ``process.shell`` (``set_environment=True``,
``header_to_env=[...]``) say where it is used.
"""

from __future__ import annotations

import contextvars
import os
import re
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["SESSION", "SessionContext", "child_environment", "note_request", "start_session"]


_NOT_IN_NAMES = re.compile(r"[^0-9A-Za-z_]")  # what a shell variable's name cannot have


@dataclass(frozen=True, slots=True)
class SessionContext:
    """The request of one session, as far as it is known."""

    number: int | None = None  # the listener's count of sessions, from 1; None outside a listener
    client: str | None = None  # host:port of the TCP client (WEBSOCAT_CLIENT)
    uri: str | None = None  # the WebSocket request target, /path?query (WEBSOCAT_URI)
    headers: tuple[tuple[str, str], ...] = ()  # the request's headers, in order


SESSION: contextvars.ContextVar[SessionContext] = contextvars.ContextVar("websocat_session", default=SessionContext())


def start_session(number: int, stream: Any) -> None:
    """In a listener's new session task: its number, and its TCP client's address."""
    SESSION.set(SessionContext(number=number, client=_tcp_client(stream)))


def note_request(target: str, headers: tuple[tuple[str, str], ...]) -> None:
    """After a WebSocket server handshake: the request target and headers."""
    SESSION.set(replace(SESSION.get(), uri=target, headers=headers))


def child_environment(header_to_env: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
    """Our environment plus websocat v1's request variables (-e, --set-environment):
    WEBSOCAT_URI, WEBSOCAT_CLIENT, and H_<name> for each header named in
    ``header_to_env`` (its first value).  A variable with nothing to say is not set.

    A header name with characters no shell variable has (User-Agent's '-') also gives
    H_User_Agent: sh, which runs cmd:, drops variables whose names it cannot use."""
    context = SESSION.get()
    env = dict(os.environ)
    for name in ("WEBSOCAT_URI", "WEBSOCAT_CLIENT", *(f"H_{header}" for header in header_to_env)):
        env.pop(name, None)  # ours, not inherited: a missing one is missing
    if context.uri is not None:
        env["WEBSOCAT_URI"] = context.uri
    if context.client is not None:
        env["WEBSOCAT_CLIENT"] = context.client
    for header in header_to_env:
        wanted = header.lower()
        value = next((v for k, v in context.headers if k.lower() == wanted), None)
        if value is None or "\0" in value:  # (no NUL can be in the environment)
            continue
        env[f"H_{header}"] = value
        shell_name = _NOT_IN_NAMES.sub("_", header)
        if shell_name != header:
            env[f"H_{shell_name}"] = value  # H_User_Agent: sh (cmd:) drops H_User-Agent
    return env


def _tcp_client(stream: Any) -> str | None:
    """host:port ([v6]:port) of a TCP (or UDP) peer; None for other sockets (UNIX, stdio)."""
    transport = getattr(getattr(stream, "protocol", None), "transport", None)
    peer = transport.get_extra_info("peername") if transport is not None else None
    if not isinstance(peer, tuple) or len(peer) < 2:
        return None
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
