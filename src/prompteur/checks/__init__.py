"""Checks: score one output. Deterministic ones here; semantic and model-graded ones join
the same registry."""

from . import _code, _deterministic, _formats, _rag  # noqa: F401 - register their checks
from ._base import (
    Check,
    CheckContext,
    CheckFn,
    CheckResult,
    build,
    check,
    describe_checks,
    factory,
    registered,
    result,
)
from ._deterministic import extract_json, levenshtein_distance, normalise, rouge_l
from ._judge import JudgeWarning, judge_model, parse_verdict, prefer
from ._semantic import cosine, get_embedder, register_embedder, similarity
from ._structure import MISSING
from ._structure import content as text_content
from ._structure import parse as parse_output

__all__ = [
    "MISSING",
    "Check",
    "CheckContext",
    "CheckFn",
    "CheckResult",
    "JudgeWarning",
    "build",
    "check",
    "cosine",
    "describe_checks",
    "extract_json",
    "factory",
    "get_embedder",
    "judge_model",
    "levenshtein_distance",
    "normalise",
    "parse_output",
    "parse_verdict",
    "prefer",
    "register_embedder",
    "registered",
    "result",
    "rouge_l",
    "similarity",
    "text_content",
]
