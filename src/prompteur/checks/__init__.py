"""Checks: score one output. Deterministic ones here; semantic and model-graded ones join
the same registry."""

from . import _deterministic  # noqa: F401 - registers the deterministic checks
from ._base import Check, CheckContext, CheckResult, build, check, registered, result
from ._deterministic import extract_json, levenshtein_distance, normalise, rouge_l

__all__ = [
    "Check",
    "CheckContext",
    "CheckResult",
    "build",
    "check",
    "extract_json",
    "levenshtein_distance",
    "normalise",
    "registered",
    "result",
    "rouge_l",
]
