"""A reply out of character in ways no register or tone check sees: it repeats itself (or an
earlier reply, or the user's message), or it answers as the user instead of to the user (the
model continued the transcript on the wrong side). Deterministic, French and English.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_NGRAM = 5
_SAME_REPLY = 0.8  # word-trigram overlap above which two replies say the same thing

# The user's side of a transcript, at the start of a line of the reply.
_USER_TURN = re.compile(
    r"(?im)^\s*(?:user|utilisateur|utilisatrice|client|cliente|customer|human|humain|moi|me)"
    r"\s*:|<\s*/?\s*message\s*>|‹/?message›"
)
# What a customer asks and an assistant never does.
_HELP_ME = re.compile(
    r"(?i)\b(?:(?:pouvez|pourriez)[- ]vous m'aider|aidez[- ]moi|j'ai besoin (?:de votre |d')aide|"
    r"(?:can|could|would) you (?:please )?help me|please help me|i need (?:your )?help)\b"
)
# A thing the user calls theirs: "ma carte", "mon compte", "my card".
_MINE = re.compile(r"(?i)\b(?:(?:ma|mon|mes)\s+|my\s+)(\w[\w'-]*)")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str


def normalise(text: str) -> str:
    # The checks' own normalisation; imported when called, since the checks package loads
    # this one while it registers its checks.
    from ..checks import normalise as checks_normalise

    return checks_normalise(text)


def _words(text: str) -> list[str]:
    return normalise(text).split()


def _trigrams(text: str) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i : i + 3]) for i in range(len(w) - 2)}


def repetition(reply: str, *, message: str = "", earlier: Sequence[str] = ()) -> Verdict:
    """Fails a reply that says the same sentence twice, loops on a phrase, parrots the
    user's message, or says again what an earlier reply said."""
    sentences = [normalise(s) for s in _SENTENCES.findall(reply)]
    counts = Counter(s for s in sentences if len(s.split()) >= 3)
    twice = [s for s, n in counts.items() if n >= 2]
    if twice:
        return Verdict(False, f"says the same sentence {counts[twice[0]]} times: {twice[0]!r}")
    w = _words(reply)
    grams = Counter(tuple(w[i : i + _NGRAM]) for i in range(len(w) - _NGRAM + 1))
    loop = [g for g, n in grams.items() if n >= 3]
    if loop:
        return Verdict(False, f"loops on {' '.join(loop[0])!r} ({grams[loop[0]]} times)")
    said = normalise(message)
    if len(said.split()) >= 5 and said in normalise(reply):
        return Verdict(False, "repeats the user's message instead of answering it")
    mine = _trigrams(reply)
    for i, before in enumerate(earlier):
        theirs = _trigrams(before)
        if len(mine) >= 4 and theirs:
            overlap = len(mine & theirs) / min(len(mine), len(theirs))
            if overlap >= _SAME_REPLY:
                return Verdict(False, f"says again what reply {i + 1} said ({overlap:.0%} alike)")
    return Verdict(True, "no repetition")


def role_reversal(reply: str, *, message: str = "") -> Verdict:
    """Fails a reply written as the user: it opens the user's turn, asks the assistant for
    help, or speaks of the user's things as its own ("ma carte" where the user wrote it)."""
    m = _USER_TURN.search(reply)
    if m:
        return Verdict(False, f"writes the user's turn: {m.group(0).strip()!r}")
    m = _HELP_ME.search(reply)
    if m:
        return Verdict(False, f"asks for help as the user would: {m.group(0)!r}")
    theirs = {_phrase(p) for p in _MINE.finditer(message)}
    for p in _MINE.finditer(reply):
        if _phrase(p) in theirs:
            return Verdict(False, f"speaks of the user's {p.group(1)!r} as its own: {p.group(0)!r}")
    return Verdict(True, "answers as the assistant")


def _phrase(m: re.Match[str]) -> str:
    return " ".join(m.group(0).lower().split())
