"""Keyword families (runtime/keywords.py): a call that takes ``**options: Unpack[...]``
still refuses a keyword its family does not list, as Python would, without -x."""

from __future__ import annotations

import asyncio

import pytest

from websocat.runtime.endpoints import process
from websocat.runtime.overlays import ws
from websocat.runtime.endpoints.mock import MockStream


def test_framed_refuses_an_unknown_keyword() -> None:
    with pytest.raises(TypeError, match=r"^framed\(\) got an unexpected keyword argument 'max_pong'$"):
        ws.framed(MockStream([]), client=True, max_pong=1)  # type: ignore[call-arg]


@pytest.mark.parametrize("function", [ws.connect, ws.accept])
def test_connect_and_accept_refuse_an_unknown_keyword(function: object) -> None:
    async def main() -> None:
        async with function(MockStream([]), settle=True):  # type: ignore[operator]
            pass

    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'settle'$"):
        asyncio.run(main())


def test_spawn_refuses_an_unknown_keyword() -> None:
    with pytest.raises(TypeError, match=r"^spawn\(\) got an unexpected keyword argument 'chdri'$"):
        process.spawn("true", chdri="/")  # type: ignore[call-arg]


def test_framed_hands_its_keywords_to_the_socket() -> None:
    sock = ws.framed(MockStream([]), client=False, max_pongs=2, close_reason="bye")
    assert sock.options == ws.SocketOptions(max_pongs=2, close_reason="bye")
