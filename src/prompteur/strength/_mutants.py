"""The standard mutants: small, deliberate faults in a prompt or in an output.

A suite is strong when its checks fail on them. An operator that has nothing to change (no
system turn to drop, no vous to turn into tu) makes no mutant; a mutant identical to what it
mutates is never made.

Outputs: `wrong-value` (a field, or a label, changed for another one the suite knows),
`wrong-register` (vous ↔ tu, formal ↔ casual), `broken-json` (cut in the middle), `empty-answer`.
Prompts: `drop-instruction` (the system turn), `swap-labels` (the demonstrations' answers
rotated), `remove-format` (the output schema, stop sequences, token limit and the instruction
lines that describe the format), `vous-to-tu`, `wrong-example` (a demonstration with a wrong
answer), `truncate` (half the instruction and half the demonstrations).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from ..prompt import Prompt, parse_prompt, template_turns

OUTPUT_OPERATORS = ("wrong-value", "wrong-register", "broken-json", "empty-answer")
PROMPT_OPERATORS = (
    "drop-instruction",
    "swap-labels",
    "remove-format",
    "vous-to-tu",
    "wrong-example",
    "truncate",
)


@dataclass(frozen=True)
class OutputMutant:
    operator: str
    detail: str
    text: str


@dataclass(frozen=True)
class PromptMutant:
    operator: str
    detail: str
    prompt: Prompt


# ---- registers ------------------------------------------------------------------------------

_VOUS_TO_TU = {
    "vous": "tu",
    "votre": "ton",
    "vos": "tes",
    "vôtre": "tien",
    "vôtres": "tiens",
}
_TU_TO_VOUS = {
    "tu": "vous",
    "te": "vous",
    "toi": "vous",
    "ton": "votre",
    "ta": "votre",
    "tes": "vos",
}
_WORD = re.compile(r"(?<![\w'’-])(\w+)(?![\w'’])", re.U)


def _swap_words(text: str, table: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        word = m.group(1)
        new = table.get(word.lower())
        if new is None:
            return word
        return new.capitalize() if word[:1].isupper() else new

    return _WORD.sub(sub, text)


def vous_to_tu(text: str) -> str:
    """Every vous form as the matching tu form (grammar aside: a register check reads forms)."""
    return _swap_words(text, _VOUS_TO_TU)


def wrong_register(text: str) -> tuple[str, str] | None:
    """The text in the other register, and which way; None when it has no register to flip."""
    from ..checks import text_content as content
    from ..persona import read_english, read_french

    said = content(text)  # a JSON reply's words are its string values, not quotations
    fr = read_french(said)
    if fr.vous:
        return vous_to_tu(text), "vous → tu"
    if fr.tu:
        return _swap_words(text, _TU_TO_VOUS), "tu → vous"
    en = read_english(said)
    if en.formal and not en.casual:
        return f"Hey! {text} No worries, cheers!", "formal → casual"
    if en.casual:
        return f"Dear customer, {text} Kindly accept our sincere regards.", "casual → formal"
    return None


# ---- outputs --------------------------------------------------------------------------------


def output_mutants(
    output: str,
    *,
    labels: Iterable[str] = (),
    field_values: dict[str, list[Any]] | None = None,
    accepted: Iterable[str] = (),
) -> list[OutputMutant]:
    """The standard mutants of one output. `labels`: the answers the suite knows (its cases'
    expected values); `field_values`: for JSON outputs, the values each field takes elsewhere;
    `accepted`: the answers this case itself accepts (its expected alternatives) — a label the
    case accepts is no wrong value for it, so `wrong-value` takes the next one."""
    from ..checks import MISSING
    from ..checks import parse_output as parse

    out: list[OutputMutant] = []
    data = parse(output)
    is_json = isinstance(data, dict | list) and output.strip()[:1] in "{["
    if isinstance(data, dict) and is_json:
        for key, value in list(data.items())[:6]:
            other = _other_value(value, (field_values or {}).get(key, []))
            if other is MISSING:
                continue
            changed = {**data, key: other}
            text = json.dumps(changed, ensure_ascii=False)
            out.append(
                OutputMutant("wrong-value", f"{key}: {_short(value)} → {_short(other)}", text)
            )
    elif not is_json:
        stripped = output.strip()
        right = {a.strip().casefold() for a in accepted} | {stripped.casefold()}
        others = [
            label for label in labels if label.strip() and label.strip().casefold() not in right
        ]
        if stripped in {label.strip() for label in labels} and others:
            out.append(OutputMutant("wrong-value", f"{stripped} → {others[0]}", others[0]))
    flipped = wrong_register(output)
    if flipped is not None and flipped[0] != output:
        out.append(OutputMutant("wrong-register", flipped[1], flipped[0]))
    if is_json:
        cut = output.rstrip()[: max(1, len(output.rstrip()) // 2)]
        out.append(OutputMutant("broken-json", "cut in the middle", cut))
    if output.strip():
        out.append(OutputMutant("empty-answer", "nothing", ""))
    return out


def _other_value(value: Any, seen: list[Any]) -> Any:
    """A wrong value for a field: another one the suite knows for it; for free text (a reply in
    the model's own words, which only a judge could tell from another reply), nothing."""
    from ..checks import MISSING

    if isinstance(value, str) and len(value.split()) > 4:
        return ""
    for candidate in seen:
        if candidate != value:
            return candidate
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str) and value.strip():
        return value[::-1] if len(value) > 1 and value[::-1] != value else value + "?"
    if isinstance(value, list) and value:
        return value[:-1]
    return MISSING


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text[:30] + ("…" if len(text) > 30 else ""))


