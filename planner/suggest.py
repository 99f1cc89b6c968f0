"""'Did you mean ...?': the closest known word by edit distance (transpositions count as one)."""

from __future__ import annotations


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def closest(word: str, candidates: list[str]) -> str | None:
    """The nearest candidate, if it is near enough to be a plausible typo.

    Words are compared without their dashes and colon ('--protocl' as 'protocl'), and at
    most one edit in four characters is allowed (at least one): '--protocl' finds
    '--protocol', but '--ping-interval' finds nothing rather than '--tcp-race-interval-ms'.
    """
    body = _body(word)
    best = min(candidates, key=lambda c: (distance(body, _body(c)), len(c), c), default=None)
    if best is None or distance(body, _body(best)) > max(1, len(body) // 4):
        return None
    return best


def _body(word: str) -> str:
    return word.lstrip("-").rstrip(":")
