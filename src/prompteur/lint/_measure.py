"""How good are the rules? Precision and recall per rule over a labelled set of files.

A file is labelled by the findings it should get, in its metadata:
`metadata: {lint_expect: [P003, P006]}` (front matter of a prompt file, or the top level of an
image spec; a suite, which has no metadata key, says it in a comment: `# lint_expect: [S001]`);
`lint_expect: []` marks a good file. Unlabelled files are skipped. Only whether a
rule fires on a file counts, not how many times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ._base import rules
from ._doc import detect_lang
from ._engine import collect, is_image_spec, lint_file

LABELLED = Path(__file__).resolve().parent / "labelled"


@dataclass
class RuleScore:
    rule: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    positives: list[str] = field(default_factory=list)  # files labelled with the rule

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class Measurement:
    files: int = 0
    good_files: int = 0
    clean_good_files: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    scores: dict[str, RuleScore] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)  # "file: rule fired/missed"

    def total(self) -> RuleScore:
        out = RuleScore("all")
        for s in self.scores.values():
            out.tp, out.fp, out.fn = out.tp + s.tp, out.fp + s.fp, out.fn + s.fn
        return out

    def to_dict(self) -> dict[str, Any]:
        def row(s: RuleScore) -> dict[str, Any]:
            return {
                "rule": s.rule,
                "tp": s.tp,
                "fp": s.fp,
                "fn": s.fn,
                "precision": s.precision,
                "recall": s.recall,
            }

        return {
            "files": self.files,
            "good_files": self.good_files,
            "clean_good_files": self.clean_good_files,
            "languages": self.languages,
            "rules": [row(s) for s in self.scores.values()],
            "total": row(self.total()),
            "disagreements": self.misses,
        }


def labels(path: Path) -> list[str] | None:
    """The rule ids a labelled file expects, or None when it is not labelled."""
    import yaml

    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml") and not is_image_spec(path):
        # a suite admits no metadata key: its label is a comment, `# lint_expect: [S001]`
        import re

        m = re.search(r"^#\s*lint_expect:\s*(\[.*?\])\s*$", text, re.M)
        text = f"metadata: {{lint_expect: {m.group(1)}}}" if m else ""
    elif not is_image_spec(path):
        if not text.startswith("---"):
            return None
        text = text.split("\n---", 1)[0][3:]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    meta = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(meta, dict) or "lint_expect" not in meta:
        return None
    return [str(x).upper() for x in meta["lint_expect"] or []]


def measure(paths: Sequence[Path] | None = None) -> Measurement:
    m = Measurement()
    m.scores = {r.id: RuleScore(r.id) for r in rules() if r.id != "P000"}
    for path in collect(paths or [LABELLED]):
        expected = labels(path)
        if expected is None:
            continue
        unknown = [e for e in expected if e not in m.scores]
        if unknown:
            raise UserError(f"unknown rule '{unknown[0]}' in lint_expect", file=path)
        found = {f.rule for f in lint_file(path)}
        m.files += 1
        lang = detect_lang(path.read_text(encoding="utf-8"))
        m.languages[lang] = m.languages.get(lang, 0) + 1
        if not expected:
            m.good_files += 1
            m.clean_good_files += not found
        for rule_id, score in m.scores.items():
            want, got = rule_id in expected, rule_id in found
            if want:
                score.positives.append(path.name)
            if want and got:
                score.tp += 1
            elif got:
                score.fp += 1
                m.misses.append(f"{path.name}: {rule_id} fired, not expected")
            elif want:
                score.fn += 1
                m.misses.append(f"{path.name}: {rule_id} expected, did not fire")
        if "P000" in found:
            m.misses.append(f"{path.name}: does not load")
    return m
