"""The coach: the lint findings, plus — when a capable model is available — that model's
critique of the prompt and a rewritten prompt file.

The rewrite is only offered if it loads as a prompt file and keeps the original's inputs (a
rewrite that renames `{{ review }}` would break every suite and caller); it is linted again so
the user sees whether it fixed what the rules found. The embedded 270M base model cannot
critique a prompt, so with it the coach says so and gives the rules' own suggestions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ._base import Finding, Lang
from ._engine import lint_prompt

if TYPE_CHECKING:
    from ..config import Config
    from ..prompt import Prompt

SYSTEM = {
    "en": (
        "You are a senior prompt engineer reviewing a colleague's prompt file. The file is "
        "YAML front matter between --- lines, then a body split into turns by lines 'system:', "
        "'user:' and 'assistant:', with Jinja2 variables such as {{ name }}.\n"
        "Reply in two parts, in English:\n"
        "1. A critique: at most six bullet points, the most important first, each saying what "
        "will go wrong and how to fix it.\n"
        "2. The complete rewritten file in one fenced block that starts with ```prompt and "
        "ends with ```. Keep the same front matter keys and the same input variables; fix the "
        "problems; do not add examples you were not given."
    ),
    "fr": (
        "Vous êtes un ingénieur prompt confirmé qui relit le fichier de prompt d'un collègue. Le "
        "fichier est un en-tête YAML entre deux lignes ---, puis un corps découpé en tours par "
        "des lignes « system: », « user: » et « assistant: », avec des variables Jinja2 comme "
        "{{ nom }}.\n"
        "Répondez en deux parties, en français :\n"
        "1. Une critique : six puces au plus, la plus importante d'abord, chacune disant ce qui "
        "ira mal et comment le corriger.\n"
        "2. Le fichier réécrit en entier dans un seul bloc qui commence par ```prompt et finit "
        "par ```. Gardez les mêmes clés d'en-tête et les mêmes variables d'entrée ; corrigez les "
        "problèmes ; n'ajoutez pas d'exemples qu'on ne vous a pas donnés."
    ),
}
USER = {
    "en": "The prompt file:\n<prompt_file>\n{text}\n</prompt_file>\n\nWhat the linter found:\n"
    "{findings}",
    "fr": "Le fichier de prompt :\n<prompt_file>\n{text}\n</prompt_file>\n\nCe que le linter a "
    "trouvé :\n{findings}",
}
NEEDS_MODEL = {
    "en": "A critique and a rewrite need a capable model: pass one with -m (e.g. -m "
    "openai:gpt-4o-mini, with OPENAI_API_KEY set). The embedded model is a small base model "
    "that cannot review a prompt. Below: the rules' findings and their concrete suggestions.",
    "fr": "Une critique et une réécriture demandent un modèle capable : indiquez-en un avec -m "
    "(par ex. -m openai:gpt-4o-mini, avec OPENAI_API_KEY). Le modèle embarqué est un petit "
    "modèle de base qui ne sait pas relire un prompt. Ci-dessous : les constats des règles et "
    "leurs suggestions concrètes.",
}

_FENCE = re.compile(r"```(?:prompt|prompty|markdown|md|yaml|jinja|text)?[ \t]*\n(.*?)\n```", re.S)


@dataclass
class Coaching:
    findings: list[Finding]
    model: str | None = None
    critique: str | None = None
    rewrite: str | None = None  # the rewritten prompt file, when it loads and keeps the inputs
    rewrite_findings: list[Finding] = field(default_factory=list)
    rewrite_problem: str | None = None  # why a proposed rewrite was not kept
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "model": self.model,
            "critique": self.critique,
            "rewrite": self.rewrite,
            "rewrite_findings": [f.to_dict() for f in self.rewrite_findings],
            "rewrite_problem": self.rewrite_problem,
            "note": self.note,
        }


def is_capable(model_id: str) -> bool:
    """The embedded model and any local GGUF are base models: no critique from them."""
    return not (model_id == "local" or model_id.startswith("local:"))


async def coach(
    prompt: Prompt,
    config: Config,
    *,
    model_id: str | None = None,
    lang: Lang = "en",
    file: str | None = None,
) -> Coaching:
    findings = lint_prompt(prompt, lang=lang, file=file)
    chosen = model_id or config.data.project.default_model
    if not is_capable(chosen):
        return Coaching(findings, note=NEEDS_MODEL[lang])
    from ..models import get_model
    from ..models.base import Message, Params, Request

    model = get_model(chosen, config)
    listed = "\n".join(f"- {f.rule} line {f.line}: {f.message}" for f in findings) or (
        "- (nothing)" if lang == "en" else "- (rien)"
    )
    request = Request(
        (
            Message("system", SYSTEM[lang]),
            Message("user", USER[lang].format(text=prompt.text.strip(), findings=listed)),
        ),
        Params(temperature=0, max_tokens=2000),
    )
    try:
        response = await model.generate(request)
    finally:
        await model.aclose()
    out = Coaching(findings, model=chosen)
    blocks = _FENCE.findall(response.text)
    out.critique = _FENCE.sub("", response.text).strip() or None
    if not blocks:
        out.rewrite_problem = (
            "the model proposed no rewritten file"
            if lang == "en"
            else "le modèle n'a proposé aucun fichier réécrit"
        )
        return out
    text = blocks[-1].strip() + "\n"
    problem = _check_rewrite(prompt, text)
    if problem:
        out.rewrite_problem = problem
        return out
    from ..prompt import parse_prompt

    out.rewrite = text
    out.rewrite_findings = lint_prompt(
        parse_prompt(text, name=prompt.name), lang=lang, file="rewrite"
    )
    return out


def _check_rewrite(original: Prompt, text: str) -> str | None:
    from ..prompt import parse_prompt

    try:
        rewritten = parse_prompt(text, name=original.name)
    except UserError as exc:
        return f"the rewrite does not load: {exc.render()}"
    missing = sorted(set(original.meta.inputs) - set(rewritten.meta.inputs))
    if missing:
        return f"the rewrite drops the input '{missing[0]}'"
    return None
