"""Process endpoints: exec: (a program and its arguments) and cmd: / sh-c: (a shell
command line) (runtime/endpoints/process.py)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from websocat.planner.model import Endpoint, SpecError
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
