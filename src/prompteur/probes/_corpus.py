"""The probes' corpus: YAML files in corpus/, validated on load (a mistake names its file,
line and field, like every other file prompteur reads)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import UserError
from ..yamlfile import load_yaml, read_text, validate
from ._text import Lang

CORPUS = Path(__file__).parent / "corpus"
LANGS: tuple[Lang, ...] = ("en", "fr")
OWASP = {
    "LLM01": "Prompt Injection",
    "LLM02": "Sensitive Information Disclosure",
    "LLM05": "Improper Output Handling",
    "LLM06": "Excessive Agency",
    "LLM07": "System Prompt Leakage",
    "LLM09": "Misinformation",
    "LLM10": "Unbounded Consumption",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _needs(text: str, *names: str) -> str:
    missing = [n for n in names if "{" + n + "}" not in text]
    if missing:
        raise ValueError(f"the text needs the placeholder {{{missing[0]}}}")
    return text


class Attack(_Strict):
    id: str
    owasp: Literal["LLM01", "LLM05", "LLM06", "LLM10"]
    lang: Lang
    technique: str
    text: str
    encodable: bool = False
    detect: list[Literal["markup", "repetition"]] = Field(default_factory=list)

    @field_validator("text")
    @classmethod
    def _goal(cls, v: str) -> str:
        if "{goal}" not in v and "{goal_spaced}" not in v:
            raise ValueError("an attack needs {goal} or {goal_spaced} in its text")
        return v


class Carrier(_Strict):
    id: str
    lang: Lang
    text: str

    @field_validator("text")
    @classmethod
    def _slots(cls, v: str) -> str:
        _needs(v, "attack")
        if "{text}" not in v and not ("{before}" in v and "{after}" in v):
            raise ValueError("a carrier needs {text}, or {before} and {after}")
        return v


class InjectionCorpus(_Strict):
    attacks: list[Attack]
    carriers: list[Carrier]
    encodings: dict[str, dict[Lang, str]]


class Extraction(_Strict):
    id: str
    lang: Lang
    technique: str
    text: str


class LeakageCorpus(_Strict):
    secret: dict[Lang, str]
    extraction: list[Extraction]
    solicit: dict[Lang, str]

    @field_validator("secret")
    @classmethod
    def _canary(cls, v: dict[str, str]) -> dict[str, str]:
        for text in v.values():
            _needs(text, "canary")
        return v


class Request(_Strict):
    id: str
    lang: Lang
    text: str
    cue: str | None = None
    harm: str | None = None


class OverRefusalCorpus(_Strict):
    requests: list[Request]


class HarmfulCorpus(_Strict):
    requests: list[Request]
    rule_attack: dict[Lang, str]


class FalsePremise(_Strict):
    id: str
    lang: Lang
    text: str
    premise: str
    correct: list[str] = Field(min_length=1)

    @field_validator("correct", mode="before")
    @classmethod
    def _strings(cls, v: Any) -> Any:
        return [str(x) for x in v] if isinstance(v, list) else v


class HallucinationCorpus(_Strict):
    unanswerable: list[Request]
    false_premise: list[FalsePremise]


class Instruction(_Strict):
    system: str
    user: str


class RobustnessCorpus(_Strict):
    distractors: dict[Lang, list[str]]
    paraphrase: Instruction
    translate: Instruction


class AmbiguityCorpus(_Strict):
    vague: dict[Lang, list[str]]
    bare: dict[Lang, list[str]]


class NamesLang(_Strict):
    gender: dict[str, list[str]]
    origin: dict[str, dict[str, list[str]]]


class People(_Strict):
    """What finds a person's name in a text (see bias.yaml)."""

    titles: list[str]
    introductions: list[str]
    closings: list[str]
    particles: list[str]
    given_names: list[str]


class Ages(_Strict):
    groups: dict[str, list[int]]
    insert: dict[Lang, str]


class Religions(_Strict):
    groups: list[str]
    insert: dict[Lang, dict[str, str]]
    terms: dict[Lang, list[dict[str, str]]]


class BiasCorpus(_Strict):
    names: dict[Lang, NamesLang]
    surnames: dict[Lang, dict[str, list[str]]]
    people: dict[Lang, People]
    signature: dict[Lang, str]
    gender_terms: dict[Lang, list[dict[str, str]]]
    ages: Ages
    religions: Religions

    @model_validator(mode="after")
    def _aligned(self) -> BiasCorpus:
        # Names are used by index across groups: every list of a kind has the same length.
        for lang, names in self.names.items():
            sizes = {len(v) for v in names.gender.values()}
            if len(sizes) > 1:
                raise ValueError(f"names.{lang}.gender lists differ in length")
            origin_sizes = {len(v) for g in names.origin.values() for v in g.values()}
            if len(origin_sizes) > 1:
                raise ValueError(f"names.{lang}.origin lists differ in length")
            surnames = self.surnames.get(lang, {})
            if set(surnames) != set(names.origin):
                raise ValueError(f"surnames.{lang} needs one list per origin group")
            if {len(v) for v in surnames.values()} != origin_sizes:
                raise ValueError(f"surnames.{lang} lists differ in length from the first names")
        return self


T = TypeVar("T", bound=BaseModel)


def load_file(path: Path, schema: type[T]) -> T:
    """A YAML file validated against `schema`; errors name the file, line and field."""
    data, lines = load_yaml(read_text(path), path)
    value = validate(schema, data, lines, path)
    _unique_ids(value, path, lines)
    return value


def _unique_ids(value: BaseModel, path: Path, lines: Any) -> None:
    for name in type(value).model_fields:
        items = getattr(value, name)
        if isinstance(items, list) and items and hasattr(items[0], "id"):
            seen: set[str] = set()
            for i, item in enumerate(items):
                if item.id in seen:
                    raise UserError(
                        f"duplicate id '{item.id}'",
                        file=path,
                        line=lines.line((name, i, "id")),
                        field=f"{name}[{i}].id",
                    )
                seen.add(item.id)


@cache
def corpus(name: str, schema: type[T]) -> T:
    """A packaged corpus file, loaded once per process."""
    return load_file(CORPUS / f"{name}.yaml", schema)
