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


def judged_by(store: Store, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One note per (judge, rubric) the run used."""
    from .calibrate import note_for

    pairs: dict[tuple[str, str | None], str | None] = {}
    if plan.get("kind") == "probe" and plan.get("judge"):
        policy = (plan.get("options") or {}).get("policy") or "default"
        pairs[(plan["judge"], plan.get("policy_rubric"))] = f"--policy {policy}"
    checks = _judged_checks(plan)
    if checks:
        from ..config import load_config

        default = load_config().data.project.default_model
        for c in checks:
            kind = str(c["type"]).removeprefix("not-")
            rubric = str(c.get("value")) if kind == "rubric" and c.get("value") else None
            pairs[(str(c.get("judge") or default), rubric)] = None
    return [note_for(store, judge, rubric, how=how) for (judge, rubric), how in pairs.items()]
