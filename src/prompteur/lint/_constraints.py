"""What the instructions demand of an answer — one word, at most N words, JSON, one of a set
of labels — read from the prompt's sentences. Shared by the format and the examples rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._doc import PromptDoc
from ._lexicon import fold, negated_before

_ONE_WORD = re.compile(
    r"\b(?:(?:in |with )?(?:one|a single|1) word|one-word|single-word|(?:en |par )?un (?:seul )?mot"
    r"|d'un (?:seul )?mot)\b",
    re.I,
)
_MAX_WORDS = re.compile(
    r"\b(?:(?:at most|no more than|maximum|max\.?|under|fewer than|less than|up to|in|within|au "
    r"plus|au maximum|pas plus de|moins de|en)\s+(\d+)\s+(?:words|mots)|(\d+)\s+(?:words|mots)\s+"
    r"(?:max(?:imum)?|or (?:fewer|less)|au plus|au maximum|maximum))\b",
    re.I,
)
_JSON = re.compile(r"\bjson\b", re.I)
_CLASSIFY = re.compile(
    r"\b(?:classify|categori[sz]e|label|tag|sort|answer with|reply with|respond with|"
    r"return one of|one of|choose|pick|select|class\w*|catégoris\w*|étiquet\w*|répon\w+ par|"
    r"choisi\w*|l'une? de|parmi)\b",
    re.I,
)
_LIST_AFTER_COLON = re.compile(
    r"(?:one of|among|l'une? de|l'un des|parmi|categories|catégories|labels?|étiquettes?|"
    r"classes|valeurs?|values?)[^:.]{0,40}:\s*(?P<items>[^.;\n]+)",
    re.I,
)
_ITEM = r"[\"'`«“]?[\w'-]+(?:\s[\w'-]+)?[\"'`»”]?"
_LIST_INLINE = re.compile(
    rf"\b(?:as|into|with|by|par|en|comme|either|soit)\s+(?:either\s+|soit\s+)?"
    rf"(?P<items>{_ITEM}(?:\s*,\s*{_ITEM})*,?\s+(?:or|ou)\s+{_ITEM})",
    re.I,
)


@dataclass(frozen=True)
class Demand:
    kind: str  # "one-word" | "max-words" | "json" | "labels"
    line: int
    words: int | None = None
    labels: tuple[str, ...] = ()

    def describe(self, lang: str) -> str:
        if self.kind == "one-word":
            return "un seul mot" if lang == "fr" else "one word"
        if self.kind == "max-words":
            return f"{self.words} mots au plus" if lang == "fr" else f"at most {self.words} words"
        if self.kind == "json":
            return "du JSON" if lang == "fr" else "JSON"
        return ("l'une des étiquettes " if lang == "fr" else "one of the labels ") + ", ".join(
            self.labels
        )


def _items(text: str) -> tuple[str, ...]:
    parts = re.split(r"\s*(?:,|/|\|)\s*|\s+(?:or|ou|and|et)\s+", text.strip())
    items = tuple(fold(p) for p in parts if fold(p))
    if not 2 <= len(items) <= 12 or any(len(i.split()) > 3 for i in items):
        return ()
    return items


def label_set(doc: PromptDoc) -> Demand | None:
    for s in doc.sentences:
        m = _LIST_AFTER_COLON.search(s.text)
        if m:
            items = _items(m.group("items"))
            if items:
                return Demand("labels", s.line, labels=items)
        if _CLASSIFY.search(s.text):
            for m in _LIST_INLINE.finditer(s.text):
                items = _items(m.group("items"))
                if items:
                    return Demand("labels", s.line, labels=items)
    return None


def demands(doc: PromptDoc) -> list[Demand]:
    """Everything the instructions ask of the answer's form."""
    out: list[Demand] = []
    for s in doc.sentences:
        m = _ONE_WORD.search(s.text)
        if m and not negated_before(s.text, m.start()):
            out.append(Demand("one-word", s.line, words=1))
        m = _MAX_WORDS.search(s.text)
        if m and not negated_before(s.text, m.start()):
            out.append(Demand("max-words", s.line, words=int(m.group(1) or m.group(2))))
        m = _JSON.search(s.text)
        if m and not negated_before(s.text, m.start()):
            out.append(Demand("json", s.line))
    meta = doc.prompt.meta
    if (meta.outputs or meta.output_schema) and not any(d.kind == "json" for d in out):
        out.append(
            Demand("json", doc.front.line(("outputs",) if meta.outputs else ("output_schema",)))
        )
    labels = label_set(doc)
    if labels:
        out.append(labels)
    return out
