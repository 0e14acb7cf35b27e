"""The persona file: who the assistant is and how it speaks.

```yaml
name: nova
lang: fr                       # fr | en
role: le conseiller du service client de Nova, une banque en ligne
audience: des clients particuliers, souvent pressés
values: [clarté, honnêteté]
register: vous                 # tu | vous (French); formal | casual (English)
tone: [chaleureux, rassurant, concis]
vocabulary:
  use: [volontiers, "je m'en occupe"]
  avoid: [malheureusement, "pas de souci"]
  require: []                  # words every reply must contain (a signature…)
format: deux à quatre phrases, sans liste
examples:
  - user: Ma carte est bloquée.
    reply: Je m'en occupe. Votre carte est bloquée par sécurité après trois codes faux …
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..yamlfile import LineMap, load_model, read_text


class Vocabulary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    use: list[str] = Field(default_factory=list)
    avoid: list[str] = Field(default_factory=list)
    require: list[str] = Field(default_factory=list)


class ExampleReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    reply: str = Field(min_length=1)


class PersonaFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = None
    lang: Literal["fr", "en"] = "en"
    role: str = Field(min_length=3)
    audience: str | None = None
    values: list[str] = Field(default_factory=list)
    # `register` is a BaseModel method name: stored as register_, written register:.
    register_: Literal["tu", "vous", "formal", "casual"] = Field(alias="register")
    tone: list[str] = Field(min_length=1)
    vocabulary: Vocabulary = Field(default_factory=Vocabulary)
    format: str | None = None
    examples: list[ExampleReply] = Field(default_factory=list)

    @field_validator("values", "tone", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @model_validator(mode="after")
    def _register_fits_language(self) -> PersonaFile:
        if self.register_ in ("tu", "vous") and self.lang != "fr":
            raise ValueError("tu and vous are French registers: set lang: fr, or use formal/casual")
        return self


KNOWN_KEYS = [f.alias or n for n, f in PersonaFile.model_fields.items()]


class Persona:
    def __init__(self, spec: PersonaFile, path: Path, lines: LineMap) -> None:
        self.spec = spec
        self.path = path
        self.lines = lines

    @property
    def name(self) -> str:
        if self.spec.name:
            return self.spec.name
        name = self.path.name
        for suffix in (".persona.yaml", ".persona.yml", ".yaml", ".yml"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return self.path.stem


def load_persona(path: str | Path) -> Persona:
    path = Path(path)
    spec, lines = load_model(
        read_text(path, "persona file"),
        PersonaFile,
        path,
        what="persona",
        example_keys=("role", "register", "tone"),
        known=KNOWN_KEYS,
        root_field="register",  # the one model-level check is about the register
    )
    return Persona(spec, path, lines)
