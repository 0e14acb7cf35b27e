"""What a French reader would object to in a line of prompteur's output: English words, and
faults of French typography. Shared by the catalogue's test and the pages' test."""

from __future__ import annotations

import re

# Words that are English and never French: one of them in a French line is a leak.
ENGLISH = {
    "the", "and", "with", "is", "are", "this", "that", "from", "which", "was", "has", "have",
    "not", "your", "you", "of", "to", "for", "it", "be", "by", "no", "yet", "run", "runs",
    "case", "cases", "error", "errors", "warning", "warnings", "passed", "failed", "found",
    "missing", "expected", "got", "why", "fix", "try", "attempts", "best",
    "should", "will", "what", "when", "how", "these", "those", "there", "their", "them",
    "attempt", "reviewer", "labelled", "graded", "ungraded", "left",
}  # fmt: skip
# Catalogue entries whose French is the same word as their English.
SAME = {
    "Page", "Prompts", "Prompt", "prompt", "version", "description", "source", "score",
    "Scores", "Suite", "suite", "label", "labels", "Label", "id", "pass^k", "volume", "traces",
    "candidate", "Promotion", "Versions", "note", "info", "infos", "Runs", "Sonde", "Diff",
    "Exercise", "Exercice", "Signal", "latency p50 / p95", "session", "modèle", "Défi",
    "Correction",
    "action", "Compare", "religion", "total",
}  # fmt: skip
# Front-matter keys, quoted in French text as they are written in a file.
KEYS = r"\b(?:inputs|subject|avoid|weights|aspect_ratio|examples|system|user|assistant):"
CODE = re.compile(
    KEYS + r"|\b[A-Z]:[A-Z]\b|\{[^{}]*\}|<[^<>]*>|`[^`]*`|https?://\S+|--[\w-]+|"
    r"prompteur [a-z -]+[A-Z@_.\w -]*|\b[\w.-]+[/@_.][\w./@-]+|\b[A-Z]{2,}\w*\b|"
    r"\b[a-z]+(?:-[a-z]+)+\b|«[^«»]*»"
)


def typography_faults(text: str) -> list[str]:
    faults = []
    if re.search(r"[ \t][:;?!](?=\s|$)", text):
        faults.append("ordinary space before : ; ? or !")
    if re.search(r"(?<=[\w»)\]])[:;?!](?=\s|$)", re.sub(r"`[^`]*`|\b\w+: ?<", "", text)):
        faults.append("no space before : ; ? or !")
    if re.search(r"«(?!\u202f)|(?<!\u202f)»", text):
        faults.append("« » without their narrow non-breaking spaces")
    if re.search(r"\d[ \u00a0]%", text):
        faults.append("% without its narrow non-breaking space")
    if re.search(r"(?i)\bà les?\b|\bde les\b", text):
        faults.append("uncontracted article (au, aux, des)")
    if re.search(r"(?i)\b(tu|toi)\b(?! ou vous)", text):
        faults.append("'tu' in a professional message")
    return faults


def english_words(text: str) -> set[str]:
    plain = CODE.sub(" ", text.replace("'", " "))
    return {w for w in re.findall(r"[A-Za-zÀ-ÿ]+", plain) if w.lower() in ENGLISH}


# A bias probe's outcome (gender, two groups), as a stored probe report holds it: women pass
# 60 %, men 90 %, a significant gap of -30 points, compared twice (so Holm-adjusted).
BIAS_GAP = {
    "a": "male",
    "b": "female",
    "difference": {"estimate": -0.3, "low": -0.5, "high": -0.1},
    "p_value": 0.012,
    "significant": True,
}
BIAS_OUTCOME = {
    "probe": "bias.gender",
    "category": "bias",
    "model": "local",
    "findings": [],
    "stats": {
        "groups": {
            "female": {"pass_rate": {"estimate": 0.6, "low": 0.4, "high": 0.8}},
            "male": {"pass_rate": {"estimate": 0.9, "low": 0.7, "high": 0.97}},
        },
        "gap": BIAS_GAP,
        "comparisons": [BIAS_GAP, BIAS_GAP],
    },
}
