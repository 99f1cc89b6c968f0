"""File endpoints: readfile:, writefile:, appendfile: (runtime/endpoints/files.py)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import ClassVar, Self

from websocat.planner.model import Endpoint, SpecError
from websocat.planner.specs import Rendered, option, positional, register
from websocat.planner.values import os_value


@dataclass(frozen=True)
class FileEndpoint(Endpoint):
    path: str | bytes = positional("")
    grammar: ClassVar[str] = "a file path"

    @classmethod
    def from_value(cls, value: str) -> Self:
        if not value:
            raise SpecError(f"'{cls.prefixes[0]}' expects a file path")
        return cls(os_value(value))


@register("readfile:")
@dataclass(frozen=True)
class ReadFile(FileEndpoint):
    """Read specified file. Ignores writes."""

    render: ClassVar = Rendered("endpoints.files", "read", "file")


@register("writefile:")
@dataclass(frozen=True)
class WriteFile(FileEndpoint):
    """Write specified file."""

    no_overwrite: bool = option("--write-file-no-overwrite", default=False)
    auto_rename: bool = option("--write-file-auto-rename", default=False)
    render: ClassVar = Rendered("endpoints.files", "write", "file")

    def prefers_being_single(self, opts: argparse.Namespace) -> bool:
        return not opts.write_file_no_overwrite  # a file per session, named apart, is fine


@register("appendfile:")
@dataclass(frozen=True)
class AppendFile(FileEndpoint):
    """Append to specified file."""

    single: ClassVar[bool] = True
    render: ClassVar = Rendered("endpoints.files", "append", "file")
