"""English and French for the pages: the English text is the key, French is looked up.

The language comes from `?lang=` (then remembered in a cookie), else the cookie, else the
browser's Accept-Language, else English. A string missing from FRENCH shows in English; a
test checks that every string the templates use is translated.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..i18n import (
    FRENCH,
    interval,
    money,
    number,
    pct,
    plural,
    run_word,
    score_interval,
    translator,
    typography,
)

__all__ = [
    "FRENCH",
    "interval",
    "money",
    "number",
    "pct",
    "run_word",
    "score_interval",
    "translator",
    "typography",
]

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..stats import PairedComparison

LANGS = ("en", "fr")
LANG_COOKIE = "prompteur_lang"

_FR_NUMBER = str.maketrans({".": ","})  # for signed figures


def lang_of(request: Request) -> str:
    """The page's language: ?lang=, the cookie, Accept-Language, else English."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    if kept in LANGS:
        return kept
    best, best_q = "en", -1.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower()[:2]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if code in LANGS and q > best_q:
            best, best_q = code, q
    return best


def comparison_words(c: PairedComparison, lang: str) -> str:
    """The paired comparison in words: stats' own sentence in English, the same in French."""
    if lang != "fr":
        return c.words()
    if c.cases == 0:
        return typography(f"{c.a} contre {c.b} : aucun cas en commun, rien à comparer.")
    d = c.difference
    pts = f"{d.estimate * 100:+.1f}".translate(_FR_NUMBER)
    low = f"{d.low * 100:+.1f}".translate(_FR_NUMBER)
    high = f"{d.high * 100:+.1f}".translate(_FR_NUMBER)
    p = f"{c.p:.3g}".translate(_FR_NUMBER)
    text = (
        f"{c.a} contre {c.b} : {pct(c.rate_a, 'fr')} contre {pct(c.rate_b, 'fr')} sur "
        f"{plural(c.cases, 'cas', lang='fr')} ; {c.b} − {c.a} : {pts} points (IC 95 % de {low} "
        f"à {high}) ; {plural(c.only_a, 'cas réussi', 'cas réussis', 'fr')} seulement avec "
        f"{c.a}, {c.only_b} seulement avec {c.b} ; McNemar exact p = {p}"
        + (" (ajusté par Holm)" if c.p_adjusted is not None else "")
        + ". "
    )
    if c.significant:
        better = c.b if d.estimate > 0 else c.a
        text += f"{better} est significativement meilleur."
    else:
        target = max(0.05, abs(d.estimate)) if d.estimate else 0.05
        text += (
            f"Pas de différence significative. Pour détecter un écart de {target * 100:.0f} "
            f"points avec une puissance de 80 %, il faudrait environ "
            f"{plural(c.cases_to_detect(target), 'cas', lang='fr')}."
        )
    sd = c.score_difference
    if sd is not None and c.score_p_value is not None and not math.isnan(sd.estimate):
        text += (
            f" Différence de score moyen {number(sd.estimate, 'fr', '+.3f')} (IC 95 % de "
            f"{number(sd.low, 'fr', '+.3f')} à {number(sd.high, 'fr', '+.3f')}), test de "
            f"permutation apparié p = {number(c.score_p_value, 'fr', '.3g')}."
        )
    return typography(text)
