"""Brief → a prompt file and a starter suite, checked in memory, then written all or nothing.

The prompt keeps the layout the optimizer searches: demonstrations in the `examples:` front
matter, rendered by one `{% for ex in examples -%}` loop with one labelled line per input and
the output's label line, a blank line between demonstrations, then the query's lines ending on
the output label and ':'. The system turn is whatever the strategy wrote.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .. import patterns as P
from ..errors import UserError
from ..i18n import plural
from ..patterns import Language
from ..prompt import stem_name, template_text
from ._brief import Brief, Example, load_brief
from ._strategies import Instructions, input_label, output_label, strategy_for

if TYPE_CHECKING:
    from ..config import Config

MAX_AUTO_DEMOS = 4
# The user turn's patterns, the same whoever writes the instructions.
LAYOUT_PATTERNS = ("few-shot", "field-line", "answer-prefix")
FEW_CASES = 10  # below this, a pass rate's 95% interval is wider than ±25 points


@dataclass
class Draft:
    """What `prompteur draft` produces: two texts and where they go, and what to say."""

    brief: Brief
    prompt_path: Path
    suite_path: Path
    prompt_text: str
    suite_text: str
    instructions: Instructions
    demonstrations: list[Example]
    cases: list[Example]
    notes: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.instructions.warnings

    def write(self, *, force: bool = False) -> list[Path]:
        """Both files or neither: refuse existing files unless `force`, write each atomically,
        load both back, and restore what was there if anything fails."""
        # One write-and-verify path for every generator of project files.
        from ..importers.promptfoo import Conversion

        files = {self.prompt_path: self.prompt_text, self.suite_path: self.suite_text}
        existing = [p for p in files if p.exists()]
        if existing and not force:
            raise UserError(
                "already exists; nothing was written",
                file=existing[0],
                hint="use --force to overwrite, or --out-prompt / --out-suite to write elsewhere",
            )
        conversion = Conversion(files=files, prompts=[self.prompt_path], suite=self.suite_path)
        return conversion.write(force=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": stem_name(self.prompt_path),
            "prompt": str(self.prompt_path),
            "suite": str(self.suite_path),
            "written_by": self.instructions.author,
            "patterns": list(self.instructions.patterns),
            "demonstrations": len(self.demonstrations),
            "cases": len(self.cases),
            "notes": self.notes,
            "warnings": list(self.warnings),
        }


async def draft(
    brief_path: str | Path,
    config: Config,
    *,
    model_id: str | None = None,
    out_prompt: str | Path | None = None,
    out_suite: str | Path | None = None,
    lang: str | None = None,
) -> Draft:
    """Draft a prompt and a suite from a brief; nothing is written (see `Draft.write`)."""
    brief = load_brief(brief_path)
    if lang is not None and lang not in P.LANGUAGES:
        raise UserError(f"unknown language '{lang}'", field="--lang", hint="use en or fr")
    language: Language = lang or brief.spec.language  # type: ignore[assignment]
    writer = model_id or config.data.project.default_model
    strategy = strategy_for(writer, config)
    prompt_path = Path(out_prompt) if out_prompt else config.prompts_dir / f"{brief.name}.prompty"
    suite_path = Path(out_suite) if out_suite else config.suites_dir / f"{brief.name}.yaml"
    # The prompt is named after its file, so a variant written beside it is its own prompt.
    name = stem_name(prompt_path)
    _no_namesake(config, brief, name, prompt_path)
    demos, cases = split_examples(brief)
    instructions = await strategy.instructions(brief, language)
    prompt_text = prompt_file(brief, name, language, instructions, demos, cases, config)
    judge = _judge(writer, config)
    ref = _prompt_ref(config, name, prompt_path)
    suite_text = suite_file(brief, language, cases, ref, judge, _shown(suite_path, config))
    notes = _notes(brief, demos, cases, judge)
    result = Draft(
        brief, prompt_path, suite_path, prompt_text, suite_text, instructions, demos, cases, notes
    )
    _verify(result)
    return result


# ---- demonstrations and cases --------------------------------------------------------------


def split_examples(brief: Brief) -> tuple[list[Example], list[Example]]:
    """Some examples become demonstrations, the others test cases; never both.

    Labels: the first example of each label in turn (so every label is shown when there are
    enough examples, and no label dominates the end of the prompt). Otherwise: the first ones.
    """
    examples = brief.examples
    n = len(examples)
    out = brief.output
    cap = max(MAX_AUTO_DEMOS, len(out.labels)) if out.kind == "label" else MAX_AUTO_DEMOS
    k = brief.spec.demonstrations or min(cap, max(1, n // 2))
    if out.kind != "label":
        return examples[:k], examples[k:]
    if not brief.spec.demonstrations and k > len(out.labels):
        k -= k % len(out.labels)  # as many of each label: an uneven set biases a base model
    queues = {label: [e for e in examples if e.output == label] for label in out.labels}
    chosen: list[Example] = []
    while len(chosen) < k and any(queues.values()):
        for label in out.labels:
            if queues[label] and len(chosen) < k:
                chosen.append(queues[label].pop(0))
    picked = {e.index for e in chosen}
    return chosen, [e for e in examples if e.index not in picked]


# ---- the prompt file -----------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Readable YAML: multi-line strings as blocks, keys in the order written."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = None
    if "\n" in value or "\t" in value:
        # A block reads best for prose; a stop sequence such as "\n" reads best quoted.
        prose = value.strip() and not value[0].isspace() and not value.endswith((" ", "\t"))
        style = "|" if prose else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _output_key(brief: Brief) -> str:
    return brief.output.name


def _params(brief: Brief, lang: Language, demos: list[Example]) -> dict[str, Any]:
    """Greedy decoding, and stops that end the answer where the demonstrations end theirs."""
    out = brief.output
    if out.kind == "label":
        longest = max(len(label) for label in out.labels)
        return {"temperature": 0, "max_tokens": min(32, max(4, longest // 2 + 2)), "stop": ["\n"]}
    if out.max_words:
        max_tokens = out.max_words * 2 + 16
    elif out.max_chars:
        max_tokens = out.max_chars // 3 + 16
    else:
        max_tokens = 512 if out.kind == "json" else 256
    first_input = input_label(brief, next(iter(brief.spec.inputs)))
    stop = ["\n" + P.render("answer-prefix", lang, label=first_input)]
    # A blank line ends a demonstration; it can end the answer unless answers have paragraphs.
    if not any("\n\n" in e.output_text for e in demos):
        stop.insert(0, "\n\n")
    return {"temperature": 0, "max_tokens": max_tokens, "stop": stop}


def few_shot_body(brief: Brief, lang: Language) -> str:
    """The user turn: the demonstration loop, then the query ending on the output label."""

    def line(label: str, value: str) -> str:
        return P.render("field-line", lang, label=label, value=value)

    names = list(brief.spec.inputs)
    key = _output_key(brief)
    answer = output_label(brief, lang)
    demo = "\n".join(
        [line(input_label(brief, n), f"{{{{ ex.{n} }}}}") for n in names]
        + [line(answer, f"{{{{ ex.{key} }}}}")]
    )
    query = [line(input_label(brief, n), f"{{{{ {n} }}}}") for n in names]
    query.append(P.render("answer-prefix", lang, label=answer))
    return P.render("few-shot", lang, demo=demo) + "\n" + "\n".join(query)


def prompt_file(
    brief: Brief,
    name: str,
    lang: Language,
    instructions: Instructions,
    demos: list[Example],
    cases: list[Example],
    config: Config,
) -> str:
    spec, out = brief.spec, brief.output
    key = _output_key(brief)
    front: dict[str, Any] = {
        "name": name,
        "description": " ".join(spec.objective.split()),
        "tags": ["drafted", out.kind, lang],
        "model": {
            "id": config.data.project.default_model,
            "parameters": _params(brief, lang, demos),
        },
        "inputs": {
            n: {
                "kind": d.kind,
                "required": True,
                # Prompty requires the kind of an array's elements
                **({"items": {"kind": "string"}} if d.kind == "array" else {}),
                "description": " ".join(d.description.split()),
            }
            for n, d in spec.inputs.items()
        },
        "sample": dict(cases[0].inputs),
        "examples": [{**e.inputs, key: e.output_text} for e in demos],
    }
    if out.kind == "json" and out.schema_ is not None:
        front["output_schema"] = out.schema_
    front["metadata"] = {
        "drafted_from": _shown(brief.path, config),
        "written_by": instructions.author,
        "patterns": [*instructions.patterns, *LAYOUT_PATTERNS],
    }
    return (
        "---\n"
        + dump_yaml(front)
        + "---\nsystem:\n"
        + template_text(instructions.text.strip())
        + "\n\nuser:\n"
        + few_shot_body(brief, lang)
        + "\n"
    )


# ---- the suite -----------------------------------------------------------------------------

_RUBRIC: dict[Language, str] = {
    "en": "The answer does what was asked: {objective}",
    "fr": "La réponse fait ce qui était demandé : {objective}",
}
_RUBRIC_RULES: dict[Language, str] = {
    "en": " It respects: {rules}",
    "fr": " Elle respecte : {rules}",
}


def checks_for(brief: Brief, lang: Language, judge: str | None) -> list[dict[str, Any]]:
    """Checks chosen from the output format: exact labels, valid JSON, lengths, a rubric."""
    out = brief.output
    checks: list[dict[str, Any]] = []
    if out.kind == "label":
        checks.append({"type": "equals", "normalize": True})
        most = max(len(label.split()) for label in out.labels)
        checks.append({"type": "word-count", "max": most})
    elif out.kind == "json":
        checks.append({"type": "is-json"})
        if out.schema_ is not None:
            checks.append({"type": "json-schema", "value": out.schema_})
        labels, texts = json_fields(brief)
        if labels:
            # the fields whose value can be right or wrong, compared with each case's
            checks.append({"type": "equals", "fields": labels})
        register = brief_register(brief, lang)
        for name in texts:
            checks.append({"type": "length", "min": 1, "path": name})
            if register:
                checks.append({"type": "register", "value": register, "path": name})
    if out.kind == "text":
        register = brief_register(brief, lang)
        if register:
            checks.append({"type": "register", "value": register})
    if out.kind != "label":
        if out.min_words or out.max_words:
            bounds = {"min": out.min_words, "max": out.max_words}
            checks.append({"type": "word-count", **{k: v for k, v in bounds.items() if v}})
        checks.append(
            {"type": "length", "min": 1, **({"max": out.max_chars} if out.max_chars else {})}
        )
    if out.kind == "text" and judge:
        criterion = _RUBRIC[lang].format(objective=_one(brief.spec.objective))
        if brief.spec.constraints:
            rules = "; ".join(brief.spec.constraints)
            criterion += _RUBRIC_RULES[lang].format(rules=rules)
        checks.append({"type": "rubric", "value": criterion, "judge": judge})
    return checks


def _one(text: str) -> str:
    return " ".join(text.split())


_TU = ("tutoiement", "tutoyer", "tutoie")
_VOUS = ("vouvoiement", "vouvoyer", "vouvoie", "formel", "formelle")


def brief_register(brief: Brief, lang: Language) -> str | None:
    """The register the brief's tone asks for: tu or vous (French), formal or casual."""
    said = " ".join([brief.spec.tone or "", *brief.spec.constraints]).lower()
    words = set(re.findall(r"[\w-]+", said))
    if brief.spec.language == "fr" or lang == "fr":
        if words & set(_TU) or "tu" in words:
            return "tu"
        if words & set(_VOUS) or "vous" in words:
            return "vous"
        return None
    if words & {"formal", "professional"}:
        return "formal"
    if words & {"casual", "informal", "friendly"}:
        return "casual"
    return None