# ---- prompts --------------------------------------------------------------------------------


def _split(prompt: Prompt) -> tuple[dict[str, Any], str]:
    """(front matter as data, body text) of a prompt file."""
    text = prompt.text.replace("\r\n", "\n")
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end >= 0:
            front = yaml.safe_load(text[3:end]) or {}
            return (front if isinstance(front, dict) else {}), text[end + 4 :].lstrip("\n")
    return {}, text


def _join(front: dict[str, Any], body: str) -> str:
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True) if front else ""
    return f"---\n{head}---\n{body}" if head else body


def _rebuild(prompt: Prompt, front: dict[str, Any], body: str) -> Prompt | None:
    text = _join(front, body)
    if text.strip() == prompt.text.replace("\r\n", "\n").strip():
        return None
    from ..errors import UserError

    try:
        return parse_prompt(text, name=prompt.name)
    except UserError:
        return None  # a mutant that does not load is not a mutant of this prompt


def _answer_keys(prompt: Prompt) -> list[str]:
    """The keys of the demonstrations that are answers, not inputs."""
    inputs = set(prompt.meta.inputs) or set(prompt.meta.sample)
    keys: dict[str, None] = {}
    for ex in prompt.meta.examples:
        for k in ex:
            if k not in inputs:
                keys.setdefault(k, None)
    return list(keys)


def _body_without_turn(prompt: Prompt, role: str, keep: Callable[[list[str]], list[str]]) -> str:
    """The body with each `role` turn's lines passed through `keep` (an empty result drops
    the turn, marker included)."""
    lines = prompt.body.replace("\r\n", "\n").split("\n")
    turns = template_turns(prompt)
    out = list(lines)
    for seg in reversed([t for t in turns if t.role == role]):
        start = seg.line - prompt.body_line
        n = len(seg.template.split("\n"))
        kept = keep(lines[start : start + n])
        marker = start - 1
        if (
            not any(x.strip() for x in kept)
            and marker >= 0
            and lines[marker].strip().lower().startswith(role)
        ):
            out[marker : start + n] = []
        else:
            out[start : start + n] = kept
    return "\n".join(out)


