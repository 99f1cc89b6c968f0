"""The runtime's random numbers: secure by default, reproducible under --random-seed."""

from __future__ import annotations

import os
import random

_seeded: random.Random | None = None
_fast = random.Random()


def seed(value: int) -> None:
    """--random-seed: every later random byte comes from this seed."""
    global _seeded
    _seeded = random.Random(value)


def random_bytes(n: int, *, fast: bool = False) -> bytes:
    """n random bytes: from the seed if one is set, else os.urandom (or a fast PRNG with fast=True)."""
    if _seeded is not None:
        return _seeded.randbytes(n)
    if fast:
        return _fast.randbytes(n)
    return os.urandom(n)
