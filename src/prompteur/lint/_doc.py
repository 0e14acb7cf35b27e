"""A prompt file seen the way the rules need it: instruction sentences with their file lines,
variable uses, declared inputs, demonstrations, suppression comments, and the language.

Rules read text a model will read. So Jinja tags are looked through (`{{ x }}` becomes a
placeholder word, `{% … %}` and `{# … #}` vanish), lines inside a loop over `examples` count
as demonstrations, and `Label: value` lines that repeat (a few-shot pattern) count as data,
not instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from ..prompt import ROLES, Prompt
from ..yamlfile import LineMap, load_yaml
from ._base import Lang


def _split(text: str) -> list[str]:
    # a word list written as one string; ruff prefers literals, which read worse here
    return text.split()


VAR = "⟦var⟧"  # what a `{{ … }}` looks like to the rules: a placeholder word

_MARKER = re.compile(r"^\s*#?\s*([A-Za-z_][\w-]*)\s*:\s*$")
_EXPR = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
_TAG = re.compile(r"\{%-?(.*?)-?%\}", re.S)
_COMMENT = re.compile(r"\{#(.*?)#\}", re.S)
_FOR = re.compile(r"^\s*for\s+(.+?)\s+in\s+([A-Za-z_]\w*)")
_ROOT = re.compile(r"^\s*([A-Za-z_]\w*)")
_FIELD = re.compile(r"^\s*(?P<label>[^\W\d_][\w '’/-]{0,40}?)\s*:\s*(?P<value>.*?)\s*$")
_SUPPRESS = re.compile(r"prompteur:\s*(ignore-file|ignore)\b([^#}]*)", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")

# Labels that introduce instructions, never data: "Note: answer in French" is an instruction.
_INSTRUCTION_LABELS = {
    "note",
    "notes",
    "important",
    "rules",
    "rule",
    "règles",
    "règle",
    "instructions",
    "instruction",
    "task",
    "tâche",
    "format",
    "output format",
    "format de sortie",
    "format de réponse",
    "context",
    "contexte",
    "consignes",
    "consigne",
    "remarque",
    "attention",
    "objective",
    "objectif",
    "goal",
    "but",
    "audience",
    "public",
    "role",
    "rôle",
    "constraints",
    "contraintes",
    "style",
    "tone",
    "ton",
    "steps",
    "étapes",
}

_FR_WORDS = set(
    _split(
        "le la les des une un et est vous tu pour dans avec ce cette que qui du au aux en ne pas "
        "sur par ton ta tes votre vos chaque réponds répondez mot mots être"
    )
)
_EN_WORDS = set(
    _split(
        "the a an and is are you for in with this that of to be not on by your each answer reply "
        "word words it"
    )
)


@dataclass(frozen=True)
class Sentence:
    text: str  # as the model reads it, `{{ … }}` shown as VAR
    line: int
    role: str


@dataclass(frozen=True)
class VarUse:
    expr: str  # the expression inside {{ }}
    name: str  # its root name, loop variables resolved to what they iterate over
    line: int
    role: str
    raw: str  # the whole raw line
    start: int  # column span of the {{ … }} in `raw`
    end: int


@dataclass(frozen=True)
class Demo:
    answer: str
    line: int
    where: str  # "examples" (front matter), "field" (a Label: value line), "assistant"


@dataclass
class BodyLine:
    line: int
    raw: str
    clean: str  # tags looked through
    role: str
    in_examples: bool  # inside a loop over `examples`, or between data tags
    marker: bool


@dataclass
class PromptDoc:
    prompt: Prompt
    file: str
    front: LineMap
    lines: list[BodyLine] = field(default_factory=list)

    # ---- building ------------------------------------------------------------------

    @classmethod
    def from_prompt(cls, prompt: Prompt, file: str | None = None) -> PromptDoc:
        front = _front_linemap(prompt)
        doc = cls(prompt, file or prompt.source, front)
        doc.lines = _body_lines(prompt)
        return doc

    # ---- the body, as the rules read it ----------------------------------------------

    @cached_property
    def loop_sources(self) -> dict[str, str]:
        """Loop variable → the name it iterates over (`ex` → `examples`)."""
        out: dict[str, str] = {}
        for m in _TAG.finditer(self.prompt.body):
            f = _FOR.match(m.group(1))
            if f:
                for target in re.findall(r"[A-Za-z_]\w*", f.group(1)):
                    out[target] = f.group(2)
        return out

    def root(self, name: str) -> str:
        seen = set()
        while name in self.loop_sources and name not in seen:
            seen.add(name)
            name = self.loop_sources[name]
        return name

    @cached_property
    def field_labels(self) -> dict[str, int]:
        """How often each `Label:` starts a line (outside role markers)."""
        counts: dict[str, int] = {}
        for bl in self.lines:
            m = _FIELD.match(bl.clean)
            if m and not bl.marker and len(m.group("label").split()) <= 4:
                label = m.group("label").strip().lower()
                counts[label] = counts.get(label, 0) + 1
        return counts

    def field(self, bl: BodyLine) -> tuple[str, str] | None:
        """(label, value) when the line is a data field or an answer cue, not an instruction."""
        if bl.marker:
            return None
        m = _FIELD.match(bl.clean)
        if not m:
            return None
        label, value = m.group("label").strip(), m.group("value").strip()
        if len(label.split()) > 4 or label.lower() in _INSTRUCTION_LABELS:
            return None
        if value in ("", VAR) or bl.in_examples or self.field_labels.get(label.lower(), 0) >= 2:
            return label, value
        if value.startswith(VAR) and len(value.replace(VAR, " ").split()) == 0:
            return label, value
        return None

    @cached_property
    def cue(self) -> str | None:
        """The answer cue: the label of a last `Label:` line with nothing after it."""
        for bl in reversed(self.lines):
            if not bl.clean.strip() or bl.marker:
                continue
            f = self.field(bl)
            if f and f[1] == "":
                return f[0]
            return None
        return None

    @cached_property
    def sentences(self) -> list[Sentence]:
        """Instruction sentences: static text outside demonstrations and data fields."""
        out = []
        for bl in self.lines:
            if bl.marker or bl.in_examples or bl.role == "assistant" or not bl.clean.strip():
                continue
            if self.field(bl):
                continue
            text = _BULLET.sub("", bl.clean).strip()
            if not text or text == VAR:
                continue
            for part in _SENTENCE_END.split(text):
                if part.strip():
                    out.append(Sentence(part.strip(), bl.line, bl.role))
        return out

    @cached_property
    def instruction_text(self) -> str:
        return "\n".join(s.text for s in self.sentences)

    @cached_property
    def first_line(self) -> int:
        """Where file-level findings point: the first instruction, else the body's start."""
        if self.sentences:
            return self.sentences[0].line
        for bl in self.lines:
            if bl.clean.strip() and not bl.marker:
                return bl.line
        return self.prompt.body_line

    @cached_property
    def var_uses(self) -> list[VarUse]:
        out = []
        for bl in self.lines:
            for m in _EXPR.finditer(bl.raw):
                r = _ROOT.match(m.group(1))
                if not r or r.group(1) in ("loop", "true", "false", "none"):
                    continue
                out.append(
                    VarUse(
                        m.group(1).strip(),
                        self.root(r.group(1)),
                        bl.line,
                        bl.role,
                        bl.raw,
                        m.start(),
                        m.end(),
                    )
                )
        return out

    @cached_property
    def used_names(self) -> set[str]:
        """Every root name the template reads (in output or in tags)."""
        names = {u.name for u in self.var_uses}
        for m in _TAG.finditer(self.prompt.body):
            for word in re.findall(r"(?<![.\w'\"])([A-Za-z_]\w*)", m.group(1)):
                names.add(self.root(word))
        return names

    @cached_property
    def undefined(self) -> dict[str, int]:
        """Names the body reads that nothing defines, with their first line."""
        from jinja2 import meta

        from ..prompt import _environment

        try:
            names = meta.find_undeclared_variables(_environment().parse(self.prompt.body))
        except Exception:  # the file loaded, so this cannot fail; never let lint crash on it
            return {}
        known = set(self.prompt.meta.inputs) | set(self.prompt.meta.sample_inputs) | {"examples"}
        builtins = {"range", "loop", "lipsum", "dict", "cycler", "joiner", "namespace"}
        out = {}
        for name in sorted(names - known - builtins):
            out[name] = self.line_of(name)
        return out

    def line_of(self, name: str) -> int:
        pattern = re.compile(rf"(?<![.\w]){re.escape(name)}\b")
        for bl in self.lines:
            for m in list(_EXPR.finditer(bl.raw)) + list(_TAG.finditer(bl.raw)):
                if pattern.search(m.group(1)):
                    return bl.line
        return self.first_line

    def input_line(self, name: str) -> int:
        return self.front.line(("inputs", name))

    # ---- demonstrations --------------------------------------------------------------

    @cached_property
    def demos(self) -> list[Demo]:
        out: list[Demo] = []
        key = self._answer_key()
        for i, ex in enumerate(self.prompt.meta.examples):
            if not isinstance(ex, dict) or not ex:
                continue
            k = key if key in ex else list(ex)[-1]
            out.append(Demo(str(ex[k]), self.front.line(("examples", i, k)), "examples"))
        cue = self.cue
        for bl in self.lines:
            if bl.in_examples or not cue:
                continue
            f = self.field(bl)
            if f and f[0] == cue and f[1] and VAR not in f[1]:
                out.append(Demo(f[1], bl.line, "field"))
        turns = _turns(self.lines)
        for i, (role, start, text) in enumerate(turns):
            if role == "assistant" and i < len(turns) - 1 and VAR not in text and text.strip():
                out.append(Demo(text.strip(), start, "assistant"))
        return out

    def _answer_key(self) -> str | None:
        """Which key of each `examples` item is the answer: the one the cue line shows."""
        cue = self.cue
        for bl in self.lines:
            if not bl.in_examples:
                continue
            f = _FIELD.match(bl.raw)
            if f and cue and f.group("label").strip() == cue:
                m = re.search(r"\{\{-?\s*[A-Za-z_]\w*\.(\w+)", f.group("value"))
                if m:
                    return m.group(1)
        inputs = set(self.prompt.meta.inputs)
        for ex in self.prompt.meta.examples:
            if isinstance(ex, dict):
                rest = [k for k in ex if k not in inputs]
                if len(rest) == 1:
                    return rest[0]
        return None

    # ---- data positions (for references such as "the text above") ------------------------

    @cached_property
    def data_lines(self) -> list[int]:
        """Lines where the model sees data: inputs, demonstrations, fenced or tagged blocks."""
        out = [u.line for u in self.var_uses if u.name != "examples"]
        out += [bl.line for bl in self.lines if bl.in_examples and bl.clean.strip()]
        out += [d.line for d in self.demos if d.where != "examples"]
        if self.prompt.meta.examples:
            out += [bl.line for bl in self.lines if "examples" in bl.raw]
        return sorted(set(out))

    # ---- suppression -----------------------------------------------------------------

    @cached_property
    def suppressions(self) -> tuple[dict[int, set[str] | None], set[str] | None]:
        """(line → ids suppressed there, None = all), file-wide ids (None = all, empty = none)."""
        per_line: dict[int, set[str] | None] = {}
        file_wide: set[str] | None = set()
        sources: list[tuple[int, str]] = [(bl.line, bl.raw) for bl in self.lines]
        sources += [(i + 1, ln) for i, ln in enumerate(self._front_lines())]
        for lineno, raw in sources:
            for m in _SUPPRESS.finditer(raw):
                ids = {t.upper() for t in re.findall(r"[A-Za-z]+\d+", m.group(2))} or None
                if m.group(1).lower() == "ignore-file":
                    file_wide = None if ids is None or file_wide is None else file_wide | ids
                else:
                    for target in (lineno, lineno + 1):
                        have = per_line.get(target, set())
                        per_line[target] = None if ids is None or have is None else have | ids
        return per_line, file_wide

    def suppressed(self, rule_id: str, line: int) -> bool:
        per_line, file_wide = self.suppressions
        if file_wide is None or rule_id in file_wide:
            return True
        if line in per_line:
            ids = per_line[line]
            return ids is None or rule_id in ids
        return False

    def _front_lines(self) -> list[str]:
        lines = self.prompt.text.replace("\r\n", "\n").split("\n")
        return lines[: max(0, self.prompt.body_line - 1)]

    # ---- language --------------------------------------------------------------------

    @cached_property
    def lang(self) -> Lang:
        return detect_lang(self.instruction_text + "\n" + (self.prompt.meta.description or ""))


