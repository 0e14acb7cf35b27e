"""Words a reply must avoid, must contain, or is encouraged to use. Matching ignores case and
accents and respects word boundaries: avoiding "souci" does not flag "soucieux"."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower()).replace("’", "'")
    return "".join(c for c in text if not unicodedata.combining(c))


def _pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(_fold(term).strip()) + r"(?![\w])")


def found(text: str, terms: list[str]) -> list[str]:
    folded = _fold(text)
    return [t for t in terms if t.strip() and _pattern(t).search(folded)]


@dataclass(frozen=True)
class VocabularyVerdict:
    passed: bool
    score: float
    reason: str


def judge_vocabulary(
    text: str, *, avoid: list[str], require: list[str], use: list[str], min_use: int
) -> VocabularyVerdict:
    bad = found(text, avoid)
    present = found(text, require)
    missing = [t for t in require if t not in present]
    used = found(text, use)
    problems = []
    if bad:
        problems.append("forbidden: " + ", ".join(bad))
    if missing:
        problems.append("missing required: " + ", ".join(missing))
    if len(used) < min_use:
        problems.append(f"uses {len(used)} of the preferred words, needs {min_use}")
    parts = [len(bad) == 0, not missing, len(used) >= min_use]
    score = sum(parts) / len(parts)
    reason = "; ".join(problems) or ("uses " + ", ".join(used) if used else "no forbidden word")
    return VocabularyVerdict(not problems, score, reason)
