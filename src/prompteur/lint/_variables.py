"""Variables: used in the body but declared nowhere (P007), declared but never used (P008)."""

from __future__ import annotations

from collections.abc import Iterator

from ._base import Hit, Severity, Text, rule
from ._doc import PromptDoc


@rule(
    "P007",
    "undefined-variable",
    Severity.ERROR,
    en=Text(
        "undefined variable '{name}': used in the body, declared nowhere",
        "Rendering fails (or a caller passes nothing) unless the variable is declared: "
        "declared inputs are what tools, suites and colleagues know to provide.",
        "Declare it under inputs: in the front matter (with a kind and a description), or fix "
        "the name if it is a typo.",
    ),
    fr=Text(
        "variable « {name} » non définie : utilisée dans le corps, déclarée nulle part",
        "Le rendu échoue (ou l'appelant ne fournit rien) si la variable n'est pas déclarée : "
        "les entrées déclarées sont ce que les outils, les suites et les collègues savent "
        "fournir.",
        "Déclarez-la sous inputs: dans l'en-tête (avec un kind et une description), ou "
        "corrigez le nom s'il s'agit d'une faute de frappe.",
    ),
)
def undefined_variable(doc: PromptDoc) -> Iterator[Hit]:
    import difflib

    declared = list(doc.prompt.meta.inputs)
    for name, line in doc.undefined.items():
        close = difflib.get_close_matches(name, declared, n=1)
        if close:
            suggestion = f"{{{{ {close[0]} }}}}  # typo for '{close[0]}'?"
        else:
            suggestion = f"inputs:\n  {name}:\n    kind: string\n    description: <what it holds>"
        yield Hit(line, {"name": name}, suggestion)


@rule(
    "P008",
    "unused-variable",
    Severity.WARNING,
    en=Text(
        "unused input '{name}': declared but never used in the body",
        "Callers must provide a value the model never sees: usually a typo in the body, or a "
        "piece of context that was meant to be there and is missing.",
        "Use it in the body ({{{{ {name} }}}}) or remove it from inputs:.",
    ),
    fr=Text(
        "entrée « {name} » inutilisée : déclarée mais jamais employée dans le corps",
        "Les appelants doivent fournir une valeur que le modèle ne voit jamais : souvent une "
        "faute de frappe dans le corps, ou un élément de contexte oublié.",
        "Employez-la dans le corps ({{{{ {name} }}}}) ou retirez-la de inputs:.",
    ),
)
def unused_variable(doc: PromptDoc) -> Iterator[Hit]:
    used = doc.used_names
    for name in doc.prompt.meta.inputs:
        if name not in used:
            yield Hit(doc.input_line(name), {"name": name}, f"{{{{ {name} }}}}")
