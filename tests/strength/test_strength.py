"""Suite strength: mutation testing for prompt suites.

The operators on their own; `prompteur suite strength` on every suite that `init`, the domain
packs and `draft` write (outputs mutated without a model call); a real run with prompt
mutants on the embedded model; a weak suite shown weak, with its survivors.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from helpers_paths import REPO
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.prompt import parse_prompt
from prompteur.strength import (
    PROMPT_OPERATORS,
    output_mutants,
    prompt_mutants,
    vous_to_tu,
    wrong_register,
)
from prompteur.suite import load_suite

runner = CliRunner()
DOCS = REPO / "docs"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def strength(*args: str) -> dict:
    code, out, err = invoke("suite", "strength", *args, "--json")
    assert code in (0, 1), err
    return json.loads(out)


# ---- operators ----------------------------------------------------------------------------------


def test_output_mutants_of_json() -> None:
    out = (
        '{"categorie": "carte", "urgence": "haute", '
        '"reponse": "Nous bloquons votre carte tout de suite."}'
    )
    made = output_mutants(out, field_values={"categorie": ["carte", "virement"]})
    ops = [m.operator for m in made]
    assert ops == [
        "wrong-value",
        "wrong-value",
        "wrong-value",
        "wrong-register",
        "broken-json",
        "empty-answer",
    ]
    assert json.loads(made[0].text)["categorie"] == "virement"
    assert json.loads(made[2].text)["reponse"] == ""  # free text: emptied, not reworded
    assert "ton" in made[3].text and "votre" not in made[3].text
    with pytest.raises(json.JSONDecodeError):
        json.loads(made[4].text)
    assert made[5].text == ""


def test_output_mutants_of_labels_and_prose() -> None:
    made = output_mutants("positive", labels=["positive", "negative"])
    assert [(m.operator, m.text) for m in made] == [
        ("wrong-value", "negative"),
        ("empty-answer", ""),
    ]
    # a label the case itself accepts is no wrong value for it: the next one is taken
    made = output_mutants(
        "hand wash",
        labels=["hand wash", "not dishwasher", "750"],
        accepted=["hand wash", "Not dishwasher", "no"],
    )
    assert made[0].text == "750"
    assert output_mutants("yes", labels=["yes", "Yes "], accepted=["yes"])[0].operator == (
        "empty-answer"
    )
    # prose with no register and no label set: only the empty answer applies
    assert [m.operator for m in output_mutants("Great value for money")] == ["empty-answer"]


def test_registers_flip() -> None:
    assert vous_to_tu("Vous trouverez votre RIB dans vos documents.") == (
        "Tu trouverez ton RIB dans tes documents."
    )
    assert wrong_register("Tu peux voir ton compte.") == (
        "Vous peux voir votre compte.",
        "tu → vous",
    )
    flipped = wrong_register("Dear customer, kindly find the invoice attached.")
    assert flipped is not None and flipped[1] == "formal → casual"
    assert wrong_register("The sky is blue.") is None


PROMPT = """---
name: tri
model:
  id: local
  parameters: {temperature: 0, max_tokens: 5, stop: ["\\n"]}
inputs:
  message: {kind: string}
examples:
  - {message: "J'ai été prélevé deux fois.", categorie: facturation}
  - {message: "Mon colis n'est pas arrivé.", categorie: livraison}
---
system:
Classez chaque message de votre client : facturation ou livraison.
Répondez par un seul mot, au format indiqué.

user:
{% for ex in examples -%}
Message : {{ ex.message }}
Catégorie : {{ ex.categorie }}

