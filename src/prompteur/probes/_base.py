"""What a probe is: it turns a suite's cases into new cases, and after they ran, reads the
results with its detectors and says what it found, with evidence.

Probes register by name (`category.kind`, e.g. `injection.direct`); `select` turns what the
user typed (categories or names) into probes, with a suggestion for a typo.
"""

from __future__ import annotations

import difflib
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from ..checks import normalise
from ..errors import UserError
from ..stats import Interval, PairedComparison, wilson
from ..suite import Case
from ._corpus import Lang
from ._text import guess_language, main_field, question_field

if TYPE_CHECKING:
    from ..models import Model
    from ..prompt import Prompt
    from ..runner import ResultRecord
    from .policy import Policy

SEVERITIES = ("low", "medium", "high", "critical")


class Skip(Exception):
    """A probe that cannot run here, and why (shown in the report, never hidden)."""


class Unjudged(Exception):
    """A result the detector could not judge (an unreadable judge answer): left out of the
    rate, counted, and said in the report."""


@dataclass(frozen=True)
class ProbeCase:
    """One case a probe made. `case.id` is unique in the run; `origin` is the suite case it
    came from; `keep_checks` says whether the suite's checks still make sense (the task and
    its expected answer are unchanged)."""

    case: Case
    probe: str
    origin: str
    keep_checks: bool
    meta: dict[str, Any] = field(default_factory=dict)
    prompt: Prompt | None = None  # a variant of the prompt under test (leakage's canary)
    sample: int = 0  # the runner's repeat index: 1 asks for an independent second sample


@dataclass
class Finding:
    """A weakness, with what shows it: the input, the output and why it counts."""

    probe: str
    category: str
    severity: str
    model: str
    case_id: str
    origin: str
    why: str
    inputs: dict[str, Any]
    output: str | None
    score: float | None = None  # lower is worse, when the detector grades (judges)
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What one probe found on one model."""

    probe: str
    category: str
    severity: str
    model: str
    description: str
    tested: int = 0
    errors: int = 0
    findings: list[Finding] = field(default_factory=list)
    verdicts: list[tuple[str, bool]] = field(default_factory=list)  # (case id, weakness found)
    stats: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def found(self) -> int:
        return sum(1 for _, hit in self.verdicts if hit)

    @property
    def rate(self) -> Interval:
        """The failure (attack success) rate, with its Wilson interval."""
        return wilson(self.found, self.tested)


@dataclass
class Verdict:
    why: str
    score: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


class Target(NamedTuple):
    """A case a probe works on: its text input (name and value), seeded generator and language."""

    case: Case
    name: str
    text: str
    rng: random.Random
    lang: Lang


@dataclass
class ProbeContext:
    """What every probe may use: the seed, the prompt, the suite's labels, the helpers."""

    prompt: Prompt
    seed: int = 0
    per_case: int = 2
    target_field: str | None = None  # --field: the input to work on
    canary: str = "Zorblax"
    labels: list[str] = field(default_factory=list)
    paraphraser: Model | None = None
    paraphraser_id: str | None = None
    judge: Model | None = None  # model-graded detectors (ethics, judged grounding)
    judge_id: str | None = None
    policy: Policy | None = None
    prompt_lang: Lang = "en"
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def note(self, probe: str, text: str) -> None:
        """Say something about a probe in its report (cases skipped and why, caveats)."""
        if text not in self.notes[probe]:
            self.notes[probe].append(text)

    def rng(self, probe: str, case_id: str, salt: str = "") -> random.Random:
        """A generator seeded by (seed, probe, case): a case's variants do not depend on which
        other cases or probes run (a str seed hashes the same in every Python process)."""
        return random.Random(f"{self.seed}:{probe}:{case_id}:{salt}")

    def text_of(self, case: Case) -> tuple[str, str] | None:
        """(input name, text) of the input a probe works on, or None when it has none."""
        name = main_field(case.inputs, self.target_field)
        return (name, case.inputs[name]) if name else None

    def request_of(self, case: Case) -> tuple[str, str] | None:
        """(input name, text) of the input that carries the user's request: what question
        probes (unanswerable, harmful, benign) replace. The document stays."""
        name = question_field(case.inputs, self.target_field)
        return (name, case.inputs[name]) if name else None

    def targets(self, probe: str, cases: Sequence[Case], purpose: str = "") -> Iterator[Target]:
        """The cases with a text input for `probe` to work on, each with its seeded generator
        and language; a case without one is noted in the probe's report and skipped."""
        for case in cases:
            found = self.text_of(case)
            if not found:
                self.note(probe, f"case {case.id}: no text input{' ' + purpose if purpose else ''}")
                continue
            yield Target(case, *found, self.rng(probe, case.id), self.lang_of(case))

    def lang_of(self, case: Case) -> Lang:
        found = self.text_of(case)
        return guess_language(found[1], self.prompt_lang) if found else self.prompt_lang

    def sample(self, items: Sequence[Any], rng: random.Random) -> list[Any]:
        """`per_case` items (all of them when per_case is 0), in a seeded order."""
        k = len(items) if self.per_case <= 0 else min(self.per_case, len(items))
        return rng.sample(list(items), k)


