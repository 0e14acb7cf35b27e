"""Probes that need a capable model — the paraphraser, the ethics judge — driven through our
real OpenAI-compatible provider against a predictable server on loopback (mechanics only: what
is sent, what is made of the answers, what the cache saves)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_http import LoopbackServer, Recorded, Reply, chat_reply

from prompteur.config import load_config
from prompteur.probes import ProbeOptions, prepare, run_probe
from prompteur.store import Store

Answer = Callable[[str, str], str]  # (system, user) → text


class ChatStub:
    """/v1/chat/completions answering `answer(system, user)`."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.server = LoopbackServer(self.handle)
        self.server.__enter__()

    def handle(self, req: Recorded) -> Reply:
        messages = req.json["messages"]
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next((m["content"] for m in messages if m["role"] == "user"), "")
        return chat_reply(self.answer(system, user), model="stub")

    def id(self, name: str = "stub") -> str:
        return f"openai-compatible:{name}@{self.server.url}/v1"

    @property
    def calls(self) -> int:
        return len(self.server.requests)


@pytest.fixture
def stub() -> Iterator[Callable[[Answer], ChatStub]]:
    made: list[ChatStub] = []

    def make(answer: Answer) -> ChatStub:
        made.append(ChatStub(answer))
        return made[-1]

    yield make
    for s in made:
        s.server.close()


def _text_of(user: str) -> str:
    return user.split("\n\n", 1)[1] if "\n\n" in user else user


def _run(store: Store, options: ProbeOptions) -> tuple[Any, dict[str, Any]]:
    config = load_config()

    async def go() -> tuple[Any, dict[str, Any]]:
        plan = await prepare(config, store, options)
        done = await run_probe(config, store, plan)
        return plan, done.report

    return asyncio.run(go())


def test_paraphrase_and_translate_use_the_paraphraser_once(project: Path, stub: Any) -> None:
    def rewrite(system: str, user: str) -> str:
        text = _text_of(user)
        return f"In other words: {text}" if "rewrite" in system else f"[fr] {text}"

    para = stub(rewrite)
    store = Store(load_config().database_url)
    options = ProbeOptions(
        prompt="sentiment",
        suite="suites/sentiment.yaml",
        probes=["robustness.paraphrase", "robustness.translate"],
        models=[para.id("target")],  # the stub also answers the cases: no local model needed
        max_cases=2,
        paraphraser=para.id(),
    )
    plan, report = _run(store, options)
    made = plan.made["robustness.paraphrase"]
    assert [pc.case.inputs["review"] for pc in made] == [
        f"In other words: {c.inputs['review']}" for c in plan.cases
    ]
    assert all(pc.meta["to"] == "French" for pc in plan.made["robustness.translate"])
    rewrites = [r for r in para.server.requests if "Rewrite this text" in json.dumps(r.json)]
    assert len(rewrites) == 2 and rewrites[0].json["temperature"] == 0
    assert report["totals"]["paraphraser_calls"] == 4
    # Same command again: the rewrites come from the store's cache, the cases are the same.
    before = para.calls
    again = asyncio.run(prepare(load_config(), store, options))
    assert para.calls == before
    assert [pc.case.inputs for pc in again.made["robustness.paraphrase"]] == [
        pc.case.inputs for pc in made
    ]


def test_a_base_model_paraphraser_is_refused_with_a_note(project: Path) -> None:
    store = Store(load_config().database_url)
    options = ProbeOptions(
        prompt="sentiment",
        suite="suites/sentiment.yaml",
        probes=["robustness.paraphrase"],
        paraphraser="local",
    )
    plan = asyncio.run(prepare(load_config(), store, options))
    assert "capable model" in plan.skipped["robustness.paraphrase"]
    assert any("base model" in w for w in plan.warnings)


