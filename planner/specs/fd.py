"""Inherited descriptors: tcp-listen-fd:, tcp-listen-fdname: (runtime/endpoints/fds.py)
and async-fd: (runtime/endpoints/asyncfd.py).  The UNIX ones are in unix.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from websocat.planner.specs import Listening, Rendered, option, positional, register
from websocat.planner.specs.unix import InheritedFd, Listens, NamedFd, descriptor
from websocat.planner.model import Endpoint
from websocat.planner.specs.tcp import SOCKET_OPTIONS
from websocat.planner.values import socket_options
from websocat.runtime.socket_options import STREAM_OPTIONS

# On an inherited socket, bound already, only the options of accepted connections apply
# (as websocat4, which passes only the stream options to an fd listener).
ACCEPTED_OPTIONS = tuple(name for name in SOCKET_OPTIONS if name[2:].replace("-", "_") in STREAM_OPTIONS)


@register("tcp-listen-fd:", "listen-tcp-fd:", "tcp-l-fd:", "l-tcp-fd:")
@dataclass(frozen=True)
class TcpListenFd(Listens, InheritedFd):
    """Listen for incoming TCP connections on one TCP socket that is already ready for
    accepting incoming connections, with specified file descriptor (inherited from parent
    process)."""

    sockopts: dict[str, Any] | None = option(*ACCEPTED_OPTIONS, default=None, convert=socket_options(ACCEPTED_OPTIONS))
    render: ClassVar = Rendered("endpoints.fds", "accept_one_tcp", "tcp")
    listening: ClassVar = Listening("endpoints.fds", "serve_tcp", "fds.Stream")


@register("tcp-listen-fdname:", "listen-tcp-fdname:", "tcp-l-fdname:", "l-tcp-fdname:")
@dataclass(frozen=True)
class TcpListenFdNamed(Listens, NamedFd):
    """Listen for incoming TCP connections on one TCP socket that is already ready for
    accepting incoming connections, with specified file descriptor (inherited from parent
    process) based on LISTEN_FDNAMES environment variable (i.e. from SystemD)."""

    sockopts: dict[str, Any] | None = option(*ACCEPTED_OPTIONS, default=None, convert=socket_options(ACCEPTED_OPTIONS))
    render: ClassVar = Rendered("endpoints.fds", "accept_one_tcp", "tcp")
    listening: ClassVar = Listening("endpoints.fds", "serve_tcp", "fds.Stream")


@register("async-fd:", "open-fd:")
@dataclass(frozen=True)
class AsyncFd(Endpoint):
    """Use specified inherited file descriptor for reading and writing, assuming it
    supports read(2) and writev(2) and can be put in epoll (or analogue); with
    --async-fd-force even when it cannot (then it is retried every 77 ms when not ready)."""

    fd: int = positional(0)
    force: bool = option("--async-fd-force", default=False)
    grammar: ClassVar[str] = "a file descriptor number"
    single: ClassVar[bool] = True
    render: ClassVar = Rendered("endpoints.asyncfd", "open", "fd")

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(descriptor(value, cls.prefixes[0]))
