"""What the prompt is for: a stated objective (P001), an audience for text people will read
(P002), and the shape of the answer (P003)."""

from __future__ import annotations

from collections.abc import Iterator

from . import _constraints
from ._base import Hit, Severity, Text, rule
from ._doc import PromptDoc
from ._lexicon import AUDIENCE, FORMAT, WRITING, is_task


@rule(
    "P001",
    "no-objective",
    Severity.WARNING,
    en=Text(
        "no stated objective: nothing says what the model must do",
        "A model guesses the task from whatever it sees; a role or a context alone ('You are "
        "an assistant.') leaves it to continue the text in any direction.",
        "Start with one sentence that states the task with a verb: 'Classify …', 'Summarise "
        "…', 'Answer …'.",
    ),
    fr=Text(
        "aucun objectif énoncé : rien ne dit au modèle ce qu'il doit faire",
        "Le modèle devine la tâche d'après ce qu'il voit ; un rôle ou un contexte seul (« Vous "
        "êtes un assistant. ») le laisse poursuivre le texte dans n'importe quelle direction.",
        "Commencez par une phrase qui énonce la tâche avec un verbe : « Classez … », « Résumez "
        "… », « Répondez … ».",
    ),
)
def no_objective(doc: PromptDoc) -> Iterator[Hit]:
    if any(is_task(s.text) for s in doc.sentences):
        return
    suggestion = (
        "Ajoutez en tête : « Votre tâche : <verbe> <quoi> (par ex. « Classez le message "
        "suivant… »). »"
        if doc.lang == "fr"
        else "Add first: 'Your task: <verb> <what> (e.g. 'Classify the message below…').'"
    )
    if doc.prompt.meta.description and is_task(doc.prompt.meta.description):
        # The front matter says the task to people but not to the model: reuse its words.
        desc = doc.prompt.meta.description.strip()
        suggestion = (
            f"La description le dit aux humains, pas au modèle : ajoutez « {desc} » au début "
            "du tour system."
            if doc.lang == "fr"
            else f"The description tells people, not the model: add '{desc}' at the start of "
            "the system turn."
        )
    yield Hit(doc.first_line, suggestion=suggestion)


@rule(
    "P002",
    "no-audience",
    Severity.WARNING,
    en=Text(
        "writing task with no audience: who will read the text?",
        "Register, vocabulary, length and what to explain all depend on the reader: without "
        "one the model writes for nobody in particular.",
        "Name the reader: 'for customers who are not technical', 'for the finance team'.",
    ),
    fr=Text(
        "tâche de rédaction sans public : qui lira le texte ?",
        "Le registre, le vocabulaire, la longueur et ce qu'il faut expliquer dépendent du "
        "lecteur : sans lui, le modèle écrit pour personne en particulier.",
        "Nommez le lecteur : « pour des clients non techniciens », « pour l'équipe finance ».",
    ),
)
def no_audience(doc: PromptDoc) -> Iterator[Hit]:
    writing = [s for s in doc.sentences if WRITING.match(s.text.lstrip("-*• "))]
    if not writing:
        return
    text = doc.instruction_text + "\n" + (doc.prompt.meta.description or "")
    if AUDIENCE.search(text):
        return
    first = writing[0]
    suggestion = (
        f"« {first.text.rstrip('.')} pour <lecteur : par ex. des clients non techniciens>. »"
        if doc.lang == "fr"
        else f"'{first.text.rstrip('.')} for <reader: e.g. customers who are not technical>.'"
    )
    yield Hit(first.line, suggestion=suggestion)


@rule(
    "P003",
    "no-output-format",
    Severity.WARNING,
    en=Text(
        "no output format: nothing says what the answer should look like",
        "Without a format the model picks one, and a different one from call to call: checks, "
        "parsers and people downstream cannot rely on it.",
        "Say the form and size of the answer: 'Answer with one word: positive or negative.', "
        "'Return JSON with keys …', 'Three bullet points, at most 15 words each.'",
    ),
    fr=Text(
        "aucun format de sortie : rien ne dit à quoi la réponse doit ressembler",
        "Sans format, le modèle en choisit un, et pas le même d'un appel à l'autre : les "
        "vérifications, les programmes et les personnes en aval ne peuvent pas s'y fier.",
        "Indiquez la forme et la taille de la réponse : « Répondez par un seul mot : positif ou "
        "négatif. », « Renvoyez du JSON avec les clés … », « Trois puces de 15 mots au plus. »",
    ),
)
def no_output_format(doc: PromptDoc) -> Iterator[Hit]:
    meta = doc.prompt.meta
    if meta.outputs or meta.output_schema or doc.demos or doc.cue:
        return
    if any(FORMAT.search(s.text) for s in doc.sentences):
        return
    if _constraints.label_set(doc):
        return
    suggestion = (
        "Ajoutez : « Format de réponse : <forme> (par ex. trois puces de 15 mots au plus, "
        'ou du JSON {"categorie": …}). »'
        if doc.lang == "fr"
        else "Add: 'Answer format: <form> (e.g. three bullet points of at most 15 words, or "
        'JSON {"category": …}).\''
    )
    yield Hit(doc.first_line, suggestion=suggestion)
