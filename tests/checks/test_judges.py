"""Model-graded checks against a judge that answers predictably: a real OpenAI-compatible HTTP
server on loopback, reached through our real openai-compatible provider, so every test covers
request → HTTP → parse → score. One test runs the embedded model as the judge (no assertion on
its judgement, only that it yields a result and the warning)."""

from __future__ import annotations

import asyncio
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers_http import LoopbackServer, Recorded, Reply, chat_reply

from prompteur.checks import (
    CheckContext,
    CheckResult,
    JudgeWarning,
    _judge,
    build,
    parse_verdict,
    prefer,
)
from prompteur.config import load_config
from prompteur.errors import UserError
from prompteur.models.pool import ModelPool

Answer = Callable[[str, str], str]  # (system, user) → the judge's text


def _chat_reply(text: str) -> Reply:
    return chat_reply(text, model="judge", tokens=(10, 5))


class StubJudge:
    """An OpenAI-compatible /v1/chat/completions whose answer is `answer(system, user)`."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.server = LoopbackServer(self.handle)

    def handle(self, req: Recorded) -> Reply:
        if req.path != "/v1/chat/completions":
            return Reply(404, {"error": {"message": f"no {req.path}"}})
        messages = req.json["messages"]
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next(m["content"] for m in messages if m["role"] == "user")
        return _chat_reply(self.answer(system, user))

    @property
    def id(self) -> str:
        return f"openai-compatible:judge@{self.server.url}/v1"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.json for r in self.server.requests]


@pytest.fixture
def stub() -> Iterator[Callable[[Answer], StubJudge]]:
    servers: list[StubJudge] = []

    def make(answer: Answer) -> StubJudge:
        judge = StubJudge(answer)
        judge.server.__enter__()
        servers.append(judge)
        return judge

    yield make
    for judge in servers:
        judge.server.close()


def _section(user: str, tag: str) -> str:
    m = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", user, re.S)
    assert m, f"no <{tag}> in the judge prompt:\n{user}"
    return m.group(1)


def run(spec: dict[str, Any], ctx: CheckContext) -> CheckResult:
    """The check on `ctx`, with a project's models (outside any project: no config) unless
    `ctx` brings its own."""

    async def go() -> CheckResult:
        pool = ctx.models or ModelPool(None)
        try:
            return await build(spec)(replace(ctx, models=pool))
        finally:
            if ctx.models is None:
                await pool.aclose()

    return asyncio.run(go())


# ---- rubric ------------------------------------------------------------------------------


def refund_grader(system: str, user: str) -> str:
    """Scores 1 when the graded output mentions a refund."""
    output = _section(user, "output")
    if "refund" in output.lower():
        return 'Sure. {"reason": "it offers a refund politely", "score": 1}'
    return '```json\n{"reason": "no refund is mentioned", "score": 0}\n```'


RUBRIC = "The answer is polite and mentions a refund"


def test_rubric_request_carries_the_rubric_and_the_output(stub: Any) -> None:
    judge = stub(refund_grader)
    out = "We are sorry: you will get a full refund."
    r = run({"type": "rubric", "value": RUBRIC, "judge": judge.id}, CheckContext(out))
    assert r.passed and r.score == 1.0
    assert "it offers a refund politely" in r.reason
    (body,) = judge.bodies
    assert body["temperature"] == 0
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert '"score"' in system and "JSON" in system
    assert _section(user, "rubric") == RUBRIC
    assert _section(user, "output") == out


def test_rubric_fails_below_threshold(stub: Any) -> None:
    judge = stub(refund_grader)
    r = run({"type": "rubric", "value": RUBRIC, "judge": judge.id}, CheckContext("No."))
    assert not r.passed and r.score == 0.0
    assert "no refund is mentioned" in r.reason


def test_rubric_threshold_and_scales(stub: Any) -> None:
    judge = stub(lambda s, u: '{"score": 7, "reason": "mostly"}')  # a 10-point answer
    spec = {"type": "rubric", "value": RUBRIC, "judge": judge.id}
    assert run({**spec, "threshold": 0.6}, CheckContext("x")).score == pytest.approx(0.7)
    assert not run({**spec, "threshold": 0.8}, CheckContext("x")).passed


def test_rubric_malformed_judge_output_fails_with_a_reason(stub: Any) -> None:
    judge = stub(lambda s, u: "I would rather not say.")
    r = run({"type": "rubric", "value": RUBRIC, "judge": judge.id}, CheckContext("refund"))
    assert not r.passed and r.score == 0.0
    assert "unparseable judge answer" in r.reason and "rather not say" in r.reason


def test_rubric_judge_http_error_fails_the_check_not_the_run(stub: Any) -> None:
    judge = stub(lambda s, u: "unused")
    judge.server.handler = lambda req: Reply(500, {"error": {"message": "boom"}})
    r = run({"type": "rubric", "value": RUBRIC, "judge": judge.id}, CheckContext("refund"))
    assert not r.passed and "judge call failed" in r.reason and "boom" in r.reason


def test_default_judge_is_the_projects_default_model(
    stub: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    judge = stub(refund_grader)
    (tmp_path / "prompteur.toml").write_text(f'[project]\ndefault_model = "{judge.id}"\n')
    models = ModelPool(load_config(tmp_path))  # the project's models, wherever one stands
    r = run({"type": "rubric", "value": RUBRIC}, CheckContext("a refund, sir", models=models))
    assert r.passed and len(judge.bodies) == 1


def test_judge_model_is_made_once_per_id(stub: Any) -> None:
    judge = stub(refund_grader)
    models = ModelPool(None)
    assert _judge.judge_model(models, judge.id) is _judge.judge_model(models, judge.id)


def test_bad_judge_id_is_an_error_before_any_call() -> None:
    with pytest.raises(UserError, match="unknown model id"):
        build({"type": "rubric", "value": RUBRIC, "judge": "nonsense"})
    with pytest.raises(UserError):
        build({"type": "rubric", "value": "  "})


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ('{"reason": "ok", "score": 0.8}', 0.8),
        ('Here you go:\n```json\n{"score": "1", "reason": "x"}\n```', 1.0),
        ('{"reason": "no", "pass": false}', 0.0),
        ('{"verdict": "PASS"}', 1.0),
        ("Score: 8/10 because it is good", 0.8),
        ('{"reason": "broken json", "score": 0.3', 0.3),
        ("PASS - it mentions a refund", 1.0),
        (" FAIL", 0.0),
        ("score: 75%", 0.75),
    ],
)
def test_parse_verdict(text: str, score: float) -> None:
    assert parse_verdict(text).score == pytest.approx(score)


def test_parse_verdict_keeps_the_reason() -> None:
    assert parse_verdict("FAIL: it is rude").reason == "it is rude"
    with pytest.raises(ValueError, match="unparseable"):
        parse_verdict("hmm")


# ---- factuality ------------------------------------------------------------------------------


def capital_facts(system: str, user: str) -> str:
    sub = re.search(r"\[Submission\]: (.*)", user).group(1)  # type: ignore[union-attr]
    expert = re.search(r"\[Expert\]: (.*)", user).group(1)  # type: ignore[union-attr]
    if expert.lower() in sub.lower():
        return '{"reason": "same capital", "choice": "C"}'
    if "Osaka" in sub:
        return "The submission names another city.\nAnswer: (D)"
    return '{"reason": "adds detail", "choice": "B"}'


def test_factuality_categories(stub: Any) -> None:
    judge = stub(capital_facts)
    spec = {"type": "factuality", "judge": judge.id}
    inputs = {"question": "What is the capital of Japan?"}
    same = run(spec, CheckContext("It is Tokyo.", expected="Tokyo", inputs=inputs))
    assert same.passed and same.score == 1.0 and same.reason.startswith("(C)")
    wrong = run(spec, CheckContext("Osaka.", expected="Tokyo", inputs=inputs))
    assert not wrong.passed and wrong.score == 0.0 and wrong.reason.startswith("(D)")
    user = judge.bodies[0]["messages"][1]["content"]
    assert "[Question]: What is the capital of Japan?" in user
    assert "[Expert]: Tokyo" in user and "[Submission]: It is Tokyo." in user
    assert all(b["temperature"] == 0 for b in judge.bodies)


def test_factuality_value_and_custom_scores(stub: Any) -> None:
    judge = stub(capital_facts)
    spec = {"type": "factuality", "judge": judge.id, "value": "Tokyo", "question": "Capital?"}
    r = run({**spec, "scores": {"B": 0.4}}, CheckContext("Kyoto was, Tokyo is; 14M people."))
    assert r.score == 1.0  # contains "Tokyo": C
    r = run({**spec, "scores": {"b": 0.4}}, CheckContext("A big city of 14M people."))
    assert r.score == pytest.approx(0.4) and not r.passed
    with pytest.raises(UserError, match="unknown category"):
        build({**spec, "scores": {"F": 1}})


def test_factuality_without_reference_or_with_bad_answer(stub: Any) -> None:
    judge = stub(lambda s, u: "no idea")
    spec = {"type": "factuality", "judge": judge.id}
    assert "no reference" in run(spec, CheckContext("x")).reason
    r = run(spec, CheckContext("x", expected="y"))
    assert not r.passed and "unparseable" in r.reason


# ---- pairwise ------------------------------------------------------------------------------


def tokyo_fan(system: str, user: str) -> str:
    """Prefers the response that says Tokyo, wherever it stands."""
    a, b = _section(user, "response_A"), _section(user, "response_B")
    if ("Tokyo" in a) == ("Tokyo" in b):
        return '{"reason": "both alike", "winner": "tie"}'
    return json.dumps({"reason": "says Tokyo", "winner": "A" if "Tokyo" in a else "B"})


def test_prefer_asks_both_orders() -> None:
    judge = StubJudge(tokyo_fan)
    with judge.server:
        pick, reason = asyncio.run(
            prefer(ModelPool(None).get(judge.id), "Capital of Japan?", "Osaka", "Tokyo")
        )
        assert pick == "B" and "says Tokyo" in reason
        orders = [
            (
                _section(b["messages"][1]["content"], "response_A"),
                _section(b["messages"][1]["content"], "response_B"),
            )
            for b in judge.bodies
        ]
        assert orders == [("Osaka", "Tokyo"), ("Tokyo", "Osaka")]
        assert all("Capital of Japan?" in b["messages"][1]["content"] for b in judge.bodies)


def test_prefer_cancels_position_bias() -> None:
    judge = StubJudge(lambda s, u: '{"winner": "A", "reason": "first is best"}')
    with judge.server:
        pick, reason = asyncio.run(prefer(ModelPool(None).get(judge.id), "q", "one", "two"))
    assert pick == "tie" and "position bias" in reason


def test_pairwise_check(stub: Any) -> None:
    judge = stub(tokyo_fan)
    spec = {"type": "pairwise", "judge": judge.id, "value": "I think Osaka."}
    ctx = CheckContext("Tokyo.", inputs={"q": "Capital of Japan?"})
    better = run(spec, ctx)
    assert better.passed and better.score == 1.0
    worse = run({**spec, "value": "Tokyo, of course."}, CheckContext("Kyoto."))
    assert not worse.passed and worse.score == 0.0
    tie = run({**spec, "value": "Tokyo!"}, ctx)
    assert tie.passed and tie.score == 0.5
    assert len(judge.bodies) == 6


def test_pairwise_malformed_answer(stub: Any) -> None:
    judge = stub(lambda s, u: "Both have merits, really.")
    r = run({"type": "pairwise", "judge": judge.id, "value": "x"}, CheckContext("y"))
    assert not r.passed and "unparseable" in r.reason


# ---- the embedded model as judge ---------------------------------------------------------------


def test_local_judge_gives_a_result_and_warns(
    embedded_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_judge, "_warned_small", False)
    with pytest.warns(JudgeWarning, match="270M"):
        r = run(
            {"type": "rubric", "value": RUBRIC, "judge": "local"},
            CheckContext("We are sorry; we will refund you in full."),
        )
    assert isinstance(r, CheckResult) and 0.0 <= r.score <= 1.0
    # the few-shot completion gets a PASS/FAIL word (its probability is the score); never a crash
    assert "P(PASS)" in r.reason or "unparseable" in r.reason
    with warnings.catch_warnings():
        warnings.simplefilter("error", JudgeWarning)  # once per process: no second warning
        f = run(
            {"type": "factuality", "judge": "local"},
            CheckContext("Osaka.", expected="Tokyo", inputs={"q": "Capital of Japan?"}),
        )
        p = run({"type": "pairwise", "judge": "local", "value": "Tokyo."}, CheckContext("Osaka."))
    assert isinstance(f, CheckResult) and isinstance(p, CheckResult)
    assert re.match(r"\([A-E]\)", f.reason) or "unparseable" in f.reason
