"""Scores candidates on cases through the ordinary runner, with exact call accounting.

- Every (candidate, case) result goes to the optimization's run in the store as it lands, so
  an interrupted search resumes: results already in the run are reused, not recomputed.
- The budget counts task-model calls actually made, the search's and the held-out report's
  alike: a result served by the response cache costs nothing; a result made earlier in this
  same optimization (found in its run on resume) was paid for then and stays counted.
- Part of the budget is reserved for the held-out report: the search may spend the rest.
- The hard stop is checked before work is submitted: no more items go out than the budget
  has left, so the budget is never exceeded, even by one call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..runner import ResultRecord, Runner, WorkItem

if TYPE_CHECKING:
    from ..prompt import Prompt
    from ..store import Store
    from ..suite import Case


class BudgetExhausted(Exception):
    """The search asked for more task-model calls than the budget has left."""


@dataclass
class Budget:
    task_calls: int  # the cap on every task-model call: search and reporting
    proposer_calls: int = 0
    reserved: int = 0  # of task_calls, kept for the held-out report
    spent_task: int = 0  # calls made for the search (cache hits excluded)
    spent_proposer: int = 0
    spent_final: int = 0  # calls made to report on the held-out cases (not search)
    cache_hits: int = 0

    @property
    def left(self) -> int:
        """Calls the search may still make."""
        return max(0, self.task_calls - self.reserved - self.spent_task)

    @property
    def left_total(self) -> int:
        """Calls left under the cap, for anything."""
        return max(0, self.task_calls - self.spent_task - self.spent_final)

    def take_proposer(self) -> None:
        if self.spent_proposer >= self.proposer_calls:
            raise BudgetExhausted("proposer budget spent")
        self.spent_proposer += 1


@dataclass
class Evaluator:
    runner: Runner
    model_id: str
    store: Store
    run_id: str
    budget: Budget
    on_progress: Callable[[Budget], None] | None = None
    known: dict[tuple[str, str], ResultRecord] = field(default_factory=dict)

    def load_previous(self) -> None:
        """On resume: the run's results are known, and those that were real calls stay paid."""
        for r in self.store.results(self.run_id):
            if r.model != self.model_id:
                continue
            self.known[(r.version, r.case_id)] = r
            if not r.cached:
                if r.repeat == 0:
                    self.budget.spent_task += 1
                else:
                    self.budget.spent_final += 1

    def score(self, prompt: Prompt, case_ids: Sequence[str]) -> list[float]:
        """Scores of `prompt` on those cases that were evaluated (None-free), in order."""
        out = []
        for cid in case_ids:
            r = self.known.get((prompt.version, cid))
            if r is not None:
                out.append(score_of(r))
        return out

    def evaluated(self, prompt: Prompt, case_ids: Sequence[str]) -> int:
        return sum((prompt.version, cid) in self.known for cid in case_ids)

    def records(self, prompt: Prompt, case_ids: Sequence[str]) -> list[ResultRecord]:
        return [
            self.known[(prompt.version, c)] for c in case_ids if (prompt.version, c) in self.known
        ]

    async def evaluate(
        self, work: Sequence[tuple[Prompt, Sequence[Case]]], *, final: bool = False
    ) -> bool:
        """Run each prompt on its cases (what is not known yet). Search work stops at the
        search's share of the budget: it raises BudgetExhausted after running what fitted.
        `final` work (the held-out report) is accounted separately and stops at the cap:
        False when not all of it fitted."""
        items: dict[tuple[str, str], WorkItem] = {}
        for prompt, cases in work:
            for case in cases:
                key = (prompt.version, case.id)
                if key not in self.known and key not in items:
                    # Repeat 1 marks held-out reporting, so it never mixes with search results.
                    items[key] = WorkItem(prompt, self.model_id, case, 1 if final else 0)
        todo = list(items.values())
        room = self.budget.left_total if final else self.budget.left
        short = len(todo) > room
        if short:
            todo = todo[:room]
        if todo:
            await self.runner.run(todo, _Sink(self, final))
        if short and not final:
            raise BudgetExhausted("task-model budget spent")
        return not short


class _Sink:
    def __init__(self, ev: Evaluator, final: bool) -> None:
        self.ev = ev
        self.final = final

    def write(self, records: list[ResultRecord]) -> None:
        self.ev.store.write_results(self.ev.run_id, records)
        b = self.ev.budget
        for r in records:
            self.ev.known[(r.version, r.case_id)] = r
            if r.cached:
                b.cache_hits += 1
            elif self.final:
                b.spent_final += 1
            else:
                b.spent_task += 1
        if self.ev.on_progress:
            self.ev.on_progress(b)


def score_of(r: ResultRecord) -> float:
    """A result's score for the search: the weighted check score, or pass/fail without one;
    an error scores 0."""
    if r.error or r.score is None:
        return float(bool(r.passed) and not r.error)
    return float(r.score)


def passed_of(r: ResultRecord) -> bool:
    return bool(r.passed) and not r.error
