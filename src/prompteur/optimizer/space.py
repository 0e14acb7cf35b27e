"""The search space: what the optimizer may change in a prompt, and how a change becomes a file.

A prompt is decomposed into a `Layout` — the system text (the instruction), the few-shot
block driven by the front matter's `examples`, and the label words of the demonstration and
query lines — when its body has the recognised few-shot shape (the one `prompteur init` and
`prompteur draft` write):

    system:
    Classify the sentiment …

    user:
    {% for ex in examples -%}
    Review: {{ ex.review }}
    Sentiment: {{ ex.label }}

    {% endfor -%}
    Review: {{ review }}
    Sentiment:

A `Candidate` is one point of the space; `materialize` writes it back as a complete prompt
file (front matter preserved, `examples` replaced, body regenerated), so every candidate is an
ordinary prompt with its own content-hash version and runs through the ordinary runner.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from ..errors import UserError
from ..prompt import Prompt, parse_prompt, template_text, template_turns

_LOOP = re.compile(
    r"^(?P<pre>.*?)\{%-?\s*for\s+(?P<var>\w+)\s+in\s+examples\s*-?%\}\n?"
    r"(?P<demo>.*?)\{%-?\s*endfor\s*-?%\}\n?(?P<query>.*)$",
    re.S,
)
_DEMO_LINE = re.compile(r"^(?P<label>[^{}\n]*?):[ \t]*\{\{\s*(?P<var>\w+)\.(?P<key>\w+)\s*\}\}\s*$")
_QUERY_LINE = re.compile(r"^(?P<label>[^{}\n]*?):[ \t]*\{\{\s*(?P<key>\w+)\s*\}\}\s*$")
_ANSWER_LINE = re.compile(r"^(?P<label>[^{}\n]*?):[ \t]*$")
_TEMPLATE = re.compile(r"\{\{|\{%|\{#")
_BLOCKS = "if|for|raw|macro|call|filter|with|block|autoescape|trans"
_OPEN = re.compile(rf"\{{%-?\s*(?:{_BLOCKS})\b")
_CLOSE = re.compile(rf"\{{%-?\s*end(?:{_BLOCKS})\b")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
# A JSON Schema written out in the text: what a schema has and prose never does.
_SCHEMA_KEYS = {"type", "properties", "required", "$schema", "items", "enum", "anyOf", "oneOf"}
_MAX_JSON_STARTS = 50


@dataclass(frozen=True)
class Fields:
    """The label words: one per input, then the answer's."""

    inputs: tuple[tuple[str, str], ...]  # (label, input name)
    answer: str
    separator: str = "\n\n"  # between demonstrations


@dataclass
class Layout:
    """What of a prompt the optimizer can change. `fields` is None when the body is not in
    the recognised few-shot shape: then only the instruction (system text) is searched."""

    base: Prompt
    instruction: str | None  # None: the system text is all template, not editable
    fields: Fields | None
    output_key: str = "output"
    preamble: str = ""  # static text of the user turn before the few-shot block
    notes: list[str] = field(default_factory=list)
    system: str = ""  # the system turn's template as written
    kept: tuple[str, ...] = ()  # its paragraphs kept as written: template parts, output schema

    @property
    def input_names(self) -> list[str]:
        if self.fields:
            return [name for _, name in self.fields.inputs]
        return list(self.base.meta.inputs)


@dataclass(frozen=True)
class Candidate:
    instruction: str
    demos: tuple[tuple[tuple[str, Any], ...], ...]  # each demo: sorted (key, value) pairs
    fields: Fields | None
    change: str = "starting prompt"
    parent: str | None = None  # version of the candidate it was derived from

    @property
    def demo_dicts(self) -> list[dict[str, Any]]:
        return [dict(d) for d in self.demos]

    def with_(self, change: str, parent: str | None, **kw: Any) -> Candidate:
        return replace(self, change=change, parent=parent, **kw)


