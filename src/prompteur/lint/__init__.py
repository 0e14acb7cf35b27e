"""The prompt linter: rules that catch what makes prompts fail, each with a stable id, a
severity, and messages in English and French; plus the coach, which adds a capable model's
critique and rewrite.

    from prompteur.lint import lint_paths, Selection
    report = lint_paths([Path("prompts")], lang="fr", selection=Selection.parse(["P0"], None))
"""

from ._base import LANGS, Finding, Hit, Lang, Rule, Severity, Text, get_rule, rule, rules
from ._coverage import blind_fields, seen_fields
from ._engine import Report, Selection, collect, lint_file, lint_paths, lint_prompt
from ._measure import LABELLED, Measurement, measure

__all__ = [
    "LABELLED",
    "LANGS",
    "Finding",
    "Hit",
    "Lang",
    "Measurement",
    "Report",
    "Rule",
    "Selection",
    "Severity",
    "Text",
    "blind_fields",
    "collect",
    "get_rule",
    "lint_file",
    "lint_paths",
    "lint_prompt",
    "measure",
    "rule",
    "rules",
    "seen_fields",
]
