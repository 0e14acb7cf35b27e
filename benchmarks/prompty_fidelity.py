"""Prompty fidelity: the messages prompteur renders against those of Prompty's own runtime.

For every `.prompty` file under the given folders (default: the field corpus copied into
tests/fixtures/field/prompty and our own spec-feature fixtures), both sides load the file and
prepare it with the same inputs, twice:

- `defaults`: no inputs at all (the file's defaults apply; what is missing renders empty);
- `filled`: a v1 `sample:` mapping when the file has one, then for every declared input
  without a default its `example`, else a value of its kind (see `filled_inputs`).

A file is *identical* when both input sets give the same messages (roles, text, content parts,
metadata such as `name`); *refused* when Prompty refuses it and prompteur refuses it too with a
file, a line and a field; anything else is a difference, listed with its reason.

Prompty's runtime is PyPI `prompty` 2.x. Two settings of that side, both stated in the report:
- `nunjucks`, the TypeScript runtime's Jinja-compatible engine, is registered as Jinja2 (the
  Python runtime ships no renderer under that name and would refuse every such file);
- an environment variable that a file reads with no default (`${env:OPENAI_API_KEY}`) is set
  to a placeholder for the run, as a user running these files would have it set.

    .venv/bin/python benchmarks/prompty_fidelity.py            # table and per-file list
    .venv/bin/python benchmarks/prompty_fidelity.py --json     # the same as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIRS = [ROOT / "tests/fixtures/field/prompty", ROOT / "tests/fixtures/prompty"]

# A value for every kind, for inputs that declare no default and no example.
SAMPLES: dict[str, Any] = {
    "string": "sample text",
    "integer": 3,
    "float": 0.5,
    "number": 0.5,
    "boolean": True,
    "array": ["first", "second"],
    "object": {"key": "value"},
    "thread": [
        {"role": "user", "content": "Earlier question"},
        {"role": "assistant", "content": "Earlier answer"},
    ],
    "image": "https://example.com/picture.png",
    "file": "https://example.com/document.pdf",
    "audio": "https://example.com/recording.wav",
}

Norm = list[tuple[str, str, list[tuple[str, str]], dict[str, Any]]]


@dataclass
class Outcome:
    file: str
    verdict: str  # identical | refused | different | we-refuse | we-render
    reason: str = ""
    sets: tuple[str, ...] = ()  # the verdict of each input set: defaults, filled


def filled_inputs(path: Path) -> dict[str, Any]:
    """The `filled` input set of a file, read from its raw front matter."""
    import yaml

    text = path.read_text(encoding="utf-8")
    m = re.match(r"^\s*---(.*?)---", text, re.S)
    try:
        data = yaml.safe_load(m.group(1)) if m else None
    except yaml.YAMLError:
        return {}
    if not isinstance(data, dict):
        return {}
    values: dict[str, Any] = {}
    if isinstance(data.get("sample"), dict):
        values.update(data["sample"])
    declared = data.get("inputs")
    items: list[tuple[str, Any]] = []
    if isinstance(declared, dict):
        items = list(declared.items())
    elif isinstance(declared, list):
        items = [(str(i.get("name")), i) for i in declared if isinstance(i, dict)]
    for name, spec in items:
        if name in values or not isinstance(spec, dict) or spec.get("default") is not None:
            continue
        if spec.get("example") is not None:
            values[name] = spec["example"]
        elif spec.get("kind") in SAMPLES:
            values[name] = SAMPLES[spec["kind"]]
    return values


def _placeholders(paths: list[Path]) -> dict[str, str]:
    """Placeholder keys for the credentials the files read with no default."""
    names: dict[str, str] = {}
    for path in paths:
        for m in re.finditer(r"\$\{env:(\w+)\}", path.read_text(encoding="utf-8")):
            if re.search(r"KEY|TOKEN|SECRET", m.group(1)):
                names.setdefault(m.group(1), "placeholder-value")
    return {k: v for k, v in names.items() if k not in os.environ}


def theirs(path: Path, inputs: dict[str, Any]) -> Norm:
    import prompty

    agent = prompty.load(str(path))
    out: Norm = []
    for m in prompty.prepare(agent, inputs):
        text = "".join(p.value for p in m.parts if type(p).__name__ == "TextPart")
        media = [
            (type(p).__name__.removesuffix("Part").lower(), str(p.source))
            for p in m.parts
            if type(p).__name__ != "TextPart"
        ]
        out.append((m.role, text, media, dict(m.metadata or {})))
    return out


def ours(path: Path, inputs: dict[str, Any]) -> Norm:
    from prompteur.prompt import load_prompt

    out: Norm = []
    for m in load_prompt(path).render(inputs):
        media = [(p.kind, p.value) for p in m.parts if p.kind != "text"]
        out.append((m.role, m.content, media, dict(m.extra or {})))
    return out


def _register_nunjucks() -> None:
    import prompty
    from prompty.renderers.jinja2 import Jinja2Renderer

    prompty.register_renderer("nunjucks", Jinja2Renderer)


def compare(path: Path, label: str | None = None) -> Outcome:
    """Both runtimes on one file, both input sets. The file's verdict: a difference if either
    set differs, else identical if either set renders, else refused."""
    label = label or str(path)
    sets = [_compare_one(path, inputs) for inputs in ({}, filled_inputs(path))]
    verdicts = tuple(v for v, _ in sets)
    for verdict, reason in sets:
        if verdict not in ("identical", "refused"):
            return Outcome(label, verdict, reason, verdicts)
    if "identical" in verdicts:
        return Outcome(label, "identical", "", verdicts)
    return Outcome(label, "refused", sets[0][1], verdicts)


def _compare_one(path: Path, inputs: dict[str, Any]) -> tuple[str, str]:
    from prompteur.errors import UserError

    try:
        want: Norm | None = theirs(path, inputs)
        why_not = ""
    except Exception as exc:  # Prompty refuses: any exception is its refusal
        want, why_not = None, f"{type(exc).__name__}: {exc}"[:200]
    try:
        got: Norm | None = ours(path, inputs)
        our_error = None
    except UserError as exc:
        got, our_error = None, exc
    if want is None and got is None:
        assert our_error is not None
        if our_error.file is None or our_error.line is None or our_error.field is None:
            return "different", f"our refusal lacks where: {our_error}"
        return "refused", f"Prompty: {why_not} | ours: {our_error}"
    if want is None:
        return "we-render", f"Prompty refuses: {why_not}"
    if got is None:
        return "we-refuse", str(our_error)
    if want != got:
        return "different", _difference(want, got)
    return "identical", ""


def _difference(want: Norm, got: Norm) -> str:
    if len(want) != len(got):
        return f"{len(want)} messages in Prompty, {len(got)} here: {want!r:.300} vs {got!r:.300}"
    for i, (a, b) in enumerate(zip(want, got, strict=True)):
        if a != b:
            return f"message {i}: Prompty {a!r:.300} vs ours {b!r:.300}"
    return "?"


def files(dirs: list[Path]) -> list[Path]:
    return sorted(p for d in dirs for p in d.rglob("*.prompty"))


def run(dirs: list[Path]) -> list[Outcome]:
    paths = files(dirs)
    os.environ.update(_placeholders(paths))
    _register_nunjucks()
    return [
        compare(p, str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)) for p in paths
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=DEFAULT_DIRS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    outcomes = run(args.dirs)
    if args.json:
        print(json.dumps([asdict(o) for o in outcomes], indent=2))
        return
    counts = Counter(o.verdict for o in outcomes)
    loaded = len(outcomes) - counts["refused"] - counts["we-render"]
    print(f"{len(outcomes)} files; Prompty prepares {loaded}")
    print(f"  identical messages: {counts['identical']} of {loaded}")
    print(f"  refused by both (file, line, field here): {counts['refused']}")
    for verdict in ("different", "we-refuse", "we-render"):
        print(f"  {verdict}: {counts[verdict]}")
    for o in outcomes:
        if o.verdict != "identical":
            print(f"- {o.verdict}: {o.file}: {o.reason}")
    sys.exit(0 if counts["identical"] + counts["refused"] == len(outcomes) else 1)


if __name__ == "__main__":
    main()
