"""UNIX sockets: stream (unix:, abstract:) and seqpacket ones, by path, abstract name or
inherited listening socket (runtime/endpoints/unix.py, seqpacket.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from websocat.planner.model import Endpoint, Kind, Octal, SpecError
from websocat.planner.specs import Listening, Rendered, option, positional, register
from websocat.planner.values import os_value

MAX_SEND_DATAGRAM_SIZE = 1 << 20  # runtime/endpoints/seqpacket.py's default


def file_mode(owner: bool, group: bool, everyone: bool) -> Octal | None:
    """--chmod-owner, --chmod-group, --chmod-everyone: the socket file's mode (the first
    given wins, in this order, as websocat4)."""
    for given, mode in ((owner, 0o600), (group, 0o660), (everyone, 0o666)):
        if given:
            return Octal(mode)
    return None


def descriptor(value: str, prefix: str) -> int:
    if not value.isdigit():
        raise SpecError(f"'{prefix}' expects a file descriptor number, got {value!r}")
    return int(value)


def fd_name(value: str, prefix: str) -> str:
    if not value or ":" in value:
        raise SpecError(f"'{prefix}' expects a name from LISTEN_FDNAMES (no ':'), got {value!r}")
    return value


@dataclass(frozen=True)
class Listens:
    """The options every UNIX or inherited-socket listener takes (a mixin)."""

    announce: bool = option("--stdout-announce-listening-ports", default=False)
    exec_after_listen: str | None = option("--exec-after-listen", default=None)
    exec_after_listen_append_port: bool = option("--exec-after-listen-append-port", default=False)
    listener: ClassVar[bool] = True


@dataclass(frozen=True)
class UnixPath(Endpoint):
    path: str | bytes = positional("")
    grammar: ClassVar[str] = "a filesystem path"

    @classmethod
    def from_value(cls, value: str) -> Self:
        if not value:
            raise SpecError(f"'{cls.prefixes[0]}' expects a socket path")
        return cls(os_value(value))


@dataclass(frozen=True)
class AbstractName(Endpoint):
    name: str | bytes = positional("")
    grammar: ClassVar[str] = "an abstract socket name"

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(os_value(value))


@dataclass(frozen=True)
class InheritedFd(Endpoint):
    fd: int = positional(0)
    grammar: ClassVar[str] = "a file descriptor number"

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(descriptor(value, cls.prefixes[0]))


@dataclass(frozen=True)
class NamedFd(Endpoint):
    fd: str = positional("")
    grammar: ClassVar[str] = "a name from LISTEN_FDNAMES"

    @classmethod
    def from_value(cls, value: str) -> Self:
        return cls(fd_name(value, cls.prefixes[0]))


# -- stream sockets


@register("unix:", "unix-connect:", "connect-unix:", "unix-c:", "c-unix:")
@dataclass(frozen=True)
class UnixConnect(UnixPath):
    """Connect to the specified UNIX socket path using stream socket."""

    render: ClassVar = Rendered("endpoints.unix", "connect", "unix")


@register("unix-listen:", "listen-unix:", "unix-l:", "l-unix:")
@dataclass(frozen=True)
class UnixListen(Listens, UnixPath):
    """Listen specified UNIX socket path for SOCK_STREAM connections."""

    unlink: bool = option("--unlink", default=False)
    chmod: int | None = option("--chmod-owner", "--chmod-group", "--chmod-everyone", default=None, convert=file_mode)
    render: ClassVar = Rendered("endpoints.unix", "accept_one", "unix")
    listening: ClassVar = Listening("endpoints.unix", "serve", "unix.Stream")


@register("abstract:", "abstract-connect:", "connect-abstract:", "abstract-c:", "c-abstract:", "abs:")
@dataclass(frozen=True)
class AbstractConnect(AbstractName):
    """Connect to the specified abstract-namespaced UNIX socket (Linux)."""

    render: ClassVar = Rendered("endpoints.unix", "connect_abstract", "unix")


@register("abstract-listen:", "listen-abstract:", "abstract-l:", "l-abstract:", "l-abs:", "abs-l:")
@dataclass(frozen=True)
class AbstractListen(Listens, AbstractName):
    """Listen UNIX socket on specified abstract path (Linux)."""

    render: ClassVar = Rendered("endpoints.unix", "accept_one_abstract", "unix")
    listening: ClassVar = Listening("endpoints.unix", "serve_abstract", "unix.Stream")


@register("unix-listen-fd:", "listen-unix-fd:", "unix-l-fd:", "l-unix-fd:")
@dataclass(frozen=True)
class UnixListenFd(Listens, InheritedFd):
    """Listen for incoming AF_UNIX SOCK_STREAM connections on one socket that is already
    ready for accepting incoming connections, with specified file descriptor (inherited
    from parent process)."""

    render: ClassVar = Rendered("endpoints.unix", "accept_one_fd", "unix")
    listening: ClassVar = Listening("endpoints.unix", "serve_fd", "unix.Stream")


@register("unix-listen-fdname:", "listen-unix-fdname:", "unix-l-fdname:", "l-unix-fdname:")
@dataclass(frozen=True)
class UnixListenFdNamed(Listens, NamedFd):
    """Listen for incoming AF_UNIX SOCK_STREAM connections on one socket that is already
    ready for accepting incoming connections, with specified file descriptor (inherited
    from parent process) based on LISTEN_FDNAMES environment variable (i.e. from SystemD)."""

    render: ClassVar = Rendered("endpoints.unix", "accept_one_fd", "unix")
    listening: ClassVar = Listening("endpoints.unix", "serve_fd", "unix.Stream")


# -- seqpacket sockets: messages


@dataclass(frozen=True)
class Seqpacket:
    """The options every seqpacket endpoint takes (a mixin)."""

    text: bool = option("--text", default=False)
    max_send_datagram_size: int = option("--seqpacket-max-send-datagram-size", default=MAX_SEND_DATAGRAM_SIZE)
    provides: ClassVar[Kind] = Kind.MESSAGES


@register("seqpacket:", "seqpacket-connect:", "connect-seqpacket:", "seqpacket-c:", "c-seqpacket:", "seqp:")
@dataclass(frozen=True)
class SeqpacketConnect(Seqpacket, UnixPath):
    """Connect to specified UNIX SOCK_SEQPACKET socket by path."""

    render: ClassVar = Rendered("endpoints.seqpacket", "connect", "seqpacket")


@register("seqpacket-listen:", "listen-seqpacket:", "seqpacket-l:", "l-seqpacket:", "l-seqp:", "seqp-l:")
@dataclass(frozen=True)
class SeqpacketListen(Listens, Seqpacket, UnixPath):
    """Listen specified UNIX SOCK_SEQPACKET socket."""

    unlink: bool = option("--unlink", default=False)
    chmod: int | None = option("--chmod-owner", "--chmod-group", "--chmod-everyone", default=None, convert=file_mode)
    render: ClassVar = Rendered("endpoints.seqpacket", "accept_one", "seqpacket")
    listening: ClassVar = Listening("endpoints.seqpacket", "serve", "seqpacket.Socket")


@register(
    "seqpacket-abstract:",
    "seqpacket-abstract-connect:",
    "seqpacket-abstract-c:",
    "abstract-seqpacket:",
    "abstract-seqpacket-connect:",
    "abstract-seqpacket-c:",
    "abs-seqp:",
    "seqp-abs:",
)
@dataclass(frozen=True)
class AbstractSeqpacketConnect(Seqpacket, AbstractName):
    """Connect to specified UNIX SOCK_SEQPACKET socket by abstract (Linux) name."""

    render: ClassVar = Rendered("endpoints.seqpacket", "connect_abstract", "seqpacket")


@register(
    "seqpacket-abstract-listen:",
    "seqpacket-abstract-l:",
    "abstract-seqpacket-listen:",
    "abstract-seqpacket-l:",
    "abs-seqp-l:",
    "seqp-abs-l:",
    "l-abs-seqp:",
    "l-seqp-abs:",
)
@dataclass(frozen=True)
class AbstractSeqpacketListen(Listens, Seqpacket, AbstractName):
    """Listen specified UNIX SOCK_SEQPACKET socket by abstract (Linux) name."""

    render: ClassVar = Rendered("endpoints.seqpacket", "accept_one_abstract", "seqpacket")
    listening: ClassVar = Listening("endpoints.seqpacket", "serve_abstract", "seqpacket.Socket")


@register(
    "seqpacket-listen-fd:", "listen-seqpacket-fd:", "seqpacket-l-fd:", "l-seqpacket-fd:", "l-seqp-fd:", "seqp-l-fd:"
)
@dataclass(frozen=True)
class SeqpacketListenFd(Listens, Seqpacket, InheritedFd):
    """Listen for SOCK_SEQPACKET connections on one socket that is already ready for
    accepting incoming connections, with specified file descriptor (inherited from parent
    process)."""

    render: ClassVar = Rendered("endpoints.seqpacket", "accept_one_fd", "seqpacket")
    listening: ClassVar = Listening("endpoints.seqpacket", "serve_fd", "seqpacket.Socket")


@register(
    "seqpacket-listen-fdname:",
    "listen-seqpacket-fdname:",
    "seqpacket-l-fdname:",
    "l-seqpacket-fdname:",
    "l-seqp-fdname:",
    "seqp-l-fdname:",
)
@dataclass(frozen=True)
class SeqpacketListenFdNamed(Listens, Seqpacket, NamedFd):
    """Listen for SOCK_SEQPACKET connections on one socket that is already ready for
    accepting incoming connections, with specified file descriptor (inherited from parent
    process) based on LISTEN_FDNAMES environment variable (i.e. from SystemD)."""

    render: ClassVar = Rendered("endpoints.seqpacket", "accept_one_fd", "seqpacket")
    listening: ClassVar = Listening("endpoints.seqpacket", "serve_fd", "seqpacket.Socket")
