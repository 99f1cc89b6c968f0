"""--connect-timeout-ms: a stage of connecting (TCP connect, TLS handshake, WebSocket
upgrade) that takes too long fails with one line naming it, and exit code 5."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from websocat.runtime.errors import TimeoutExpired

__all__ = ["within"]

T = TypeVar("T")


async def within(step: Awaitable[T], timeout_ms: int | None, what: str) -> T:
    """Await ``step``; past ``timeout_ms`` (--connect-timeout-ms) fail with TimeoutExpired
    '<what> timed out after N ms', e.g. '127.0.0.1:443: TLS handshake timed out after 500 ms'."""
    if timeout_ms is None:
        return await step
    try:
        async with asyncio.timeout(timeout_ms / 1000) as deadline:
            return await step
    except TimeoutError:
        if not deadline.expired():
            raise
        raise TimeoutExpired(f"{what} timed out after {timeout_ms} ms (--connect-timeout-ms)") from None