def freeze_demo(d: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(d.items()))


def decompose(prompt: Prompt) -> Layout:
    turns = template_turns(prompt)
    system = [s for s in turns if s.role == "system"]
    users = [s for s in turns if s.role == "user"]
    notes: list[str] = []
    instruction: str | None
    system_text, kept = "", ()
    if len(system) > 1:
        instruction = None
        notes.append("several system turns: the instruction is left as written")
    elif system:
        system_text = system[0].template.strip("\n")
        prose, kept = split_system(system_text)
        instruction = prose if prose.strip() else None
        if instruction is None:
            notes.append("the system text is all template: the instruction is left as written")
        elif kept:
            notes.append(
                f"{len(kept)} paragraph(s) of the system text (template parts, the output "
                "schema) are kept as written; the instruction around them is searched"
            )
    else:
        instruction = ""
    fields = None
    output_key = "output"
    preamble = ""
    if len(users) == 1 and len(turns) - len(system) == 1:
        parsed = _parse_fewshot(users[0].template)
        if parsed is not None:
            fields, output_key, preamble = parsed
    if fields is None:
        notes.append(
            "the user turn is not a recognised few-shot block ({% for ex in examples %} with "
            "'Label: {{ ex.key }}' lines, then 'Label: {{ input }}' lines and 'Answer:'): "
            "demonstrations and labels are not searched"
        )
    if fields is None and instruction is None:
        raise UserError(
            "nothing the optimizer can change in this prompt",
            file=prompt.source,
            hint="; ".join(notes) + " — see docs/optimize.md",
        )
    return Layout(prompt, instruction, fields, output_key, preamble, notes, system_text, kept)


def split_system(text: str) -> tuple[str, tuple[str, ...]]:
    """(the instruction, the paragraphs kept as written) of a system template. A paragraph
    with template syntax (an inserted schema, a variable, a block spanning paragraphs) or a
    JSON Schema written out is the prompt's contract with its inputs and its output: the
    search changes the prose around it, never it."""
    prose: list[str] = []
    kept: list[str] = []
    pending: list[str] = []
    depth = 0
    for para in _PARAGRAPHS.split(text):
        if depth or _TEMPLATE.search(para):
            pending.append(para)
            depth = max(0, depth + len(_OPEN.findall(para)) - len(_CLOSE.findall(para)))
            if not depth:
                kept.append("\n\n".join(pending))
                pending = []
        elif states_schema(para):
            kept.append(para)
        else:
            prose.append(para)
    if pending:
        kept.append("\n\n".join(pending))
    return "\n\n".join(p.strip("\n") for p in prose if p.strip()), tuple(kept)


