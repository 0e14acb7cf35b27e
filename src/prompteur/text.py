"""Small text measures shared by the parser (suggestions) and the checks (scores)."""

from __future__ import annotations


def levenshtein_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute) to turn `a` into `b`."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
