"""Grading: one prompt file against one suite, on one model, through the shared runner.

Lessons and challenges both need "how does this attempt do on a suite nobody shows the
learner", with per-case reasons. That is a normal evaluation kept in memory: the same
`Runner`, checks and cache as `prompteur eval`, and the same Wilson interval as reports.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..stats import Interval, wilson

if TYPE_CHECKING:
    from ..config import Config
    from ..prompt import Prompt
    from ..runner import ResponseCache, ResultRecord
    from ..suite import Suite


@dataclass(frozen=True)
class CaseOutcome:
    case_id: str
    inputs: dict[str, Any]
    expected: Any
    output: str | None
    passed: bool
    failed: list[tuple[str, str]]  # (check name, reason) of each failing check
    error: str | None = None


@dataclass
class Grade:
    passed: int
    total: int
    cases: list[CaseOutcome] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def interval(self) -> Interval:
        return wilson(self.passed, self.total)

    def failing_checks(self) -> dict[str, int]:
        """How many cases each check failed on: what to fix first."""
        counts: dict[str, int] = {}
        for c in self.cases:
            for name, _ in c.failed:
                counts[name] = counts.get(name, 0) + 1
            if c.error:
                counts["error"] = counts.get("error", 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    def to_dict(self) -> dict[str, Any]:
        iv = self.interval
        return {
            "passed": self.passed,
            "total": self.total,
            "score": self.score,
            "interval": [iv.low, iv.high],
            "failing_checks": self.failing_checks(),
        }


class _ListSink:
    def __init__(self) -> None:
        self.records: list[ResultRecord] = []

    def write(self, records: list[ResultRecord]) -> None:
        self.records.extend(records)


def suite_from_text(text: str, label: str) -> Suite:
    """A suite kept out of sight (inside the package, or obfuscated), loaded with the same
    validation as a suite file."""
    from ..suite import load_suite

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{label}.yaml"
        path.write_text(text, encoding="utf-8")
        suite = load_suite(path)
    if suite.spec.dataset:
        raise ValueError(f"hidden suite {label} must keep its cases inline")
    suite.path = Path(label)
    return suite


def _outcome(r: ResultRecord) -> CaseOutcome:
    failed = [(c["name"], c.get("reason") or "") for c in r.checks if not c["passed"]]
    return CaseOutcome(
        case_id=r.case_id,
        inputs=r.inputs,
        expected=r.expected,
        output=r.output,
        passed=bool(r.passed) and not r.error,
        failed=failed,
        error=r.error,
    )


async def grade_async(
    prompt: Prompt,
    suite: Suite,
    config: Config,
    *,
    model_id: str | None = None,
    cache: ResponseCache | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> Grade:
    from ..runner import plan
    from ..runs import choose_models, open_runner

    # prompt=None on purpose: the graded prompt does not choose its grader (a learner's file
    # could otherwise name a stronger model, and the project's key would pay for it).
    chosen = choose_models(model_id, suite, None, config)[0]
    sink = _ListSink()
    async with open_runner(
        config,
        [chosen],
        checks=suite.spec.checks,
        threshold=suite.spec.threshold,
        cache=cache,
    ) as runner:
        await runner.run(
            plan([prompt], {prompt.version: [chosen]}, suite.cases, 1), sink, on_result=on_result
        )
    # Suite order, not arrival order: the learner reads cases as the suite lists them.
    order = {c.id: i for i, c in enumerate(suite.cases())}
    records = sorted(sink.records, key=lambda r: order.get(r.case_id, len(order)))
    cases = [_outcome(r) for r in records]
    return Grade(sum(c.passed for c in cases), len(cases), cases)


def grade(
    prompt: Prompt,
    suite: Suite,
    config: Config,
    *,
    model_id: str | None = None,
    cache: ResponseCache | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> Grade:
    """Run `prompt` over `suite` and say what passed; nothing is written to the store (the
    cache, when given, is: a re-check of an unchanged prompt costs no call)."""
    return asyncio.run(
        grade_async(prompt, suite, config, model_id=model_id, cache=cache, on_result=on_result)
    )
