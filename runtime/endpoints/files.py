"""File endpoints: readfile:, writefile:, appendfile:.

Regular files never block for long, so they are read and written with plain os.read
and os.write in large chunks; no thread hop per chunk.
"""

from __future__ import annotations

import errno
import os
import stat

from websocat.runtime.errors import ConnectError, os_error_text
from websocat.runtime.sockets import DEFAULT_READ, ByteStream

Path = str | bytes


def _open(prefix: str, path: Path, flags: int) -> int:
    try:
        fd = os.open(path, flags | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise ConnectError(f"{prefix} {os.fsdecode(path)}: {os_error_text(exc)}") from None
    if stat.S_ISDIR(os.fstat(fd).st_mode):  # opening a directory read-only succeeds on Linux
        os.close(fd)
        raise ConnectError(f"{prefix} {os.fsdecode(path)}: {os.strerror(errno.EISDIR)}")
    return fd


class FileStream(ByteStream):
    """A file as a stream socket; the half it does not have is missing or ignores data."""

    def __init__(self, prefix: str, path: Path, flags: int, *, readable: bool) -> None:
        self.name = prefix  # type: ignore[misc]
        self.path = path
        self._flags = flags
        self.readable = readable
        self.writable = True  # readfile: ignores writes
        self._fd = -1

    async def __aenter__(self) -> FileStream:
        self._fd = _open(self.name, self.path, self._flags)
        self.managed = True
        return self

    async def read(self, max_bytes: int = DEFAULT_READ) -> bytes:
        return os.read(self._fd, max(max_bytes, 1 << 16))

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.readable:
            return  # readfile: ignores writes
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    async def aclose(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)


def read(path: Path) -> FileStream:
    """Read specified file. Ignores writes."""
    return FileStream("readfile:", path, os.O_RDONLY, readable=True)


def write(path: Path, *, no_overwrite: bool = False, auto_rename: bool = False) -> FileStream:
    """Write specified file (truncated; --write-file-no-overwrite and --write-file-auto-rename keep existing ones)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    if no_overwrite or auto_rename:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    if auto_rename:
        path = _free_name(path)
    return FileStream("writefile:", path, flags, readable=False)


def append(path: Path) -> FileStream:
    """Append to specified file."""
    return FileStream("appendfile:", path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, readable=False)


def _free_name(path: Path) -> Path:
    """path, or path.1, path.2, ... : the first name not taken."""
    candidate, n = path, 0
    while os.path.lexists(candidate):
        n += 1
        candidate = path + (b".%d" % n if isinstance(path, bytes) else f".{n}")  # type: ignore[operator]
    return candidate
