"""French gender agreement for the bias probe's counterfactual swaps.

Swapping "elle" for "il" or "Camille" for "Thomas" leaves "elle est ravie" as "il est ravie":
a twin that differs by a grammar error as well as by gender, which a model may react to on its
own. `agree` puts the words that agree with a person back in the target gender, but only where
the person is plainly their referent, so that "la commande est arrivée" is never touched:

- the determiner (and one adjective) right before a gendered noun or title: la/le, une/un,
  ma/mon, ta/ton, sa/son, cette/ce/cet, du/de la, au/à la ("la petite fille" → "le petit garçon");
- the attribute or participle after a gendered subject and a form of "être" or a copula
  ("elle n'est pas très contente", "Camille s'est trompée", "il semble ravi"), through a
  negation and adverbs, with a second one after "et";
- a stressed pronoun after a preposition ("avec elle" ↔ "avec lui", "pour elles" ↔ "pour eux").

Left as they are, on purpose: the first person ("je suis ravie", signed "— Camille"), since the
speaker is not named in the sentence; words between the subject and "être" other than a
negation or a surname; agreements further away (relative clauses, past participles with
"avoir" and a preceding object). docs/probes.md says so.
"""

from __future__ import annotations

import re

from ._text import word_set

# Feminine → masculine, for the adjectives and participles that most often describe a person
# and do not follow the regular -e / -ée / -ue / -ie endings.
_ADJECTIVES = {
    "heureuse": "heureux", "malheureuse": "malheureux", "furieuse": "furieux",
    "sérieuse": "sérieux", "curieuse": "curieux", "nerveuse": "nerveux", "joyeuse": "joyeux",
    "amoureuse": "amoureux", "courageuse": "courageux", "généreuse": "généreux",
    "paresseuse": "paresseux", "ennuyeuse": "ennuyeux", "dangereuse": "dangereux",
    "jalouse": "jaloux", "vieille": "vieux", "belle": "beau", "nouvelle": "nouveau",
    "folle": "fou", "molle": "mou", "douce": "doux", "fausse": "faux", "rousse": "roux",
    "gentille": "gentil", "pareille": "pareil", "cruelle": "cruel", "naturelle": "naturel",
    "professionnelle": "professionnel", "personnelle": "personnel", "bonne": "bon",
    "ancienne": "ancien", "canadienne": "canadien", "italienne": "italien",
    "parisienne": "parisien", "européenne": "européen", "sportive": "sportif",
    "active": "actif", "vive": "vif", "naïve": "naïf", "attentive": "attentif",
    "née": "né", "inquiète": "inquiet", "complète": "complet", "discrète": "discret",
    "secrète": "secret",
    "fière": "fier", "chère": "cher", "première": "premier", "dernière": "dernier",
    "étrangère": "étranger", "légère": "léger", "entière": "entier", "grosse": "gros",
    "grasse": "gras", "basse": "bas", "épaisse": "épais", "blanche": "blanc",
    "franche": "franc", "sèche": "sec", "longue": "long", "publique": "public",
    "turque": "turc", "grecque": "grec", "menteuse": "menteur", "travailleuse": "travailleur",
    "trompeuse": "trompeur", "rêveuse": "rêveur", "flatteuse": "flatteur",
    "contente": "content", "mécontente": "mécontent", "satisfaite": "satisfait",
    "insatisfaite": "insatisfait", "prête": "prêt", "petite": "petit", "grande": "grand",
    "méchante": "méchant", "patiente": "patient", "impatiente": "impatient",
    "compétente": "compétent", "incompétente": "incompétent", "intelligente": "intelligent",
    "absente": "absent", "présente": "présent", "surprise": "surpris", "prise": "pris",
    "assise": "assis", "mise": "mis", "soumise": "soumis", "permise": "permis",
    "admise": "admis", "promise": "promis", "morte": "mort", "forte": "fort",
    "enceinte": "enceint", "seule": "seul", "brune": "brun", "blonde": "blond",
    "sourde": "sourd", "lourde": "lourd", "ronde": "rond", "ouverte": "ouvert",
    "offerte": "offert", "couverte": "couvert", "écrite": "écrit", "faite": "fait",
    "distraite": "distrait", "sûre": "sûr", "certaine": "certain", "américaine": "américain",
    "africaine": "africain", "marocaine": "marocain", "mexicaine": "mexicain",
    "française": "français", "anglaise": "anglais", "chinoise": "chinois",
    "japonaise": "japonais", "portugaise": "portugais", "polonaise": "polonais",
}  # fmt: skip
_MASCULINE = {**{m: f for f, m in _ADJECTIVES.items()}, "bel": "belle", "vieil": "vieille"}
_MASCULINE_VOWEL = {"beau": "bel", "vieux": "vieil", "nouveau": "nouvel", "fou": "fol"}
# Words that end like a participle but are not one (never given an agreement).
_NOT_AGREEING = word_set(
    "ici aussi ainsi parmi aujourd'hui lundi mardi mercredi jeudi vendredi samedi midi minuit "
    "merci oui ni si qui lui parti-pris tout beaucoup peu trop bien mal mieux vraiment là "
    "déjà encore toujours jamais plus moins très assez tellement vu"
)

