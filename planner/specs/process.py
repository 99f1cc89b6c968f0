"""Process endpoints: exec: (a program and its arguments) and cmd: / sh-c: (a shell
command line) (runtime/endpoints/process.py)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Self

from websocat.planner.model import Endpoint, Invocation, SpecError
from websocat.planner.specs import Rendered, option, positional, register
from websocat.planner.values import os_value


def _args(values: list[str]) -> list[str | bytes]:
    return [os_value(v) for v in values]


def _os(value: str) -> str | bytes:
    return os_value(value)


def _id(what: str) -> Any:
    def convert(value: int) -> int:
        if not 0 <= value < 1 << 32:
            raise SpecError(f"{what} must be a number from 0 to 4294967295, got {value}")
        return value

    return convert


# An HTTP header name (RFC 9110's token): H_<name> is then a valid environment variable name.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _header_names(values: list[str]) -> list[str]:
    for value in values:
        if not _TOKEN.fullmatch(value):
            raise SpecError(f"--header-to-env takes a header name such as User-Agent, got {value!r}")
    return list(values)


def _windows_only(value: int) -> int:
    if sys.platform != "win32":
        raise SpecError("--exec-windows-creation-flags is only available on Windows")
    return value


@dataclass(frozen=True)
class _Child(Endpoint):
    """What a child process is started with: the options every exec:/cmd: takes."""

    arg0: str | bytes | None = option("--exec-arg0", default=None, convert=_os)
    chdir: str | bytes | None = option("--exec-chdir", default=None, convert=_os)
    uid: int | None = option("--exec-uid", default=None, convert=_id("--exec-uid"))
    gid: int | None = option("--exec-gid", default=None, convert=_id("--exec-gid"))
    monitor_exits: bool = option("--exec-monitor-exits", default=False)
    windows_creation_flags: int | None = option("--exec-windows-creation-flags", default=None, convert=_windows_only)
    # websocat v1's: the session's request, in the environment (runtime/context.py)
    set_environment: bool = option("--set-environment", default=False)
    header_to_env: tuple[str, ...] | list[str] = option("--header-to-env", default=(), convert=_header_names)
    exit_on_disconnect: bool = option("--exec-exit-on-disconnect", default=False)
    stderr_inherit: bool = option("--exec-stderr-inherit", default=False)


@register("exec:")
@dataclass(frozen=True)
class Exec(_Child):
    """Execute given program as a subprocess and use its stdin/stdout as a socket.
    Specify command line arguments using --exec-args command line option."""

    program: str | bytes = positional("")
    args: tuple[str | bytes, ...] | list[str | bytes] = option("--exec-args", default=(), convert=_args)
    grammar: ClassVar[str] = "a program, found in PATH (arguments: --exec-args)"
    render: ClassVar = Rendered("endpoints.process", "spawn", "proc")

    @classmethod
    def from_value(cls, value: str) -> Self:
        if not value:
            raise SpecError("'exec:' needs a program to run")
        return cls(program=os_value(value))

    def call_arguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """``spawn("cat", ["-u"])``: the arguments, as a literal list, after the program."""
        args, kwargs = super().call_arguments()
        given = kwargs.pop("args", None)
        return (*args, given) if given is not None else args, kwargs


@register("cmd:", "sh-c:")
@dataclass(frozen=True)
class Cmd(_Child):
    """Execute given command line and use its stdin/stdout as a socket."""

    command: str | bytes = positional("")
    grammar: ClassVar[str] = "a shell command line (run with sh -c)"
    render: ClassVar = Rendered("endpoints.process", "shell", "proc")

    @classmethod
    def from_value(cls, value: str) -> Self:
        if not value:
            raise SpecError("'cmd:' needs a command line to run")
        return cls(command=os_value(value))


def _slots(value: str) -> list[int]:
    try:
        slots = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        slots = []
    if not slots or any(slot < 0 for slot in slots) or len(slots) > 16:
        raise SpecError(f"--exec-dup2 takes a comma-separated list of fd numbers such as 0,1, got {value!r}")
    return slots


@dataclass(frozen=True)
class _HandOver:
    """--exec-dup2: the left socket itself becomes the child's fds; no copying."""

    dup2: tuple[int, ...] | list[int] = option("--exec-dup2", default=(), convert=_slots, always=True)
    dup2_keep_nonblocking: bool = option("--exec-dup2-keep-nonblocking", default=False)
    dup2_execve: bool = option("--exec-dup2-execve", default=False)
    # Rendered as ``await process.spawn_over(left, ...)`` in place of the exchange.
    takes_over: ClassVar[bool] = True


@dataclass(frozen=True)
class ExecDup2(_HandOver, Exec):
    """Execute given program with the other side's socket as its stdin/stdout (--exec-dup2)."""

    render: ClassVar = Rendered("endpoints.process", "spawn_over", "proc")


@dataclass(frozen=True)
class CmdDup2(_HandOver, Cmd):
    """Execute given command line with the other side's socket as its stdin/stdout (--exec-dup2)."""

    render: ClassVar = Rendered("endpoints.process", "shell_over", "proc")


def exec_dup2(inv: Invocation) -> Invocation:
    """--exec-dup2: the right side's exec:/cmd: is handed the left socket itself (websocat4:
    overlays do not apply, the right side must be exec:/cmd:, the left must not)."""
    if inv.opts.exec_dup2 is None:
        return inv
    left, right = inv.left, inv.right
    if left is None or right is None:
        return inv
    if isinstance(left.endpoint, (Exec, Cmd)):
        raise SpecError("--exec-dup2 requires the exec:/cmd: endpoint on the right side (SPEC2), not on the left")
    if not isinstance(right.endpoint, (Exec, Cmd)):
        raise SpecError("--exec-dup2 requires the right side (SPEC2) to be exec: or cmd:")
    if left.overlays or right.overlays:
        raise SpecError("--exec-dup2 hands the socket itself to the program: neither side may have overlays")
    kind = ExecDup2 if isinstance(right.endpoint, Exec) else CmdDup2
    endpoint = kind(**{f.name: getattr(right.endpoint, f.name) for f in fields(right.endpoint)})
    return inv.with_(right=replace(right, endpoint=endpoint))


def check_exit_on_disconnect(inv: Invocation) -> None:
    """--exec-exit-on-disconnect stops a child at the EOF the other side sends it: refused
    where -u/-U shut that direction at the start (the child would be stopped at once)."""
    exchange = inv.exchange
    if exchange is None or exchange.late_drop:
        return
    for stack, shut_at_start, flag in (
        (inv.left, exchange.unidirectional, "-u"),
        (inv.right, exchange.unidirectional_reverse, "-U"),
    ):
        child = stack.endpoint if stack is not None else None
        if shut_at_start and isinstance(child, (Exec, Cmd)) and child.exit_on_disconnect:
            raise SpecError(
                f"--exec-exit-on-disconnect with {flag}: the child's stdin is closed at the start, which would "
                "stop it at once; add --unidirectional-late-drop to keep it open"
            )
