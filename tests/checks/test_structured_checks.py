"""Checks that see inside structured outputs: `path:`, objects compared field by field, and
checks of text reading a JSON reply's string values — never passing because the reply was JSON.

Every check here has a case where it must fail.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from prompteur.checks import CheckContext, CheckResult, build
from prompteur.checks._structure import content, own_quotes
from prompteur.errors import UserError
from prompteur.suite import load_suite

TRIAGE_TU = (
    '{"categorie": "carte", "urgence": "haute", '
    '"reponse": "Bonjour, tu peux trouver ton RIB dans ton espace client."}'
)
TRIAGE_VOUS = (
    '{"categorie": "carte", "urgence": "haute", '
    '"reponse": "Bonjour, vous trouverez votre RIB dans votre espace client."}'
)


def run(spec: dict[str, Any] | str, output: str, expected: Any = None) -> CheckResult:
    return asyncio.run(build(spec)(CheckContext(output=output, expected=expected)))


# ---- the silent pass of the issue: register inside JSON -------------------------------------


def test_register_vous_fails_on_tu_inside_json() -> None:
    # Every JSON string is quoted, and quoted text is set aside as a quotation: before, the
    # register check saw nothing and passed.
    r = run({"type": "register", "value": "vous"}, TRIAGE_TU)
    assert not r.passed
    assert "tu" in r.reason
    assert run({"type": "register", "value": "vous"}, TRIAGE_VOUS).passed


def test_register_fails_on_tu_inside_json_with_a_path() -> None:
    r = run({"type": "register", "value": "vous", "path": "reponse"}, TRIAGE_TU)
    assert not r.passed and r.reason.startswith("reponse:")


def test_register_fails_on_cut_json() -> None:
    cut = '{"categorie": "carte", "reponse": "Bonjour, tu peux trouver ton RIB dans'
    assert not run({"type": "register", "value": "vous"}, cut).passed


def test_register_fails_on_fenced_json_and_json_in_prose() -> None:
    fenced = f"```json\n{TRIAGE_TU}\n```"
    assert not run({"type": "register", "value": "vous"}, fenced).passed
    prose = f"Voici la réponse : {TRIAGE_TU} Bonne journée."
    assert not run({"type": "register", "value": "vous"}, prose).passed


def test_a_value_wholly_in_quotation_marks_is_the_reply() -> None:
    quoted = '{"reponse": "\\"Tu peux trouver ton RIB dans ton espace.\\""}'
    assert not run({"type": "register", "value": "vous"}, quoted).passed
    guillemets = '{"reponse": "« Tu peux trouver ton RIB dans ton espace. »"}'
    assert not run({"type": "register", "value": "vous"}, guillemets).passed


def test_a_quotation_cannot_span_two_values() -> None:
    # An unpaired quotation mark in one value and another in a later value would make one
    # "quotation" of everything between them, the tu of the middle value included.
    spanning = '{"a": "Il a écrit \\"merci", "reponse": "tu peux trouver ton RIB", "c": "fin\\""}'
    assert not run({"type": "register", "value": "vous"}, spanning).passed


def test_a_real_quotation_inside_a_value_is_still_a_quotation() -> None:
    quoting = (
        '{"reponse": "Vous nous avez écrit « tu peux m\'aider ? » : nous vous répondons '
        'volontiers."}'
    )
    assert run({"type": "register", "value": "vous"}, quoting).passed


def test_own_quotes() -> None:
    assert own_quotes('"Tu peux."') == "Tu peux."
    assert own_quotes("« Tu peux. »") == "Tu peux."
    assert own_quotes('Il a dit "oui" puis "non".') == 'Il a dit "oui" puis "non".'
    assert '"' not in own_quotes('Il a dit "oui')


# ---- content: what checks of text read ---------------------------------------------------------


def test_content_is_the_string_values_without_keys() -> None:
    assert content(TRIAGE_TU) == (
        "carte\n\nhaute\n\nBonjour, tu peux trouver ton RIB dans ton espace client."
    )
    assert content('plain prose, "quoted" and all') == 'plain prose, "quoted" and all'
    assert content('"positive"') == "positive"


def test_contains_does_not_pass_on_a_key_name() -> None:
    # `contains: categorie` would pass on the raw text, where the key is written.
    assert not run({"type": "contains", "value": "categorie"}, TRIAGE_VOUS).passed
    assert run({"type": "contains", "value": "carte"}, TRIAGE_VOUS).passed


def test_not_contains_reads_escaped_text() -> None:
    escaped = '{"reponse": "Nous sommes d\\u00e9sol\\u00e9s du retard."}'
    r = run({"type": "not-contains", "value": "désolés"}, escaped)
    assert not r.passed and "désolés" in r.reason


def test_vocabulary_fails_inside_json() -> None:
    r = run({"type": "vocabulary", "avoid": ["tu peux"]}, TRIAGE_TU)
    assert not r.passed
    assert not run({"type": "vocabulary", "require": ["votre RIB"]}, TRIAGE_TU).passed


def test_regex_and_starts_with_read_the_content() -> None:
    assert not run({"type": "not-regex", "value": r"\btu\b"}, TRIAGE_TU).passed
    assert not run(
        {"type": "starts-with", "value": "Bonjour", "path": "categorie"}, TRIAGE_TU
    ).passed
    assert run({"type": "starts-with", "value": "Bonjour", "path": "reponse"}, TRIAGE_TU).passed


# ---- path -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "output"),
    [
        ({"type": "equals", "value": "virement", "path": "categorie"}, TRIAGE_VOUS),
        ({"type": "contains", "value": "IBAN", "path": "reponse"}, TRIAGE_VOUS),
        ({"type": "icontains-any", "value": ["iban", "bic"], "path": "reponse"}, TRIAGE_VOUS),
        ({"type": "contains-all", "value": ["RIB", "IBAN"], "path": "reponse"}, TRIAGE_VOUS),
        ({"type": "regex", "value": "^basse$", "path": "urgence"}, TRIAGE_VOUS),
        ({"type": "levenshtein", "value": "virement", "path": "categorie"}, TRIAGE_VOUS),
        ({"type": "rouge-l", "value": "le colis est perdu", "path": "reponse"}, TRIAGE_VOUS),
        ({"type": "length", "max": 10, "path": "reponse"}, TRIAGE_VOUS),
        ({"type": "word-count", "min": 30, "path": "reponse"}, TRIAGE_VOUS),
        ({"type": "register", "value": "tu", "path": "reponse"}, TRIAGE_VOUS),
        ({"type": "vocabulary", "avoid": ["RIB"], "path": "reponse"}, TRIAGE_VOUS),
        ({"type": "is-json", "strict": True, "path": "reponse"}, TRIAGE_VOUS),
        ({"type": "json-schema", "value": {"type": "integer"}, "path": "urgence"}, TRIAGE_VOUS),
        ({"type": "equals", "value": 4, "path": "length(@)"}, TRIAGE_VOUS),
        ({"type": "equals", "value": "carte", "path": "$.categorie"}, TRIAGE_TU.replace("te", "")),
    ],
)
def test_every_check_fails_at_its_path(spec: dict[str, Any], output: str) -> None:
    r = run(spec, output)
    assert not r.passed, r
    assert r.score < 1.0


def test_path_selects_typed_values() -> None:
    out = '{"n": 3, "ok": true, "tags": ["a", "b"], "client": {"nom": "Durand"}}'
    assert run({"type": "equals", "value": 3, "path": "n"}, out).passed
    assert run({"type": "equals", "value": True, "path": "ok"}, out).passed
    assert not run({"type": "equals", "value": False, "path": "ok"}, out).passed
    assert run({"type": "equals", "value": "Durand", "path": "client.nom"}, out).passed
    assert run({"type": "equals", "value": "b", "path": "tags[-1]"}, out).passed
    assert run({"type": "equals", "value": 2, "path": "length(tags)"}, out).passed


def test_a_missing_path_fails_even_negated() -> None:
    for spec in (
        {"type": "not-contains", "value": "tu", "path": "reponse"},
        {"type": "contains", "value": "vous", "path": "reponse"},
        {"type": "not-register", "value": "tu", "path": "reponse"},
    ):
        r = run(spec, '{"categorie": "carte"}')
        assert not r.passed and "selects nothing" in r.reason
    r = run({"type": "not-contains", "value": "tu", "path": "reponse"}, "not JSON at all")
    assert not r.passed and "no JSON" in r.reason


def test_a_bad_path_is_refused_where_it_is_written(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        build({"type": "equals", "value": "x", "path": "items[?"}, where="checks[0]")
    assert info.value.field == "checks[0].path"
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "prompts: [p]\ncases:\n  - inputs: {}\n    checks:\n      - {type: equals, value: x, "
        "path: 'a..b'}\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError) as info:
        load_suite(suite)
    assert info.value.line == 5 and "path" in (info.value.field or "")


# ---- objects, field by field ------------------------------------------------------------------


def test_object_expected_is_compared_field_by_field() -> None:
    r = run({"type": "equals"}, TRIAGE_VOUS, expected={"categorie": "carte", "urgence": "basse"})
    assert not r.passed
    assert r.fields == {"categorie": 1.0, "urgence": 0.0}
    assert r.score == 0.5
    assert "urgence: got 'haute', expected 'basse'" in r.reason
    ok = run({"type": "equals"}, TRIAGE_VOUS, expected={"categorie": "carte", "urgence": "haute"})
    assert ok.passed and ok.fields == {"categorie": 1.0, "urgence": 1.0}


def test_object_fields_missing_nested_lists_and_normalisation() -> None:
    out = '{"client": {"nom": "Durand"}, "lignes": [{"sku": "A1", "qte": 2}], "note": "Carte!"}'
    expected = {
        "client": {"nom": "Durand", "ville": "Lyon"},
        "lignes": [{"sku": "A1", "qte": 3}, {"sku": "B2"}],
        "note": "carte",
        "date-limite": "2026-01-01",
    }
    r = run({"type": "equals", "normalize": True}, out, expected=expected)
    assert r.fields == {
        "client.nom": 1.0,
        "client.ville": 0.0,
        "lignes[0].sku": 1.0,
        "lignes[0].qte": 0.0,
        "lignes[1].sku": 0.0,
        "note": 1.0,
        '"date-limite"': 0.0,
    }
    assert not r.passed
    # a number is not its text
    assert not run({"type": "equals"}, '{"qte": "2"}', expected={"qte": 2}).passed


def test_object_expected_against_no_json_fails() -> None:
    r = run({"type": "equals"}, "carte, haute", expected={"categorie": "carte"})
    assert not r.passed and "no JSON" in r.reason


def test_object_alternatives_take_the_best() -> None:
    r = run(
        {"type": "equals"},
        TRIAGE_VOUS,
        expected=[{"categorie": "virement"}, {"categorie": "carte", "urgence": "haute"}],
    )
    assert r.passed and r.fields == {"categorie": 1.0, "urgence": 1.0}


def test_object_expected_at_a_path() -> None:
    out = '{"triage": {"categorie": "carte", "urgence": "haute"}, "reponse": "..."}'
    r = run({"type": "equals", "path": "triage"}, out, expected={"categorie": "carte"})
    assert r.passed and r.fields == {"categorie": 1.0}
    r = run({"type": "equals", "path": "triage"}, out, expected={"urgence": "basse"})
    assert not r.passed


# ---- judges read the content too --------------------------------------------------------------


def test_judges_read_the_string_values() -> None:
    from prompteur.models.base import Model, Request, Response
    from prompteur.models.pool import ModelPool

    seen: list[str] = []

    class Recorder(Model):  # a test double: what the judge is shown is the point here
        id = "openai:recorder"

        async def generate(self, request: Request) -> Response:
            seen.append(request.messages[-1].content)
            return Response('{"reason": "ok", "score": 1}', self.id)

    models = ModelPool(None)
    models._models["openai:recorder"] = Recorder()  # the pool's model for that id

    def judged(spec: dict[str, Any]) -> None:
        asyncio.run(build(spec)(CheckContext(output=TRIAGE_TU, models=models)))

    spec = {"type": "rubric", "value": "Uses vous", "judge": "openai:recorder"}
    judged(spec)
    assert "tu peux trouver ton RIB" in seen[-1]
    assert '"reponse"' not in seen[-1]
    judged({**spec, "path": "categorie"})
    assert "<output>\ncarte\n</output>" in seen[-1]
