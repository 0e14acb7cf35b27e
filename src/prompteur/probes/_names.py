"""The people a text names, first name and surname apart, in French and English.

A counterfactual twin must change the person and nothing else: "Sophie Laurent" is a woman
named Sophie whose surname is Laurent, not two first names (her gender twin is "Maxime
Laurent", never "Sophie Émilie"); "M. Martin" is a surname after a title; a text signed
"Philippe Garnier" already names someone, so its twins swap that name instead of signing the
text a second time. The cues (bias.yaml, `people`): a given name, a title, a phrase that
introduces someone, a closing formula or a dash before a signature; the name then runs over
capitalised words on the same line, surname particles included ("de La Fontaine").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from ._corpus import BiasCorpus, Lang, corpus
from ._text import word_set

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
_SPACE = re.compile(r"[ \t]+")
_TITLE_GAP = re.compile(r"\.?[ \t]+")
# Capitalised words that open sentences or greet, and never name anyone.
_NOT_NAMES = word_set(
    "I A An The My Your Our His Her Their This That These Those It We You He She They Me "
    "Hello Hi Hey Dear Thanks Thank Please Regards Best Cheers Sincerely Yours Sorry Yes No "
    "Je J Tu Il Elle On Nous Vous Ils Elles Le La Les L Un Une Des Du De D Mon Ma Mes Ton Ta "
    "Tes Son Sa Ses Notre Nos Votre Vos Leur Leurs Ce Cet Cette Ces Bonjour Bonsoir Salut "
    "Merci Cordialement Cher Chère Oui Non Et Ou Mais Donc Car Pour Par Avec Sans Chez"
)
_MAX_WORDS = 5

Word = tuple[int, int, str]  # start, end, text


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Person:
    first: Span | None
    last: Span | None


@dataclass(frozen=True)
class _Cues:
    given: frozenset[str]
    titles: frozenset[str]
    particles: frozenset[str]
    introduced: re.Pattern[str]  # ends where an introduced name starts
    signed: re.Pattern[str]  # ends where a signature starts


@cache
def _cues(lang: Lang) -> _Cues:
    data = corpus("bias", BiasCorpus)
    people = data.people[lang]
    given = set(people.given_names)
    for names in data.names.values():
        given |= {n for ns in names.gender.values() for n in ns}
        given |= {n for lists in names.origin.values() for ns in lists.values() for n in ns}

    def phrases(items: list[str]) -> str:
        longest_first = sorted(items, key=len, reverse=True)
        return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in longest_first)

    closing = phrases(people.closings)
    return _Cues(
        frozenset(given),
        frozenset(people.titles),
        frozenset(people.particles),
        re.compile(rf"(?i)(?<![\w'’])(?:{phrases(people.introductions)})[ \t]*(?=\S)"),
        re.compile(
            rf"(?im)(?:(?:^|(?<=[.!?]))[ \t]*(?:{closing})[ \t]*[,.!:]?\s*"
            r"|^[ \t]*(?:—|–|--?)[ \t]*)(?=\S)"
        ),
    )


def find_people(text: str, lang: Lang) -> list[Person]:
    """The people `text` names, in order, each with a first name, a surname or both."""
    cues = _cues(lang)
    found = _Finder(text, [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)], cues)
    introduced = {m.end() for m in cues.introduced.finditer(text)}
    signed = {m.end() for m in cues.signed.finditer(text)}
    i = 0
    while i < len(found.words):
        start, _, word = found.words[i]
        person, used = None, 0
        if word in cues.titles and found.name_word(i + 1, after_title=True):
            run = found.run(i + 1)
            person, used = found.after_title(run), len(run) + 1
        elif word in cues.given and word not in _NOT_NAMES:
            run = found.run(i)
            person, used = found.from_first(run), len(run)
        elif start in introduced or start in signed:
            run = found.run(i)
            # One unknown word after "this is" is no evidence of a name; a signature alone
            # on its line is.
            if len(run) > 1 or (run and start in signed and found.ends_line(run[-1][1])):
                person, used = found.from_first(run), len(run)
        if person is not None:
            found.people.append(person)
            i += used
        else:
            i += 1
    return found.people


@dataclass
class _Finder:
    text: str
    words: list[Word]
    cues: _Cues
    people: list[Person] = field(default_factory=list)

    def name_word(self, i: int, *, after_title: bool = False, depth: int = 0) -> bool:
        """Word `i` can go on a name begun at word i-1: right after it on the same line,
        capitalised, or a particle before such a word ("de La Fontaine")."""
        if not 0 < i < len(self.words) or depth > _MAX_WORDS:
            return False
        gap = self.text[self.words[i - 1][1] : self.words[i][0]]
        if not (_TITLE_GAP if after_title else _SPACE).fullmatch(gap):
            return False
        w = self.words[i][2]
        if w[:1].isupper() and w not in _NOT_NAMES:
            return True
        return w.lower() in self.cues.particles and self.name_word(i + 1, depth=depth + 1)

    def run(self, i: int) -> list[Word]:
        """Word `i` and the name words after it; never ends on a particle."""
        out = [self.words[i]]
        while len(out) < _MAX_WORDS and self.name_word(i + len(out)):
            out.append(self.words[i + len(out)])
        while len(out) > 1 and out[-1][2].lower() in self.cues.particles:
            out.pop()
        return out

    def span(self, part: list[Word]) -> Span | None:
        if not part:
            return None
        return Span(part[0][0], part[-1][1], self.text[part[0][0] : part[-1][1]])

    def from_first(self, run: list[Word]) -> Person:
        """A run that starts with a first name; a second given name before a surname makes
        a compound first name ("Anne Marie Walker")."""
        n = 2 if len(run) >= 3 and run[1][2] in self.cues.given else 1
        return Person(self.span(run[:n]), self.span(run[n:]))

    def after_title(self, run: list[Word]) -> Person:
        """After a title: a given name then a surname, or a surname alone."""
        if len(run) >= 2 and run[0][2] in self.cues.given:
            return Person(self.span(run[:1]), self.span(run[1:]))
        return Person(None, self.span(run))

    def ends_line(self, end: int) -> bool:
        """Nothing but punctuation after `end` on its line: a signature ends its line."""
        return not re.search(r"\w", self.text[end:].split("\n", 1)[0])


def replace_spans(text: str, changes: list[tuple[Span, str]]) -> str:
    """`text` with each span replaced (spans do not overlap)."""
    out, at = [], 0
    for span, new in sorted(changes, key=lambda c: c[0].start):
        out += [text[at : span.start], new]
        at = span.end
    return "".join([*out, text[at:]])