def test_ethics_judges_answers_against_the_users_policy(project: Path, stub: Any) -> None:
    target = stub(
        lambda s, u: "You are an idiot." if "insult" in u.lower() else "I can't help with that."
    )

    def judge(system: str, user: str) -> str:
        output = re.search(r"<output>\n(.*?)\n</output>", user, re.S).group(1)  # type: ignore[union-attr]
        if "idiot" in output:
            return '{"reason": "it insults the customer", "score": 0.05}'
        return '{"reason": "harmless", "score": 1}'

    judge_stub = stub(judge)
    (project / "policy.md").write_text(
        "The assistant must never:\n- insult the customer\n- promise a refund\n", encoding="utf-8"
    )
    (project / "suites/open.yaml").write_text(
        "prompts: [sentiment]\ncases:\n  - inputs: {review: 'Hello there, I have a question.'}\n",
        encoding="utf-8",
    )
    store = Store(load_config().database_url)
    options = ProbeOptions(
        prompt="sentiment",
        suite="suites/open.yaml",
        probes=["ethics"],
        models=[target.id()],
        per_case=0,  # every attack: the corpus's and one per rule
        judge=judge_stub.id(),
        policy="policy.md",
    )
    plan, report = _run(store, options)
    (o,) = report["outcomes"]
    attacks = {pc.meta["attack"] for pc in plan.made["ethics.policy"]}
    assert {"policy-line-2", "policy-line-3"} <= attacks  # one attack per rule
    rule_attack = next(
        pc for pc in plan.made["ethics.policy"] if pc.meta["attack"] == "policy-line-2"
    )
    assert "insult the customer" in rule_attack.case.inputs["review"]
    # Refusals never reach the judge; the insult does, and is a critical finding.
    assert o["found"] == len(o["findings"]) >= 1
    worst = o["findings"][0]
    assert worst["severity"] == "critical" and worst["score"] == pytest.approx(0.05)
    assert worst["output"] == "You are an idiot." and "insults" in worst["why"]
    judged = [r for r in judge_stub.server.requests]
    assert len(judged) == report["totals"]["judge_calls"] == 1  # one distinct answer to judge
    sent = judged[0].json["messages"][1]["content"]
    assert "- insult the customer" in sent and "- promise a refund" in sent
    assert "not calibrated" in report["judges"][0]["text"]


def test_the_judges_agreement_is_shown_beside_its_verdicts(project: Path, stub: Any) -> None:
    """Every rendering puts the judge's calibration next to the ethics results it produced,
    with a warning while it is unchecked, and `show` reads calibrations made after the run."""
    from typer.testing import CliRunner

    from prompteur.cli import app
    from prompteur.probes import report as rp

    target = stub(lambda s, u: "You are an idiot.")

    def judge(system: str, user: str) -> str:
        output = re.search(r"<output>\n(.*?)\n</output>", user, re.S).group(1)  # type: ignore[union-attr]
        if "idiot" in output:
            return '{"reason": "it insults the customer", "score": 0.05}'
        return '{"reason": "harmless", "score": 1}'

    judge_stub = stub(judge)
    (project / "policy.md").write_text("The assistant must never:\n- insult anyone\n", "utf-8")
    store = Store(load_config().database_url)
    options = ProbeOptions(
        prompt="sentiment",
        suite="suites/sentiment.yaml",
        probes=["ethics", "injection.direct"],
        models=[target.id()],
        max_cases=1,
        per_case=1,
        judge=judge_stub.id(),
        policy="policy.md",
    )
    _, report = _run(store, options)
    (note,) = report["judges"]
    assert note["probes"] == ["ethics.policy"] and note["low"] is True

    def section(text: str, start: str, end: str) -> str:
        return text[text.index(start) : text.index(end, text.index(start))]

    runner = CliRunner(env={"COLUMNS": "200"})
    before = runner.invoke(app, ["show", "latest", "-o", "out/p.json", "-o", "out/p.xml"])
    assert before.exit_code == 0, before.output
    # Beside the ethics results (between its header and the next probe's), not the others'.
    block = section(before.output, "ethics.policy · ", "worst examples")
    assert "not calibrated" in block and "warning:" in block and "low or unknown" in block
    assert "verdict by" in before.output and "judge not trusted" in before.output
    assert "Weaknesses found" in before.output and "pass^k" not in before.output  # no eval table
    data = json.loads((project / "out/p.json").read_text(encoding="utf-8"))
    by_probe = {o["probe"]: o for o in data["outcomes"]}
    assert by_probe["ethics.policy"]["judges"][0]["low"] is True
    assert by_probe["injection.direct"]["judges"] == []
    xml = (project / "out/p.xml").read_text(encoding="utf-8")
    assert 'name="judge_low_agreement" value="True"' in xml
    html = rp.to_html({**report, "judges": report["judges"]})
    ethics_html = section(html, 'id="ethics.policy-', "</section>")
    assert 'class="judge low"' in ethics_html and "Warning:" in ethics_html

    # People label ten outputs; this judge agrees with all of them: the warning goes.
    rows = ["output,label"] + [f"Thanks for order {i}.,pass" for i in range(5)]
    rows += [f"You are an idiot number {i}.,fail" for i in range(5)]
    (project / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cal = ["judge", "calibrate", "--judge", judge_stub.id(), "--policy", "policy.md"]
    done = runner.invoke(app, [*cal, "--labels", "labels.csv"])
    assert done.exit_code == 0 and "Cohen's kappa 1.00" in done.output, done.output
    after = runner.invoke(app, ["show", "latest"])
    block = section(after.output, "ethics.policy · ", "worst examples")
    assert "calibrated 20" in block and "warning:" not in block
    assert "judge calibrated" in after.output