def states_schema(text: str) -> bool:
    """Whether the text holds a JSON object that reads as a JSON Schema."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    tries = 0
    while start != -1 and tries < _MAX_JSON_STARTS:
        tries += 1
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict) and len(_SCHEMA_KEYS & set(value)) >= 2:
            return True
        start = text.find("{", start + 1)
    return False


def _parse_fewshot(template: str) -> tuple[Fields, str, str] | None:
    m = _LOOP.match(template.strip("\n") + "\n")
    if not m:
        return None
    demo_lines = [ln for ln in m["demo"].split("\n")]
    # What follows the last demo line (blank lines, a '###') separates demonstrations.
    while demo_lines and not demo_lines[-1].strip():
        demo_lines.pop()
    separator = m["demo"][len("\n".join(demo_lines)) :] or "\n"
    parsed_demo = [_DEMO_LINE.match(ln) for ln in demo_lines]
    if not parsed_demo or any(p is None or p["var"] != m["var"] for p in parsed_demo):
        return None
    query_lines = m["query"].strip("\n").split("\n")
    parsed_query = [_QUERY_LINE.match(ln) for ln in query_lines[:-1]]
    answer = _ANSWER_LINE.match(query_lines[-1])
    if answer is None or any(p is None for p in parsed_query):
        return None
    demo_pairs = [(p["label"], p["key"]) for p in parsed_demo if p]
    query_pairs = [(p["label"], p["key"]) for p in parsed_query if p]
    # The demonstration shows the same inputs, then the answer under the answer's label.
    if len(demo_pairs) != len(query_pairs) + 1 or demo_pairs[-1][0] != answer["label"]:
        return None
    if [lbl for lbl, _ in demo_pairs[:-1]] != [lbl for lbl, _ in query_pairs]:
        return None
    if any(dk != qk for (_, dk), (_, qk) in zip(demo_pairs, query_pairs, strict=False)):
        return None
    fields = Fields(tuple(query_pairs), answer["label"], separator)
    return fields, demo_pairs[-1][1], m["pre"]


def starting_candidate(layout: Layout) -> Candidate:
    return Candidate(
        instruction=layout.instruction or "",
        demos=tuple(freeze_demo(d) for d in layout.base.meta.examples),
        fields=layout.fields,
    )


def system_text(layout: Layout, cand: Candidate) -> str | None:
    """A candidate's system turn: as written while its instruction is the prompt's, else its
    instruction (literal text) followed by the paragraphs kept as written; None when the
    system turns are left as written."""
    if layout.instruction is None:
        return None
    if cand.instruction == layout.instruction:
        return layout.system
    parts = [template_text(cand.instruction.strip())] if cand.instruction.strip() else []
    return "\n\n".join([*parts, *layout.kept])


def body(layout: Layout, cand: Candidate) -> str:
    """The prompt body for a candidate (the base body when nothing structural can change)."""
    parts = []
    system = system_text(layout, cand)
    if cand.fields is None:
        if system is None:
            return layout.base.body
        # Only the system text changes: keep the other turns as written.
        rest = [s for s in template_turns(layout.base) if s.role != "system"]
        if system.strip():
            parts.append(f"system:\n{system.strip(chr(10))}\n")
        parts += [f"{s.role}:\n{s.template.strip(chr(10))}\n" for s in rest]
        return "\n".join(parts)
    f = cand.fields
    if system is None:
        turns = [s for s in template_turns(layout.base) if s.role == "system"]
        parts += [f"system:\n{s.template.strip(chr(10))}\n" for s in turns]
    elif system.strip():
        parts.append(f"system:\n{system.strip(chr(10))}\n")
    demo = "".join(f"{label}: {{{{ ex.{key} }}}}\n" for label, key in f.inputs)
    demo += f"{f.answer}: {{{{ ex.{layout.output_key} }}}}"
    query = "".join(f"{label}: {{{{ {key} }}}}\n" for label, key in f.inputs)
    user = (
        f"user:\n{layout.preamble}{{% for ex in examples -%}}\n{demo}{f.separator}"
        f"{{% endfor -%}}\n{query}{f.answer}:\n"
    )
    parts.append(user)
    return "\n".join(parts)


def front_matter(layout: Layout) -> dict[str, Any]:
    text = layout.base.text.replace("\r\n", "\n")
    if not text.startswith("---"):
        return {}
    end = text.index("\n---", 3)
    data = dict(yaml.safe_load(text[3:end]) or {})
    # A candidate is the body being searched, for every model: variants that would replace
    # it on some model are not carried over (prompteur adapt writes a tuned variant back).
    data.pop("variants", None)
    return data


def materialize(layout: Layout, cand: Candidate, front: dict[str, Any] | None = None) -> Prompt:
    meta = dict(front if front is not None else front_matter(layout))
    if cand.demos or "examples" in meta:
        meta["examples"] = cand.demo_dicts
    if not meta.get("examples"):
        meta.pop("examples", None)
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    text = f"---\n{head}---\n{body(layout, cand)}"
    return parse_prompt(text, path=layout.base.path, name=layout.base.name)
