"""runtime/__init__.py: the names scripts import, loaded on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_the_exit_codes_import_no_asyncio() -> None:
    assert "asyncio" not in imported_after("import websocat.runtime.errors")


def test_scripts_still_import_the_copy_loops_and_run_from_the_package() -> None:
    loaded = imported_after("from websocat.runtime import exchange_bytes, exchange_packets, run")
    assert {"websocat.runtime.copying", "websocat.runtime.running"} <= loaded


def test_an_unknown_name_is_an_import_error() -> None:
    with pytest.raises(ImportError):
        from websocat.runtime import no_such_name  # type: ignore[attr-defined]  # noqa: F401
