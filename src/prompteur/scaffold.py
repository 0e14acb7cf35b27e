"""`prompteur init`: a working project from the starter files shipped in the package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .config import CONFIG_NAME
from .errors import UserError
from .files import write_atomic

# starter file → where it goes in the project
_STARTER = {
    "prompteur.toml": CONFIG_NAME,
    "gitignore": ".gitignore",
    "prompts/sentiment.prompty": "prompts/sentiment.prompty",
    "prompts/tri-tickets.prompty": "prompts/tri-tickets.prompty",
    "suites/sentiment.yaml": "suites/sentiment.yaml",
    "suites/data/reviews.jsonl": "suites/data/reviews.jsonl",
    "suites/tri-tickets.yaml": "suites/tri-tickets.yaml",
    "suites/data/tickets.csv": "suites/data/tickets.csv",
}


def init_project(folder: Path, *, force: bool = False, pack: str | None = None) -> list[Path]:
    """Write the starter project into `folder`; returns the files written.

    With `pack`, the domain pack's prompts and suites too; in an existing project, only
    them. Refuses, writing nothing, when any target exists (unless `force`).
    """
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise UserError("exists and is not a folder", file=folder)
    starter = files("prompteur").joinpath("starter")
    targets = {starter.joinpath(src): folder / dst for src, dst in _STARTER.items()}
    chosen = None
    if pack is not None:
        from .packs import get_pack, manifest

        chosen = get_pack(pack)
        if (folder / CONFIG_NAME).exists() and not force:
            targets = {}
        if not force and manifest(folder, chosen.name) is not None:
            raise UserError(
                f"the pack '{chosen.name}' is installed already; nothing was written",
                hint=f"bring it up to date with: prompteur packs update {chosen.name}",
            )
    if not force:
        pack_targets = [folder / t for t in chosen.files()] if chosen else []
        existing = [t for t in [*targets.values(), *pack_targets] if t.exists()]
        if existing:
            raise UserError(
                "already exists; nothing was written",
                file=existing[0],
                hint="use --force to overwrite the starter files",
            )
    written = []
    for src, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        data = src.read_text(encoding="utf-8")
        if target.name == CONFIG_NAME:
            data = data.replace("{name}", folder.name)
        write_atomic(target, data)
        written.append(target)
    if chosen is not None:
        from .packs import install

        written += install(folder, chosen, force=force)
    (folder / ".prompteur").mkdir(exist_ok=True)
    return written
