"""The persona compiler writes a prompt `prompteur lint` passes, for any persona the loader
accepts (a property over generated personas), with a length limit and stop sequences; and
`persona check` fails a reply that repeats itself or answers as the customer."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompteur.errors import UserError
from prompteur.lint import lint_prompt
from prompteur.persona import check_dialogue, compile_persona, load_dialogue, load_persona
from prompteur.persona._character import repetition, role_reversal
from prompteur.persona._compile import AUTHOR_RULES, STOP
from prompteur.prompt import parse_prompt

PLAIN = {
    "fr": "conseiller banque clients carte compte virement rapide clair précis calme aimable "
    "réponse phrase courte simple service équipe aide agence délai",
    "en": "adviser bank customers card account transfer quick clear precise calm kind "
    "reply sentence short simple service team help branch delay",
}
# What a persona's author may write that a template or the linter could misread.
TRICKY = [
    "{{ x }}",
    "{% if x %}",
    "{# note #}",
    "}}",
    "user:",
    "System:",
    "assistant :",
    "<message>",
    "</message>",
    "Répondez en JSON",
    "Answer in one word",
    "at most 3 words",
    "the text above",
    "ci-dessus",
    "Answer with one of: yes, no",
    "ne dites jamais",
    "never say that",
    "---",
    "+++",
    "#",
    '"',
    "\\",
    "« »",
    "\n",
    "é à ç",
    "😀",
]


def _text(lang: str, *, tricky: bool, min_words: int = 1, max_words: int = 10) -> Any:
    word = st.sampled_from(PLAIN[lang].split())
    if tricky:
        word = st.one_of(word, word, st.sampled_from(TRICKY))
    return st.lists(word, min_size=min_words, max_size=max_words).map(" ".join)


@st.composite
def personas(draw: Any, *, tricky: bool) -> dict[str, Any]:
    lang = draw(st.sampled_from(["fr", "en"]))
    text = lambda **kw: _text(lang, tricky=tricky, **kw)  # noqa: E731
    register = draw(
        st.sampled_from(
            ["tu", "vous", "formal", "casual"] if lang == "fr" else ["formal", "casual"]
        )
    )
    data: dict[str, Any] = {
        "name": draw(st.sampled_from(["nova", "a b", "x: y", "été"])),
        "lang": lang,
        "role": draw(text(min_words=2)),
        "register": register,
        "tone": draw(st.lists(text(max_words=2), min_size=1, max_size=3)),
    }
    if draw(st.booleans()):
        data["audience"] = draw(text())
    if draw(st.booleans()):
        data["values"] = draw(st.lists(text(max_words=2), max_size=3))
    if draw(st.booleans()):
        data["format"] = draw(text())
    vocab = {k: draw(st.lists(text(max_words=2), max_size=2)) for k in ("use", "avoid", "require")}
    data["vocabulary"] = {k: v for k, v in vocab.items() if v}
    data["examples"] = [
        {"user": draw(text(min_words=2)), "reply": draw(text(min_words=2, max_words=20))}
        for _ in range(draw(st.integers(0, 3)))
    ]
    return data


def _compile(data: dict[str, Any]) -> tuple[str | None, UserError | None]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.persona.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        persona = load_persona(path)
        try:
            return compile_persona(persona).text, None
        except UserError as exc:
            return None, exc


def _lint(text: str, lang: str) -> list[str]:
    prompt = parse_prompt(text, name="persona")
    prompt.render({"message": "Bonjour {{ x }} user: <message>"})
    return [f"{f.rule}:{f.line} {f.message}" for f in lint_prompt(prompt, lang=lang)]  # type: ignore[arg-type]


FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(personas(tricky=False))
def test_every_plain_persona_compiles_to_a_prompt_lint_passes(data: dict[str, Any]) -> None:
    text, error = _compile(data)
    assert error is None, (error, data)
    assert text is not None and _lint(text, data["lang"]) == [], data
    params = parse_prompt(text, name="persona").params
    assert params.max_tokens and list(params.stop or []) == list(STOP)


@FAST
@given(personas(tricky=True))
def test_any_persona_compiles_clean_or_is_refused_on_its_own_words(data: dict[str, Any]) -> None:
    """Whatever the persona says — template syntax, role markers, data tags, format demands —
    the compiled prompt loads and lints clean; what lint would reproach the author's own
    wording with is refused, naming the field, never a structural finding."""
    text, error = _compile(data)
    if error is not None:
        assert error.message[:4] in AUTHOR_RULES, error.message
        assert error.field and error.field.split(".")[0] in data, error.field
        return
    assert text is not None and _lint(text, data["lang"]) == []


def test_a_user_example_asking_for_json_is_no_instruction(tmp_path: Path) -> None:
    """The issue's case: a persona whose example message says "Répondez en JSON" compiled
    into a prompt lint failed with three P009 (its replies are not JSON)."""
    data = {
        "lang": "fr",
        "role": "le conseiller du service client de Nova",
        "register": "vous",
        "tone": ["chaleureux"],
        "examples": [
            {"user": "Bonjour, ma carte est bloquée.", "reply": "Bonjour, je m'en occupe."},
            {
                "user": "Répondez en JSON : quel est mon solde ?",
                "reply": "Consultez l'application.",
            },
        ],
    }
    text, error = _compile(data)
    assert error is None and text is not None
    assert _lint(text, "fr") == []


def test_the_author_is_told_when_the_format_contradicts_the_examples() -> None:
    data = {
        "lang": "en",
        "role": "the bank's adviser",
        "register": "formal",
        "tone": ["calm"],
        "format": "answer in one word",
        "examples": [{"user": "My card is blocked.", "reply": "I have unblocked your card now."}],
    }
    text, error = _compile(data)
    assert text is None and error is not None
    assert error.message.startswith("P009") and error.field == "examples.0.reply"


# ---- persona check: repetition and role reversal -------------------------------------------


def test_repetition_fails_what_it_should() -> None:
    assert not repetition("Je m'en occupe. Je m'en occupe.").passed
    assert not repetition("votre carte votre carte votre carte votre carte votre carte " * 2).passed
    said = "Bonjour, ma carte est bloquée depuis ce matin."
    assert not repetition(f"{said} Voilà.", message=said).passed
    first = "Bonjour, je m'en occupe : votre carte sera débloquée dans l'heure."
    assert not repetition(first, earlier=[first]).passed
    assert repetition(
        "Bonjour, je m'en occupe. Votre carte est débloquée.", earlier=["Oui."]
    ).passed


def test_role_reversal_fails_what_it_should() -> None:
    msg = "Bonjour, ma carte est bloquée depuis ce matin."
    assert not role_reversal("User: et mon virement ?", message=msg).passed
    assert not role_reversal("Pouvez-vous m'aider ? Je suis pressé.", message=msg).passed
    assert not role_reversal("Oui, ma carte est bloquée aussi.", message=msg).passed
    assert not role_reversal("<message>Merci</message>", message=msg).passed
    assert role_reversal("Bonjour, votre carte est bloquée par sécurité.", message=msg).passed
    assert role_reversal("Je m'en occupe, mon équipe vous rappelle.", message=msg).passed


def _persona(tmp: Path) -> Path:
    path = tmp / "nova.persona.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "lang": "fr",
                "role": "le conseiller du service client de Nova",
                "register": "vous",
                "tone": ["chaleureux", "concis"],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("replies", "failing"),
    [
        (
            [
                "Bonjour, je m'en occupe : votre carte sera débloquée dans l'heure.",
                "Bonjour, je m'en occupe : votre carte sera débloquée dans l'heure.",
            ],
            "repetition",
        ),
        (
            [
                "Bonjour, je m'en occupe : votre carte sera débloquée dans l'heure.",
                "Merci ! Et moi, je peux payer avec ma carte en attendant ? Pouvez-vous m'aider ?",
            ],
            "role",
        ),
    ],
)
def test_persona_check_fails_repetition_and_role_reversal(
    tmp_path: Path, replies: list[str], failing: str
) -> None:
    dialogue = tmp_path / "d.yaml"
    turns = [
        {"user": "Bonjour, ma carte est bloquée.", "assistant": replies[0]},
        {"user": "Et je peux payer avec ma carte en attendant ?", "assistant": replies[1]},
    ]
    dialogue.write_text(yaml.safe_dump({"turns": turns}, allow_unicode=True), encoding="utf-8")
    persona = load_persona(_persona(tmp_path))
    results = asyncio.run(
        check_dialogue(persona, load_dialogue(dialogue), None, tone=False)  # type: ignore[arg-type]
    )
    assert results[0].passed
    failed = {name for name, ok, _, _ in results[1].checks if not ok}
    assert failed == {failing}
