"""Deterministic text transforms: noise for robustness probes and encodings for injection.

Every transform that chooses takes a `random.Random`; the probes seed it from (seed, probe,
case id), so the same command makes the same variants on any machine and any Python run.
"""

from __future__ import annotations

import base64
import codecs
import random
import re
import unicodedata

# ---- noise ---------------------------------------------------------------------------------

# Neighbouring keys, for substitutions a hurried typist makes.
_QWERTY = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
_AZERTY = ["azertyuiop", "qsdfghjklm", "wxcvbn"]


def _neighbours(layout: list[str]) -> dict[str, str]:
    near: dict[str, str] = {}
    for r, row in enumerate(layout):
        for c, ch in enumerate(row):
            keys = [row[c - 1] if c else "", row[c + 1] if c + 1 < len(row) else ""]
            for rr in (r - 1, r + 1):
                if 0 <= rr < len(layout) and c < len(layout[rr]):
                    keys.append(layout[rr][c])
            near[ch] = "".join(keys)
    return near


_NEAR = {"en": _neighbours(_QWERTY), "fr": _neighbours(_AZERTY)}
_WORDS = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def _typo(word: str, rng: random.Random, near: dict[str, str]) -> str:
    i = rng.randrange(1, len(word) - 1) if len(word) > 2 else 0
    kind = rng.choice(["swap", "drop", "double", "near"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    ch = word[i].lower()
    sub = rng.choice(near.get(ch) or ch)
    sub = sub.upper() if word[i].isupper() else sub
    return word[:i] + sub + word[i + 1 :]


def typos(text: str, rng: random.Random, *, rate: float = 0.1, lang: str = "en") -> str:
    """About `rate` of the words (3 letters or more) get one typo; at least one word does."""
    spans = [m.span() for m in _WORDS.finditer(text)]
    if not spans:
        return text
    k = max(1, round(rate * len(spans)))
    chosen = sorted(rng.sample(spans, min(k, len(spans))), reverse=True)
    near = _NEAR.get(lang, _NEAR["en"])
    for a, b in chosen:
        text = text[:a] + _typo(text[a:b], rng, near) + text[b:]
    return text


def casing(text: str, rng: random.Random) -> tuple[str, str]:
    """(text, mode): all upper, all lower, or random case per letter."""
    mode = rng.choice(["upper", "lower", "random"])
    if mode == "upper":
        return text.upper(), mode
    if mode == "lower":
        return text.lower(), mode
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text), mode


def spacing(text: str, rng: random.Random) -> str:
    """Doubled spaces, spaces lost after punctuation, stray line breaks and padding."""
    out = []
    for ch in text:
        if ch == " ":
            r = rng.random()
            out.append("  " if r < 0.3 else "\n" if r < 0.4 else " ")
        else:
            out.append(ch)
    squeezed = re.sub(
        r"([,.;:!?]) (?=\w)", lambda m: m.group(1) if rng.random() < 0.5 else m[0], "".join(out)
    )
    return "  " + squeezed + " \n"


_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def punctuation(text: str, rng: random.Random) -> tuple[str, str]:
    """(text, mode): punctuation removed, or exclamations added, or full stops doubled up."""
    mode = rng.choice(["none", "shouty", "ellipsis"])
    if mode == "none":
        return " ".join(_PUNCT.sub(" ", text).split()), mode
    if mode == "shouty":
        return text.rstrip().rstrip(".!?") + "!!!", mode
    return re.sub(r"\.(?=\s|$)", "...", text) if "." in text else text + "...", mode


_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S")


def reorder(text: str, rng: random.Random) -> str | None:
    """The lines of a list (bullets or numbers) in another order; None when there is no list
    of two items or more."""
    lines = text.split("\n")
    idx = [i for i, line in enumerate(lines) if _LIST_LINE.match(line)]
    if len(idx) < 2:
        return None
    items = [lines[i] for i in idx]
    order = items[:]
    for _ in range(10):
        rng.shuffle(order)
        if order != items:
            break
    else:
        order = items[1:] + items[:1]
    for i, line in zip(idx, order, strict=True):
        lines[i] = line
    return "\n".join(lines)


def shuffled(values: list[object], rng: random.Random) -> list[object] | None:
    """A different order of a list input; None when it has fewer than two distinct items."""
    if len({repr(v) for v in values}) < 2:
        return None
    order = values[:]
    while order == values:
        rng.shuffle(order)
    return order


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def insert_sentence(text: str, sentence: str, rng: random.Random) -> tuple[str, str]:
    """(text, where): `sentence` added at the start, between two sentences, or at the end."""
    parts = _SENTENCE_END.split(text.strip())
    where = rng.choice(["start", "middle", "end"] if len(parts) > 1 else ["start", "end"])
    if where == "start":
        return f"{sentence} {text.strip()}", where
    if where == "end":
        return f"{text.strip()} {sentence}", where
    cut = rng.randrange(1, len(parts))
    return " ".join([*parts[:cut], sentence, *parts[cut:]]), where


def split_middle(text: str) -> tuple[str, str]:
    """The text cut at the sentence (or word) boundary nearest its middle."""
    cuts = [m.end() for m in _SENTENCE_END.finditer(text)] or [
        m.start() for m in re.finditer(r"\s", text)
    ]
    if not cuts:
        return text, ""
    at = min(cuts, key=lambda c: abs(c - len(text) / 2))
    return text[:at].strip(), text[at:].strip()


# ---- encodings -----------------------------------------------------------------------------

_LEET = str.maketrans(
    {
        "a": "4",
        "e": "3",
        "i": "1",
        "o": "0",
        "s": "5",
        "t": "7",
        "A": "4",
        "E": "3",
        "I": "1",
        "O": "0",
        "S": "5",
        "T": "7",
    }
)
# Cyrillic and Greek letters drawn like Latin ones: a keyword filter no longer matches.
HOMOGLYPHS = {
    "a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "x": "х", "y": "у",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М",
    "O": "О", "P": "Р", "T": "Т", "X": "Х",
}  # fmt: skip
_TAG_BASE = 0xE0000


def to_base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def to_rot13(text: str) -> str:
    return codecs.encode(text, "rot13")


def to_leet(text: str) -> str:
    return text.translate(_LEET)


def to_homoglyphs(text: str) -> str:
    return "".join(HOMOGLYPHS.get(c, c) for c in text)


def ascii_fold(text: str) -> str:
    """Accents dropped (é → e): Unicode tag characters only mirror ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def to_unicode_tags(text: str) -> str:
    """Invisible: each ASCII character becomes its Unicode tag twin (U+E0000 + code). Shown as
    nothing by most interfaces, yet many tokenizers keep it."""
    return "".join(chr(_TAG_BASE + ord(c)) for c in ascii_fold(text) if 0x20 <= ord(c) < 0x7F)


def from_unicode_tags(text: str) -> str:
    return "".join(chr(ord(c) - _TAG_BASE) for c in text if 0xE0020 <= ord(c) < 0xE007F)
