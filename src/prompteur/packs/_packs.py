"""Domain packs: versioned libraries of prompt files (front matter, few-shot demonstrations
where the embedded base model needs them) with a suite per prompt, and a model card that
says how each prompt scores on each measured model.

A pack lives in the package as `packs/NAME/`: `pack.yaml` (version, descriptions),
`prompts/`, `suites/`, and `model-card.yaml` (written by `prompteur packs measure`). In a
project it is installed under `prompts/NAME/` and `suites/NAME/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..errors import unknown_name

CARD = "model-card.yaml"


@dataclass(frozen=True)
class Pack:
    name: str
    folder: Path
    version: str
    descriptions: dict[str, str]

    def description(self, lang: str = "en") -> str:
        return self.descriptions.get(lang, self.descriptions["en"])

    def files(self) -> dict[str, Path]:
        """Project-relative target → file in the package."""
        out = {}
        for sub in ("prompts", "suites"):
            for path in sorted((self.folder / sub).rglob("*")):
                if path.is_file():
                    rel = path.relative_to(self.folder / sub).as_posix()
                    out[f"{sub}/{self.name}/{rel}"] = path
        return out

    def prompt_files(self) -> list[Path]:
        return [p for t, p in self.files().items() if t.startswith("prompts/")]

    def suite_files(self) -> list[Path]:
        return [p for t, p in self.files().items() if t.startswith("suites/")]

    @property
    def prompts(self) -> list[str]:
        from ..prompt import stem_name

        return [stem_name(p) for p in self.prompt_files()]

    @property
    def suites(self) -> list[str]:
        return [t for t in self.files() if t.startswith("suites/")]

    @property
    def card_path(self) -> Path:
        return self.folder / CARD

    def card(self) -> dict[str, Any]:
        """The model card: {"models": {model id: {"prompts": {name: figures}}}} or empty."""
        from ..yamlfile import read_text, safe_load

        if not self.card_path.is_file():
            return {}
        data = safe_load(read_text(self.card_path, "model card"), self.card_path)
        return data if isinstance(data, dict) else {}


@cache
def packs() -> tuple[Pack, ...]:
    from ..yamlfile import read_text, safe_load

    root = Path(str(files("prompteur.packs")))
    out = []
    for folder in sorted(p for p in root.iterdir() if (p / "pack.yaml").is_file()):
        path = folder / "pack.yaml"
        data = safe_load(read_text(path, "pack"), path)
        out.append(Pack(folder.name, folder, str(data.get("version", "1")), data["description"]))
    return tuple(out)


def get_pack(name: str) -> Pack:
    for p in packs():
        if p.name == name:
            return p
    raise unknown_name("pack", name, [p.name for p in packs()], field="--pack")
