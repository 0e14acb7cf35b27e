"""The playground's work besides running (`prompteur.api.try_prompt` runs an edited prompt on
the first cases of its suite, or on inputs typed in the page): the edited prompt parsed, or
saved as a version."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..models.providers import check_endpoint
from ..prompt import Prompt, parse_prompt

if TYPE_CHECKING:
    from ..config import Config
    from ..library import Library
    from ..store import Store

CASE_CHOICES = ("3", "10", "all")


def edited(text: str, library: Library, name: str) -> tuple[Prompt, Path | None]:
    """The edited prompt (a UserError names the line), and the library file it replaces.
    `name` is a prompt of the library or nothing: never a path."""
    from ..library import check_name

    original = None
    if name:
        check_name(name)  # a path, a NUL, 2 kB: a 400, not a lookup
        try:
            original = library.get(name)
        except UserError:
            original = None
    path = original.path if original else None
    # Parsed under the file's name so that errors point at the file being edited.
    prompt = parse_prompt(text, path=path, name=name or None)
    return prompt, path


def save(
    config: Config, store: Store, library: Library, name: str, prompt: Prompt, write_file: bool
) -> tuple[bool, Path | None]:
    """Record the version (immutable, by content hash) and, when asked, rewrite the library
    file of the prompt `name`. Returns (new version, file written). A text whose model names
    an endpoint the project does not is refused: a stored version must never carry one."""
    if prompt.model_id:
        check_endpoint(prompt.model_id, config)
    target = library.get(name) if write_file else None
    source = str(target.path) if target and target.path else None
    new = store.save_version(prompt.name, prompt.version, prompt.text, source)
    if target is not None:
        return new, library.write(name, prompt.text)
    return new, None