def json_fields(brief: Brief) -> tuple[list[str], list[str]]:
    """A JSON answer's top-level fields: (those with a right value to compare — enums,
    numbers, booleans, short texts such as a label or a name —, those of free text, whose
    wording is the model's own)."""
    schema = brief.output.schema_ or {}
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    outputs = [e.output for e in brief.examples if isinstance(e.output, dict)]
    names = list(props) or list(dict.fromkeys(k for o in outputs for k in o))
    labels, texts = [], []
    for name in names:
        spec = props.get(name) or {}
        values = [o[name] for o in outputs if name in o]
        if "enum" in spec or spec.get("type") in ("integer", "number", "boolean"):
            labels.append(name)
        elif values and all(isinstance(v, str) for v in values):
            short = all(len(v.split()) <= 4 for v in values)
            (labels if short else texts).append(name)
        elif values:
            labels.append(name)
    return labels, texts


def suite_file(
    brief: Brief,
    lang: Language,
    cases: list[Example],
    prompt_ref: str,
    judge: str | None,
    shown_path: str,
) -> str:
    spec: dict[str, Any] = {
        "description": _one(brief.spec.objective),
        "prompts": [prompt_ref],
        "checks": checks_for(brief, lang, judge),
        "cases": [{"inputs": dict(c.inputs), "expected": c.output} for c in cases],
    }
    head = (
        f"# prompteur eval {shown_path}\n"
        f"# Drafted from {brief.path.name}: {plural(len(cases), 'case')}, the brief's examples "
        "that are not demonstrations in the prompt.\n"
    )
    return head + dump_yaml(spec)


