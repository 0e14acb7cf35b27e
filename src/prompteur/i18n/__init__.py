"""Words shown to people, in English and French, from one place.

- `FRENCH`: the catalogue (English text → French text) that the CLI, the reports and the web
  pages look up through `translate` / `translator`;
- `plural`: a count with its noun ("1 case", "2 cases", "0 cas", "1 essai", "3 essais");
- `typography`: French typesetting of a string: a non-breaking space before a colon, a narrow
  one before ; ? ! and inside « guillemets », decimal commas left to the caller;
- `fill`: `str.format` that contracts French articles where a value meets its preposition
  ("à" + "les clients" → "aux clients", "de" + "le client" → "du client").
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

from ._fr import FRENCH

if TYPE_CHECKING:
    from ..stats import Interval

__all__ = [
    "FRENCH",
    "LANGS",
    "NBSP",
    "NNBSP",
    "NOUNS",
    "RUN_WORDS",
    "Lang",
    "colon",
    "contract",
    "count",
    "fill",
    "interval",
    "message",
    "money",
    "number",
    "pct",
    "plural",
    "run_word",
    "score_interval",
    "template",
    "translate",
    "translator",
    "typography",
]

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")

NBSP = "\u00a0"  # espace insécable, before a colon
NNBSP = "\u202f"  # espace fine insécable, before ; ? ! and inside « »


# Nouns counted in output, English → French (singular, plural).
NOUNS: dict[str, tuple[str, str]] = {
    "attempt": ("essai", "essais"),
    "call": ("appel", "appels"),
    "case": ("cas", "cas"),
    "check": ("contrôle", "contrôles"),
    "constraint": ("contrainte", "contraintes"),
    "error": ("erreur", "erreurs"),
    "example": ("exemple", "exemples"),
    "failure": ("échec", "échecs"),
    "file": ("fichier", "fichiers"),
    "finding": ("constat", "constats"),
    "lesson": ("leçon", "leçons"),
    "model": ("modèle", "modèles"),
    "probe": ("sonde", "sondes"),
    "prompt": ("prompt", "prompts"),
    "repeat": ("répétition", "répétitions"),
    "result": ("résultat", "résultats"),
    "run": ("exécution", "exécutions"),
    "step": ("étape", "étapes"),
    "trace": ("trace", "traces"),
    "warning": ("avertissement", "avertissements"),
}


def count(n: int, noun: str, lang: str = "en") -> str:
    """`n` and an English noun from NOUNS, in `lang`: count(1, "case") == "1 case",
    count(3, "case", "fr") == "3 cas"."""
    if lang == "fr" and noun in NOUNS:
        one, many = NOUNS[noun]
        return plural(n, one, many, "fr")
    return plural(n, noun)


def plural(n: int, one: str, many: str | None = None, lang: str = "en") -> str:
    """`n` and its noun in the right number. French puts 0 and 1 in the singular and adds an
    s unless the word already ends in s, x or z; irregular plurals are given as `many`."""
    if lang == "fr":
        singular = abs(n) < 2
        if many is None:
            many = one if one.endswith(("s", "x", "z")) else one + "s"
    else:
        singular = n == 1
        if many is None:
            many = one + ("es" if one.endswith(("s", "x", "z", "ch", "sh")) else "s")
    return f"{n} {one if singular else many}"


# An ordinary space (or none after a word) before high punctuation that ends a phrase: the
# punctuation must be followed by a space, the end, or a closing sign, so that URLs
# ("https://"), times ("12:30") and code ("a:b") stay as they are.
_HIGH = re.compile(r"(?<=\S)[ \u00a0\u202f]+([:;?!])(?=\s|$|[»)\]\"'])")
_PERCENT = re.compile(r"(?<=\d)[ \u00a0]%")
_OPEN_QUOTE = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_QUOTE = re.compile(r"[ \u00a0\u202f]*»")


def typography(text: str, lang: str = "fr") -> str:
    """French typesetting of `text`: the spaces before : ; ? ! become non-breaking (NBSP
    before a colon, a narrow NBSP before the others), « guillemets » hold narrow NBSPs.
    A colon written with no space is left alone: it may be code; the catalogue's test
    makes sure French strings carry the space."""
    if lang != "fr" or not text:
        return text
    text = _HIGH.sub(lambda m: (NBSP if m.group(1) == ":" else NNBSP) + m.group(1), text)
    text = _PERCENT.sub(NNBSP + "%", text).replace("n° ", "n°" + NBSP)
    text = _OPEN_QUOTE.sub("«" + NNBSP, text)
    return _CLOSE_QUOTE.sub(NNBSP + "»", text)


def colon(lang: str) -> str:
    """The colon after a label: "Best attempt:", "Meilleur essai :" (non-breaking space)."""
    return NBSP + ":" if lang == "fr" else ":"


_FR_NUMBER = str.maketrans({".": ","})


def pct(x: float | None, lang: str = "en", digits: int = 1) -> str:
    """A rate as a percentage: "62.5%", "62,5 %" (narrow non-breaking space) in French."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    text = f"{x * 100:.{digits}f}"
    return f"{text.translate(_FR_NUMBER)}{NNBSP}%" if lang == "fr" else f"{text}%"


