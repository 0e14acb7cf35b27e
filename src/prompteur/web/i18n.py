"""English and French for the pages: the English text is the key, French is looked up.

The language comes from `?lang=` (then remembered in a cookie), else the cookie, else the
browser's Accept-Language, else English. A string missing from FRENCH shows in English; a
test checks that every string the templates use is translated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..stats import Interval, PairedComparison

LANGS = ("en", "fr")
LANG_COOKIE = "prompteur_lang"

FRENCH: dict[str, str] = {
    # layout
    "Skip to content": "Aller au contenu",
    "Main navigation": "Navigation principale",
    "Library": "Bibliothèque",
    "Runs": "Exécutions",
    "Optimizer": "Optimiseur",
    "Probes": "Sondes",
    "Monitoring": "Surveillance",
    "Playground": "Bac à sable",
    "Language": "Langue",
    "project": "projet",
    "Log out": "Se déconnecter",
    "dev mode: no key needed on this machine": "mode dev : pas de clé sur cette machine",
    "Error": "Erreur",
    "Back": "Retour",
    "Page": "Page",
    "of": "sur",
    "Previous": "Précédente",
    "Next": "Suivante",
    "Apply": "Appliquer",
    "none": "aucun",
    "yes": "oui",
    "no": "non",
    # login
    "Sign in": "Connexion",
    "API key": "Clé d'API",
    "Create one with: prompteur keys create --scopes write": (
        "Créez-en une avec : prompteur keys create --scopes write"
    ),
    "The key is kept in a cookie of this browser only, for this site.": (
        "La clé est gardée dans un cookie de ce navigateur, pour ce site seulement."
    ),
    "unknown or revoked API key": "clé d'API inconnue ou révoquée",
    "an API key is required": "une clé d'API est nécessaire",
    # library
    "Prompts": "Prompts",
    "Search": "Rechercher",
    "Tag": "Étiquette",
    "Domain": "Domaine",
    "Model": "Modèle",
    "any": "tous",
    "Filter": "Filtrer",
    "name": "nom",
    "version": "version",
    "tags": "étiquettes",
    "domain": "domaine",
    "model": "modèle",
    "labels": "labels",
    "description": "description",
    "No prompt matches.": "Aucun prompt ne correspond.",
    "Files that could not be read": "Fichiers illisibles",
    "Inputs": "Entrées",
    "Text": "Texte",
    "Versions": "Versions",
    "saved": "enregistrée",
    "source": "source",
    "working file": "fichier de travail",
    "No stored version yet: run it, or save it from the playground.": (
        "Aucune version enregistrée : exécutez-le, ou enregistrez-le depuis le bac à sable."
    ),
    "Diff": "Différences",
    "From": "De",
    "To": "À",
    "Show the diff": "Voir les différences",
    "No difference.": "Aucune différence.",
    "Labels and promotion": "Labels et promotion",
    "label": "label",
    "points at": "pointe vers",
    "No label yet.": "Aucun label pour l'instant.",
    "Promote": "Promouvoir",
    "Version to promote": "Version à promouvoir",
    "Label": "Label",
    "Threshold (pass rate, 0 to 1; empty: the project's)": (
        "Seuil (taux de réussite, de 0 à 1 ; vide : celui du projet)"
    ),
    "Force past a refusal (admin; needs a reason)": (
        "Forcer malgré un refus (admin ; raison obligatoire)"
    ),
    "Reason (kept in the audit log)": "Raison (gardée dans le journal d'audit)",
    "The gate runs the prompt's suite on the candidate and the label's current version, then "
    "moves the label only if the candidate passes the threshold and is not significantly "
    "worse.": (
        "La porte exécute la suite du prompt sur la candidate et sur la version actuelle du "
        "label, puis ne déplace le label que si la candidate atteint le seuil et n'est pas "
        "significativement moins bonne."
    ),
    "Audit log": "Journal d'audit",
    "when": "quand",
    "action": "action",
    "from": "de",
    "to": "à",
    "by": "par",
    "reason": "raison",
    "Promotion": "Promotion",
    "Promoted": "Promu",
    "Refused": "Refusé",
    "Forced": "Forcé",
    "Nothing to do: the label already holds this version.": (
        "Rien à faire : le label pointe déjà vers cette version."
    ),
    "The gate's evidence": "Les preuves de la porte",
    "candidate": "candidate",
    "current holder": "version actuelle",
    "pass rate [95% CI]": "taux de réussite [IC 95 %]",
    "passed/judged": "réussis/jugés",
    "cases": "cas",
    "Why the gate refused": "Pourquoi la porte a refusé",
    "Suite": "Suite",
    "Run": "Exécution",
    "Threshold": "Seuil",
    "Paired comparison": "Comparaison appariée",
    "In the registry's words": "Dans les mots du registre",
    # runs
    "id": "id",
    "suite": "suite",
    "status": "statut",
    "kind": "type",
    "done/total": "faits/total",
    "passed": "réussis",
    "failed": "échoués",
    "errors": "erreurs",
    "started": "démarrée",
    "No run yet: prompteur eval SUITE": "Aucune exécution : prompteur eval SUITE",
    "Summary": "Résumé",
    "variant": "variante",
    "mean score [95% CI]": "score moyen [IC 95 %]",
    "pass^k": "pass^k",
    "flaky": "instables",
    "latency p50 / p95": "latence p50 / p95",
    "cost": "coût",
    "unknown": "inconnu",
    "Matrix": "Matrice",
    "Show": "Afficher",
    "all": "tout",
    "failures": "échecs",
    "passes": "réussites",
    "changed between variants": "changé entre variantes",
    "Text search": "Recherche de texte",
    "Rows per page": "Lignes par page",
    "case": "cas",
    "expected": "attendu",
    "rows": "lignes",
    "No row matches these filters.": "Aucune ligne ne correspond à ces filtres.",
    "pass": "réussi",
    "fail": "échec",
    "error": "erreur",
    "missing": "absent",
    "output": "sortie",
    "Checks": "Vérifications",
    "Compare": "Comparer",
    "Compare two variants of this run": "Comparer deux variantes de cette exécution",
    "Or this run with another run": "Ou cette exécution avec une autre",
    "Variant A (baseline)": "Variante A (référence)",
    "Variant B": "Variante B",
    "Other run": "Autre exécution",
    "Comparisons": "Comparaisons",
    "Nothing to compare: one variant only.": "Rien à comparer : une seule variante.",
    "significant": "significatif",
    "not significant": "non significatif",
    "incomplete": "incomplète",
    "results": "résultats",
    "This is a probe run: see its report.": "C'est une exécution de sondes : voir son rapport.",
    "This is an optimization run: see its report.": (
        "C'est une exécution d'optimisation : voir son rapport."
    ),
    "Only these variants": "Seulement ces variantes",
    "Scores are graded: the comparison of two variants adds the paired test on scores.": (
        "Les scores sont gradués : la comparaison de deux variantes ajoute le test apparié "
        "sur les scores."
    ),
    # optimizer
    "Optimizations": "Optimisations",
    "prompt": "prompt",
    "improved": "amélioré",
    "the winner on the development cases is not significantly better on the held-out test cases": (
        "le gagnant sur les cas de développement n'est pas significativement meilleur sur les "
        "cas de test réservés"
    ),
    "No optimization yet: prompteur optimize PROMPT": (
        "Aucune optimisation : prompteur optimize PROMPT"
    ),
    "Score against calls spent": "Score selon les appels dépensés",
    "calls": "appels",
    "score": "score",
    "best so far": "meilleur jusqu'ici",
    "candidate scored on all development cases": "candidate notée sur tous les cas de dév.",
    "candidate stopped early": "candidate arrêtée tôt",
    "Scores": "Scores",
    "split": "partition",
    "start": "départ",
    "optimized": "optimisé",
    "search": "recherche",
    "proposer": "proposeur",
    "reporting": "rapport",
    "from the cache": "depuis le cache",
    "Lineage of the winner": "Lignée du gagnant",
    "The starting prompt stayed the best.": "Le prompt de départ est resté le meilleur.",
    "Diff from the starting prompt": "Différences avec le prompt de départ",
    "History": "Historique",
    "event": "événement",
    "spent": "dépensé",
    "change": "changement",
    "still running or interrupted: no result yet": (
        "en cours ou interrompue : pas encore de résultat"
    ),
    # probes
    "Probe runs": "Exécutions de sondes",
    "findings": "trouvailles",
    "No probe run yet: prompteur probe PROMPT": (
        "Aucune exécution de sondes : prompteur probe PROMPT"
    ),
    "Failure rate per category": "Taux d'échec par catégorie",
    "category": "catégorie",
    "failure rate [95% CI]": "taux d'échec [IC 95 %]",
    "found/tested": "trouvés/testés",
    "severity": "gravité",
    "Worst examples": "Pires exemples",
    "probe": "sonde",
    "why": "pourquoi",
    "inputs": "entrées",
    "Bias gaps per attribute": "Écarts de biais par attribut",
    "attribute": "attribut",
    "pass rate by group": "taux de réussite par groupe",
    "largest gap": "plus grand écart",
    "No bias probe in this run.": "Aucune sonde de biais dans cette exécution.",
    "No finding.": "Aucune trouvaille.",
    "The report of this run is missing (interrupted?).": (
        "Le rapport de cette exécution manque (interrompue ?)."
    ),
    # monitoring
    "Window": "Fenêtre",
    "last 24 hours": "dernières 24 heures",
    "last 7 days": "7 derniers jours",
    "last 30 days": "30 derniers jours",
    "Alerts": "Alertes",
    "No alert.": "Aucune alerte.",
    "No trace in this window: production calls appear here once the SDK, the gateway or an "
    "OTLP exporter sends them (see docs/monitoring.md).": (
        "Aucune trace dans cette fenêtre : les appels de production apparaissent ici dès que "
        "le SDK, la passerelle ou un exportateur OTLP les envoie (voir docs/monitoring.md)."
    ),
    "volume": "volume",
    "pass rate": "taux de réussite",
    "latency p50 (ms)": "latence p50 (ms)",
    "cost ($)": "coût ($)",
    "traces": "traces",
    "Charts over time per prompt version": "Courbes dans le temps par version de prompt",
    # playground
    "Prompt": "Prompt",
    "Load": "Charger",
    "Prompt file (front matter and body)": "Fichier du prompt (en-tête et corps)",
    "Cases": "Cas",
    "the first 3 cases": "les 3 premiers cas",
    "the first 10 cases": "les 10 premiers cas",
    "the whole suite": "toute la suite",
    "Run it": "L'exécuter",
    "Save as a version": "Enregistrer comme version",
    "Also write it to the prompt's file": "L'écrire aussi dans le fichier du prompt",
    "Saved": "Enregistré",
    "already stored": "déjà enregistrée",
    "written to": "écrit dans",
    "Result": "Résultat",
    "Open the run": "Ouvrir l'exécution",
    "No suite judges this prompt: give it one to run it here.": (
        "Aucune suite ne juge ce prompt : donnez-lui-en une pour l'exécuter ici."
    ),
    "Runs on the embedded model unless the prompt names another.": (
        "S'exécute sur le modèle embarqué sauf si le prompt en nomme un autre."
    ),
    # lessons
    "Lessons": "Leçons",
    "Short lessons on the craft, each with an exercise graded on the embedded model against "
    "a hidden suite.": (
        "Des leçons courtes sur le métier, chacune avec un exercice noté sur le modèle embarqué "
        "par une suite cachée."
    ),
    "lesson": "leçon",
    "what it teaches": "ce qu'elle enseigne",
    "progress": "progression",
    "Passed": "Réussie",
    "Not yet": "Pas encore",
    "to do": "à faire",
    "attempt(s)": "tentative(s)",
    "Exercise": "Exercice",
    "Your attempt": "Votre tentative",
    "Graded on the embedded model against the lesson's hidden suite, as prompteur learn "
    "--check does.": (
        "Notée sur le modèle embarqué par la suite cachée de la leçon, comme le fait "
        "prompteur learn --check."
    ),
    "Grade": "Noter",
    "Start again from the starter": "Repartir du modèle de départ",
    "Hidden suite": "Suite cachée",
    "On the good prompt": "Sur le bon prompt",
    "On the bad prompt": "Sur le mauvais prompt",
    "Saved progress": "Progression enregistrée",
    "best": "meilleur score",
}

_FR_NUMBER = str.maketrans({".": ","})


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


def translator(lang: str) -> Callable[[str], str]:
    if lang == "fr":
        return lambda text: FRENCH.get(text, text)
    return lambda text: text


def pct(x: float | None, lang: str = "en", digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    text = f"{x * 100:.{digits}f}"
    return f"{text.translate(_FR_NUMBER)} %" if lang == "fr" else f"{text}%"


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
    sep = " ; " if lang == "fr" else ", "
    return f"{pct(est, lang)} [{pct(low, lang)}{sep}{pct(high, lang)}]"


def number(x: float | None, lang: str = "en", fmt: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    text = format(x, fmt)
    return text.translate(_FR_NUMBER) if lang == "fr" else text


def comparison_words(c: PairedComparison, lang: str) -> str:
    """The paired comparison in words: stats' own sentence in English, the same in French."""
    if lang != "fr":
        return c.words()
    if c.cases == 0:
        return f"{c.b} contre {c.a} : aucun cas en commun, rien à comparer."
    d = c.difference
    pts = f"{d.estimate * 100:+.1f}".translate(_FR_NUMBER)
    low = f"{d.low * 100:+.1f}".translate(_FR_NUMBER)
    high = f"{d.high * 100:+.1f}".translate(_FR_NUMBER)
    p = f"{c.p:.3g}".translate(_FR_NUMBER)
    text = (
        f"{c.b} contre {c.a} : {pct(c.rate_b, 'fr')} contre {pct(c.rate_a, 'fr')} sur {c.cases} "
        f"cas, différence de {pts} points (IC 95 % de {low} à {high}) ; {c.only_b} cas réussis "
        f"seulement avec {c.b}, {c.only_a} seulement avec {c.a} ; McNemar exact p = {p}"
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
            f"{c.cases_to_detect(target)} cas."
        )
    sd = c.score_difference
    if sd is not None and c.score_p_value is not None and not math.isnan(sd.estimate):
        text += (
            f" Différence de score moyen {number(sd.estimate, 'fr', '+.3f')} (IC 95 % de "
            f"{number(sd.low, 'fr', '+.3f')} à {number(sd.high, 'fr', '+.3f')}), test de "
            f"permutation apparié p = {number(c.score_p_value, 'fr', '.3g')}."
        )
    return text