def _judge(writer: str, config: Config) -> str | None:
    """A judge worth asking: the drafting model, else the project's default, if not llama.cpp."""
    for candidate in (writer, config.data.project.default_model):
        if candidate != "local" and not candidate.startswith("local:"):
            return candidate
    return None


def _notes(
    brief: Brief, demos: list[Example], cases: list[Example], judge: str | None
) -> list[str]:
    out = brief.output
    notes = [
        f"{plural(len(demos), 'example')} became demonstrations in the prompt, "
        f"{plural(len(cases), 'test case')} "
        "in the suite"
    ]
    if len(cases) < FEW_CASES:
        notes.append(
            f"only {plural(len(cases), 'test case')}: too few to tell a good prompt from a lucky "
            "one (a pass rate on under 10 cases has a 95% interval wider than ±25 points); add "
            "examples to the brief, or cases to the suite — 30 or more are worth measuring"
        )
    if out.kind == "label":
        shown = {e.output for e in demos}
        tested = {c.output for c in cases}
        missing = [label for label in out.labels if label not in shown]
        if missing:
            notes.append("no demonstration for label(s) " + ", ".join(missing) + ": add examples")
        untested = [label for label in out.labels if label not in tested]
        if untested:
            notes.append("no test case for label(s) " + ", ".join(untested) + ": add examples")
    if out.kind == "json":
        labels, texts = json_fields(brief)
        notes.append(
            "JSON answers are checked for validity and the schema"
            + (f"; fields {', '.join(labels)} against each case's expected value" if labels else "")
            + (f"; free-text fields {', '.join(texts)} for length" if texts else "")
            + (" and register" if texts and brief_register(brief, brief.spec.language) else "")
        )
    if out.kind == "text" and not judge:
        notes.append(
            "free text is checked for length only: with a capable judge (--model "
            "openai:gpt-4o-mini, or default_model in prompteur.toml) the suite gets a rubric check"
        )
    return notes


