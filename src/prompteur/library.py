"""The library: a folder of prompt files (git-friendly) plus their versions in the store.

A prompt is named by its front-matter `name` (or its file name). `NAME@VERSION` names a stored
version by a prefix of its content hash; `NAME` alone is the working file.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserError
from .prompt import PROMPT_SUFFIXES, Prompt, load_prompt, parse_prompt, stem_name

if TYPE_CHECKING:
    from .config import Config
    from .store import Store


@dataclass(frozen=True)
class Broken:
    path: Path
    error: UserError


class Library:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_config(cls, config: Config) -> Library:
        return cls(config.prompts_dir)

    def files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        found = [
            p
            for p in self.root.rglob("*")
            if p.is_file()
            and p.name.endswith(PROMPT_SUFFIXES)
            and not p.name.startswith(".")
            and p.name.lower() != "readme.md"
        ]
        return sorted(found)

    def scan(self) -> tuple[list[Prompt], list[Broken]]:
        """Every prompt file; broken ones are returned with their error, not raised."""
        prompts, broken = [], []
        for path in self.files():
            try:
                prompts.append(load_prompt(path))
            except UserError as exc:
                broken.append(Broken(path, exc))
        return prompts, broken

    def prompts(self) -> list[Prompt]:
        return self.scan()[0]

    def get(self, ref: str) -> Prompt:
        """A prompt by path or by name (front-matter name or file name without suffix)."""
        as_path = Path(ref)
        if as_path.suffix and as_path.is_file():
            return load_prompt(as_path)
        if (self.root / ref).is_file():
            return load_prompt(self.root / ref)
        prompts, broken = self.scan()
        matches = [p for p in prompts if p.name == ref]
        if not matches:
            matches = [p for p in prompts if p.path and stem_name(p.path) == ref]
        for b in broken:  # a broken file with that name: show its error, not "not found"
            if stem_name(b.path) == ref:
                raise b.error
        if len(matches) > 1:
            raise UserError(
                f"several prompts are named '{ref}'",
                hint="give the path: " + ", ".join(str(p.path) for p in matches),
            )
        if not matches:
            names = [p.name for p in prompts]
            close = difflib.get_close_matches(ref, names, n=1)
            raise UserError(
                f"no prompt named '{ref}' in {self.root}",
                hint=f"did you mean '{close[0]}'?" if close else "see: prompteur library list",
            )
        return matches[0]

    def filter(
        self, *, tag: str | None = None, domain: str | None = None, model: str | None = None
    ) -> list[Prompt]:
        out = []
        for p in self.prompts():
            if tag and tag not in p.meta.tags:
                continue
            if domain and p.meta.domain != domain:
                continue
            if model and model != p.model_id and model not in p.meta.targets:
                continue
            out.append(p)
        return out

    def search(self, text: str) -> Iterator[tuple[Prompt, str]]:
        """Prompts mentioning `text` (any case), with where it was found."""
        needle = text.lower()
        for p in self.prompts():
            fields = {
                "name": p.name,
                "description": p.meta.description or "",
                "tags": " ".join(p.meta.tags),
                "domain": p.meta.domain or "",
                "body": p.body,
                "front matter": p.text,
            }
            for field_name, value in fields.items():
                if needle in value.lower():
                    yield p, field_name
                    break

    # ---- versions ------------------------------------------------------------------------

    def save(self, store: Store, prompt: Prompt) -> bool:
        return store.save_version(
            prompt.name, prompt.version, prompt.text, str(prompt.path) if prompt.path else None
        )

    def resolve(self, store: Store | None, ref: str) -> Prompt:
        """`NAME` (working file) or `NAME@VERSION` (stored version, by hash prefix)."""
        name, at, version = ref.partition("@")
        if not at:
            return self.get(ref)
        if not version:
            raise UserError(f"'{ref}' names no version", hint="write NAME@VERSION")
        current = None
        with contextlib.suppress(UserError):
            current = self.get(name)
        if current is not None and current.version.startswith(version):
            return current
        stored_name = current.name if current else name
        info = store.find_version(stored_name, version) if store else None
        if info is None:
            raise UserError(
                f"no version '{version}' of '{stored_name}'",
                hint=f"see: prompteur library versions {stored_name}",
            )
        return parse_prompt(
            info.content, path=Path(info.source) if info.source else None, name=info.name
        )


def unified_diff(a: Prompt, b: Prompt, a_label: str, b_label: str) -> str:
    return "".join(
        difflib.unified_diff(
            a.text.replace("\r\n", "\n").splitlines(keepends=True),
            b.text.replace("\r\n", "\n").splitlines(keepends=True),
            fromfile=a_label,
            tofile=b_label,
        )
    )