{% endfor -%}
Message : {{ message }}
Catégorie :"""


def test_prompt_mutants() -> None:
    prompt = parse_prompt(PROMPT, name="tri")
    made = {m.operator: m.prompt for m in prompt_mutants(prompt)}
    assert set(made) == set(PROMPT_OPERATORS)
    assert [m.role for m in made["drop-instruction"].render({"message": "x"})] == ["user"]
    assert [e["categorie"] for e in made["swap-labels"].meta.examples] == [
        "livraison",
        "facturation",
    ]
    removed = made["remove-format"]
    assert removed.params.stop is None and removed.params.max_tokens is None
    assert "format" not in removed.render({"message": "x"})[0].content
    assert "ton client" in made["vous-to-tu"].render({"message": "x"})[0].content
    assert made["wrong-example"].meta.examples[-1] == {
        "message": "J'ai été prélevé deux fois.",
        "categorie": "livraison",
    }
    assert len(made["truncate"].meta.examples) == 1
    # nothing to mutate, no mutant
    assert prompt_mutants(parse_prompt("user:\nHi {{ name }}", name="p")) == []


# ---- every suite prompteur writes --------------------------------------------------------------


def _doc_briefs() -> dict[str, str]:
    found = {}
    for doc in ("draft.md", "structured.md"):
        text = (DOCS / doc).read_text(encoding="utf-8")
        for name, body in re.findall(
            r"cat > briefs/([\w-]+\.yaml) <<'EOF'\n(.*?)\nEOF", text, re.S
        ):
            found[name] = body + "\n"
    return found


def _every_written_suite(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, str]]:
    """`init` (the project fixture) and `draft` on the docs' briefs, then each domain pack in a
    project of its own, as a user installs it (under suites/PACK/): (project, suite path under
    suites/) pairs. One project per pack keeps each suite's library small to scan."""
    (project / "briefs").mkdir()
    briefs = _doc_briefs()
    assert "tri-banque.yaml" in briefs
    for name, body in briefs.items():
        (project / "briefs" / name).write_text(body, encoding="utf-8")
        code, _, err = invoke("draft", "--brief", f"briefs/{name}", "--force")
        assert code == 0, err
    code, out, err = invoke("packs", "--json")
    assert code == 0, err
    projects = [project]
    for pack in json.loads(out):
        home = project.parent / f"pack-{pack['name']}"
        assert invoke("init", str(home))[0] == 0
        monkeypatch.chdir(home)
        assert invoke("init", ".", "--pack", pack["name"])[0] == 0
        assert list((home / "suites" / pack["name"]).glob("*.yaml")), pack["name"]
        projects.append(home)
    found = []
    for home in projects:
        root = home / "suites"
        found += [(home, p.relative_to(root).as_posix()) for p in sorted(root.glob("**/*.yaml"))]
    suites = {suite for _, suite in found}
    assert len(suites) >= 98
    return found


