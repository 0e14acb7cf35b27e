"""Instructions a model cannot follow as written: references to nothing (P004), demands that
contradict each other (P005), and prohibitions that never say what to do instead (P006)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._base import Hit, Severity, Text, rule
from ._doc import PromptDoc, Sentence
from ._lexicon import (
    CONTRAST,
    NEGATIVE,
    REPLACEMENT_VERBS,
    content_words,
    is_task,
    negated_before,
)

# ---- P004 ambiguous references -----------------------------------------------------------

_ABOVE = re.compile(
    r"\b(?:the (?:text|message|passage|document|email|content|code|data|information|review|"
    r"article|question)s? above|the above|above (?:text|message|passage)|ci-dessus|"
    r"ce qui précède|le texte précédent)\b",
    re.I,
)
_BELOW = re.compile(r"\b(?:the following|below|ci-dessous|ce qui suit|suivante?s?)\b", re.I)
_THIS_NOUN = re.compile(
    r"\b(?:this|that|these|those|ce|cet|cette|ces)\s+(?:text|message|document|email|e-mail|"
    r"passage|article|review|code|data|file|content|conversation|thread|ticket|paragraph|"
    r"texte|courriel|mail|avis|fichier|contenu|fil|paragraphe|données|lettre|letter)s?\b",
    re.I,
)
_PRONOUN_OBJECT = re.compile(
    r"^\s*(?:please\s+)?[\w'-]+\s+(?P<p>it|this|that|them|cela|ça|ceci)\s*(?:[.!?,]|$|\b(?:and|et|more|"
    r"better|shorter|longer|again|up|for me|into|plus|mieux|encore|pour moi|en)\b)",
    re.I,
)
_PRONOUN_SUBJECT = re.compile(
    r"^\s*(?P<p>it|this|that|cela|ça|ceci)\s+(?:is|must|should|needs|has|was|doit|est|devrait|"
    r"a|était)\b(?!\s+(?:important|essential|crucial|necessary|vital|critical|recommended|"
    r"important|essentiel|crucial|nécessaire|indispensable|primordial|recommandé))",
    re.I,
)
_CLITIC = re.compile(r"^\s*(?P<p>[\w]+-(?:le|la|les|lui|leur))\b", re.I)


def _nothing_before(doc: PromptDoc, line: int) -> bool:
    return not any(d <= line for d in doc.data_lines)


def _nothing_after(doc: PromptDoc, line: int) -> bool:
    later_text = any(s.line > line for s in doc.sentences)
    return not any(d >= line for d in doc.data_lines) and not later_text


@rule(
    "P004",
    "ambiguous-reference",
    Severity.WARNING,
    en=Text(
        "ambiguous reference: '{phrase}' points at nothing the model can see",
        "The model cannot ask what 'it' or 'the text above' means: it invents a referent, or "
        "answers about the instructions themselves.",
        "Name the thing ('the customer's message') and put it where you say it is, between "
        "delimiters.",
    ),
    fr=Text(
        "référence ambiguë : « {phrase} » ne désigne rien que le modèle voie",
        "Le modèle ne peut pas demander ce que « cela » ou « le texte ci-dessus » désigne : il "
        "invente un référent, ou répond à propos des consignes elles-mêmes.",
        "Nommez la chose (« le message du client ») et placez-la là où vous dites qu'elle est, "
        "entre délimiteurs.",
    ),
)
def ambiguous_reference(doc: PromptDoc) -> Iterator[Hit]:
    for s in doc.sentences:
        for m in _ABOVE.finditer(s.text):
            if _nothing_before(doc, s.line):
                yield _ref_hit(doc, s, m.group(0))
        for m in _BELOW.finditer(s.text):
            if _nothing_after(doc, s.line):
                yield _ref_hit(doc, s, m.group(0))
        for m in _THIS_NOUN.finditer(s.text):
            if not doc.data_lines:
                yield _ref_hit(doc, s, m.group(0))
    if doc.sentences:
        first = doc.sentences[0]
        if _nothing_before(doc, first.line):
            for pattern in (_PRONOUN_OBJECT, _PRONOUN_SUBJECT, _CLITIC):
                m = pattern.search(first.text)
                if m:
                    yield _ref_hit(doc, first, m.group("p"))
                    break


def _ref_hit(doc: PromptDoc, s: Sentence, phrase: str) -> Hit:
    suggestion = (
        f"Remplacez « {phrase} » par ce qu'il désigne, et placez-le dans le prompt : "
        "« le message du client, entre <message> et </message> »."
        if doc.lang == "fr"
        else f"Replace '{phrase}' with what it means, and put that in the prompt: "
        "'the customer's message, between <message> and </message>'."
    )
    return Hit(s.line, {"phrase": phrase}, suggestion)


# ---- P005 conflicting instructions -------------------------------------------------------

_BRIEF = re.compile(
    r"\b(?:be brief|briefly|concise(?:ly)?|keep it short|short answers?|be short|succinct(?:ly)?|"
    r"in one sentence|in a few words|one-liner|bref|brève|brièvement|concis[e]?|sois court|soyez "
    r"court|réponse courte|en une phrase|en quelques mots|succinct[e]?|succinctement)\b",
    re.I,
)
_EXHAUSTIVE = re.compile(
    r"\b(?:exhaustive(?:ly)?|in depth|in-depth|in great detail|very detailed|comprehensive(?:ly)?|"
    r"thorough(?:ly)?|every detail|leave nothing out|as long as possible|exhaustif|exhaustive|"
    r"de manière exhaustive|très détaillée?|en détail|dans les moindres détails|approfondie?|"
    r"le plus long possible|n'omets rien|n'omettez rien)\b",
    re.I,
)
_FORMAL = re.compile(
    r"\b(?:formal(?:ly)?|formel(?:le)?|soutenu|vouvoie\w*|vouvoiement|use vous)\b", re.I
)
_CASUAL = re.compile(
    r"\b(?:casual(?:ly)?|informal(?:ly)?|familier|familière|décontracté|tutoie\w*|tutoiement|"
    r"use tu|slang|argot)\b",
    re.I,
)
_JSON = re.compile(r"\bjson\b", re.I)
_PROSE = re.compile(
    r"\b(?:plain text|in prose|no json|texte brut|en prose|sans json|pas de json)\b", re.I
)
_LANG_NAMES = {
    "english": "en",
    "anglais": "en",
    "french": "fr",
    "français": "fr",
    "spanish": "es",
    "espagnol": "es",
    "german": "de",
    "allemand": "de",
    "italian": "it",
    "italien": "it",
    "portuguese": "pt",
    "portugais": "pt",
    "dutch": "nl",
    "néerlandais": "nl",
}
_REPLY_LANG = re.compile(
    r"\b(?:reply|respond|answer|write|speak|translate|output|return|always|réponds|répondez|"
    r"répondre|écris|écrivez|écrire|rédige|rédigez|rédiger|traduis|traduisez|traduire|parle|"
    r"parlez|toujours)\b[^.;\n]{0,40}?\b(?:in|into|en)\s+(?P<lang>"
    + "|".join(_LANG_NAMES)
    + r")\b",
    re.I,
)
_ALWAYS = re.compile(r"\b(?:always|toujours)\b", re.I)
_QUALIFIED = re.compile(
    r"\b(?:that|which|who|unless|without|if|when|except|qui|que|sauf|si|quand|lorsque|sans)\b",
    re.I,
)


def _first(pattern: re.Pattern[str], doc: PromptDoc) -> tuple[Sentence, str] | None:
    for s in doc.sentences:
        for m in pattern.finditer(s.text):
            if not negated_before(s.text, m.start()):
                return s, m.group(0)
    return None


@rule(
    "P005",
    "conflicting-instructions",
    Severity.ERROR,
    en=Text(
        "conflicting instructions: '{a}' (line {a_line}) and '{b}'",
        "The model cannot obey both; it picks one, and not always the same one, so the "
        "output flips between runs.",
        "Keep one of the two, or say when each applies ('brief for simple questions, "
        "detailed when asked for a procedure').",
    ),
    fr=Text(
        "consignes contradictoires : « {a} » (ligne {a_line}) et « {b} »",
        "Le modèle ne peut pas obéir aux deux ; il en choisit une, pas toujours la même, et la "
        "sortie change d'un appel à l'autre.",
        "Gardez l'une des deux, ou dites quand chacune s'applique (« bref pour les questions "
        "simples, détaillé quand on demande une procédure »).",
    ),
)
def conflicting(doc: PromptDoc) -> Iterator[Hit]:
    for left, right in ((_BRIEF, _EXHAUSTIVE), (_FORMAL, _CASUAL), (_JSON, _PROSE)):
        a, b = _first(left, doc), _first(right, doc)
        if a and b:
            first, second = sorted((a, b), key=lambda x: x[0].line)
            yield _conflict(doc, first, second)
    langs: dict[str, tuple[Sentence, str]] = {}
    for s in doc.sentences:
        for m in _REPLY_LANG.finditer(s.text):
            code = _LANG_NAMES[m.group("lang").lower()]
            langs.setdefault(code, (s, m.group(0)))
    if len(langs) >= 2:
        first, second = sorted(langs.values(), key=lambda x: x[0].line)[:2]
        yield _conflict(doc, first, second)
    yield from _always_never(doc)


def _always_never(doc: PromptDoc) -> Iterator[Hit]:
    always = [s for s in doc.sentences if _ALWAYS.search(s.text) and not NEGATIVE.match(s.text)]
    never = [
        s
        for s in doc.sentences
        if NEGATIVE.match(s.text) and not _QUALIFIED.search(s.text) and len(s.text.split()) <= 8
    ]
    for a in always:
        for n in never:
            shared = content_words(a.text) & content_words(n.text)
            if shared and a is not n:
                first, second = sorted(((a, a.text), (n, n.text)), key=lambda x: x[0].line)
                yield _conflict(doc, first, second)
                return


def _conflict(doc: PromptDoc, a: tuple[Sentence, str], b: tuple[Sentence, str]) -> Hit:
    suggestion = (
        f"Gardez une seule des deux consignes, ou précisez : « {a[1]} quand …, {b[1]} quand … »."
        if doc.lang == "fr"
        else f"Keep one of them, or say when each applies: '{a[1]} when …, {b[1]} when …'."
    )
    return Hit(b[0].line, {"a": a[1], "a_line": a[0].line, "b": b[1]}, suggestion)


# ---- P006 negative-only instructions -----------------------------------------------------


@rule(
    "P006",
    "negative-only",
    Severity.WARNING,
    en=Text(
        "negative-only instruction: '{sentence}' says what not to do, never what to do",
        "Models follow positive instructions better than prohibitions; a prohibition alone "
        "also names the very thing to avoid and leaves the model to guess the alternative.",
        "Pair it with what to do instead: 'Don't use jargon: use everyday words a customer knows.'",
    ),
    fr=Text(
        "consigne uniquement négative : « {sentence} » dit quoi ne pas faire, jamais quoi faire",
        "Les modèles suivent mieux les consignes positives que les interdictions ; une "
        "interdiction seule nomme justement ce qu'il faut éviter et laisse deviner l'alternative.",
        "Ajoutez ce qu'il faut faire à la place : « N'utilisez pas de jargon : employez des mots "
        "courants que le client connaît. »",
    ),
)
def negative_only(doc: PromptDoc) -> Iterator[Hit]:
    sentences = doc.sentences
    for i, s in enumerate(sentences):
        if not NEGATIVE.match(s.text) or CONTRAST.search(s.text) or ":" in s.text:
            continue
        before = sentences[i - 1] if i > 0 else None
        after = sentences[i + 1] if i + 1 < len(sentences) else None
        if (before and _counterpart(s, before, follows=False)) or (
            after and _counterpart(s, after, follows=True)
        ):
            continue
        shown = s.text if len(s.text) <= 80 else s.text[:77] + "…"
        body = s.text.rstrip(".!")
        suggestion = (
            f"« {body} : <ce qu'il faut faire à la place>. »"
            if doc.lang == "fr"
            else f"'{body}: <what to do instead>.'"
        )
        yield Hit(s.line, {"sentence": shown}, suggestion)


def _counterpart(negative: Sentence, other: Sentence, *, follows: bool) -> bool:
    """Whether `other` says what to do instead: right after it ("Don't use jargon. Use plain
    words."), or on the same subject on either side."""
    if other.role != negative.role or NEGATIVE.match(other.text):
        return False
    if follows and (REPLACEMENT_VERBS.match(other.text) or CONTRAST.match(other.text)):
        return True
    return bool(content_words(negative.text) & content_words(other.text)) and is_task(other.text)
