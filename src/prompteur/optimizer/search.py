"""The search: propose, race, keep the best — until the budget is spent.

Racing is successive halving on the development cases: every candidate of a round is scored
on the same first few cases (a fixed shuffle, so comparisons are paired), the best third go on
to three times as many cases, and so on up to all of them. Most candidates are dropped after a
few calls; only the promising ones are paid for in full. The incumbent is replaced only by a
candidate scoring higher on *all* development cases.

Round 0 explores (fresh demonstration sets, instruction and label patterns); the next rounds
refine around the incumbent (mutations, patterns, and a proposer model's edits when one is
set). Each round is sized to what the budget has left.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from .evaluator import BudgetExhausted, Evaluator, score_of
from .proposers import Proposer, SearchState
from .space import Candidate, Layout, materialize

if TYPE_CHECKING:
    from ..prompt import Prompt
    from ..suite import Case

ETA = 3
# The smallest first rung. Two candidates a few points apart cannot be told apart on fewer
# cases: the standard error of a paired difference is about 0.25 on 4 cases, 0.15 on 10. A
# cut made on 4 cases drops good candidates at random (seen in the benchmark: a 16-shot set
# cut after 4 cases, a 4-shot start kept), so fewer candidates are raced on more cases.
MIN_RUNG = 10


def rungs_for(n_dev: int) -> list[int]:
    """Case counts of the racing rungs: all development cases last, each rung a third of the
    next, the first no smaller than `MIN_RUNG` cases."""
    rungs = [n_dev]
    while round(rungs[0] / ETA) >= MIN_RUNG:
        rungs.insert(0, round(rungs[0] / ETA))
    return rungs


def race_cost(n: int, rungs: Sequence[int], protect: bool = False) -> int:
    """Calls to race `n` new candidates. With `protect`, one of them is the incumbent, which
    runs to the last rung whatever its early scores, beside the best third of the others
    (see `Search._race`)."""
    extra = 1 if protect and n > 0 else 0
    cost, alive, prev = 0, n - extra, 0
    for r in rungs:
        cost += (alive + extra) * (r - prev)
        prev, alive = r, math.ceil(alive / ETA)
    return cost


def largest_race(budget: int, rungs: Sequence[int], cap: int = 200, protect: bool = False) -> int:
    n = 0
    while n < cap and race_cost(n + 1, rungs, protect) <= budget:
        n += 1
    return n


@dataclass
class Entry:
    prompt: Prompt
    cand: Candidate
    proposer: str
    round: int


@dataclass
class Search:
    ev: Evaluator
    layout: Layout
    front: dict[str, Any]
    dev: list[Case]
    state: SearchState
    explore: list[Proposer]
    refine: list[Proposer]
    on_history: Callable[[list[dict[str, Any]]], None] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)  # version → entry

    @property
    def dev_ids(self) -> list[str]:
        return [c.id for c in self.dev]

    def mean(self, prompt: Prompt, n: int | None = None) -> float:
        scores = self.ev.score(prompt, self.dev_ids[:n] if n else self.dev_ids)
        return sum(scores) / len(scores) if scores else -1.0

    def _log(self, **event: Any) -> None:
        event.setdefault("spent", self.ev.budget.spent_task)
        event.setdefault("proposer_calls", self.ev.budget.spent_proposer)
        self.history.append(event)
        # Saved once per rung and per new best, not per event: the plan is rewritten whole.
        if self.on_history and event["event"] != "scored":
            self.on_history(self.history)

    def _log_scored(self, e: Entry, rnd: int, n: int | None = None) -> None:
        self._log(
            event="scored",
            round=rnd,
            version=e.prompt.version,
            parent=e.cand.parent,
            proposer=e.proposer,
            change=e.cand.change,
            cases=self.ev.evaluated(e.prompt, self.dev_ids[:n] if n else self.dev_ids),
            score=self.mean(e.prompt, n),
        )

    def _log_best(self, e: Entry, rnd: int) -> None:
        self._log(
            event="best",
            round=rnd,
            version=e.prompt.version,
            score=self.mean(e.prompt),
            change=e.cand.change,
        )

    def _add(self, cand: Candidate, proposer: str, rnd: int) -> Entry | None:
        try:
            prompt = materialize(self.layout, cand, self.front)
        except UserError:
            return None  # a proposal that does not make a valid prompt is dropped
        if prompt.version in self.entries:
            return None
        entry = Entry(prompt, cand, proposer, rnd)
        self.entries[prompt.version] = entry
        return entry

    async def run(self, start: Candidate, start_prompt: Prompt) -> Entry:
        """Search from `start` (the decomposition of `start_prompt`, which is scored as
        written, so its results match earlier evaluations of the file). The starting prompt
        races in round 0 like any candidate: it is not paid for in full unless it survives."""
        rungs = rungs_for(len(self.dev))
        first = Entry(start_prompt, start, "start", 0)
        self.entries[start_prompt.version] = first
        best: Entry | None = None
        self.state.incumbent, self.state.incumbent_version = start, first.prompt.version
        try:
            rnd = 0
            while True:
                left = self.ev.budget.left
                # Keep a good share for refinement, unless the budget only pays for one race.
                roomy = left >= 3 * race_cost(4, rungs)
                share = int(left * (0.6 if rnd == 0 else 0.4)) if roomy else left
                n = largest_race(share, rungs, protect=rnd == 0)
                if rnd == 0:
                    fresh = [first, *await self._propose(self.explore, max(0, n - 1), 0)]
                elif n < 1:
                    best = await self._top_up(best or first, rnd)
                    break
                else:
                    fresh = await self._propose(self.refine, n, rnd)
                    if not fresh:
                        break
                await self._race(fresh, rungs, rnd)
                winner = max(fresh, key=self._rank)
                if best is None or self._beats(winner, best):
                    best = winner
                    self._adopt(best)
                    self._log_best(best, rnd)
                rnd += 1
        except BudgetExhausted:
            # What was scored on every development case can still win.
            for e in self.entries.values():
                if best is None or self._beats(e, best):
                    best = e
            self._log(event="budget spent", version=(best or first).prompt.version)
        if best is None or self.ev.evaluated(best.prompt, self.dev_ids) == 0:
            best = max(self.entries.values(), key=self._rank)
        return best

    async def _top_up(self, best: Entry, rnd: int) -> Entry:
        """Spend what no new race can use on the runners-up: a candidate that was cut at an
        earlier rung while leading the incumbent on the same cases is scored on the remaining
        development cases, most promising first, while the budget pays for it."""
        full = len(self.dev)

        def promise(e: Entry) -> tuple[int, float]:
            return (self.ev.evaluated(e.prompt, self.dev_ids), self.mean(e.prompt))

        while True:
            left = self.ev.budget.left
            pending = []
            for e in self.entries.values():
                done = self.ev.evaluated(e.prompt, self.dev_ids)
                if 0 < done < full and full - done <= left:
                    ahead = self.mean(e.prompt, done) > self.mean(best.prompt, done)
                    if ahead:
                        pending.append(e)
            if not pending:
                return best
            e = max(pending, key=promise)
            await self.ev.evaluate([(e.prompt, self.dev)])
            self._log_scored(e, rnd)
            if self._beats(e, best):
                best = e
                self._adopt(best)
                self._log_best(best, rnd)

    def _adopt(self, e: Entry) -> None:
        self.state.incumbent, self.state.incumbent_version = e.cand, e.prompt.version
        self.state.failures = [
            r for r in self.ev.records(e.prompt, self.dev_ids) if score_of(r) < 1.0
        ]

    def _rank(self, e: Entry) -> tuple[int, float]:
        return (self.ev.evaluated(e.prompt, self.dev_ids), self.mean(e.prompt))

    def _beats(self, a: Entry, b: Entry) -> bool:
        full = len(self.dev)
        return self.ev.evaluated(a.prompt, self.dev_ids) == full and self.mean(
            a.prompt
        ) > self.mean(b.prompt)

    async def _propose(self, proposers: list[Proposer], n: int, rnd: int) -> list[Entry]:
        if rnd == 1 and self.state.failures == []:
            self._adopt(self.entries[self.state.incumbent_version])
        per = max(1, math.ceil(n / max(1, len(proposers))))
        buckets: list[list[Entry]] = []
        for p in proposers:
            bucket = []
            for cand in await p.propose(self.state, per):
                e = self._add(cand, p.name, rnd)
                if e is not None:
                    bucket.append(e)
            buckets.append(bucket)
        # Interleaved, so that cutting the list to n does not starve the last proposer.
        fresh = [e for group in itertools.zip_longest(*buckets) for e in group if e is not None]
        for dropped in fresh[n:]:
            del self.entries[dropped.prompt.version]
        return fresh[:n]

    async def _race(self, entries: list[Entry], rungs: Sequence[int], rnd: int) -> None:
        alive = list(entries)
        for i, r in enumerate(rungs):
            cases = self.dev[:r]
            try:
                await self.ev.evaluate([(e.prompt, cases) for e in alive])
            finally:
                for e in alive:
                    self._log_scored(e, rnd, r)
                if self.on_history:
                    self.on_history(self.history)
            if i == len(rungs) - 1:
                break
            # The incumbent is the prior every challenger must beat: a few cases of noise must
            # not drop it, or a lucky challenger wins against nothing (seen in the benchmark:
            # the starting prompt cut after 4 or 11 cases, the winner worse on the test set).
            # It goes on beside the best third of the challengers.
            inc = self.state.incumbent_version
            held = [e for e in alive if e.prompt.version == inc][:1]
            others = [e for e in alive if e.prompt.version != inc]
            others.sort(key=lambda e: self.mean(e.prompt, r), reverse=True)
            alive = held + others[: math.ceil(len(others) / ETA)]

    def lineage(self, version: str) -> list[Entry]:
        chain = []
        e: Entry | None = self.entries.get(version)
        while e is not None:
            chain.append(e)
            e = self.entries.get(e.cand.parent) if e.cand.parent else None
        return list(reversed(chain))
