"""The library: a folder of prompt files (git-friendly) plus their versions in the store.

A prompt is named by its front-matter `name` (or its file name). `NAME@VERSION` names a stored
version by a prefix of its content hash; `NAME` alone is the working file.

This is the one resolver from names to files (docs/security.md). A name — from a request, a
stored record, a suite or any other file — is data: it is matched against the prompts the
library holds and never joined to a path, so it can only ever reach a prompt file inside the
project. A filesystem path is accepted only from a local user's command line
(`get_local`), and a path written inside a project file only when it stays inside the project
(`in_project`). Writes go only to the file behind a library prompt (`write`). Files under
`prompts/` that are links leading out of the project are not prompts of the library: they are
listed as broken, never read.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
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


MAX_NAME = 512  # longer is no prompt's name: refused before any lookup


class Library:
    def __init__(self, root: Path, project: Path | None = None) -> None:
        self.root = root
        # Files must resolve inside this folder (links included): the project's root.
        self.boundary = (project or root).resolve()

    @classmethod
    def from_config(cls, config: Config) -> Library:
        return cls(config.prompts_dir, config.root)

    def _candidates(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        found = [
            p
            for p in self.root.rglob("*")
            if p.name.endswith(PROMPT_SUFFIXES)
            and not p.name.startswith(".")
            and p.name.lower() != "readme.md"
            and p.is_file()
        ]
        return sorted(found)

    def contains(self, path: Path) -> bool:
        """Whether `path`, links resolved, lies inside the project."""
        try:
            return path.resolve().is_relative_to(self.boundary)
        except (OSError, RuntimeError):  # a link loop, a name too long
            return False

    def files(self) -> list[Path]:
        return [p for p in self._candidates() if self.contains(p)]

    def scan(self) -> tuple[list[Prompt], list[Broken]]:
        """Every prompt file; broken ones are returned with their error, not raised."""
        prompts, broken = [], []
        for path in self._candidates():
            if not self.contains(path):
                broken.append(Broken(path, _outside(path)))
                continue
            try:
                prompts.append(load_prompt(path))
            except UserError as exc:
                broken.append(Broken(path, exc))
        return prompts, broken

    def prompts(self) -> list[Prompt]:
        return self.scan()[0]

    def get(self, name: str) -> Prompt:
        """The working file of the prompt called `name` (front-matter name, else file name
        without suffix). Never a path: see the module's docstring."""
        check_name(name)
        prompts, broken = self.scan()
        matches = [p for p in prompts if p.name == name]
        if not matches:
            matches = [p for p in prompts if p.path and stem_name(p.path) == name]
        for b in broken:  # a broken file with that name: show its error, not "not found"
            if stem_name(b.path) == name:
                raise b.error
        if len(matches) > 1:
            raise UserError(
                f"several prompts are named '{name}'",
                hint="rename one: " + ", ".join(str(p.path) for p in matches),
            )
        if not matches:
            names = [p.name for p in prompts]
            close = difflib.get_close_matches(name, names, n=1)
            looks_like_path = "/" in name or "\\" in name or name.endswith(PROMPT_SUFFIXES)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else "name a prompt of the library (its name: or file name), not a path"
                if looks_like_path
                else "see: prompteur library list"
            )
            raise UserError(f"no prompt named '{_shorten(name)}' in {self.root}", hint=hint)
        return matches[0]

    def get_local(self, ref: str) -> Prompt:
        """For a local user's command line only: an existing prompt file's path, else a name."""
        as_path = Path(ref)
        try:
            is_file = bool(as_path.suffix) and as_path.is_file()
        except (OSError, ValueError):
            is_file = False
        if is_file:
            return load_prompt(as_path)
        return self.get(ref)

    def in_project(self, ref: str, base: Path, *, what: str = "file") -> Path:
        """A path written inside a project file (`base`: that file's folder), resolved; a UserError
        when it is absolute or leads out of the project. The caller says where `ref` was."""
        if not ref or "\x00" in ref:
            raise UserError(f"not a {what} path: {ref!r}")
        candidate = Path(ref)
        if candidate.is_absolute():
            raise UserError(
                f"an absolute path is refused: {_shorten(ref)}",
                hint=f"give the {what} relative to this file, inside the project",
            )
        full = base / candidate
        if not self.contains(full):
            raise UserError(
                f"leads out of the project: {_shorten(ref)}",
                hint=f"keep the {what} inside {self.boundary}",
            )
        return full

    def write(self, name: str, text: str) -> Path:
        """Replace the working file of the prompt `name` with `text` (atomically); the only way
        prompteur rewrites a prompt file."""
        from .files import write_atomic

        target = self.get(name).path
        if target is None or not self.contains(target):
            raise UserError(f"'{name}' has no file in the library to write")
        write_atomic(target, text)
        return target

    def filter(
        self, *, tag: str | None = None, domain: str | None = None, model: str | None = None
    ) -> list[Prompt]:
        out = []
        for p in self.prompts():
            if tag and tag not in p.meta.tags:
                continue
            if domain and p.meta.domain != domain:
                continue
            if (
                model
                and model not in (p.model_id, p.model_name, *p.meta.targets)
                and p.variant_for(model) is None
            ):
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
        check_name(ref)
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
        return parse_stored(info.content, info.name, info.source)


@dataclass(frozen=True)
class VariantScore:
    """A prompt's variant (or its default body) and how it scored, per model, in the runs of
    this version."""

    name: str  # "default" for the body every unmatched model gets
    models: list[str]  # the variant's globs ([] for the default)
    description: str | None = None
    scores: dict[str, tuple[int, int]] = field(default_factory=dict)  # model → passed, judged

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "models": self.models,
            "description": self.description,
            "scores": {
                m: {"passed": p, "judged": n, "pass_rate": round(p / n, 4) if n else None}
                for m, (p, n) in sorted(self.scores.items())
            },
        }


def variant_scores(prompt: Prompt, store: Store | None) -> list[VariantScore]:
    """The default and each variant, with the pass counts of the results of this version on
    each model that gets it (a result on model M ran the variant M selects)."""
    rows = {"default": VariantScore("default", [])}
    for v in prompt.meta.variants:
        rows[v.name] = VariantScore(v.name, list(v.models), v.description)
    counts = store.pass_counts(prompt.name, prompt.version) if store is not None else {}
    for model, count in counts.items():
        chosen = prompt.variant_for(model)
        rows[chosen.name if chosen else "default"].scores[model] = count
    return list(rows.values())


def parse_stored(content: str, name: str, source: str | None) -> Prompt:
    """A stored version as a Prompt. Its recorded source names the file it came from, for
    messages only: nothing reads or writes a stored path (writes go through `Library.write`)."""
    prompt = parse_prompt(content, name=name)
    prompt.origin = "stored"
    prompt.source_label = source
    return prompt


def check_name(name: str) -> None:
    """A name from outside: text of a sane length without control characters."""
    if not isinstance(name, str) or not name.strip():
        raise UserError("a prompt name is required")
    if len(name) > MAX_NAME:
        raise UserError(f"a prompt name of {len(name):,} characters: too long")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UserError(f"a prompt name with control characters: {name!r:.80}")


def _shorten(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _outside(path: Path) -> UserError:
    return UserError(
        "a link that leads out of the project: not read",
        file=path,
        hint="copy the file into the project instead of linking to it",
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
