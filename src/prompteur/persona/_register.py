"""How a reply addresses its reader: tutoiement or vouvoiement in French, formal or casual in
English. Pure text heuristics, documented in docs/persona.md.

French "vous" is ambiguous: formal singular or plural. A reply is read as addressing a group
when it says so ("vous tous", "vous deux", "chacun d'entre vous", "vous-mêmes",
"Mesdames et Messieurs", "bonjour à tous"); then its "vous" forms count as plural, not as
vouvoiement. Otherwise "vous" counts as formal: an assistant replying to one person uses the
plural rarely. Quoted text («…», "…") is left out: a reply may quote the user's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"")
_TU = re.compile(
    r"(?<![\w'’-])(?:tu|te|toi|ta|tes|tien|tienne|tiens|tiennes)(?![\w'’])|(?<![\w'’])t['’](?=\w)|"
    r"-toi\b|-tu\b",
    re.I,
)
_TON = re.compile(r"(?<![\w'’])ton(?![\w'’])", re.I)
_TON_NOUN = re.compile(r"\b(?:un|le|du|au|ce|mon|son|ton|de|d'un|même|quel)\s+$", re.I)
_TU_PARTICIPLE = re.compile(r"\b(?:est|était|s'est|s’est|a|avait)\s+$", re.I)
_VOUS = re.compile(r"(?<![\w'’])(?:vous|votre|vos|vôtre|vôtres)(?![\w'’])", re.I)
_EZ_IMPERATIVE = re.compile(r"(?:^|[.!?:]\s+)([A-ZÉÈ][a-zéèêàç]+ez)\b")
_NOT_VERBS = {"chez", "nez", "assez", "rez"}
_PLURAL = re.compile(
    r"\bvous (?:tous|toutes|deux|trois|autres)\b|\bvous-mêmes\b|\bchacune? d(?:e|'entre|’entre) "
    r"vous\b|\bl['’]une? d(?:e|'entre|’entre) vous\b|\bmesdames et messieurs\b|\bà tous\b|"
    r"\bà toutes et à tous\b|\bbonjour à toutes\b",
    re.I,
)

_CONTRACTION = re.compile(r"\b\w+['’](?:s|re|ll|ve|d|t|m)\b", re.I)
_SLANG = re.compile(
    r"\b(?:hey|gonna|wanna|gotta|yeah|yep|nope|cool|awesome|no worries|lol|btw|folks|guys|"
    r"stuff|kinda|sorta|dude|super easy|totally|ok+ay|hiya|cheers)\b",
    re.I,
)
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_FORMAL_EN = re.compile(
    r"\b(?:dear (?:sir|madam|customer|mr|ms|mrs)|kindly|sincerely|yours faithfully|"
    r"(?:kind|best) regards|we regret|please be advised|please find|should you|do not hesitate|"
    r"i would be (?:glad|pleased)|we would be (?:glad|pleased)|hereby|henceforth)\b",
    re.I,
)


@dataclass
class Reading:
    tu: list[str] = field(default_factory=list)
    vous: list[str] = field(default_factory=list)  # read as formal singular
    vous_plural: list[str] = field(default_factory=list)  # read as plural: not evidence
    casual: list[str] = field(default_factory=list)
    formal: list[str] = field(default_factory=list)


def read_french(text: str) -> Reading:
    text = _QUOTED.sub(" ", text)
    r = Reading()
    for m in _TU.finditer(text):
        if m.group(0).lower() == "tu" and _TU_PARTICIPLE.search(text[: m.start()]):
            continue  # "il s'est tu": the verb se taire
        r.tu.append(m.group(0))
    for m in _TON.finditer(text):
        if not _TON_NOUN.search(text[: m.start()]):  # "sur un ton calme": the noun
            r.tu.append(m.group(0))
    plural = bool(_PLURAL.search(text))
    forms = [m.group(0) for m in _VOUS.finditer(text)]
    forms += [
        m.group(1) for m in _EZ_IMPERATIVE.finditer(text) if m.group(1).lower() not in _NOT_VERBS
    ]
    (r.vous_plural if plural else r.vous).extend(forms)
    return r


def read_english(text: str) -> Reading:
    text = _QUOTED.sub(" ", text)
    r = Reading()
    r.casual += [m.group(0) for m in _SLANG.finditer(text)]
    r.casual += [m.group(0) for m in _EMOJI.finditer(text)]
    contractions = [m.group(0) for m in _CONTRACTION.finditer(text)]
    if len(contractions) >= 2:
        r.casual += contractions
    if text.count("!") >= 2:
        r.casual.append("!!")
    r.formal += [m.group(0) for m in _FORMAL_EN.finditer(text)]
    return r


def judge_register(text: str, register: str) -> tuple[bool, str]:
    """(kept, reason) for a reply against `tu`, `vous`, `formal` or `casual`."""
    if register in ("tu", "vous"):
        r = read_french(text)
        wrong = r.vous if register == "tu" else r.tu
        right = r.tu if register == "tu" else r.vous
        note = f" ({len(r.vous_plural)} plural 'vous' not counted)" if r.vous_plural else ""
        if wrong:
            other = "vous" if register == "tu" else "tu"
            shown = ", ".join(dict.fromkeys(w.lower() for w in wrong[:4]))
            return False, f"expected {register}, found {other} forms: {shown}{note}"
        if right:
            return True, f"{register} ({len(right)} forms){note}"
        return True, f"no form of address{note}"
    r = read_english(text)
    if register == "formal":
        if r.casual:
            return False, "casual markers: " + ", ".join(dict.fromkeys(r.casual[:4]))
        return True, "formal" if r.formal else "no casual marker"
    if register == "casual":
        if r.formal and not r.casual:
            return False, "formal markers: " + ", ".join(dict.fromkeys(r.formal[:4]))
        return True, "casual" if r.casual else "no formal marker"
    raise ValueError(f"unknown register {register!r} (tu, vous, formal or casual)")
