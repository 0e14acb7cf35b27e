"""What the run pages do with a run's matrix and light records (the store reads them:
`store.pages`, store/results.py): graded or pass/fail, variants from form values."""

from __future__ import annotations

from collections.abc import Sequence

from ..records import ResultRecord
from ..report import Variant, variant_label
from ..store.results import SHOWS, Cell, MatrixPage, Row


def graded(records: Sequence[ResultRecord]) -> bool:
    """Whether scores say more than pass/fail (a score strictly between 0 and 1)."""
    return any(r.score is not None and 0.0 < r.score < 1.0 for r in records)


def pass_fail_only(records: Sequence[ResultRecord]) -> list[ResultRecord]:
    """The records without scores, for `report.paired`: its sign-flip permutation test on
    scores runs 10,000 resamples in Python (seconds on a run of 10,000 results), and on
    pass/fail scores it only repeats what McNemar already says."""
    from dataclasses import replace

    return [replace(r, score=None) for r in records]


def parse_variant(text: str, known: Sequence[Variant]) -> Variant | None:
    """A variant from its form value (its index in the run's variants)."""
    try:
        i = int(text)
    except ValueError:
        return None
    return known[i] if 0 <= i < len(known) else None


__all__ = [
    "SHOWS",
    "Cell",
    "MatrixPage",
    "Row",
    "graded",
    "parse_variant",
    "pass_fail_only",
    "variant_label",
]
