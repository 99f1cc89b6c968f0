"""The runtime's random bytes: secure by default, reproducible under --random-seed.

Used by random:, WebSocket mask keys and Sec-WebSocket-Key.  The `random` module is
imported only when a seed or the fast generator is asked for (start-up cost).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

_seeded: random.Random | None = None
_fast: random.Random | None = None


def seed(value: int) -> None:
    """--random-seed: every later random byte comes from this seed."""
    global _seeded
    import random

    _seeded = random.Random(value)


def random_bytes(n: int, *, fast: bool = False) -> bytes:
    """n random bytes: from the seed if one is set, else os.urandom (or a fast PRNG with fast=True)."""
    if _seeded is not None:
        return _seeded.randbytes(n)
    if fast:
        global _fast
        if _fast is None:
            import random

            _fast = random.Random()
        return _fast.randbytes(n)
    return os.urandom(n)


def fraction() -> float:
    """A random number in [0, 1) (autoreconnect:'s jitter): from the seed if one is set."""
    if _seeded is not None:
        return _seeded.random()
    global _fast
    if _fast is None:
        import random

        _fast = random.Random()
    return _fast.random()
