"""Which suite judges a prompt, for the gate and for regression runs.

In order: the suite given on the command line; `metadata.suite` in the prompt's front matter;
`[registry.suites]` in prompteur.toml; else the one suite in the project's suites folder whose
`prompts:` names the prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..prompt import stem_name
from ..suite import Suite, load_suite

if TYPE_CHECKING:
    from ..config import Config
    from ..prompt import Prompt

SUITE_SUFFIXES = (".yaml", ".yml")


def _named(config: Config, ref: str, base: Path) -> Path:
    """A suite path as written (relative to `base`, the project, or to where the command runs),
    or a bare name in the suites folder."""
    path = Path(ref)
    candidates = [path if path.is_absolute() else base / path, path]
    if not path.suffix:
        candidates += [config.suites_dir / f"{ref}{s}" for s in SUITE_SUFFIXES]
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0]


def names_prompt(entry: str, name: str) -> bool:
    bare = entry.partition("@")[0]
    return bare == name or (Path(bare).suffix != "" and stem_name(Path(bare)) == name)


def suites_naming(config: Config, name: str) -> list[Path]:
    """Suite files in the suites folder whose `prompts:` names `name` (unreadable files are
    skipped: they are reported when someone runs them, not here)."""
    from ..errors import UserError
    from ..yamlfile import read_text, safe_load

    folder = config.suites_dir
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix in SUITE_SUFFIXES):
        try:
            data = safe_load(read_text(path, "suite file"), path)
        except UserError:
            continue
        prompts = data.get("prompts") if isinstance(data, dict) else None
        if isinstance(prompts, str):
            prompts = [prompts]
        if isinstance(prompts, list) and any(
            isinstance(e, str) and names_prompt(e, name) for e in prompts
        ):
            found.append(path)
    return found


def find_suite(config: Config, prompt: Prompt, explicit: str | None = None) -> Suite:
    name = prompt.name
    if explicit:
        return load_suite(_named(config, explicit, config.root))
    in_file = prompt.meta.metadata.get("suite")
    if in_file is not None:
        if not isinstance(in_file, str) or not in_file.strip():
            raise UserError(
                "metadata.suite must be a suite file path",
                file=prompt.path,
                field="metadata.suite",
            )
        # The prompt's own text names it (a version stored through the web, too): a
        # path inside the project only.
        from ..library import Library

        try:
            inside = Library.from_config(config).in_project(in_file, config.root, what="suite")
        except UserError as exc:
            raise UserError(
                exc.message, file=prompt.path, field="metadata.suite", hint=exc.hint
            ) from None
        return load_suite(_named(config, str(inside.relative_to(config.root)), config.root))
    configured = config.data.registry.suites.get(name)
    if configured:
        return load_suite(_named(config, configured, config.root))
    found = suites_naming(config, name)
    if len(found) > 1:
        own = [p for p in found if p.stem == name]
        if len(own) == 1:
            return load_suite(own[0])
        raise UserError(
            f"several suites name the prompt '{name}': "
            + ", ".join(str(p.relative_to(config.root)) for p in found),
            field="suite",
            hint="choose one with --suite, or set metadata.suite in the prompt's front matter",
        )
    if not found:
        raise UserError(
            f"no suite judges the prompt '{name}'",
            field="suite",
            hint="pass --suite SUITE, set metadata.suite in the prompt's front matter, or "
            f'add [registry.suites] {name} = "suites/....yaml" to prompteur.toml',
        )
    return load_suite(found[0])
