"""Rules for image specs (I…): what makes an image prompt come out wrong — no subject, light or
focus that cannot coexist, a malformed aspect ratio, weights that break the picture, asking for
and avoiding the same thing, negatives written where they get drawn."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from ..image._spec import ImageSpec
from ._base import Hit, Lang, Severity, Text, rule
from ._doc import detect_lang

_SUPPRESS = re.compile(r"prompteur:\s*(ignore-file|ignore)\b([^#]*)", re.I)


@dataclass
class ImageDoc:
    spec: ImageSpec
    file: str

    @cached_property
    def lang(self) -> Lang:
        return detect_lang(" ".join(t for _, t in self.spec.positive()))

    def suppressed(self, rule_id: str, line: int) -> bool:
        for i, raw in enumerate(self.spec.raw_lines, 1):
            for m in _SUPPRESS.finditer(raw):
                ids = {t.upper() for t in re.findall(r"[A-Za-z]+\d+", m.group(2))}
                applies = m.group(1).lower() == "ignore-file" or line in (i, i + 1)
                if applies and (not ids or rule_id in ids):
                    return True
        return False

    @property
    def first_line(self) -> int:
        return 1


def _find(doc: ImageDoc, pattern: re.Pattern[str]) -> tuple[str, str] | None:
    for field, term in doc.spec.positive():
        m = pattern.search(term)
        if m:
            return field, m.group(0)
    return None


def _line(doc: ImageDoc, field: str) -> int:
    return doc.spec.line(field)


@rule(
    "I001",
    "missing-subject",
    Severity.ERROR,
    kind="image",
    en=Text(
        "no subject: the spec never says what the picture shows",
        "Style, light and framing describe how to show something; without a subject the "
        "model picks one at random.",
        "Add subject: with the main thing in the picture, concrete and specific ('an old "
        "fisherman mending a net').",
    ),
    fr=Text(
        "aucun sujet : la spec ne dit jamais ce que montre l'image",
        "Le style, la lumière et le cadrage décrivent comment montrer quelque chose ; sans "
        "sujet, le modèle en choisit un au hasard.",
        "Ajoutez subject: avec l'élément principal, concret et précis (« un vieux pêcheur qui "
        "répare un filet »).",
    ),
)
def missing_subject(doc: ImageDoc) -> Iterator[Hit]:
    if not (doc.spec.spec.subject or "").strip():
        yield Hit(1, suggestion="subject: <what the picture shows, concretely>")


_LIGHT_GROUPS = {
    "time of day": [
        ("midday", r"\b(?:midday|noon|high noon|harsh (?:mid-?day )?sun|plein soleil|midi)\b"),
        (
            "golden hour",
            r"\b(?:golden hour|sunset|sunrise|dawn|dusk|heure dorée|coucher de soleil|"
            r"lever de soleil|aube|crépuscule)\b",
        ),
        ("night", r"\b(?:night|midnight|moonlight|moonlit|nuit|nocturne|minuit|clair de lune)\b"),
    ],
    "key": [
        ("high-key", r"\bhigh[- ]key\b"),
        ("low-key", r"\blow[- ]key\b"),
    ],
    "hardness": [
        (
            "hard light",
            r"\b(?:hard light|harsh light|direct flash|hard shadows|lumière dure|"
            r"ombres dures)\b",
        ),
        (
            "soft light",
            r"\b(?:soft light|diffused|overcast|soft shadows|lumière douce|diffuse|"
            r"ciel couvert)\b",
        ),
    ],
}


@rule(
    "I002",
    "conflicting-lighting",
    Severity.ERROR,
    kind="image",
    en=Text(
        "conflicting lighting: '{a}' and '{b}' ({dimension})",
        "One scene has one light: the model blends the two into a muddy, implausible image, "
        "or drops one at random.",
        "Keep one light per dimension (time of day, key, hardness); move the other to a "
        "separate spec if you want both versions.",
    ),
    fr=Text(
        "éclairages contradictoires : « {a} » et « {b} » ({dimension})",
        "Une scène n'a qu'une lumière : le modèle mélange les deux en une image terne et peu "
        "plausible, ou en abandonne une au hasard.",
        "Gardez une seule lumière par dimension (moment, clé, dureté) ; faites une autre spec "
        "pour l'autre version.",
    ),
)
def conflicting_lighting(doc: ImageDoc) -> Iterator[Hit]:
    for dimension, groups in _LIGHT_GROUPS.items():
        found = []
        for _, pattern in groups:
            hit = _find(doc, re.compile(pattern, re.I))
            if hit:
                found.append(hit)
        if len(found) >= 2:
            (_, a), (fb, b) = found[0], found[1]
            yield Hit(_line(doc, fb), {"a": a, "b": b, "dimension": dimension})


_RATIO = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")
_RATIO_TYPO = re.compile(r"^\s*(\d+)\s*[x×/\-_ ]\s*(\d+)\s*$", re.I)


@rule(
    "I003",
    "aspect-ratio-format",
    Severity.ERROR,
    kind="image",
    en=Text(
        "aspect ratio '{value}': {problem}",
        "Image tools take the ratio as W:H whole numbers (--ar 16:9); anything else is "
        "refused or silently ignored, and you get a square.",
        'Write it quoted, as W:H whole numbers: aspect_ratio: "16:9".',
    ),
    fr=Text(
        "format d'image « {value} » : {problem}",
        "Les outils d'image prennent le format en entiers L:H (--ar 16:9) ; sinon il est refusé "
        "ou ignoré sans prévenir, et l'image sort carrée.",
        'Écrivez-le entre guillemets, en entiers L:H : aspect_ratio: "16:9".',
    ),
)
def aspect_ratio_format(doc: ImageDoc) -> Iterator[Hit]:
    raw = doc.spec.spec.aspect_ratio
    if raw is None:
        return
    line = _line(doc, "aspect_ratio")
    text = doc.spec.aspect_ratio or ""
    fr = doc.lang == "fr"
    if not isinstance(raw, str):
        m = _RATIO.match(text)
        problem = (
            f"non quoté, YAML le lit comme le nombre {raw} (base 60)"
            if fr
            else f"unquoted, YAML reads it as the number {raw} (base 60)"
        )
        if m:
            yield Hit(
                line,
                {"value": text, "problem": problem},
                f'aspect_ratio: "{text}"',
                Severity.WARNING,
            )
            return
    m = _RATIO.match(text)
    if not m:
        typo = _RATIO_TYPO.match(text)
        problem = "pas au format L:H" if fr else "not in W:H form"
        fix = f'aspect_ratio: "{typo.group(1)}:{typo.group(2)}"' if typo else 'aspect_ratio: "3:2"'
        yield Hit(line, {"value": text, "problem": problem}, fix)
        return
    w, h = int(m.group(1)), int(m.group(2))
    if w == 0 or h == 0:
        yield Hit(line, {"value": text, "problem": "zéro" if fr else "zero"})
    elif max(w / h, h / w) > 4:
        problem = (
            "plus de 4:1, au-delà de ce que les outils acceptent"
            if fr
            else ("beyond 4:1, more than image tools accept")
        )
        yield Hit(line, {"value": text, "problem": problem}, severity=Severity.WARNING)


@rule(
    "I004",
    "weight-out-of-range",
    Severity.WARNING,
    kind="image",
    en=Text(
        "weight {weight} for '{term}' is out of range ({range})",
        "Weights far from 1 distort the image (Stable Diffusion burns the term in, Midjourney "
        "lets it swallow the prompt); zero or negative weights mean 'avoid', which avoid: says "
        "portably.",
        "Keep weights between 0.5 and 1.5; put what you do not want in avoid:.",
    ),
    fr=Text(
        "poids {weight} pour « {term} » hors plage ({range})",
        "Des poids loin de 1 déforment l'image (Stable Diffusion « brûle » le terme, Midjourney "
        "le laisse envahir le prompt) ; un poids nul ou négatif veut dire « éviter », ce que "
        "avoid: dit pour tous les outils.",
        "Gardez les poids entre 0,5 et 1,5 ; mettez ce que vous ne voulez pas dans avoid:.",
    ),
)
def weight_out_of_range(doc: ImageDoc) -> Iterator[Hit]:
    for term, weight in doc.spec.spec.weights.items():
        line = doc.spec.line("weights", term)
        if weight <= 0 or weight > 2:
            yield Hit(
                line,
                {"weight": weight, "term": term, "range": "0 < w ≤ 2"},
                f"avoid: [{term}]" if weight <= 0 else f"{term}: 1.5",
                Severity.ERROR,
            )
        elif not 0.5 <= weight <= 1.5:
            yield Hit(
                line,
                {"weight": weight, "term": term, "range": "0.5–1.5"},
                f"{term}: {min(1.5, max(0.5, weight))}",
            )


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[\w'-]+", text.lower()) if len(w) > 2}


@rule(
    "I005",
    "avoid-contradicts-content",
    Severity.ERROR,
    kind="image",
    en=Text(
        "'{term}' is both asked for ({field}) and avoided",
        "The positive prompt pulls the term in and the negative prompt pushes it out: the "
        "result is unpredictable and often a broken version of it.",
        "Remove it from one side.",
    ),
    fr=Text(
        "« {term} » est à la fois demandé ({field}) et à éviter",
        "Le prompt positif attire le terme et le prompt négatif le repousse : le résultat est "
        "imprévisible, souvent une version abîmée.",
        "Retirez-le d'un des deux côtés.",
    ),
)
def avoid_contradicts(doc: ImageDoc) -> Iterator[Hit]:
    for i, avoided in enumerate(doc.spec.spec.avoid):
        target = _words(avoided)
        if not target:
            continue
        for field, term in doc.spec.positive():
            # "a street with no cars" asks for a street, not for cars
            if target <= _words(_NEGATED.sub(" ", term)):
                yield Hit(doc.spec.line("avoid", i), {"term": avoided, "field": field})
                break


_NEGATED = re.compile(r"\b(?:no|without|not|never|sans|pas de|aucune?)\s+[\w'-]+", re.I)


@rule(
    "I006",
    "negative-in-positive",
    Severity.WARNING,
    kind="image",
    en=Text(
        "'{phrase}' in {field}: image models draw what is named, negated or not",
        "Image models do not read 'no' or 'without': 'no people' puts people in the picture.",
        "Move the thing to avoid: and describe what is there instead ('an empty street').",
    ),
    fr=Text(
        "« {phrase} » dans {field} : les modèles d'image dessinent ce qui est nommé, négation "
        "ou pas",
        "Les modèles d'image ne lisent pas « sans » ni « pas de » : « sans personne » fait "
        "apparaître des personnes.",
        "Déplacez l'élément dans avoid: et décrivez ce qu'il y a à la place (« une rue vide »).",
    ),
)
def negative_in_positive(doc: ImageDoc) -> Iterator[Hit]:
    for field, term in doc.spec.positive():
        m = _NEGATED.search(term)
        if m:
            thing = m.group(0).split(None, 1)[-1]
            if m.group(0).lower().startswith("pas de"):
                thing = m.group(0)[6:].strip()
            yield Hit(
                _line(doc, field), {"phrase": m.group(0), "field": field}, f"avoid: [{thing}]"
            )


_SYNTAX = re.compile(r"::|--|[(){}\[\]]")


@rule(
    "I007",
    "target-syntax-in-text",
    Severity.INFO,
    kind="image",
    en=Text(
        "'{chars}' in {field} means something to image tools",
        "Midjourney reads '::' as a weight and '--' as a parameter; Stable Diffusion reads "
        "parentheses as emphasis. The renderer escapes them, which may not be what you meant.",
        "Use weights: and avoid: for emphasis and negatives; write plain words in the fields.",
    ),
    fr=Text(
        "« {chars} » dans {field} a un sens pour les outils d'image",
        "Midjourney lit « :: » comme un poids et « -- » comme un paramètre ; Stable Diffusion "
        "lit les parenthèses comme une emphase. Le rendu les neutralise, ce qui n'est peut-être "
        "pas ce que vous vouliez.",
        "Utilisez weights: et avoid: pour l'emphase et les exclusions ; des mots simples dans "
        "les champs.",
    ),
)
def target_syntax(doc: ImageDoc) -> Iterator[Hit]:
    for field, term in doc.spec.positive() + [("avoid", a) for a in doc.spec.spec.avoid]:
        found = sorted(set(_SYNTAX.findall(term)))
        if found:
            yield Hit(_line(doc, field), {"chars": " ".join(found), "field": field})


@rule(
    "I008",
    "weight-for-absent-term",
    Severity.WARNING,
    kind="image",
    en=Text(
        "weight for '{term}', which no field mentions",
        "A weight only changes a term that is in the prompt: this one is added as a separate "
        "fragment with no context, or ignored.",
        "Write the term in a field (details:, style:, …) exactly as in weights:.",
    ),
    fr=Text(
        "poids pour « {term} », qu'aucun champ ne mentionne",
        "Un poids ne modifie qu'un terme présent dans le prompt : celui-ci est ajouté comme un "
        "fragment isolé, ou ignoré.",
        "Écrivez le terme dans un champ (details:, style:, …) exactement comme dans weights:.",
    ),
)
def weight_absent(doc: ImageDoc) -> Iterator[Hit]:
    terms = [t.lower() for _, t in doc.spec.positive()]
    for term in doc.spec.spec.weights:
        if not any(term.lower() in t for t in terms):
            yield Hit(doc.spec.line("weights", term), {"term": term}, f"details: [{term}]")


_SHALLOW = re.compile(
    r"\b(?:shallow|bokeh|blurr?ed background|f/(?:0?\.\d+|1(?:\.\d+)?|2(?:\.[0-8])?)\b|"
    r"faible profondeur|arrière-plan flou|fond flou)",
    re.I,
)
_DEEP = re.compile(
    r"\b(?:deep focus|deep depth|everything (?:in focus|sharp)|f/(?:8|9|1[0-9]|2[0-2])\b|"
    r"grande profondeur|tout (?:est )?net)",
    re.I,
)


@rule(
    "I009",
    "conflicting-depth-of-field",
    Severity.ERROR,
    kind="image",
    en=Text(
        "conflicting depth of field: '{a}' and '{b}'",
        "A lens cannot blur the background and keep everything sharp at once; the model "
        "follows one at random.",
        "Choose shallow (portrait, f/1.4–2.8) or deep (landscape, f/8–16), and make the lens "
        "agree.",
    ),
    fr=Text(
        "profondeur de champ contradictoire : « {a} » et « {b} »",
        "Un objectif ne peut pas flouter l'arrière-plan et tout garder net à la fois ; le "
        "modèle suit l'un ou l'autre au hasard.",
        "Choisissez faible (portrait, f/1,4–2,8) ou grande (paysage, f/8–16), et accordez "
        "l'objectif.",
    ),
)
def conflicting_dof(doc: ImageDoc) -> Iterator[Hit]:
    shallow, deep = _find(doc, _SHALLOW), _find(doc, _DEEP)
    if shallow and deep:
        line = max(_line(doc, shallow[0]), _line(doc, deep[0]))
        yield Hit(line, {"a": shallow[1], "b": deep[1]})