def detect_lang(text: str) -> Lang:
    words = re.findall(r"[a-zàâçéèêëîïôûùüÿœ']+", text.lower())
    fr = sum(w in _FR_WORDS for w in words) + 2 * sum(c in "éèàùçêâô" for c in text)
    en = sum(w in _EN_WORDS for w in words)
    return "fr" if fr > en else "en"


def _front_linemap(prompt: Prompt) -> LineMap:
    lines = prompt.text.replace("\r\n", "\n").split("\n")
    if prompt.body_line <= 1 or not lines or lines[0].strip() != "---":
        return LineMap({}, 1)
    _, linemap = load_yaml("\n".join(lines[1 : prompt.body_line - 2]), prompt.source, line_offset=1)
    return linemap


def _blank_tags(body: str) -> str:
    """The body with `{{ … }}` as VAR and `{% … %}` / `{# … #}` removed, newlines kept."""

    def keep_newlines(m: re.Match[str]) -> str:
        return "\n" * m.group(0).count("\n")

    body = _COMMENT.sub(keep_newlines, body)
    body = _TAG.sub(keep_newlines, body)
    return _EXPR.sub(lambda m: VAR + "\n" * m.group(0).count("\n"), body)


def _examples_spans(body: str) -> list[tuple[int, int]]:
    """Character spans of the bodies of `{% for … in examples %}` loops."""
    spans, stack = [], []
    for m in _TAG.finditer(body):
        inner = m.group(1).strip()
        f = _FOR.match(inner)
        if f:
            stack.append((m.end(), f.group(2) == "examples"))
        elif inner.startswith("endfor") and stack:
            start, is_examples = stack.pop()
            if is_examples:
                spans.append((start, m.start()))
    return spans


