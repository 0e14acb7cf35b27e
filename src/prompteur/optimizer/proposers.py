"""Where candidates come from. Each proposer is a strategy with one job; the search asks them
for candidates and races what they give.

Without a capable model everything here is deterministic given the seed: demonstration sets
(which, how many, in what order), mutations of the incumbent, instruction patterns and label
words. With a capable proposer model, `ModelProposer` adds critique-and-edit from failures
(textual gradients, as in ProTeGi) and instructions induced from the data (as in APE).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .space import Candidate, Fields, Layout, freeze_demo

if TYPE_CHECKING:
    from ..models.base import Model
    from ..runner import ResultRecord
    from .contract import Contract
    from .evaluator import Budget

Demo = dict[str, Any]

# A demonstration block longer than this (in characters) risks the small embedded model's
# context and dilutes attention; the search never builds one.
MAX_DEMO_CHARS = 6000


@dataclass
class SearchState:
    layout: Layout
    pool: list[dict[str, Any]]  # demonstrations to draw from: train cases or bootstrapped
    rng: random.Random
    incumbent: Candidate
    incumbent_version: str = ""
    failures: list[ResultRecord] = field(default_factory=list)  # incumbent's, on dev
    max_demos: int = 16
    contract: Contract | None = None  # the output schema every demonstration satisfies

    def valid(self, demo: dict[str, Any]) -> bool:
        """A demonstration whose answer keeps the prompt's output contract."""
        if self.contract is None:
            return True
        return self.contract.accepts(str(demo.get(self.layout.output_key, "")))

    @property
    def answers(self) -> list[str]:
        return [str(d.get(self.layout.output_key, "")) for d in self.pool]

    def labels(self) -> list[str] | None:
        """The answer space when answers are a few labels seen several times each."""
        counts = Counter(a.strip() for a in self.answers)
        if 1 < len(counts) <= 12 and min(counts.values()) >= 2:
            return sorted(counts, key=lambda a: (-counts[a], a))
        return None

    def demo_cap(self) -> int:
        """The most demonstrations a candidate may have: `max_demos`, the pool and the
        context allowing."""
        if not self.pool or self.layout.fields is None:
            return 0
        avg = sum(len(json.dumps(d, ensure_ascii=False)) for d in self.pool) / len(self.pool)
        return min(self.max_demos, len(self.pool), max(1, int(MAX_DEMO_CHARS / max(avg, 1))))

    def k_choices(self) -> list[int]:
        """How many demonstrations to try: a few sizes up to the cap."""
        cap = self.demo_cap()
        if cap == 0:
            return [0]
        ks = sorted({k for k in (2, 4, 8, 12, 16) if k <= cap} | {cap})
        current = len(self.incumbent.demos)
        return sorted(set(ks) | ({current} if 0 < current <= cap else set()))


class Proposer(Protocol):
    name: str

    async def propose(self, state: SearchState, n: int) -> list[Candidate]: ...


# ---- demonstrations ------------------------------------------------------------------------


def pick_random(state: SearchState, k: int) -> list[dict[str, Any]]:
    return state.rng.sample(state.pool, min(k, len(state.pool)))


def pick_balanced(state: SearchState, k: int) -> list[dict[str, Any]]:
    """Label-balanced and interleaved: a few-shot block of one label teaches the model to
    always answer it (the majority-label bias of in-context learning)."""
    labels = state.labels()
    if not labels:
        return pick_random(state, k)
    by_label: dict[str, list[dict[str, Any]]] = {lab: [] for lab in labels}
    for d in state.pool:
        by_label[str(d.get(state.layout.output_key, "")).strip()].append(d)
    for items in by_label.values():
        state.rng.shuffle(items)
    order = list(labels)
    state.rng.shuffle(order)
    out: list[dict[str, Any]] = []
    while len(out) < k and any(by_label.values()):
        for lab in order:
            if by_label[lab] and len(out) < k:
                out.append(by_label[lab].pop())
    return out


def pick_diverse(state: SearchState, k: int) -> list[dict[str, Any]]:
    """Spread over the inputs: greedy farthest-first on word sets, from a random start."""
    if len(state.pool) <= k:
        return list(state.pool)
    words = [set(re.findall(r"\w+", _inputs_text(state, d).lower())) for d in state.pool]
    chosen = [state.rng.randrange(len(state.pool))]
    while len(chosen) < k:
        best, best_d = -1, -1.0
        for i, w in enumerate(words):
            if i in chosen:
                continue
            d = min(_jaccard_distance(w, words[j]) for j in chosen)
            if d > best_d:
                best, best_d = i, d
        chosen.append(best)
    return [state.pool[i] for i in chosen]


def _inputs_text(state: SearchState, d: dict[str, Any]) -> str:
    return " ".join(str(d.get(name, "")) for name in state.layout.input_names)


