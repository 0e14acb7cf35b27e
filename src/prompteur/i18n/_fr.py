"""The French catalogue: English text is the key, its French is the value.

Write French here with ordinary spaces before : ; ? ! and inside « »; `typography` turns
them into the non-breaking spaces French typesetting wants when a string is shown.
"""

from __future__ import annotations

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
    "First of the pair (A)": "Première de la paire (A)",
    "Second of the pair (B)": "Seconde de la paire (B)",
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
    # the optimizer's splits of the suite's cases (optimizer/engine.py)
    "train": "entraînement",
    "dev": "développement",
    "test": "test réservé",
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
    # the bias probes' attributes and groups (probes/bias.py, corpus/bias.yaml)
    "gender": "genre",
    "origin": "origine",
    "age": "âge",
    "religion": "religion",
    "female": "femme",
    "male": "homme",
    "young": "jeune",
    "old": "âgé",
    "christian": "chrétien",
    "muslim": "musulman",
    "jewish": "juif",
    "buddhist": "bouddhiste",
    "hindu": "hindou",
    "atheist": "athée",
    "white-american": "américain blanc",
    "african-american": "afro-américain",
    "hispanic": "hispanique",
    "south-asian": "sud-asiatique",
    "east-asian": "est-asiatique",
    "french": "français",
    "maghrebi": "maghrébin",
    "west-african": "ouest-africain",
    # the largest gap between two groups (web/pages_probes.py)
    "{b} vs {a}: {d} pts [{low}, {high}], p = {p}": (
        "{b} contre {a} : {d} pts [{low} ; {high}], p = {p}"
    ),
    "{b} vs {a}: {d} pts [{low}, {high}], p = {p} (Holm)": (
        "{b} contre {a} : {d} pts [{low} ; {high}], p = {p} (ajusté par Holm)"
    ),
    # prompteur monitor show --lang fr
    "ALERT": "ALERTE",
    "no alert": "aucune alerte",
    "warning: alerts not sent to {target}: {error}": (
        "avertissement : alertes non envoyées à {target} : {error}"
    ),
    "sent {alerts} to the webhook at {target}": "envoi au webhook {target} : {alerts}",
    "no traces since {since} UTC": "aucune trace depuis le {since} UTC",
    "Traces since {since} UTC, by version": "Traces depuis le {since} UTC, par version",
    "err": "erreurs",
    "pass [95% CI]": "réussite [IC 95 %]",
    "scored": "évaluées",
    "tokens": "jetons",
    "feedback (neg)": "retours (nég.)",
    "total": "total",
    # the optimizer's changes, as its lineage and history show them (optimizer/proposers.py)
    "starting prompt": "prompt de départ",
    "{k} random demonstrations": "{k} démonstrations tirées au hasard",
    "{k} balanced demonstrations": "{k} démonstrations équilibrées entre les étiquettes",
    "{k} diverse demonstrations": "{k} démonstrations variées",
    "swap ({n} demonstrations)": "une démonstration remplacée ({n} démonstrations)",
    "add ({n} demonstrations)": "des démonstrations ajoutées ({n} démonstrations)",
    "drop ({n} demonstrations)": "une démonstration retirée ({n} démonstrations)",
    "shuffle ({n} demonstrations)": "démonstrations dans un autre ordre ({n} démonstrations)",
    "double ({n} demonstrations)": "démonstrations doublées ({n} démonstrations)",
    "rebalance ({n} demonstrations)": "démonstrations rééquilibrées ({n} démonstrations)",
    "critique and edit": "critique et réécriture",
    "instruction induced from data": "instruction induite des données",
    "answer space stated": "réponses possibles énoncées",
    "instruction removed": "instruction retirée",
    "one-word answer stated": "réponse en un mot demandée",
    "labels {a}/{b}": "étiquettes {a}/{b}",
    "separator {sep}": "séparateur {sep}",
    "No finding.": "Aucune trouvaille.",
    # the probe report in the terminal (probes/report.py, prompteur probe --lang fr)
    "Probe run {id}": "Exécution de sondes {id}",
    "seed {seed} · canary {canary}": "graine {seed} · canari {canary}",
    "baseline {model}: check pass rate {rate} on {cases}": (
        "référence {model} : taux de réussite des contrôles {rate} sur {cases}"
    ),
    "no checks": "aucun contrôle",
    "Weaknesses found (failure rate = attack success, 95% Wilson interval)": (
        "Faiblesses trouvées (taux d'échec = succès de l'attaque, intervalle de Wilson à 95 %)"
    ),
    "tested": "testés",
    "found": "trouvés",
    "failure rate": "taux d'échec",
    "(n.s.)": "(n.s.)",
    "note: {note}": "remarque : {note}",
    "worst examples": "pires exemples",
    "not run": "non exécutée",
    "no case has a text input": "aucun cas n'a d'entrée textuelle",
    "it does not apply to any case": "elle ne s'applique à aucun cas",
    "no case has a list (a list input, or bulleted lines)": (
        "aucun cas n'a de liste (une entrée liste, ou des lignes à puces)"
    ),
    "the paraphraser produced no usable variant": (
        "le reformulateur n'a produit aucune variante utilisable"
    ),
    "needs a capable model to rewrite the text: pass --paraphraser MODEL (e.g. "
    "openai:gpt-4o-mini). The embedded 270M base model follows no instruction, so its "
    "rewrites would measure its own mistakes, not the prompt's robustness": (
        "il faut un modèle capable de réécrire le texte : passez --paraphraser MODÈLE (par "
        "exemple openai:gpt-4o-mini). Le modèle embarqué de 270M, un modèle de base, ne suit "
        "aucune consigne : ses réécritures mesureraient ses propres erreurs, pas la robustesse "
        "du prompt"
    ),
    "needs a capable judge: pass --judge MODEL (e.g. openai:gpt-4o-mini). The default model is "
    "the embedded 270M base model, whose verdicts are close to chance; --judge local runs it "
    "anyway, for the mechanics": (
        "il faut un juge capable : passez --judge MODÈLE (par exemple openai:gpt-4o-mini). Le "
        "modèle par défaut est le modèle embarqué de 270M, un modèle de base, dont les verdicts "
        "valent à peine mieux que le hasard ; --judge local le lance quand même, pour la "
        "mécanique"
    ),
    "wrote {path}": "fichier écrit : {path}",
    "{probes} under --fail-under {limit}:": "{probes} sous --fail-under {limit} :",
    "case {origin}: {why}": "cas {origin} : {why}",
    "input:": "entrée :",
    "output:": "sortie :",
    "{name}: {why}": "{name} : {why}",
    "warning:": "avertissement :",
    "{findings} ({severities}) · {probe_cases} probe cases from {cases} suite cases · "
    "{results} results · {calls} model calls, {cached} from cache, {judge} judge calls "
    "· {seconds} s": (
        "{findings} ({severities}) · {probe_cases} cas de sonde tirés de {cases} cas de la "
        "suite · {results} résultats · {calls} appels au modèle, {cached} réponses du cache, "
        "{judge} appels au juge · {seconds} s"
    ),
    "judge not trusted": "juge non fiable",
    "judge calibrated": "juge étalonné",
    "verdict by {judge}:": "verdict de {judge} :",
    "judge:": "juge :",
    "low or unknown agreement with people: check these verdicts by hand before acting on them": (
        "accord faible ou inconnu avec des personnes : vérifiez ces verdicts à la main avant d'agir"
    ),
    "{results} left out: the call or the rendering failed, or the judge's answer could not "
    "be read (prompteur show RUN lists the errors)": (
        "{results} non pris en compte : l'appel ou le rendu a échoué, ou la réponse du juge était "
        "illisible (prompteur show RUN liste les erreurs)"
    ),
    "check pass rate {b} on the variants vs {a} on the originals ({n} pairs): difference "
    "{d} points (95% CI {low} to {high}), exact McNemar p = {p}": (
        "taux de réussite des contrôles {b} sur les variantes contre {a} sur les originaux "
        "({n} paires) : écart de {d} points (IC 95 % de {low} à {high}), test exact de "
        "McNemar p = {p}"
    ),
    " — significant": " — significatif",
    " — not significant": " — non significatif",
    " (Holm-adjusted)": " (ajusté par Holm)",
    "output changed in {count} of {cases}": "sortie modifiée dans {count} des {cases}",
    "pass rate by group: {groups}": "taux de réussite par groupe : {groups}",
    "largest gap: {b} vs {a} {d} points (95% CI {low} to {high}), McNemar p = {p}": (
        "plus grand écart : {b} contre {a} {d} points (IC 95 % de {low} à {high}), McNemar p = {p}"
    ),
    "noise floor: the first group's answer moved on a second sample alone in {count} of "
    "{cases} cases ({rate})": (
        "bruit de fond : la réponse du premier groupe a changé sur un second tirage seul dans "
        "{count} cas sur {cases} ({rate})"
    ),
    "significant: severity as the probe's": "significatif : gravité celle de la sonde",
    "not significant against the noise floor nor between groups: severity low, whatever "
    "the divergence rate": (
        "non significatif face au bruit de fond ni entre groupes : gravité faible, quel que "
        "soit le taux de divergence"
    ),
    "cases {modes} (swap: the text's own mentions rewritten; insert: a sentence added)": (
        "cas {modes} (swap : les mentions du texte réécrites ; insert : une phrase ajoutée)"
    ),
    "by {key}: {cells}": "par {key} : {cells}",
    "The report of this run is missing (interrupted?).": (
        "Le rapport de cette exécution manque (interrompue ?)."
    ),
    # probes: the detectors' reasons (stored in English, shown in the page's language)
    "answered {output} to an under-specified input (vague) without asking or flagging it": (
        "a répondu {output} à une entrée vague sans poser de question ni le signaler"
    ),
    "answered {output} to an under-specified input (bare) without asking or flagging it": (
        "a répondu {output} à une entrée réduite à un sujet, sans poser de question ni le signaler"
    ),
    "answered {output} to an under-specified input (truncated) without asking or flagging it": (
        "a répondu {output} à une entrée tronquée sans poser de question ni le signaler"
    ),
    "answered {output} to an under-specified input ({kind}) without asking or flagging it": (
        "a répondu {output} à une entrée incomplète ({kind}) sans poser de question ni le signaler"
    ),
    "the judge finds it breaks the policy (score {score}): {reason}": (
        "selon le juge, la sortie enfreint la politique (score {score}) : {reason}"
    ),
    "answered {output} to a question that has no answer": (
        "a répondu {output} à une question sans réponse"
    ),
    "went along with a false premise (in fact: {premise}): {output}": (
        "a suivi une prémisse fausse (en réalité : {premise}) : {output}"
    ),
    "states what the context does not give: {items}": (
        "affirme ce que le contexte ne dit pas : {items}"
    ),
    "the judge finds unsupported claims: {reason}": (
        "selon le juge, des affirmations ne sont pas étayées : {reason}"
    ),
    "the output carries active markup: {markup}": "la sortie contient du balisage actif : {markup}",
    "the output runs away repeating: {repeated}": "la sortie s'emballe et se répète : {repeated}",
    "the output copies the prompt: {copied}": "la sortie recopie le prompt : {copied}",
    "personal data echoed back: {kinds}": "données personnelles renvoyées : {kinds}",
    "refused a benign request (cue: {cue}): {words}": (
        "a refusé une demande anodine (indice : {cue}) : {words}"
    ),
    "passed on the original, fails on the variant: {failures}": (
        "réussi sur l'original, en échec sur la variante : {failures}"
    ),
    "passed on the original, fails on a second sample of the very same case: {failures}": (
        "réussi sur l'original, en échec sur un second tirage du même cas : {failures}"
    ),
    "the output changed: {before} → {after}": "la sortie a changé : {before} → {after}",
    "the output changes with gender — {shown}": "la sortie change avec le genre — {shown}",
    "the output changes with origin — {shown}": "la sortie change avec l'origine — {shown}",
    "the output changes with age — {shown}": "la sortie change avec l'âge — {shown}",
    "the output changes with religion — {shown}": "la sortie change avec la religion — {shown}",
    # monitoring
    "Window": "Fenêtre",
    "last 24 hours": "dernières 24 heures",
    "last 7 days": "7 derniers jours",
    "last 30 days": "30 derniers jours",
    "Alerts": "Alertes",
    # The kinds of monitoring alert (traces/alerts.py), as badges.
    "pass rate drop": "baisse du taux de réussite",
    "input length shift": "entrées plus longues ou plus courtes",
    "language shift": "changement de langue",
    "embedding shift": "dérive du sens des entrées",
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
    # monitoring: the alerts' sentences (traces/alerts.py)
    "{name}: pass rate fell from {before} to {after} "
    "(baseline {base} scored traces, recent {recent}; p = {p})": (
        "{name} : le taux de réussite est tombé de {before} à {after} (référence : {base} "
        "traces notées, récentes : {recent} ; p = {p})"
    ),
    "{name}: negative user feedback rose from {before} to {after} "
    "(baseline {base} feedback, recent {recent}; p = {p})": (
        "{name} : les avis négatifs des utilisateurs sont passés de {before} à {after} "
        "(référence : {base} avis, récents : {recent} ; p = {p})"
    ),
    "{name}: input length shifted (median {mb} → {mr} characters; KS D = {d}, "
    "p = {p}; PSI = {psi})": (
        "{name} : la longueur des entrées a changé (médiane {mb} → {mr} caractères ; "
        "KS D = {d}, p = {p} ; PSI = {psi})"
    ),
    "{name}: language mix shifted ({a} → {b}; distance {tv}, p = {p})": (
        "{name} : la répartition des langues a changé ({a} → {b} ; distance {tv}, p = {p})"
    ),
    "{name}: the meaning of the inputs shifted (centroid cosine distance {distance})": (
        "{name} : le sens des entrées a changé (distance cosinus entre centroïdes {distance})"
    ),
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
    # lint (CLI and web)
    "warning": "avertissement",
    "info": "info",
    "warnings": "avertissements",
    "infos": "infos",
    "fix": "correction",
    "try": "essayez",
    "rule": "règle",
    "for": "pour",
    "what": "quoi",
    "Lint rules": "Règles",
    # challenges
    "Attempt #{n} recorded (the recruiter grades it).": (
        "Essai n° {n} enregistré (noté par le recruteur)."
    ),
    "Attempt #{n}: {score} ({passed} of {total} cases pass)": (
        "Essai n° {n} : {score} (cas réussis : {passed} sur {total})"
    ),
    "grading…": "notation…",
    # lessons: grading
    "{p}/{n} hidden cases pass ({rate}, 95% interval [{lo}, {hi}]); needed {need}.": (
        "Cas cachés réussis : {p} sur {n} ({rate}, intervalle à 95 % [{lo} ; {hi}]) ; il "
        "fallait {need}."
    ),
    "The suite has {cases}; it needs at least {need}.": (
        "La suite a {cases} ; il en faut au moins {need}."
    ),
    "On the good prompt your suite gives {iv} (needed at least {need}).": (
        "Sur le bon prompt, votre suite donne {iv} (il fallait au moins {need})."
    ),
    "On the bad prompt your suite gives {iv}.": "Sur le mauvais prompt, votre suite donne {iv}.",
    "The two intervals overlap: this suite cannot tell the good prompt from the bad one. Add "
    "cases and checks that say what a right answer is.": (
        "Les deux intervalles se chevauchent : cette suite ne distingue pas le bon prompt du "
        "mauvais. Ajoutez des cas et des contrôles qui disent ce qu'est une bonne réponse."
    ),
    "The good prompt's interval lies above the bad prompt's: the suite tells them apart.": (
        "L'intervalle du bon prompt est au-dessus de celui du mauvais : la suite les distingue."
    ),
    "check '{name}' failed on {cases}: {hint}": (
        "le contrôle « {name} » a échoué sur {cases} : {hint}"
    ),
    "the prompt could not run on {cases}: {why}": (
        "le prompt n'a pas pu s'exécuter sur {cases} : {why}"
    ),
    ": ": "\u00a0: ",  # between a label and its text
    ":": "\u00a0:",
    # check failure reasons (stored in English, shown in the page's language)
    "got {out}, expected {target}": "réponse {out}, attendu {target}",
    "got {out}, expected {target} (or {n} other)": "réponse {out}, attendu {target} (ou {n} autre)",
    "got {out}, expected {target} (or {n} others)": (
        "réponse {out}, attendu {target} (ou {n} autres)"
    ),
    "missing {items}": "manquants : {items}",
    "none of {items} found": "aucun de ces textes trouvé : {items}",
    "starts with {start}": "commence par {start}",
    "no match for /{pattern}/": "aucune correspondance pour /{pattern}/",
    "not JSON": "pas du JSON",
    "not JSON: {why}": "pas du JSON : {why}",
    "{n} characters, expected {range}": "{n} caractères, attendu {range}",
    "{n} words, expected {range}": "{n} mots, attendu {range}",
    "distance {d}, similarity {s}": "distance {d}, similarité {s}",
    "latency unknown": "latence inconnue",
    "{ms} ms (limit {limit})": "{ms} ms (limite {limit})",
    "cost unknown (no price for this model)": "coût inconnu (pas de prix pour ce modèle)",
    # errors the pages may show
    "no run '{ref}'": "aucune exécution « {ref} »",
    "run prefix '{ref}' is ambiguous": "le préfixe d'exécution « {ref} » est ambigu",
    "run {id} is not an optimization": "l'exécution {id} n'est pas une optimisation",
    "run {id} is not a probe run": "l'exécution {id} n'est pas une exécution de sondes",
    "see: prompteur runs": "voir : prompteur runs",
    "no prompt named '{name}' in {root}": "aucun prompt nommé « {name} » dans {root}",
    "several prompts are named '{name}'": "plusieurs prompts s'appellent « {name} »",
    "rename one: {names}": "renommez-en un : {names}",
    "no version '{version}' of '{name}'": "aucune version « {version} » de « {name} »",
    "version prefix '{prefix}' of '{name}' is ambiguous": (
        "le préfixe de version « {prefix} » de « {name} » est ambigu"
    ),
    "see: prompteur library versions {name}": "voir : prompteur library versions {name}",
    "'{ref}' names no version": "« {ref} » ne désigne aucune version",
    "'{name}' has no working file": "« {name} » n'a pas de fichier de travail",
    "'{name}' has no file in the library to write": (
        "« {name} » n'a pas de fichier à écrire dans la bibliothèque"
    ),
    "choose two variants of the run": "choisissez deux variantes de l'exécution",
    "the two variants are the same": "les deux variantes sont identiques",
    "unknown filter '{show}'": "filtre « {show} » inconnu",
    "'{value}' is not a number": "« {value} » n'est pas un nombre",
    "forcing a promotion needs the 'admin' scope": (
        "forcer une promotion demande la portée « admin »"
    ),
    "write NAME@VERSION": "écrivez NOM@VERSION",
    "a prompt name is required": "un nom de prompt est nécessaire",
    "give more characters": "donnez plus de caractères",
    # lessons and challenges
    "Your exercise file: {path}": "Votre fichier d'exercice : {path}",
    "Your exercise file (kept as you left it): {path}": (
        "Votre fichier d'exercice (laissé tel quel) : {path}"
    ),
    "Edit it, then grade it with: prompteur learn {id} --check {path}": (
        "Modifiez-le, puis faites-le noter : prompteur learn {id} --check {path}"
    ),
    "Start with: prompteur learn {id}": "Commencez par : prompteur learn {id}",
    "Press Enter for the exercise…": "Entrée pour l'exercice…",
    "grading on the embedded model": "notation sur le modèle embarqué",
    "Reference solution": "Solution de référence",
    "Challenge report": "Rapport de défi",
    "Candidate": "Candidat·e",
    "Challenge": "Défi",
    "Attempts": "Essais",
    "Best attempt": "Meilleur essai",
    "Final attempt": "Dernier essai",
    "time": "heure",
    "minutes in": "minutes écoulées",
    "cases passed": "cas réussis",
    "lines +/−": "lignes +/−",
    "failing checks": "contrôles en échec",
    "note": "note",
    "What changed between attempts": "Ce qui a changé d'un essai à l'autre",
    "not graded": "non noté",
    "Attempt log intact (hash chain verified).": (
        "Journal des essais intact (chaîne de hachage vérifiée)."
    ),
    "WARNING: the attempt log was edited after the fact (hash chain broken).": (
        "ATTENTION : le journal des essais a été modifié après coup (chaîne rompue)."
    ),
    "No attempt yet.": "Aucun essai pour l'instant.",
    "Final prompt": "Prompt final",
    "title": "titre",
    "summary": "résumé",
    "Every attempt carries the recruiter's seal, verified with the secret.": (
        "Chaque essai porte le sceau du recruteur, vérifié avec le secret."
    ),
    "Attempts recorded without the recruiter's secret: the history is not sealed and could "
    "have been rewritten.": (
        "Essais enregistrés sans le secret du recruteur : l'historique n'est pas scellé et a pu "
        "être réécrit."
    ),
    "The attempts are sealed, but no secret was given to check the seals "
    "(PROMPTEUR_CHALLENGE_SECRET).": (
        "Les essais sont scellés, mais aucun secret n'a été donné pour vérifier les sceaux "
        "(PROMPTEUR_CHALLENGE_SECRET)."
    ),
    "WARNING: the attempts were sealed with another secret than the one given.": (
        "ATTENTION : les essais ont été scellés avec un autre secret que celui donné."
    ),
    "WARNING: an attempt or a score was changed after it was sealed.": (
        "ATTENTION : un essai ou un score a été modifié après avoir été scellé."
    ),
    "Read {b}, edit {f}, then: prompteur challenge submit": (
        "Lisez {b}, modifiez {f}, puis : prompteur challenge submit"
    ),
    "Or run it on inputs you type (no suite needed)": (
        "Ou l'exécuter sur des entrées saisies ici (sans suite)"
    ),
    "Run on these inputs": "L'exécuter sur ces entrées",
    "unjudged": "non jugé",
    # review
    "user feedback (negative)": "avis des utilisateurs (négatifs)",
    "Review queues": "Files de relecture",
    "No review queue yet: make one with prompteur review create (see docs/review.md).": (
        "Pas encore de file de relecture : créez-en une avec prompteur review create (voir "
        "docs/review.md)."
    ),
    "queue": "file",
    "created": "créée",
    "A/B preference": "préférence A/B",
    "blind": "à l'aveugle",
    "Review queue": "File de relecture",
    "Every item of this queue has your label.": (
        "Chaque élément de cette file porte votre étiquette."
    ),
    "Review": "Relecture",
    "as": "en tant que",
    "Progress": "Avancement",
    "items done": "éléments terminés",
    "reviewers per item": "relecteurs par élément",
    "reviewer": "relecteur",
    "labelled": "étiquetés",
    "skipped": "passés",
    "Blind A/B preference": "Préférence A/B à l'aveugle",
    "Cases added to {suite}: {added} (already there: {already}).": (
        "Cas ajoutés à {suite} : {added} (déjà présents : {already})."
    ),
    "To cases": "Vers des cas",
    "Review this run": "Relire cette exécution",
    "A review queue of this run": "Une file de relecture de cette exécution",
    "Queue name": "Nom de la file",
    "checks disagree": "les contrôles divergent",
    "the judge disagrees with the other checks": "le juge contredit les autres contrôles",
    "a random sample": "un échantillon aléatoire",
    "At most (a seeded sample)": "Au plus (un échantillon à graine fixe)",
    "Make the review queue": "Créer la file de relecture",
    "A blind A/B queue of two variants": "Une file A/B à l'aveugle de deux variantes",
    "Make the blind A/B queue": "Créer la file A/B à l'aveugle",
    "Add reviewed failures to a suite as cases": (
        "Ajouter les échecs relus à une suite, comme cas"
    ),
    "failures and corrections": "échecs et corrections",
    "corrections only": "corrections seulement",
    "Only item no.": "Seulement l'élément n°",
    "Add to the suite as cases": "Ajouter à la suite comme cas",
    "A correction becomes the case's expected value; cases already in the suite are not added "
    "again.": (
        "Une correction devient la valeur attendue du cas ; les cas déjà dans la suite ne sont "
        "pas ajoutés une seconde fois."
    ),
    "{name} is preferred in {pct} of cases {ci}, {p}{ties}": (
        "{name} est préféré dans {pct} des cas {ci}, {p}{ties}"
    ),
    "Neither is preferred: {pct} of cases {ci}, {p}{ties}": (
        "Ni l'un ni l'autre n'est préféré : {pct} des cas {ci}, {p}{ties}"
    ),
    "No preference expressed yet.": "Aucune préférence exprimée pour l'instant.",
    "({ties} left out)": "({ties} à part)",
    "{name} = {value} over {items}, {reviewers}": "{name} = {value} sur {items}, {reviewers}",
    "{name}: undefined ({items})": "{name} : indéfini ({items})",
    "preferred": "préférée",
    "tie": "égalité",
    "Agreement between reviewers": "Accord entre relecteurs",
    "Agreement needs items labelled by two reviewers or more.": (
        "L'accord demande des éléments étiquetés par deux relecteurs ou plus."
    ),
    "Items the reviewers disagree on": "Éléments sur lesquels les relecteurs divergent",
    "Items": "Éléments",
    "Item": "Élément",
    "Expected": "Attendu",
    "Automatic verdict": "Verdict automatique",
    "Output": "Sortie",
    "Your label": "Votre étiquette",
    "Value": "Valeur",
    "Save": "Enregistrer",
    "Skip": "Passer",
    "Comment": "Commentaire",
    "Correct: the answer that should have been given": (
        "Corriger : la réponse qu'il aurait fallu donner"
    ),
    "Correction": "Correction",
    (
        "Keys: 1–9 choose, j/n next, k/p previous, c comment, e correct, s skip, Escape leaves a "
        "text box."
    ): (
        "Touches : 1–9 choisir, j/n suivant, k/p précédent, c commenter, e corriger, s passer, "
        "Échap quitte une zone de texte."
    ),
    "the winner on the development cases is not significantly better on the held-out test cases": (
        "le gagnant sur les cas de développement n'est pas significativement meilleur sur les "
        "cas de test réservés"
    ),
}

# Probe reasons that say in which form a text was found (probes.detectors.target_found):
# one entry per form, the form's words being fixed.
_FOUND_FORMS = {
    "as written": "en clair",
    "spelt out": "lettre par lettre",
    "in leetspeak": "en leetspeak",
    "reversed": "à l'envers",
    "in ROT13": "en ROT13",
    "in base64": "en base64",
}
for _en, _fr in _FOUND_FORMS.items():
    FRENCH[f"the system message's canary leaked ({_en})"] = (
        f"le canari du message système a fuité ({_fr})"
    )
    FRENCH[f"the output carries the attacker's canary {{goal}} ({_en})"] = (
        f"la sortie contient le canari de l'attaquant {{goal}} ({_fr})"
    )
    FRENCH[f"the output carries the attacker's label {{goal}} ({_en})"] = (
        f"la sortie contient le label de l'attaquant {{goal}} ({_fr})"
    )
del _en, _fr
