"""P000: the file does not load at all. The engine reports it (a broken file is a finding, not
a crash); it is registered here so that it is listed, selectable and documented."""

from __future__ import annotations

from collections.abc import Iterator

from ._base import Hit, Severity, Text, rule


@rule(
    "P000",
    "does-not-load",
    Severity.ERROR,
    en=Text(
        "the file does not load: {error}",
        "Nothing can run a prompt file that does not parse; every other rule is skipped.",
        "Fix the error at the line shown.",
    ),
    fr=Text(
        "le fichier ne se charge pas : {error}",
        "Rien ne peut exécuter un fichier de prompt qui ne s'analyse pas ; les autres règles "
        "sont ignorées.",
        "Corrigez l'erreur à la ligne indiquée.",
    ),
)
def does_not_load(doc: object) -> Iterator[Hit]:
    return iter(())
