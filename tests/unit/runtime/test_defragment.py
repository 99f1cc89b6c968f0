"""defragment: over a message mirror (what it writes comes back as the mirror got it)."""

from __future__ import annotations


import pytest

from websocat.runtime.errors import ProtocolError
from websocat.runtime.overlays.defragment import defragment
from websocat.runtime.sockets import BINARY, CONTINUES, PING, TEXT, Message
from websocat.runtime.testing import sent_through


def _through(batches: list[list[Message]], max_size: int = 1 << 20) -> list[Message]:
    return sent_through(lambda mirror: defragment(mirror, max_size=max_size), batches)


def test_fragments_become_one_message() -> None:
    batches = [[(b"ab", TEXT | CONTINUES)], [(b"cd", TEXT | CONTINUES), (b"ef", TEXT)], [(b"x", BINARY)]]
    assert _through(batches) == [(b"abcdef", TEXT), (b"x", BINARY)]


def test_control_messages_go_at_once() -> None:
    batches = [[(b"a", BINARY | CONTINUES), (b"p", PING)], [(b"b", BINARY)]]
    assert _through(batches) == [(b"p", PING), (b"ab", BINARY)]


def test_a_message_over_the_limit_fails() -> None:
    with pytest.raises(ProtocolError, match=r"over --defragment-max-size \(3 bytes\)"):
        _through([[(b"ab", BINARY | CONTINUES)], [(b"cd", BINARY)]], max_size=3)
    assert _through([[(b"ab", BINARY | CONTINUES)], [(b"c", BINARY)]], max_size=3) == [(b"abc", BINARY)]