_ETRE = word_set(
    "est était sera serait fut soit sont étaient seront seraient furent soient "
    "semble semblait paraît paraissait reste restait devient devenait demeure demeurait "
    "devenu devenue devenus devenues resté restée restés restées été"
)
_AUX = word_set("a avait aura aurait ont avaient")  # only before "été"
_SKIP = word_set(
    "ne n pas plus jamais point guère très trop si vraiment tellement assez bien toujours "
    "encore déjà vite complètement totalement parfaitement un peu aussi souvent tout toute "
    "s se"
)
_PREPOSITIONS = word_set(
    "avec pour sans chez à de contre par entre sur sous vers après avant envers selon "
    "derrière devant près"
)
# After a preposition a pronoun is the stressed form; the swap may have left "avec il".
_STRESSED = {
    "female": {"lui": "elle", "eux": "elles", "il": "elle", "ils": "elles"},
    "male": {"elle": "lui", "elles": "eux", "il": "lui", "ils": "eux"},
}

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
_VOWEL = re.compile(r"^[aeiouyàâäéèêëîïôöùûüœh]", re.I)


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def inflect(word: str, target: str, *, plural: bool = False, known_only: bool = False) -> str:
    """An adjective or participle in the target gender ("female" or "male"); `plural` when its
    subject is. A word it does not know stays as it is; `known_only` also leaves the regular
    -é/-u/-i participles alone (before a noun, where they are rarely about the person)."""
    low = word.lower()
    if low in _NOT_AGREEING or len(low) < 2:
        return word
    base = low[:-1] if plural and low.endswith("s") else low
    if target == "male":
        if base in _ADJECTIVES:
            out = _ADJECTIVES[base]
        elif not known_only and base.endswith(("ée", "ue", "ie")) and len(base) > 3:
            out = base[:-1]
        else:
            out = base
    elif base in _MASCULINE:
        out = _MASCULINE[base]
    elif base in _ADJECTIVES or known_only:
        out = base
    elif base.endswith(("é", "u", "i")) and len(base) > 2:
        out = base + "e"
    else:
        out = base
    if plural:
        if out.endswith("eau"):
            out += "x"
        elif target == "female" or not out.endswith(("s", "x")):
            out += "s"
    return word if out == low else _match_case(out, word)


# Determiners before a singular gendered noun: (feminine, masculine).
_DETERMINERS = [("la", "le"), ("une", "un"), ("ma", "mon"), ("ta", "ton"), ("sa", "son")]


def _determiner(word: str, target: str, next_word: str) -> str | None:
    low, vowel = word.lower(), bool(_VOWEL.match(next_word))
    for fem, masc in _DETERMINERS:
        if low in (fem, masc):
            if target == "male":
                return masc
            # "mon amie", "son épouse": the masculine form stays before a vowel.
            return masc if vowel and fem in ("ma", "ta", "sa") else fem
    if low in ("ce", "cet", "cette"):
        return "cette" if target == "female" else ("cet" if vowel else "ce")
    return None