def derive(
    pc_probe: str,
    case: Case,
    k: int | str,
    inputs: dict[str, Any],
    *,
    keep_checks: bool,
    meta: dict[str, Any],
    prompt: Prompt | None = None,
    sample: int = 0,
) -> ProbeCase:
    """A probe case from a suite case: its id says which probe and which case it came from."""
    new = Case(
        id=f"{pc_probe}/{case.id}/{k}",
        inputs=inputs,
        expected=case.expected if keep_checks else None,
        tags=(*case.tags, f"probe:{pc_probe}"),
        checks=case.checks if keep_checks else (),
        source=case.source,
    )
    return ProbeCase(new, pc_probe, case.id, keep_checks, meta, prompt, sample)


def requests_in_place(
    probe: str,
    ctx: ProbeContext,
    cases: list[Case],
    pool: Sequence[Any],
    meta: Callable[[Any], dict[str, Any]],
) -> list[ProbeCase]:
    """For each case, seeded corpus requests (`.id`, `.text`, `.lang`) in its language put in
    place of its text input; checks are dropped, since the request is no longer the case's."""
    out = []
    for case in cases:
        found = ctx.request_of(case)
        if not found:
            ctx.note(probe, f"case {case.id}: no text input")
            continue
        rng, lang = ctx.rng(probe, case.id), ctx.lang_of(case)
        for req in ctx.sample([q for q in pool if q.lang == lang], rng):
            inputs = {**case.inputs, found[0]: req.text}
            out.append(derive(probe, case, req.id, inputs, keep_checks=False, meta=meta(req)))
    if not out:
        raise Skip("no case has a text input")
    return out


Item = tuple[ProbeCase, "ResultRecord"]


class Probe:
    """A probe: `generate` cases, then `detect` weaknesses in their results."""

    name: ClassVar[str]
    category: ClassVar[str]
    severity: ClassVar[str] = "medium"
    description: ClassVar[str] = ""
    breakdown: ClassVar[tuple[str, ...]] = ()  # meta keys the report splits rates by
    on_baseline: ClassVar[bool] = False  # reads the suite's own cases instead of making new ones
    wants_abstention: ClassVar[bool] = False  # a good answer may be "I cannot tell"

    async def generate(self, ctx: ProbeContext, cases: list[Case]) -> list[ProbeCase]:
        raise NotImplementedError

    async def detect(
        self, ctx: ProbeContext, items: list[Item], baseline: dict[str, ResultRecord]
    ) -> Outcome:
        raise NotImplementedError

    def outcome(self, model: str) -> Outcome:
        return Outcome(self.name, self.category, self.severity, model, self.description)


Judge = Callable[[ProbeCase, "ResultRecord", "ResultRecord | None"], Awaitable[Verdict | None]]


class OutputProbe(Probe):
    """A probe whose detector reads each output on its own (and maybe its baseline)."""

    async def verdict(
        self, ctx: ProbeContext, pc: ProbeCase, r: ResultRecord, base: ResultRecord | None
    ) -> Verdict | None:
        raise NotImplementedError

    async def detect(
        self, ctx: ProbeContext, items: list[Item], baseline: dict[str, ResultRecord]
    ) -> Outcome:
        out = self.outcome(items[0][1].model if items else "")
        splits: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for pc, r in items:
            if r.error or r.output is None:
                out.errors += 1
                continue
            try:
                v = await self.verdict(ctx, pc, r, baseline.get(pc.origin))
            except Unjudged as exc:
                out.errors += 1
                ctx.note(self.name, str(exc))
                continue
            out.tested += 1
            out.verdicts.append((pc.case.id, v is not None))
            for key in self.breakdown:
                if key in pc.meta:
                    cell = splits[key][str(pc.meta[key])]
                    cell[0] += v is not None
                    cell[1] += 1
            if v is not None:
                out.findings.append(finding(self, pc, r, v))
        if self.wants_abstention and out.findings and ctx.labels:
            labels = {normalise(x) for x in ctx.labels}
            if all(normalise(f.output or "") in labels for f in out.findings):
                out.notes.append(
                    "every answer found is one of the suite's labels: the prompt gives the model "
                    "no way to say it cannot tell (add a label such as 'unclear', and an "
                    "instruction to use it)"
                )
        if splits:
            out.stats["breakdown"] = {
                key: {value: {"found": f, "tested": n} for value, (f, n) in sorted(vals.items())}
                for key, vals in splits.items()
            }
        return out


