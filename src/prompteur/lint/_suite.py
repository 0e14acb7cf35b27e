"""Rules on suites: a suite whose checks cannot fail on a field the prompt produces."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..prompt import Prompt
from ..suite import Suite
from ._base import Hit, Severity, Text, rule


@dataclass
class SuiteDoc:
    suite: Suite
    file: str
    prompts: list[Prompt] = field(default_factory=list)

    def suppressed(self, rule_id: str, line: int) -> bool:
        return False


def suite_doc(path: Path, file: str) -> SuiteDoc:
    """The suite and the prompts of its project that it names (those it names that cannot be
    found are left to `prompteur eval` to report)."""
    from ..config import find_config_file
    from ..errors import UserError
    from ..library import Library
    from ..suite import load_suite

    suite = load_suite(path)
    project = find_config_file(path.parent)
    root = project.parent if project else path.parent
    library = Library(root / "prompts", root)
    prompts = []
    for ref in suite.spec.prompts:
        try:
            prompts.append(library.get(ref.partition("@")[0]))
        except UserError:
            continue
    return SuiteDoc(suite, file, prompts)


@rule(
    "S001",
    "blind-field",
    Severity.WARNING,
    kind="suite",
    en=Text(
        title="no check can fail on field '{field}' of '{prompt}'",
        why="is-json, json-schema and lengths pass whatever the field says: a wrong '{field}' "
        "goes unseen, and the suite scores high on a prompt that gets it wrong.",
        fix="compare it: give the cases an expected object and add {{type: equals}} (or "
        "{{type: equals, fields: [...]}}), or a check with path: {field}.",
    ),
    fr=Text(
        title="aucune vérification ne peut échouer sur le champ '{field}' de '{prompt}'",
        why="is-json, json-schema et les longueurs passent quoi que dise le champ : un '{field}' "
        "faux passe inaperçu, et la suite donne un bon score à un prompt qui se trompe.",
        fix="comparez-le : donnez aux cas un objet attendu et ajoutez {{type: equals}} (ou "
        "{{type: equals, fields: [...]}}), ou une vérification avec `path: {field}`.",
    ),
)
def blind_field(doc: SuiteDoc) -> Iterable[Hit]:
    from ._coverage import blind_fields

    line = doc.suite.lines.line(("checks",)) if ("checks",) in doc.suite.lines else 1
    for prompt in doc.prompts:
        for name in blind_fields(doc.suite, prompt.output_schema):
            yield Hit(
                line,
                {"field": name, "prompt": prompt.name},
                suggestion=f"- {{type: equals, fields: [{name}]}}   # cases expect objects",
            )