def agree(text: str, target: str, referents: set[str]) -> tuple[str, int]:
    """`text` with the words that agree with a person in `target`'s gender, where the person
    is one of `referents` (lower-case gendered words and first names, in the target gender, as
    the swap left them); (text, words changed)."""
    words = list(_WORD.finditer(text))
    lows = [m.group(0).lower() for m in words]
    new: dict[int, str] = {}

    def gap(i: int, j: int) -> str:
        return text[words[i].end() : words[j].start()]

    def set_word(i: int, value: str) -> None:
        original = words[i].group(0)
        cased = _match_case(value, original)
        if cased != original:
            new[i] = cased

    for i, low in enumerate(lows):
        if low not in referents:
            continue
        is_pronoun = low in ("il", "elle", "ils", "elles")
        # "femmes" is plural when "femme" is a referent too; "Thomas" is not.
        plural = low in ("ils", "elles") or (low.endswith("s") and low[:-1] in referents)
        # The determiner (and one adjective) before a noun, title or name.
        if not is_pronoun and not plural and i > 0 and gap(i - 1, i).strip() == "":
            j = i - 1
            adjective = inflect(words[j].group(0), target, known_only=True)
            if target == "male" and _VOWEL.match(lows[i]):
                adjective = _MASCULINE_VOWEL.get(adjective.lower(), adjective)
            if adjective != words[j].group(0) and j > 0 and gap(j - 1, j).strip() == "":
                set_word(j, adjective)
                j -= 1
            d = _determiner(words[j].group(0), target, lows[j + 1])
            if lows[j] == "la" and j > 0 and lows[j - 1] in ("de", "à") and target == "male":
                if gap(j - 1, j).strip() == "" and not _VOWEL.match(lows[j + 1]):
                    set_word(j - 1, "du" if lows[j - 1] == "de" else "au")
                    new[j] = ""  # dropped with the space before it, below
            elif d is not None:
                set_word(j, d)
            elif lows[j] in ("du", "au") and target == "female":
                set_word(j, "de la" if lows[j] == "du" else "à la")
        # The attribute after "être" or a copula.
        k = i + 1
        if (
            not is_pronoun
            and k < len(words)
            and words[k].group(0)[:1].isupper()
            and gap(i, k).strip() == ""
        ):
            k += 1  # a surname: "Madame Martin est ravie"
        seen_etre = False
        while k < len(words) and gap(k - 1, k).strip() in ("", "'", "’"):
            w = lows[k]
            if w in _ETRE:
                if seen_etre:  # "est restée", "est devenue": the copula agrees too
                    set_word(k, inflect(words[k].group(0), target, plural=plural))
                seen_etre = True
            elif w in _SKIP or (w in _AUX and k + 1 < len(words) and lows[k + 1] == "été"):
                pass
            elif seen_etre:
                set_word(k, inflect(words[k].group(0), target, plural=plural))
                if k + 2 < len(words) and lows[k + 1] == "et" and gap(k + 1, k + 2).strip() == "":
                    set_word(k + 2, inflect(words[k + 2].group(0), target, plural=plural))
                break
            else:
                break
            k += 1
    stressed = _STRESSED[target]
    for i, low in enumerate(lows):
        after_preposition = i > 0 and lows[i - 1] in _PREPOSITIONS
        if low in stressed and after_preposition and gap(i - 1, i).strip() in ("", "'", "’"):
            set_word(i, stressed[low])
    if not new:
        return text, 0
    out, last = [], 0
    for i, m in enumerate(words):
        if i not in new:
            continue
        start = m.start()
        if new[i] == "":  # "de la" → "du": the article goes, with the space before it
            start = words[i - 1].end()
        out.append(text[last:start])
        out.append(new[i])
        last = m.end()
    out.append(text[last:])
    return "".join(out), len(new)
