"""run_status(): how a scenario's end, failure or timeout becomes an exit status and one line."""

from __future__ import annotations

import asyncio

import pytest

from websocat.runtime.running import run_status


def test_global_timeout_is_a_normal_end(capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> None:
        await asyncio.sleep(30)

    assert run_status(main, global_timeout_ms=50) == 0
    assert capsys.readouterr().err == ""


def test_own_timeout_is_not_the_global_one(capsys: pytest.CaptureFixture[str]) -> None:
    """A TimeoutError of the scenario's own, before the deadline, is a failure."""

    async def main() -> None:
        raise TimeoutError("upstream took too long")

    assert run_status(main, global_timeout_ms=10_000) == 1
    assert "upstream took too long" in capsys.readouterr().err