def _jaccard_distance(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 0.0
    return 1.0 - len(a & b) / len(a | b)


PICKERS = {"random": pick_random, "balanced": pick_balanced, "diverse": pick_diverse}


def _fits(demos: Sequence[dict[str, Any]]) -> bool:
    return sum(len(json.dumps(d, ensure_ascii=False)) for d in demos) <= MAX_DEMO_CHARS


class DemoSets:
    """Fresh demonstration sets of several sizes, drawn three ways, the largest sizes first.

    Largest first is a prior, not a guess about one task: with a base model, in-context
    accuracy grows with the number of demonstrations until the context fills (Brown et al.
    2020; Agarwal et al. 2024, many-shot ICL), and DSPy's few-shot optimizers default to 16
    labelled demonstrations. Under a small budget only a few sets can be raced, so they are
    spent where the expected score is highest; smaller sets follow when the budget allows,
    for prompts where long context hurts."""

    name = "demos"

    async def propose(self, state: SearchState, n: int) -> list[Candidate]:
        if not state.pool or state.layout.fields is None:
            return []
        out = []
        ks = sorted(state.k_choices(), reverse=True)
        pickers = list(PICKERS.items())
        for i in range(n):
            k = ks[(i // len(pickers)) % len(ks)]
            how, pick = pickers[i % len(pickers)]
            demos = pick(state, k)
            if not _fits(demos):
                continue
            out.append(
                state.incumbent.with_(
                    f"{k} {how} demonstrations",
                    state.incumbent_version,
                    demos=tuple(freeze_demo(d) for d in demos),
                )
            )
        return out


# ---- instruction and format patterns -------------------------------------------------------

_FRENCH = re.compile(r"\b(le|la|les|des|une|chaque|est|et|du|vous|ce|cette)\b", re.I)


def looks_french(text: str) -> bool:
    return len(_FRENCH.findall(text)) >= 2


def instruction_variants(state: SearchState) -> list[tuple[str, str]]:
    """(change, instruction) pairs from the prompt-pattern library: no instruction (base
    models often follow examples better alone), the answer space stated, the answer's length
    stated. Each is a documented pattern, not a guess about one task."""
    base = state.layout.instruction
    if base is None:
        return []
    fr = (
        looks_french(base + " ".join(lbl for lbl, _ in state.incumbent.fields.inputs))
        if (state.incumbent.fields)
        else looks_french(base)
    )
    out: list[tuple[str, str]] = []
    if base.strip():
        out.append(("instruction removed", ""))
    labels = state.labels()
    if labels:
        space = ", ".join(labels)
        line = (
            f"Répondez par l'un de ces mots : {space}." if fr else f"Answer with one of: {space}."
        )
        out.append(("answer space stated", f"{base.strip()}\n{line}".strip()))
    answers = state.answers
    if answers and all(len(a.split()) == 1 for a in answers):
        line = "Répondez en un seul mot." if fr else "Answer with a single word."
        out.append(("one-word answer stated", f"{base.strip()}\n{line}".strip()))
    elif answers:
        line = (
            "Répondez sur une seule ligne, sans explication."
            if fr
            else "Answer on one line, with no explanation."
        )
        out.append(("one-line answer stated", f"{base.strip()}\n{line}".strip()))
    if state.incumbent.instruction != base:
        out.append(("instruction as written", base))
    return [(c, i) for c, i in out if i != state.incumbent.instruction]


def field_variants(state: SearchState) -> list[tuple[str, Fields]]:
    f = state.incumbent.fields
    if f is None:
        return []
    fr = looks_french(" ".join(lbl for lbl, _ in f.inputs) + " " + f.answer) or looks_french(
        state.layout.instruction or ""
    )
    generic = ("Entrée", "Sortie") if fr else ("Input", "Output")
    out: list[tuple[str, Fields]] = []
    if len(f.inputs) == 1:
        out.append(
            (
                f"labels {generic[0]}/{generic[1]}",
                Fields(((generic[0], f.inputs[0][1]),), generic[1], f.separator),
            )
        )
        named = f.inputs[0][1].replace("_", " ").capitalize()
        answer = "Réponse" if fr else "Answer"
        out.append(
            (f"labels {named}/{answer}", Fields(((named, f.inputs[0][1]),), answer, f.separator))
        )
    sep = "\n###\n" if f.separator.strip() != "###" else "\n\n"
    out.append((f"separator {sep.strip() or 'blank line'!r}", Fields(f.inputs, f.answer, sep)))
    return [(c, v) for c, v in out if v != f]


class Patterns:
    """Instruction and label-word variants of the incumbent, from the pattern library."""

    name = "patterns"

    async def propose(self, state: SearchState, n: int) -> list[Candidate]:
        inc, parent = state.incumbent, state.incumbent_version
        out = [inc.with_(c, parent, instruction=i) for c, i in instruction_variants(state)]
        out += [inc.with_(c, parent, fields=f) for c, f in field_variants(state)]
        state.rng.shuffle(out)
        return out[:n]


class Mutations:
    """Small moves around the incumbent's demonstrations: swap one, add some, drop one,
    reorder, resize — where racing finds what random sets miss."""

    name = "mutations"

    async def propose(self, state: SearchState, n: int) -> list[Candidate]:
        inc = state.incumbent
        if not state.pool or inc.fields is None:
            return []
        # A demonstration that breaks the output contract is never carried into a new one.
        demos = [dict(d) for d in inc.demos if state.valid(dict(d))]
        frozen = {freeze_demo(d) for d in demos}
        spare = [d for d in state.pool if freeze_demo(d) not in frozen]
        moves = ["swap", "add", "drop", "shuffle", "double", "rebalance"]
        out: list[Candidate] = []
        for i in range(n * 2):
            if len(out) >= n:
                break
            move = moves[i % len(moves)] if i < len(moves) else state.rng.choice(moves)
            new = self._apply(state, move, demos, spare)
            if new is None or not _fits(new):
                continue
            out.append(
                inc.with_(
                    f"{move} ({len(new)} demonstrations)",
                    state.incumbent_version,
                    demos=tuple(freeze_demo(d) for d in new),
                )
            )
        return out

    def _apply(
        self, state: SearchState, move: str, demos: list[Demo], spare: list[Demo]
    ) -> list[Demo] | None:
        rng = state.rng
        new = list(demos)
        if move == "swap" and new and spare:
            new[rng.randrange(len(new))] = rng.choice(spare)
        elif move == "add" and spare and (room := state.demo_cap() - len(new)) > 0:
            for d in rng.sample(spare, min(len(spare), max(1, len(new) // 4), room)):
                new.insert(rng.randrange(len(new) + 1), d)
        elif move == "drop" and len(new) > 1:
            new.pop(rng.randrange(len(new)))
        elif move == "shuffle" and len(new) > 1:
            rng.shuffle(new)
        elif move == "double" and spare and new:
            cap = state.demo_cap()
            extra = rng.sample(spare, min(len(spare), max(0, min(len(new), cap - len(new)))))
            if not extra:
                return None
            new += extra
            rng.shuffle(new)
        elif move == "rebalance" and state.labels():
            new = pick_balanced(state, max(2, len(new)))
        else:
            return None
        return new if new != demos else None


# ---- a capable model as proposer -----------------------------------------------------------

CRITIQUE = """You are improving the instruction of a prompt used with a language model.

Current instruction:
<instruction>
{instruction}
</instruction>

With it, the model got these cases wrong:
{failures}

Think about why each case failed and what the instruction leaves unclear. Then write one
improved instruction that would fix these failures without breaking other cases. Keep the
same task and output format. Reply with your reasoning first, then the new instruction
between <instruction> and </instruction>."""

INDUCE = """I gave a friend an instruction and some inputs. The friend read the instruction and \
wrote an output for every one of the inputs. Here are the input-output pairs:

{pairs}

Write the instruction I gave, as one short paragraph, between <instruction> and \
</instruction>."""

_TAGGED = re.compile(r"<instruction>\s*(.+?)\s*</instruction>", re.S | re.I)


def extract_instruction(text: str) -> str | None:
    found = _TAGGED.findall(text)
    if not found:
        return None
    instruction = found[-1].strip()
    if not instruction or len(instruction) > 4000 or "{{" in instruction or "{%" in instruction:
        return None
    return instruction


@dataclass
class ModelProposer:
    """Critique-and-edit from the incumbent's failures, and instructions induced from
    examples. Every call is counted against the proposer budget."""

    model: Model
    budget: Budget
    name: str = "model"

    async def propose(self, state: SearchState, n: int) -> list[Candidate]:
        from ..models.base import Message, ModelError, Params, Request
        from .evaluator import BudgetExhausted

        if state.layout.instruction is None:
            return []
        inc, parent = state.incumbent, state.incumbent_version
        out: list[Candidate] = []
        for i in range(n):
            critique = bool(state.failures) and i % 2 == 0
            text = self._critique(state) if critique else self._induce(state)
            try:
                self.budget.take_proposer()
            except BudgetExhausted:
                break
            request = Request(
                messages=(Message("user", text),),
                params=Params(temperature=0.7, max_tokens=800),
            )
            try:
                response = await self.model.generate(request)
            except ModelError:
                continue
            instruction = extract_instruction(response.text)
            if instruction and instruction != inc.instruction:
                change = "critique and edit" if critique else "instruction induced from data"
                out.append(inc.with_(change, parent, instruction=instruction))
        return out

    def _critique(self, state: SearchState) -> str:
        shown = state.rng.sample(state.failures, min(5, len(state.failures)))
        lines = []
        for r in shown:
            lines.append(
                f"- input: {json.dumps(r.inputs, ensure_ascii=False)}\n"
                f"  expected: {json.dumps(r.expected, ensure_ascii=False)}\n"
                f"  got: {json.dumps(r.output, ensure_ascii=False)}"
            )
        return CRITIQUE.format(instruction=state.incumbent.instruction, failures="\n".join(lines))

    def _induce(self, state: SearchState) -> str:
        shown = state.rng.sample(state.pool, min(6, len(state.pool)))
        pairs = "\n\n".join(
            f"Input: {_inputs_text(state, d)}\nOutput: {d.get(state.layout.output_key, '')}"
            for d in shown
        )
        return INDUCE.format(pairs=pairs)
