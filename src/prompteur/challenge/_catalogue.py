"""The challenges shipped in the package: a brief (English and French), a starter prompt and
an obfuscated hidden suite each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from ..errors import UserError
from ..learn import check_lang


@dataclass(frozen=True)
class Challenge:
    id: str
    folder: Path
    file: str
    titles: dict[str, str]
    briefs: dict[str, str]

    def title(self, lang: str = "en") -> str:
        return self.titles[check_lang(lang)]

    def brief(self, lang: str = "en") -> str:
        return self.briefs[check_lang(lang)]

    @property
    def starter(self) -> str:
        return (self.folder / "starter.prompty").read_text(encoding="utf-8")

    def hidden_suite_text(self) -> str:
        from ._hidden import decode

        return decode((self.folder / "hidden.bin").read_text(encoding="ascii"))


@cache
def challenges() -> tuple[Challenge, ...]:
    import yaml

    root = Path(str(files("prompteur.challenge").joinpath("challenges")))
    out = []
    for folder in sorted(p for p in root.iterdir() if (p / "challenge.yaml").is_file()):
        data = yaml.safe_load((folder / "challenge.yaml").read_text(encoding="utf-8"))
        out.append(Challenge(data["id"], folder, data["file"], data["title"], data["brief"]))
    return tuple(out)


def get_challenge(ref: str) -> Challenge:
    for c in challenges():
        if c.id == ref:
            return c
    raise UserError(
        f"no challenge '{ref}'",
        field="CHALLENGE",
        hint="challenges: " + ", ".join(c.id for c in challenges()),
    )
