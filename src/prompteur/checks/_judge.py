"""Model-graded checks: a judge model reads the output and gives a verdict.

- `rubric`: does the output meet a criterion written in plain words? score 0..1 + a reason.
- `factuality`: the output against a reference answer, in the classic categories (OpenAI
  evals' `fact` template, promptfoo's `factuality`): A subset, B superset, C same, D disagree,
  E differ in ways that do not matter.
- `pairwise`: is the output at least as good as a reference output? `prefer` asks in both
  orders, so the judge's taste for the first (or second) position cancels out.

The judge is `judge: MODEL_ID`, by default the project's `default_model`; it comes from the
models of the run's project (`CheckContext.models`: that project's endpoints and keys, made
once per run), and is always called at temperature 0. Chat judges are asked for a JSON verdict;
the embedded model is a 270M *base* model that follows no instruction, so it gets a few-shot
completion that ends where the verdict word goes (and a warning: it is no reliable judge).
Verdicts are parsed leniently (JSON anywhere in the text, else PASS / FAIL words or a bare
letter); an answer that cannot be read gives a failed result that says so, never an exception.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._base import CheckContext, CheckFn, CheckResult, check, result
from ._deterministic import _MISSING

if TYPE_CHECKING:
    from ..models import Model, Response
    from ..models.pool import ModelPool

Preference = Literal["A", "B", "tie"]

SMALL_JUDGE_WARNING = (
    "the judge is the embedded model (Gemma 3 270M, a base model): it is not a reliable judge "
    "and its verdicts are close to chance; set `judge:` on the check (or the project's "
    "default_model) to a capable model, e.g. openai:gpt-4o-mini"
)

_warned_small = False


class JudgeWarning(UserWarning):
    """A judge that cannot be trusted (the small embedded model)."""


class UnparseableVerdict(ValueError):
    """The judge answered something no verdict could be read from."""

    def __init__(self, text: str) -> None:
        self.text = text
        shown = " ".join(text.split())[:160]
        super().__init__(f"unparseable judge answer: {shown!r}" if shown else "empty judge answer")


# ---- the judge model ---------------------------------------------------------------------


def is_base_model(model_id: str) -> bool:
    """Whether the id names a llama.cpp GGUF (the embedded base model by default)."""
    return model_id == "local" or model_id.startswith("local:")


def warn_small_judge(model_id: str) -> None:
    """Warn once per process that the embedded 270M model is judging."""
    global _warned_small
    if model_id != "local" or _warned_small:
        return
    _warned_small = True
    warnings.warn(SMALL_JUDGE_WARNING, JudgeWarning, stacklevel=3)


def judge_model(models: ModelPool | None, model_id: str | None = None) -> Model:
    """The judge for an id (default: the project's default model), from the models of the
    project (`CheckContext.models`): never a folder's config, so that a server serving several
    projects gives each its own judge, endpoints and keys."""
    if models is None:
        from ..errors import UserError

        raise UserError(
            "a model-graded check needs the project's models to find its judge",
            field="judge",
            hint="run it through a suite (prompteur eval) or give the CheckContext `models`",
        )
    model = models.judge(model_id)
    warn_small_judge(model_id or models.default_model)
    return model


def _validate_judge(judge: str | None) -> None:
    if judge is not None:
        from ..models import parse_model_id

        parse_model_id(str(judge))  # UserError naming the field for a bad id


async def _ask(
    model: Model, chat: tuple[str, str], completion: str, *, max_tokens: int = 300
) -> Response:
    """Chat judges get (system, user) messages; base models get the few-shot completion."""
    from ..models import Message, Params, Request

    if is_base_model(model.id):
        request = Request(
            (Message("user", completion),),
            Params(temperature=0, max_tokens=4, stop=["\n"], logprobs=5),
        )
    else:
        system, user = chat
        request = Request(
            (Message("system", system), Message("user", user)),
            Params(temperature=0, max_tokens=max_tokens),
        )
    return await model.generate(request)


def _judge_failure(name: str, exc: Exception) -> CheckResult:
    return result(name, False, f"judge call failed: {exc}")


# ---- reading verdicts ----------------------------------------------------------------------

_JSON_OBJECT = re.compile(r"\{[^{}]*\}", re.S)
_WORD = re.compile(r"\b(PASS|FAIL)(?:ED|ES)?\b", re.I)
_SCORE = re.compile(r"\bscore\b\W{0,3}(-?\d+(?:\.\d+)?)\s*(/\s*\d+)?", re.I)


def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object in the text (fenced or bare), innermost-flat ones included."""
    found = []
    for m in _JSON_OBJECT.finditer(text):
        try:
            obj = json.loads(m.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            found.append({str(k).lower(): v for k, v in obj.items()})
    return found


def _as_score(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        score = float(value)
    elif isinstance(value, str):
        word = value.strip().upper()
        if word in ("PASS", "YES", "TRUE"):
            return 1.0
        if word in ("FAIL", "NO", "FALSE"):
            return 0.0
        try:
            score = float(word.rstrip("%")) / (100 if word.endswith("%") else 1)
        except ValueError:
            return None
    else:
        return None
    if score > 1 and score <= 10:  # a judge that answered on a 10-point scale
        score /= 10
    elif score > 10 and score <= 100:
        score /= 100
    return min(1.0, max(0.0, score))


@dataclass(frozen=True)
class Verdict:
    score: float
    reason: str = ""


def parse_verdict(text: str) -> Verdict:
    """A score in [0, 1] and a reason from a judge's answer; UnparseableVerdict otherwise.

    Reads, in order: a JSON object with `score` (or `pass` / `verdict` / `result`) anywhere in
    the text; "score: 0.8" (or 8/10); a PASS or FAIL word.
    """
    for obj in _json_objects(text):
        reason = str(obj.get("reason") or obj.get("explanation") or "")
        for key in ("score", "pass", "passed", "verdict", "result", "grade"):
            if key in obj:
                score = _as_score(obj[key])
                if score is not None:
                    return Verdict(score, reason)
    m = _SCORE.search(text)
    if m:
        value = float(m.group(1))
        if m.group(2):
            value /= float(m.group(2).lstrip("/ "))
        score = _as_score(value)
        if score is not None:
            return Verdict(score, _reason_after(text, m.end()))
    m = _WORD.search(text)
    if m:
        return Verdict(1.0 if m.group(1).upper() == "PASS" else 0.0, _reason_after(text, m.end()))
    raise UnparseableVerdict(text)


def _reason_after(text: str, at: int) -> str:
    return " ".join(text[at:].strip(" \t\n:.-").split())[:300]


def _word_probability(response: Response, yes: str, no: str) -> float | None:
    """P(yes) / (P(yes) + P(no)) at the first token, when the model returned logprobs."""
    if not response.logprobs:
        return None
    top = dict(response.logprobs[0].top)
    p_yes = sum(math.exp(lp) for tok, lp in top.items() if tok.strip().upper() == yes)
    p_no = sum(math.exp(lp) for tok, lp in top.items() if tok.strip().upper() == no)
    if p_yes + p_no == 0:
        return None
    return p_yes / (p_yes + p_no)


# ---- rubric --------------------------------------------------------------------------------

RUBRIC_SYSTEM = (
    "You grade the output of an AI system against a rubric. Judge only whether the output "
    "meets the rubric; be strict and literal. Reply with one JSON object and nothing else: "
    '{"reason": "<one sentence>", "score": <a number from 0 to 1>} '
    "where 1 means the rubric is fully met and 0 means it is not met at all."
)

RUBRIC_USER = """<rubric>
{rubric}
</rubric>

<output>
{output}
</output>

Does the output meet the rubric? Reply with the JSON object only."""

# For a base model: instructions are ignored, examples are followed. It ends where the
# verdict word goes, so the first token is PASS or FAIL (and its probability is a score).
RUBRIC_FEW_SHOT = """Each output is graded against its criterion: PASS if it meets it, FAIL if not.

Criterion: The answer is in French.
Output: Bonjour, comment allez-vous ?
Verdict: PASS

Criterion: The answer mentions a price.
Output: Our shop opens at nine and closes at five.
Verdict: FAIL

Criterion: The answer is polite.
Output: Whatever. Figure it out yourself.
Verdict: FAIL

Criterion: The answer lists three colours.
Output: Red, green and blue.
Verdict: PASS

Criterion: {rubric}
Output: {output}
Verdict:"""


def _one_line(text: str, limit: int = 1500) -> str:
    return " ".join(str(text).split())[:limit]


async def grade(judge: Model, rubric: str, output: str) -> Verdict:
    """The judge's verdict on `output` against `rubric` (raises UnparseableVerdict)."""
    response = await _ask(
        judge,
        (RUBRIC_SYSTEM, RUBRIC_USER.format(rubric=rubric, output=output)),
        RUBRIC_FEW_SHOT.format(rubric=_one_line(rubric), output=_one_line(output)),
    )
    verdict = parse_verdict(response.text)
    p = _word_probability(response, "PASS", "FAIL")
    if p is not None:
        word = "PASS" if verdict.score >= 0.5 else "FAIL"
        return Verdict(p, f"{word} (P(PASS) = {p:.2f})")
    return verdict


async def grade_with(
    judge: Model, template: str | list[dict[str, str]], variables: dict[str, Any]
) -> Verdict:
    """The judge's verdict with your own grader prompt (promptfoo's `rubricPrompt`): text or
    {role, content} messages, Nunjucks templates over `output`, `rubric` and the inputs."""
    from ..models import Message, Params, Request
    from ..nunjucks import render_string

    turns = [{"role": "user", "content": template}] if isinstance(template, str) else template
    messages = []
    for turn in turns:
        role = {"developer": "system"}.get(turn["role"], turn["role"])
        if role not in ("system", "user", "assistant"):
            raise ValueError(f"rubric_prompt: role '{turn['role']}' is not supported")
        try:
            text = render_string(turn["content"], variables)
        except ValueError as exc:
            raise ValueError(f"rubric_prompt: {exc}") from None
        messages.append(Message(role, text))  # type: ignore[arg-type]
    response = await judge.generate(Request(tuple(messages), Params(temperature=0, max_tokens=400)))
    return parse_verdict(response.text)


@check("rubric")
def rubric(
    value: str,
    *,
    judge: str | None = None,
    threshold: float = 0.5,
    rubric_prompt: str | list[dict[str, str]] | None = None,
) -> CheckFn:
    """A judge model scores the output against `value`, a criterion in plain words.
    `rubric_prompt` replaces the grader prompt (text or {role, content} messages)."""
    if not str(value).strip():
        raise ValueError("a rubric needs a criterion in `value`")
    if rubric_prompt is not None and not (
        isinstance(rubric_prompt, str)
        or (
            isinstance(rubric_prompt, list)
            and all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in rubric_prompt)
        )
    ):
        raise ValueError("rubric_prompt is text or a list of {role, content} messages")
    _validate_judge(judge)

    async def run(ctx: CheckContext) -> CheckResult:
        try:
            if rubric_prompt is not None:
                variables = {**ctx.inputs, "output": ctx.output, "rubric": str(value)}
                verdict = await grade_with(judge_model(ctx.models, judge), rubric_prompt, variables)
            else:
                verdict = await grade(judge_model(ctx.models, judge), str(value), ctx.output)
        except UnparseableVerdict as exc:
            return result("rubric", False, str(exc), 0.0)
        except Exception as exc:  # a failed judge call fails the check, not the run
            if _is_user_error(exc):
                raise
            return _judge_failure("rubric", exc)
        ok = verdict.score >= threshold
        reason = verdict.reason or ("meets the rubric" if ok else "does not meet the rubric")
        return result("rubric", ok, f"score {verdict.score:.2f}: {reason}", verdict.score)

    return run


def _is_user_error(exc: Exception) -> bool:
    from ..errors import UserError

    return isinstance(exc, UserError)


# ---- factuality ----------------------------------------------------------------------------

FACTUALITY_SCORES = {"A": 1.0, "B": 1.0, "C": 1.0, "D": 0.0, "E": 1.0}
FACTUALITY_MEANING = {
    "A": "a subset of the reference, consistent with it",
    "B": "a superset of the reference, consistent with it",
    "C": "the same details as the reference",
    "D": "disagrees with the reference",
    "E": "differs from the reference in ways that do not matter for factuality",
}

FACTUALITY_SYSTEM = (
    "You compare the factual content of a submitted answer with an expert answer. Reply with "
    'one JSON object and nothing else: {"reason": "<one sentence>", "choice": "<A|B|C|D|E>"}.'
)

FACTUALITY_USER = """You are comparing a submitted answer to an expert answer on a given question.
[BEGIN DATA]
************
[Question]: {question}
************
[Expert]: {reference}
************
[Submission]: {output}
************
[END DATA]

Compare the factual content of the submitted answer with the expert answer. Ignore any \
differences in style, grammar, or punctuation.
The submitted answer may either be a subset or superset of the expert answer, or it may \
conflict with it. Determine which case applies. Answer by selecting one of the following options:
(A) The submitted answer is a subset of the expert answer and is fully consistent with it.
(B) The submitted answer is a superset of the expert answer and is fully consistent with it.
(C) The submitted answer contains all the same details as the expert answer.
(D) There is a disagreement between the submitted answer and the expert answer.
(E) The answers differ, but these differences don't matter from the perspective of factuality.

Reply with the JSON object only."""

FACTUALITY_FEW_SHOT = """Each submission is compared with the expert answer. Choice: A = subset \
of the expert answer, B = superset, C = same details, D = disagrees, E = differs but no matter.

Question: What is the capital of France?
Expert: Paris
Submission: The capital of France is Paris.
Choice: C

Question: How many legs does a spider have?
Expert: Eight
Submission: Spiders have six legs.
Choice: D

Question: Who wrote Hamlet?
Expert: William Shakespeare, around 1600.
Submission: Shakespeare.
Choice: A

Question: What is the boiling point of water at sea level?
Expert: 100 degrees Celsius
Submission: Water boils at 50 degrees Celsius.
Choice: D

Question: {question}
Expert: {reference}
Submission: {output}
Choice:"""

_CHOICE_WORDS = re.compile(
    r"(?:\(([A-E])\)|\b(?:choice|answer|option)\W{0,3}([A-E])\b|^\s*([A-E])\b)"
)


def parse_choice(text: str) -> tuple[str, str]:
    """(letter, reason) from a factuality answer; UnparseableVerdict otherwise."""
    for obj in _json_objects(text):
        for key in ("choice", "answer", "option", "category"):
            letter = str(obj.get(key, "")).strip().strip("()").upper()[:1]
            if letter in FACTUALITY_SCORES:
                return letter, str(obj.get("reason") or "")
    m = _CHOICE_WORDS.search(text)
    if m:
        letter = next(g for g in m.groups() if g)
        return letter, _reason_after(text, m.end())
    raise UnparseableVerdict(text)


def _question(ctx: CheckContext, question: str | None) -> str:
    if question is not None:
        return question
    if not ctx.inputs:
        return "(not given)"
    if len(ctx.inputs) == 1:
        return str(next(iter(ctx.inputs.values())))
    return "; ".join(f"{k}: {v}" for k, v in ctx.inputs.items())


@check("factuality")
def factuality(
    value: Any = _MISSING,
    *,
    judge: str | None = None,
    question: str | None = None,
    scores: dict[str, float] | None = None,
    threshold: float = 0.5,
) -> CheckFn:
    """The output agrees with the reference (`value`, default: the case's expected value).

    `scores` overrides the score of each category (default: 1 for A, B, C, E and 0 for D).
    """
    table = dict(FACTUALITY_SCORES)
    for key, score in (scores or {}).items():
        letter = str(key).upper()
        if letter not in table:
            raise ValueError(f"scores: unknown category {key!r} (A to E)")
        table[letter] = float(score)
    _validate_judge(judge)

    async def run(ctx: CheckContext) -> CheckResult:
        reference = ctx.expected if value is _MISSING or value is None else value
        if reference is None:
            return result("factuality", False, "no reference: give `value` or an expected value")
        q = _question(ctx, question)
        ref = str(reference)
        try:
            response = await _ask(
                judge_model(ctx.models, judge),
                (
                    FACTUALITY_SYSTEM,
                    FACTUALITY_USER.format(question=q, reference=ref, output=ctx.output),
                ),
                FACTUALITY_FEW_SHOT.format(
                    question=_one_line(q), reference=_one_line(ref), output=_one_line(ctx.output)
                ),
            )
            letter, reason = parse_choice(response.text)
        except UnparseableVerdict as exc:
            return result("factuality", False, str(exc), 0.0)
        except Exception as exc:
            if _is_user_error(exc):
                raise
            return _judge_failure("factuality", exc)
        score = table[letter]
        text = f"({letter}) {FACTUALITY_MEANING[letter]}" + (f": {reason}" if reason else "")
        return result("factuality", score >= threshold, text, score)

    return run


# ---- pairwise preference -------------------------------------------------------------------

PAIRWISE_SYSTEM = (
    "You compare two responses to the same request and say which one is better: more "
    "correct, more helpful, clearer. Ignore their order and their length as such. Reply with "
    'one JSON object and nothing else: {"reason": "<one sentence>", "winner": "<A|B|tie>"}.'
)

PAIRWISE_USER = """<request>
{question}
</request>

<response_A>
{a}
</response_A>

<response_B>
{b}
</response_B>

{criterion}Which response is better? Reply with the JSON object only."""

PAIRWISE_FEW_SHOT = """Two responses to the same request are compared; the better one wins.

Request: What is 2 + 2?
Response A: 5
Response B: 4
Winner: B

Request: Name a fruit.
Response A: An apple.
Response B: A chair.
Winner: A

Request: {question}
Response A: {a}
Response B: {b}
Winner:"""

_WINNER_WORDS = re.compile(
    r"\b(?:winner|better|prefer\w*)\W{0,12}(?:response\s*)?(A|B|tie)\b|\b(tie)\b|^\s*(A|B)\b",
    re.I,
)


def parse_preference(text: str) -> tuple[Preference, str]:
    """("A" | "B" | "tie", reason) from a pairwise answer; UnparseableVerdict otherwise."""
    for obj in _json_objects(text):
        for key in ("winner", "preferred", "better", "choice", "answer"):
            if key in obj:
                word = str(obj[key]).strip().strip("()").lower().removeprefix("response").strip()
                if word in ("a", "b"):
                    return word.upper(), str(obj.get("reason") or "")  # type: ignore[return-value]
                if word in ("tie", "equal", "both", "neither", "none"):
                    return "tie", str(obj.get("reason") or "")
    m = _WINNER_WORDS.search(text)
    if m:
        word = next(g for g in m.groups() if g)
        pick: Preference = "tie" if word.lower() == "tie" else word.upper()  # type: ignore[assignment]
        return pick, _reason_after(text, m.end())
    raise UnparseableVerdict(text)


async def _prefer_once(
    model: Model, question: str, a: str, b: str, criterion: str
) -> tuple[Preference, str]:
    crit = f"<criterion>\n{criterion}\n</criterion>\n\n" if criterion else ""
    response = await _ask(
        model,
        (PAIRWISE_SYSTEM, PAIRWISE_USER.format(question=question, a=a, b=b, criterion=crit)),
        PAIRWISE_FEW_SHOT.format(question=_one_line(question), a=_one_line(a), b=_one_line(b)),
    )
    return parse_preference(response.text)


_SIGN: dict[str, int] = {"A": 1, "B": -1, "tie": 0}


async def prefer(
    judge: Model,
    question: str,
    output_a: str,
    output_b: str,
    *,
    criterion: str = "",
) -> tuple[Preference, str]:
    """Which of two outputs the judge prefers: "A", "B" or "tie", with the judge's reasons.

    Asked twice, A then B and B then A: a judge that picks the same position both times (a
    position bias) cancels out to a tie; one firm pick and one tie still count as a pick.
    Raises UnparseableVerdict when either answer cannot be read.
    """
    model = judge
    first, why_first = await _prefer_once(model, question, output_a, output_b, criterion)
    second, why_second = await _prefer_once(model, question, output_b, output_a, criterion)
    total = _SIGN[first] - _SIGN[second]  # the second answer is about swapped positions
    pick: Preference = "A" if total > 0 else "B" if total < 0 else "tie"
    swapped = {"A": "B", "B": "A", "tie": "tie"}[second]
    reason = f"A-B order: {first}" + (f" ({why_first})" if why_first else "")
    reason += f"; B-A order: {swapped}" + (f" ({why_second})" if why_second else "")
    if first != "tie" and first != swapped:
        reason += "; the two orders disagree (position bias)"
    return pick, reason


@check("pairwise")
def pairwise(
    value: Any = _MISSING,
    *,
    judge: str | None = None,
    question: str | None = None,
    criterion: str = "",
) -> CheckFn:
    """The judge prefers the output to `value` (a reference output; default: expected), or
    ties. Score 1 when preferred, 0.5 for a tie, 0 when the reference wins."""
    _validate_judge(judge)

    async def run(ctx: CheckContext) -> CheckResult:
        reference = ctx.expected if value is _MISSING or value is None else value
        if reference is None:
            return result("pairwise", False, "no reference output: give `value` or expected")
        try:
            pick, reason = await prefer(
                judge_model(ctx.models, judge),
                _question(ctx, question),
                ctx.output,
                str(reference),
                criterion=criterion,
            )
        except UnparseableVerdict as exc:
            return result("pairwise", False, str(exc), 0.0)
        except Exception as exc:
            if _is_user_error(exc):
                raise
            return _judge_failure("pairwise", exc)
        score = {"A": 1.0, "tie": 0.5, "B": 0.0}[pick]
        said = {"A": "output preferred", "tie": "tie", "B": "reference preferred"}[pick]
        return result("pairwise", pick != "B", f"{said}: {reason}", score)

    return run