# ---- paths and checks before writing -------------------------------------------------------


def _shown(path: Path, config: Config) -> str:
    """A path relative to the project when it lies inside it (stable across machines)."""
    try:
        rel = Path(os.path.relpath(path.resolve(), config.root)).as_posix()
    except ValueError:  # another drive
        return str(path.resolve())
    return str(path.resolve()) if rel.startswith("..") else rel


def _prompt_ref(config: Config, name: str, prompt_path: Path) -> str:
    """How the suite names the prompt: by name when it is in the library, else by path."""
    if prompt_path.resolve().parent == config.prompts_dir.resolve():
        return name
    return _shown(prompt_path, config)


def _no_namesake(config: Config, brief: Brief, name: str, prompt_path: Path) -> None:
    """Another library file with the same name would make the suite's reference ambiguous."""
    from ..library import Library

    target = prompt_path.resolve()
    if not target.is_relative_to(config.prompts_dir.resolve()):
        return  # outside the library: the suite names it by path
    for prompt in Library.from_config(config).prompts():
        if prompt.name == name and prompt.path and prompt.path.resolve() != target:
            raise brief.error(
                f"the library already has a prompt named '{name}'",
                ("name",),
                hint=f"{prompt.path} — choose another name",
            )


def _verify(result: Draft) -> None:
    """Parse the prompt and render every case and the sample, in memory, before any write: a
    draft that does not load back is a bug here, never a file left on disk."""
    from ..prompt import parse_prompt

    prompt = parse_prompt(result.prompt_text, path=result.prompt_path)
    for example in [*result.cases, *result.demonstrations]:
        prompt.render(example.inputs)
    prompt.render(prompt.meta.sample_inputs)
