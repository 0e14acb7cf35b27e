"""Run the rules over files: find the files, load each (a file that does not load is a P000
finding, not a crash), apply the selected rules, drop suppressed findings, sort."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..prompt import PROMPT_SUFFIXES, Prompt, load_prompt
from ._base import Finding, Hit, Lang, Severity, finding, get_rule, matches, rules


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def count(self, severity: Severity) -> int:
        return sum(f.severity == severity for f in self.findings)

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def fails(self, fail_on: Severity | None) -> bool:
        return fail_on is not None and any(f.severity >= fail_on for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "findings": [f.to_dict() for f in self.findings],
            "summary": {s.label: self.count(s) for s in Severity},
        }


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()

    @classmethod
    def parse(cls, select: Iterable[str] | None, ignore: Iterable[str] | None) -> Selection:
        def ids(values: Iterable[str] | None, option: str) -> tuple[str, ...]:
            out = []
            known = [r.id for r in rules()]
            for value in values or []:
                for part in value.replace(";", ",").split(","):
                    token = part.strip().upper()
                    if not token:
                        continue
                    if token != "ALL" and not any(k.startswith(token) for k in known):
                        raise UserError(
                            f"unknown rule '{part.strip()}'",
                            field=option,
                            hint="see: prompteur lint --rules",
                        )
                    out.append(token)
            return tuple(out)

        return cls(ids(select, "--select") or ("ALL",), ids(ignore, "--ignore"))

    def wants(self, rule_id: str) -> bool:
        return matches(rule_id, self.select) and not matches(rule_id, self.ignore)


def is_image_spec(path: Path) -> bool:
    return path.name.endswith((".image.yaml", ".image.yml"))


def collect(paths: Sequence[Path]) -> list[Path]:
    """Prompt files and image specs named, or found under the folders named."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and not p.name.startswith(".") and _lintable(p, explicit=False):
                    found.append(p)
        elif path.is_file():
            if not _lintable(path, explicit=True):
                raise UserError(
                    "not a prompt file or an image spec",
                    file=path,
                    hint="prompt files end in "
                    + ", ".join(PROMPT_SUFFIXES)
                    + "; image specs in .image.yaml",
                )
            found.append(path)
        else:
            raise UserError("no such file or folder", file=path)
    return list(dict.fromkeys(found))


def _lintable(path: Path, *, explicit: bool) -> bool:
    if is_image_spec(path):
        return True
    if path.suffix in (".yaml", ".yml"):
        # A suite is linted wherever it is found; another YAML file named on the command line
        # when it looks like an image spec (a persona is not one: better refused than reported
        # as broken).
        return is_suite(path) or (explicit and _looks_like_image_spec(path))
    return path.name.endswith(PROMPT_SUFFIXES) and path.name.lower() != "readme.md"


def is_suite(path: Path) -> bool:
    """A YAML file with `prompts:` and `cases:` or `dataset:` at its top: a suite."""
    from ..yamlfile import read_text, safe_load

    try:
        data = safe_load(read_text(path, "suite file"), path)
    except UserError:
        return False
    return isinstance(data, dict) and "prompts" in data and ("cases" in data or "dataset" in data)


def _looks_like_image_spec(path: Path) -> bool:
    from ..errors import UserError
    from ..image._spec import looks_like_image_spec
    from ..yamlfile import read_text, safe_load

    try:
        return looks_like_image_spec(safe_load(read_text(path, "spec file"), path))
    except UserError:
        return True  # let the loader report the error with its line


def lint_prompt(
    prompt: Prompt,
    *,
    lang: Lang = "en",
    selection: Selection | None = None,
    file: str | None = None,
) -> list[Finding]:
    from ._doc import PromptDoc

    doc = PromptDoc.from_prompt(prompt, file)
    return _apply(doc, "prompt", lang, selection or Selection())


def lint_file(
    path: Path, *, lang: Lang = "en", selection: Selection | None = None, shown: str | None = None
) -> list[Finding]:
    selection = selection or Selection()
    file = shown or str(path)
    image = is_image_spec(path) or path.suffix in (".yaml", ".yml")
    try:
        if image and not is_image_spec(path) and is_suite(path):
            from ._suite import suite_doc

            return _apply(suite_doc(path, file), "suite", lang, selection)
        if image:
            from ..image._spec import load_image_spec
            from ._image import ImageDoc

            return _apply(ImageDoc(load_image_spec(path), file), "image", lang, selection)
        return lint_prompt(load_prompt(path), lang=lang, selection=selection, file=file)
    except UserError as exc:
        if not selection.wants("P000"):
            return []
        error = exc.message + (f" ({exc.hint})" if exc.hint else "")
        if exc.field:
            error = f"{exc.field}: {error}"
        hit = Hit(exc.line or 1, {"error": error})
        return [finding(get_rule("P000"), hit, file, lang)]


def _apply(doc: Any, kind: str, lang: Lang, selection: Selection) -> list[Finding]:
    out = []
    for r in rules(kind):  # type: ignore[arg-type]
        if not selection.wants(r.id):
            continue
        for hit in r.fn(doc):
            if not doc.suppressed(r.id, hit.line):
                out.append(finding(r, hit, doc.file, lang))
    return sorted(out, key=lambda f: (f.line, f.rule))


def lint_paths(
    paths: Sequence[Path],
    *,
    lang: Lang = "en",
    selection: Selection | None = None,
    shown: Any = None,
) -> Report:
    """Lint every file under `paths`; `shown(path)` gives the name to print for a path."""
    report = Report()
    for path in collect(paths):
        name = shown(path) if shown else str(path)
        report.files.append(name)
        report.findings += lint_file(path, lang=lang, selection=selection, shown=name)
    return report