def settle_severity(out: Outcome, significant: bool) -> None:
    """A probe whose rate compares answers says its severity only when the difference is
    significant against chance; otherwise its headline and findings are low."""
    out.stats["significant"] = significant
    if not significant:
        out.severity = "low"
        for f in out.findings:
            f.severity = "low"


def comparison(cmp: PairedComparison) -> dict[str, Any]:
    """A paired comparison as plain data (stored, then rendered by every report)."""
    return {
        "a": cmp.a,
        "b": cmp.b,
        "cases": cmp.cases,
        "rate_a": cmp.rate_a,
        "rate_b": cmp.rate_b,
        "difference": asdict(cmp.difference),
        "only_a": cmp.only_a,
        "only_b": cmp.only_b,
        "p_value": cmp.p,
        "significant": cmp.significant,
        "score_difference": asdict(cmp.score_difference) if cmp.score_difference else None,
        "score_p_value": cmp.score_p_value,
        "words": cmp.words(),
    }


def finding(probe: Probe, pc: ProbeCase, r: ResultRecord, v: Verdict) -> Finding:
    return Finding(
        probe=probe.name,
        category=probe.category,
        severity=probe.severity,
        model=r.model,
        case_id=pc.case.id,
        origin=pc.origin,
        why=v.why,
        inputs=dict(r.inputs),
        output=r.output,
        score=v.score,
        evidence={**{k: v for k, v in pc.meta.items() if not k.startswith("_")}, **v.evidence},
    )


# ---- the registry --------------------------------------------------------------------------

_PROBES: dict[str, Probe] = {}


def register(cls: type[Probe]) -> type[Probe]:
    """Class decorator: one instance per probe, under its name (a plugin's probe cannot take
    a built-in's name)."""
    assert cls.severity in SEVERITIES, cls.severity
    known = _PROBES.get(cls.name)
    if known is not None and type(known) is not cls and not cls.__module__.startswith("prompteur."):
        return cls
    _PROBES[cls.name] = cls()
    return cls


def probes() -> dict[str, Probe]:
    """Every probe: the built-ins and the plugins', found through the entry points of the
    group "prompteur.probes" (plugins.py; the entry's name is the probe's)."""
    from .. import plugins

    for name, cls in plugins.load_all("prompteur.probes").items():
        if name not in _PROBES and isinstance(cls, type) and issubclass(cls, Probe):
            register(cls)
    return dict(_PROBES)


# The order of the issue and of every report: what is tested first, what is judged last.
CATEGORY_ORDER = (
    "robustness",
    "ambiguity",
    "injection",
    "leakage",
    "bias",
    "hallucination",
    "ethics",
    "over-refusal",
)


def _order(p: Probe) -> int:
    return CATEGORY_ORDER.index(p.category) if p.category in CATEGORY_ORDER else len(CATEGORY_ORDER)


def categories() -> list[str]:
    return list(dict.fromkeys(p.category for p in sorted(probes().values(), key=_order)))


def select(wanted: Sequence[str] | None) -> list[Probe]:
    """Probes from categories or names (default: all); an unknown word is a UserError."""
    known = dict(sorted(probes().items(), key=lambda kv: _order(kv[1])))
    if not wanted:
        return list(known.values())
    chosen: dict[str, Probe] = {}
    for word in wanted:
        word = word.strip()
        if not word:
            continue
        hits = [p for n, p in known.items() if n == word or p.category == word]
        if not hits:
            options = [*categories(), *known]
            close = difflib.get_close_matches(word, options, n=1)
            raise UserError(
                f"unknown probe '{word}'",
                field="--probes",
                hint=f"did you mean '{close[0]}'?"
                if close
                else "categories: " + ", ".join(categories()),
            )
        for p in hits:
            chosen[p.name] = p
    return sorted(chosen.values(), key=_order)
