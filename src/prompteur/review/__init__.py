"""People in the loop: review queues made from runs or traces, labels against the project's
score definitions, blind pairwise preference, agreement between reviewers, and the labels
put to work (judge calibration, new suite cases). Storage is `store.reviews`."""

from ._queues import JUDGE_CHECKS, RUN_SELECTIONS, TRACE_SELECTIONS, from_run, from_traces
from ._queues import preference as preference_queue
from ._scores import DEFAULT, PREFERENCE_SCORE, Score, score_named, scores
from ._work import (
    TO_CASES,
    agreement_of,
    cases_from_queue,
    disagreements,
    export_rows,
    export_text,
    human_verdicts,
    label,
    preference_of,
    progress,
    queue,
    revealed,
    run_preferences,
    score_of,
    summary,
    to_cases,
)
from .agreement import AgreementFigure, Preference, cohen_kappa, krippendorff_alpha, sign_test

__all__ = [
    "DEFAULT",
    "JUDGE_CHECKS",
    "PREFERENCE_SCORE",
    "RUN_SELECTIONS",
    "TO_CASES",
    "TRACE_SELECTIONS",
    "AgreementFigure",
    "Preference",
    "Score",
    "agreement_of",
    "cases_from_queue",
    "cohen_kappa",
    "disagreements",
    "export_rows",
    "export_text",
    "from_run",
    "from_traces",
    "human_verdicts",
    "krippendorff_alpha",
    "label",
    "preference_of",
    "preference_queue",
    "progress",
    "queue",
    "revealed",
    "run_preferences",
    "score_named",
    "score_of",
    "scores",
    "sign_test",
    "summary",
    "to_cases",
]
