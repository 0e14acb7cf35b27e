"""Domain packs: starter libraries (prompt files with front matter) and a suite per prompt,
copied into a project by `prompteur init --pack NAME`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from ..errors import unknown_name


@dataclass(frozen=True)
class Pack:
    name: str
    folder: Path
    descriptions: dict[str, str]

    def description(self, lang: str = "en") -> str:
        return self.descriptions.get(lang, self.descriptions["en"])

    def files(self) -> dict[str, Path]:
        """Project-relative target → file in the package."""
        out = {}
        for sub in ("prompts", "suites"):
            for path in sorted((self.folder / sub).rglob("*")):
                if path.is_file():
                    out[f"{sub}/{path.relative_to(self.folder / sub).as_posix()}"] = path
        return out

    @property
    def prompts(self) -> list[str]:
        return [
            t.split("/", 1)[1].rsplit(".", 1)[0] for t in self.files() if t.startswith("prompts/")
        ]

    @property
    def suites(self) -> list[str]:
        return [t for t in self.files() if t.startswith("suites/")]


@cache
def packs() -> tuple[Pack, ...]:
    import yaml

    root = Path(str(files("prompteur.packs")))
    out = []
    for folder in sorted(p for p in root.iterdir() if (p / "pack.yaml").is_file()):
        data = yaml.safe_load((folder / "pack.yaml").read_text(encoding="utf-8"))
        out.append(Pack(folder.name, folder, data["description"]))
    return tuple(out)


def get_pack(name: str) -> Pack:
    for p in packs():
        if p.name == name:
            return p
    raise unknown_name("pack", name, [p.name for p in packs()], field="--pack")