def number(x: float | None, lang: str = "en", fmt: str = ".3f") -> str:
    """A number with a decimal comma in French."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    text = format(x, fmt)
    return text.translate(_FR_NUMBER) if lang == "fr" else text


def interval(i: Interval | dict[str, float | None] | None, lang: str = "en") -> str:
    """`62.5% [30.6%, 86.3%]`, or `62,5 % [30,6 %, 86,3 %]` in French."""
    if i is None:
        return "—"
    if isinstance(i, dict):
        est, low, high = i.get("estimate"), i.get("low"), i.get("high")
    else:
        est, low, high = i.estimate, i.low, i.high
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "—"
    sep = NNBSP + "; " if lang == "fr" else ", "
    return f"{pct(est, lang)} [{pct(low, lang)}{sep}{pct(high, lang)}]"


# A run's status and kind, a probe's severity and category, as the store records them (one
# word each, shown in tables); French apart from the catalogue, where "failed" is already the
# plural column heading "échoués".
RUN_WORDS: dict[str, str] = {
    "done": "terminée",
    "failed": "échouée",
    "interrupted": "interrompue",
    "running": "en cours",
    "eval": "évaluation",
    "probe": "sonde",
    "optimize": "optimisation",
    "chain": "chaîne",
    "promote": "promotion",
    "regress": "régression",
    "playground": "bac à sable",
    # a probe's severity and category
    "critical": "critique",
    "high": "élevée",
    "medium": "moyenne",
    "low": "faible",
    "bias": "biais",
    "robustness": "robustesse",
    "leakage": "fuite",
    "ambiguity": "ambiguïté",
    "ethics": "éthique",
    "over-refusal": "refus excessif",
}


def money(x: float, lang: str = "en", fmt: str = ".4f") -> str:
    """US dollars: `$0.0012`, and `0,0012 $` in French."""
    return f"{number(x, lang, fmt)}{NBSP}$" if lang == "fr" else f"${number(x, lang, fmt)}"


def run_word(word: str, lang: str = "en") -> str:
    """A run's status or kind ("done", "optimize"), a probe's severity or category ("high",
    "bias") in `lang`; an unknown word as it is."""
    return RUN_WORDS.get(word, word) if lang == "fr" else word


def score_interval(i: Interval | None, lang: str = "en") -> str:
    """A mean score and its interval: `0.458 [0.375, 0.500]`, `0,458 [0,375 ; 0,500]`."""
    if i is None:
        return "—"
    sep = NNBSP + "; " if lang == "fr" else ", "
    return f"{number(i.estimate, lang)} [{number(i.low, lang)}{sep}{number(i.high, lang)}]"


def template(text: str, lang: str) -> str:
    """The catalogue's text for `lang`, before typography: for templates still to be filled
    (see `sentence`)."""
    return FRENCH.get(text, text) if lang == "fr" else text


def sentence(text: str, lang: str, values: Mapping[str, object]) -> str:
    """The catalogue's template `text` in `lang`, filled with `values`, typeset."""
    return typography(fill(template(text, lang), lang, values), lang)