_OPEN_TAG = re.compile(r"<([A-Za-z][\w-]{0,40})>")


def _data_spans(body: str) -> list[tuple[int, int]]:
    """Character spans of the text between data tags: a tag the template puts an input in
    (`<message>{{ message }}</message>`) marks data wherever it appears, so the example
    messages of a multi-turn prompt are demonstrations, not instructions. A pair never spans
    a turn ("the text between <text> tags" in an instruction opens nothing)."""
    pairs = []
    for m in _OPEN_TAG.finditer(body):
        tag = m.group(1)
        close = body.find(f"</{tag}>", m.end())
        if close < 0:
            continue
        inner = body[m.end() : close]
        crosses = any(
            (k := _MARKER.match(ln)) and k.group(1).lower() in ROLES for ln in inner.split("\n")
        )
        if f"<{tag}>" not in inner and not crosses:
            pairs.append((m.start(), close + len(tag) + 3, tag, inner))
    data_tags = {tag for _, _, tag, inner in pairs if _EXPR.search(inner)}
    return [(a, b) for a, b, tag, _ in pairs if tag in data_tags]


def _body_lines(prompt: Prompt) -> list[BodyLine]:
    body = prompt.body
    raw_lines = body.split("\n")
    clean_lines = _blank_tags(body).split("\n")
    spans = _examples_spans(body) + _data_spans(body)
    has_marker = any((m := _MARKER.match(ln)) and m.group(1).lower() in ROLES for ln in raw_lines)
    role = "system" if has_marker else "user"
    out, offset = [], 0
    for i, raw in enumerate(raw_lines):
        m = _MARKER.match(raw)
        marker = bool(m and m.group(1).lower() in ROLES)
        if marker and m:
            role = m.group(1).lower()
        mid = offset + len(raw) // 2
        in_examples = any(a <= mid <= b for a, b in spans)
        clean = clean_lines[i] if i < len(clean_lines) else ""
        out.append(BodyLine(prompt.body_line + i, raw, clean, role, in_examples, marker))
        offset += len(raw) + 1
    return out


def _turns(lines: list[BodyLine]) -> list[tuple[str, int, str]]:
    turns: list[tuple[str, int, list[str]]] = []
    for bl in lines:
        if bl.marker or not turns:
            turns.append((bl.role, bl.line + (1 if bl.marker else 0), []))
            if bl.marker:
                continue
        turns[-1][2].append(bl.clean)
    return [(r, s, "\n".join(t)) for r, s, t in turns if any(x.strip() for x in t)]