def test_strength_covers_every_suite_init_packs_and_draft_write(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scores, free = {}, []
    for home, suite in _every_written_suite(project, monkeypatch):
        monkeypatch.chdir(home)
        report = strength(f"suites/{suite}", "--outputs-only")
        assert report["calls"] == 0  # outputs only: no model call
        # a field of a JSON answer that no check can fail on is a blind spot of the suite
        assert report["blind_fields"] == {}, suite
        if report["counted"]:
            scores[suite] = report["score"]
        else:
            free.append(suite)
    # the suites draft writes kill every standard mutant of their own outputs
    for drafted in ("tri-banque.yaml", "priority.yaml", "tri-courrier.yaml"):
        assert scores[drafted] == 1.0, drafted
    assert scores["sentiment.yaml"] == 1.0 and scores["tri-tickets.yaml"] == 1.0
    weak = {name: score for name, score in scores.items() if score < 0.9}
    assert not weak, weak
    assert len(scores) >= 45
    # the others, measured on the model below and by benchmarks/structured/strength_all.py,
    # are suites whose cases expect no answer to mutate (free text, JSON checked field by
    # field with a schema per case)
    assert free and all(not name.startswith(("tri-", "priority")) for name in free)


def _kind(spec: dict | str) -> str:
    return spec if isinstance(spec, str) else str(spec.get("type"))


# A seeded sample of those suites, on a seeded sample of their cases: minutes, not the hour the
# whole sweep takes (benchmarks/structured/strength_all.py --cases 3 does that).
SAMPLED_SUITES, SAMPLED_CASES = 1, 3


@pytest.mark.timeout(600)  # about 21 calls of the embedded model: 3 minutes on a loaded machine
def test_strength_of_free_text_suites_on_the_embedded_model(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Suites of free text expect no answer to mutate (a button's words to find, a greeting's
    # register): their references are the embedded model's passing answers, and the prompt
    # mutants run on the same sampled cases.
    free = []
    for home, suite in _every_written_suite(project, monkeypatch):
        spec = load_suite(home / "suites" / suite)
        json_answer = any(_kind(c) == "is-json" for c in spec.spec.checks)
        if not json_answer and all(case.expected is None for case in spec.cases()):
            free.append((home, suite))
    assert len(free) >= 12
    for home, suite in random.Random(19).sample(free, SAMPLED_SUITES):
        monkeypatch.chdir(home)
        report = strength(f"suites/{suite}", "--cases", str(SAMPLED_CASES), "--budget", "100")
        n_prompt = sum(m["target"] == "prompt" for m in report["mutants"])
        # the baseline and each prompt mutant on the sampled cases, then the survivors on
        # more cases, within the budget
        assert SAMPLED_CASES <= report["calls"] <= 100, suite
        if report["calls"] > SAMPLED_CASES * (1 + n_prompt):
            assert any(n.startswith("survivors") for n in report["notes"]), report["notes"]
        assert any(
            note.startswith(f"sample: the model runs on {SAMPLED_CASES} of")
            for note in report["notes"]
        )
        assert report["counted"], (suite, report["notes"])
        # every output mutant of a passing answer is caught
        outputs = [m for m in report["mutants"] if m["target"] == "output"]
        assert all(m["status"] == "killed" for m in outputs), (suite, outputs)
        # The goal is 90% with the prompt mutants too. It is not asserted here: on the same
        # sample, product-title's score was 100%, 83% and 67% in three runs (llama.cpp batches
        # sequences and its answers vary a little); benchmarks/structured/RESULTS.md has the
        # figures. What must hold is the bounded, sampled measure and its interval.
        assert 0 < report["score"] <= 1
        low, high = report["interval"]
        assert low <= report["score"] <= high


def test_a_weak_suite_is_shown_weak_with_its_survivors(project: Path) -> None:
    (project / "suites" / "weak.yaml").write_text(
        "prompts: [tri-tickets]\nchecks:\n  - {type: length, min: 1, max: 40}\ncases:\n"
        '  - inputs: {message: "Mon colis n\'est jamais arrivé."}\n    expected: livraison\n'
        '  - inputs: {message: "On m\'a facturé deux fois."}\n    expected: facturation\n',
        encoding="utf-8",
    )
    report = strength("suites/weak.yaml", "--outputs-only")
    assert report["score"] == 0.5  # the empty answers are killed, the wrong labels survive
    assert report["per_check"] == {"checks[0] length": 2}
    survivors = [m for m in report["mutants"] if m["status"] == "survived"]
    assert {m["operator"] for m in survivors} == {"wrong-value"}
    code, out, _ = invoke(
        "suite", "strength", "suites/weak.yaml", "--outputs-only", "--fail-under", "0.9"
    )
    assert code == 1
    assert "survivors (2)" in out and "wrong-value" in out


@pytest.mark.timeout(900)  # about 20 calls of the embedded model: minutes on a loaded machine
def test_prompt_mutants_run_on_the_embedded_model(project: Path) -> None:
    (project / "prompts" / "tri.prompty").write_text(PROMPT, encoding="utf-8")
    (project / "suites" / "tri.yaml").write_text(
        "prompts: [tri]\nchecks:\n  - {type: equals, normalize: true}\ncases:\n"
        '  - inputs: {message: "On m\'a prélevé deux fois le même montant."}\n'
        "    expected: facturation\n"
        '  - inputs: {message: "Le livreur n\'est jamais venu."}\n    expected: livraison\n',
        encoding="utf-8",
    )
    report = strength("suites/tri.yaml", "--budget", "40")
    prompt_side = [m for m in report["mutants"] if m["target"] == "prompt"]
    assert {m["operator"] for m in prompt_side} == set(PROMPT_OPERATORS)
    assert all(m["status"] in ("killed", "survived", "equivalent") for m in prompt_side)
    assert 2 <= report["calls"] <= 40
    # a killed prompt mutant names the check that caught it
    for m in prompt_side:
        if m["status"] == "killed":
            assert m["killers"]
    # the same again costs nothing: every answer is in the cache
    again = strength("suites/tri.yaml", "--budget", "40")
    assert again["calls"] == 0
    assert [m["status"] for m in again["mutants"]] == [m["status"] for m in report["mutants"]]
    # a seeded sample of one case: a prompt mutant killed on it is killed on the whole suite
    # (the sample is a lower bound), and the calls are the sample's (here all cached)
    sampled = strength("suites/tri.yaml", "--cases", "1", "--budget", "40")
    assert "sample: the model runs on 1 of 2 cases (seed 0)" in sampled["notes"]
    assert sampled["calls"] == 0
    # the survivors of the sample ran on the other case (cached too): the verdicts are the
    # whole suite's
    whole = {m["operator"]: m["status"] for m in report["mutants"] if m["target"] == "prompt"}
    assert {
        m["operator"]: m["status"] for m in sampled["mutants"] if m["target"] == "prompt"
    } == whole
    if sampled["counted"]:
        low, high = sampled["interval"]
        assert 0 <= low <= sampled["score"] <= high <= 1
    other = strength("suites/tri.yaml", "--cases", "1", "--seed", "1", "--budget", "40")
    assert "sample: the model runs on 1 of 2 cases (seed 1)" in other["notes"]
    # the budget caps every call, the baseline's too: two new cases of three run, and no
    # prompt mutant (each would need two more calls), said so
    (project / "suites" / "tri3.yaml").write_text(
        "prompts: [tri]\nchecks:\n  - {type: equals, normalize: true}\ncases:\n"
        '  - inputs: {message: "Ma carte est refusée partout."}\n    expected: facturation\n'
        '  - inputs: {message: "Le colis est arrivé ouvert."}\n    expected: livraison\n'
        '  - inputs: {message: "Je ne peux plus me connecter."}\n    expected: technique\n',
        encoding="utf-8",
    )
    small = strength("suites/tri3.yaml", "--budget", "2")
    assert small["calls"] == 2
    assert "baseline: 2 of 3 cases within --budget 2" in small["notes"]
    assert all(m["status"] == "skipped" for m in small["mutants"] if m["target"] == "prompt")


ECHO_PROMPT = """---
name: echo-tri
inputs: {message: {kind: string}}
---
system:
Answer with one word: ALPHA.

user:
{{ message }}
"""


def test_survivors_of_the_sample_run_on_more_cases_until_killed(project: Path) -> None:
    # The echo model answers with its prompt, so a mutant's effect is known: dropping the
    # system turn drops ALPHA from every answer, and only the last case checks for it. A
    # one-case sample without that case cannot kill the mutant; the cases after it can.
    (project / "prompts" / "echo-tri.prompty").write_text(ECHO_PROMPT, encoding="utf-8")
    cases = "".join(f"  - inputs: {{message: m{i}}}\n" for i in range(5))
    cases += "  - inputs: {message: m5}\n    checks: [{type: icontains, value: alpha}]\n"
    (project / "suites" / "echo.yaml").write_text(
        "prompts: [echo-tri]\nchecks:\n  - {type: length, min: 1}\ncases:\n" + cases,
        encoding="utf-8",
    )
    escalated = []
    for seed in range(3):
        report = strength(
            "suites/echo.yaml", "-m", "echo", "--cases", "1", "--seed", str(seed), "--budget", "60"
        )
        drop = next(m for m in report["mutants"] if m["operator"] == "drop-instruction")
        assert drop["status"] == "killed", (seed, report["notes"])
        assert any("icontains" in k for k in drop["killers"]), drop
        ran_on = [n for n in report["notes"] if n.startswith("survivors of the sample ran on")]
        if ran_on:
            escalated.append((seed, report))
    # at least one of the three one-case samples missed the case that checks ALPHA
    assert escalated
    seed, report = escalated[0]
    # with a budget for the sample only (a new prompt version: nothing in the cache), the
    # survivor stays one, and the report says so
    (project / "prompts" / "echo-tri.prompty").write_text(
        ECHO_PROMPT.replace("ALPHA.", "ALPHA, nothing else."), encoding="utf-8"
    )
    n_prompt = sum(m["target"] == "prompt" for m in report["mutants"])
    tight = strength(
        "suites/echo.yaml",
        "-m",
        "echo",
        "--cases",
        "1",
        "--seed",
        str(seed),
        "--budget",
        str(1 + n_prompt),
    )
    drop = next(m for m in tight["mutants"] if m["operator"] == "drop-instruction")
    assert drop["status"] == "survived"
    assert "survivors ran on 1 of 6 cases within --budget" in " ".join(tight["notes"])
    # the survivor says what it did: the echo's answer changed (no system turn), still passing
    assert drop["note"] == (
        "changed 1 of 1 answers, 0 of them from failing to passing; no check that passed failed"
    )


def test_the_report_names_the_fields_no_check_can_fail_on(project: Path) -> None:
    labelled = REPO / "src" / "prompteur" / "lint" / "labelled" / "suite"
    prompt = (labelled / "prompts" / "tri-banque.prompty").read_text(encoding="utf-8")
    (project / "prompts" / "tri-banque.prompty").write_text(prompt, encoding="utf-8")
    for name in ("s001-schema-only.yaml", "good-fields.yaml"):
        text = (labelled / "suites" / name).read_text(encoding="utf-8")
        (project / "suites" / name).write_text(text, encoding="utf-8")
    weak = strength("suites/s001-schema-only.yaml", "--outputs-only")
    assert weak["blind_fields"] == {"tri-banque": ["categorie", "urgence", "reponse"]}
    code, out, _ = invoke("suite", "strength", "suites/s001-schema-only.yaml", "--outputs-only")
    assert code == 0
    assert "no check can fail on categorie, urgence, reponse of tri-banque" in out
    assert strength("suites/good-fields.yaml", "--outputs-only")["blind_fields"] == {}