_FORMAT_LINE = re.compile(r"json|format|schema|champ|field|balise|tag\b", re.I)


def prompt_mutants(prompt: Prompt) -> list[PromptMutant]:
    """The standard mutants of a prompt that apply to it."""
    front, body = _split(prompt)
    made: list[PromptMutant] = []

    def add(operator: str, detail: str, new_front: dict[str, Any], new_body: str) -> None:
        mutant = _rebuild(prompt, new_front, new_body)
        if mutant is not None:
            made.append(PromptMutant(operator, detail, mutant))

    # drop-instruction: the system turn(s)
    if any(t.role == "system" for t in template_turns(prompt)):
        add(
            "drop-instruction",
            "the system turn removed",
            front,
            _body_without_turn(prompt, "system", lambda _: []),
        )

    examples = [dict(e) for e in front.get("examples") or [] if isinstance(e, dict)]
    keys = _answer_keys(prompt)

    # swap-labels: the demonstrations' answers rotated by one
    if examples and keys:
        answers = [tuple(e.get(k) for k in keys) for e in examples]
        if len({json.dumps(a, sort_keys=True, default=str) for a in answers}) > 1:
            rotated = answers[1:] + answers[:1]
            swapped = [
                {**e, **dict(zip(keys, a, strict=True))}
                for e, a in zip(examples, rotated, strict=True)
            ]
            add(
                "swap-labels",
                "each demonstration given the next one's answer",
                {**front, "examples": swapped},
                body,
            )

    # remove-format: the contract, the stops and token limit, the lines about the format
    new_front = {k: v for k, v in front.items() if k not in ("outputs", "output_schema", "enforce")}
    model = new_front.get("model")
    if isinstance(model, dict) and isinstance(model.get("parameters"), dict):
        params = {k: v for k, v in model["parameters"].items() if k not in ("stop", "max_tokens")}
        new_front["model"] = {**model, "parameters": params}
    new_body = _body_without_turn(
        prompt, "system", lambda lines: [x for x in lines if not _FORMAT_LINE.search(x)]
    )
    add(
        "remove-format",
        "output schema, stops, token limit and format lines removed",
        new_front,
        new_body,
    )

    # vous-to-tu: the prompt's own register, and its demonstrations'
    from ..persona import read_french

    if read_french(prompt.text).vous:
        tu_front = (
            yaml.safe_load(vous_to_tu(yaml.safe_dump(front, allow_unicode=True))) if front else {}
        )
        add("vous-to-tu", "every vous form of the prompt as tu", tu_front or {}, vous_to_tu(body))

    # wrong-example: one more demonstration, with a wrong answer
    if examples and keys:
        first = examples[0]
        seen = {k: [e.get(k) for e in examples[1:]] for k in keys}
        wrong = dict(first)
        for k in keys:
            other = _wrong_answer(first.get(k), seen[k])
            if other is not None:
                wrong[k] = other
                break
        if wrong != first:
            add(
                "wrong-example",
                f"a demonstration answering {_short(wrong[k])}",
                {**front, "examples": [*examples, wrong]},
                body,
            )

    # truncate: half the instruction, half the demonstrations
    half_front = dict(front)
    if len(examples) > 1:
        half_front["examples"] = examples[: (len(examples) + 1) // 2]
    half_body = _body_without_turn(
        prompt, "system", lambda lines: lines[: max(1, len([x for x in lines if x.strip()]) // 2)]
    )
    add("truncate", "half the instruction and half the demonstrations", half_front, half_body)
    return made


def _wrong_answer(value: Any, others: list[Any]) -> Any:
    """Another answer for a demonstration: one the others give, else a changed one."""
    for other in others:
        if other is not None and other != value:
            return other
    if isinstance(value, dict) and value:
        key = next(iter(value))
        return {**value, key: _wrong_answer(value[key], []) or "?"}
    if isinstance(value, str) and value.strip():
        return value[::-1] if value[::-1] != value else value + "?"
    return None