_QUOTED = re.compile(r"^'([^']*)'$")  # a value quoted by repr(): « guillemets » in French
_FIELD = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")


@functools.cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """The catalogue's templates ("no run '{ref}'") as patterns that recognise a message
    made from them, most specific (longest literal text) first."""
    out = []
    for english, french in FRENCH.items():
        if "{" not in english:
            continue
        parts, seen, pos = [], set(), 0
        for m in _FIELD.finditer(english):
            parts.append(re.escape(english[pos : m.start()]))
            name = m.group(1)
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
            pos = m.end()
        parts.append(re.escape(english[pos:]))
        literal = len(_FIELD.sub("", english))
        out.append((literal, re.compile("".join(parts), re.S), _FIELD.sub(r"{\1}", french)))
    out.sort(key=lambda x: -x[0])
    return [(pattern, french) for _, pattern, french in out]


def message(text: str, lang: str) -> str:
    """A message in `lang`, with French typography: the catalogue's entry for `text`, else
    the French of the template `text` was made from ("no run 'x'" → "aucune exécution
    « x »"), else `text` unchanged (the catalogue's test lists what every page may show)."""
    if lang != "fr" or not text:
        return text
    if text in FRENCH:
        return typography(FRENCH[text])
    for pattern, french in _patterns():
        m = pattern.fullmatch(text)
        if m:
            values = {k: _nested(v) for k, v in m.groupdict().items()}
            return typography(fill(french, "fr", values))
    return typography(text)


def _nested(value: str) -> str:
    """A value inside a message, for French: a quoted value (the user's data) in « », a value
    that is itself a message (a check's reason inside a probe's, after its check's name:
    "equals: got 'b', expected 'a'") in French too, anything else as it is."""
    if _QUOTED.fullmatch(value):
        return _QUOTED.sub(r"« \1 »", value)
    whole = message(value, "fr")
    if whole != typography(value):
        return whole
    head, sep, tail = value.partition(": ")
    if sep and (inner := message(tail, "fr")) != typography(tail):
        return f"{head}: {inner}"
    return value


def translate(text: str, lang: str) -> str:
    """`text` (an English catalogue key or a message made from a template) in `lang`; a
    message the catalogue does not know shows as it is."""
    return message(text, lang)


def translator(lang: str) -> Callable[[str], str]:
    if lang == "fr":
        return lambda text: message(text, "fr")
    return lambda text: text


_ARTICLE = re.compile(r"^(les|le)(?=\s)", re.I)
_PREPOSITION = re.compile(r"(?:^|(?<=\s))(à|de)\s$", re.I)
_CONTRACTED = {("à", "le"): "au", ("à", "les"): "aux", ("de", "le"): "du", ("de", "les"): "des"}


def contract(before: str, value: str) -> tuple[str, str]:
    """Join a French preposition that ends `before` with an article that starts `value`:
    ("… à ", "les clients") → ("… ", "aux clients"). Anything else is returned unchanged."""
    prep = _PREPOSITION.search(before)
    art = _ARTICLE.match(value)
    if not prep or not art:
        return before, value
    word = _CONTRACTED[(prep.group(1).lower(), art.group(1).lower())]
    if prep.group(1)[0].isupper():
        word = word.capitalize()
    return before[: prep.start(1)], word + value[art.end(1) :]


def fill(template: str, lang: str, values: Mapping[str, object]) -> str:
    """`template.format(**values)`, contracting French articles at each value's seam."""
    if lang != "fr":
        return template.format(**values)
    out: list[str] = []
    for literal, field, spec, conv in string.Formatter().parse(template):
        out.append(literal)
        if field is None:
            continue
        value = format(values[field] if conv is None else repr(values[field]), spec or "")
        before, value = contract("".join(out), value)
        out = [before, value]
    return "".join(out)
