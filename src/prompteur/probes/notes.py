"""Which judges a run relied on, and what their calibrations say: printed beside the run's
results by `eval`, `show` and `probe`, so a judged pass rate is never read without it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store

JUDGED = {"rubric", "factuality", "pairwise"}


def _judged_checks(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Model-graded check specs of a run: the suite's, and its cases' own when the suite file
    is still there."""
    specs = [c for c in plan.get("checks") or [] if isinstance(c, dict)]
    suite = plan.get("suite")
    if suite:
        try:
            from ..suite import load_suite

            for case in load_suite(suite).spec.cases:
                specs += [c for c in case.checks if isinstance(c, dict)]
        except Exception:  # the file moved or changed: the run's own plan is what we have
            pass
    return [c for c in specs if str(c.get("type", "")).removeprefix("not-") in JUDGED]


def judged_by(store: Store, plan: dict[str, Any], default_judge: str) -> list[dict[str, Any]]:
    """One note per (judge, rubric) the run used; a check naming no judge used
    `default_judge`, the project's default model."""
    from .calibrate import note_for

    pairs: dict[tuple[str, str | None], str | None] = {}
    # Which probes' verdicts each note is about, so reports print it beside those results.
    used_by: dict[tuple[str, str | None], list[str]] = {}
    if plan.get("kind") == "probe" and plan.get("judge"):
        judge = plan["judge"]
        policy = (plan.get("options") or {}).get("policy") or "default"
        names = list(plan.get("probes") or [])
        key = (judge, plan.get("policy_rubric"))
        ethics = [n for n in names if n.startswith("ethics.")]
        if ethics or key[1]:
            pairs[key] = f"--policy {policy}"
            used_by[key] = ethics
        if "hallucination.grounding" in names and not _is_base(judge):
            # Its rubric carries each case's context, so no single calibration matches it:
            # the note says what is known of this judge on its own.
            pairs[(judge, None)] = None
            used_by[(judge, None)] = ["hallucination.grounding"]
    checks = _judged_checks(plan)
    if checks:
        default = default_judge
        for c in checks:
            kind = str(c["type"]).removeprefix("not-")
            rubric = str(c.get("value")) if kind == "rubric" and c.get("value") else None
            pairs[(str(c.get("judge") or default), rubric)] = None
    return [
        {**note_for(store, judge, rubric, how=how), "probes": used_by.get((judge, rubric), [])}
        for (judge, rubric), how in pairs.items()
    ]


def _is_base(model_id: str) -> bool:
    from ..checks._judge import is_base_model

    return is_base_model(model_id)


def judge_notes_for(report: dict[str, Any], probe: str) -> list[dict[str, Any]]:
    """The judge notes that concern one probe's results in a report."""
    return [j for j in report.get("judges") or [] if probe in (j.get("probes") or [])]
