"""`prompteur packs`: list, show, install, update and measure the domain packs — a thin shell
over prompteur.packs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from . import _common as common
from ._common import JsonOpt

packs_app = typer.Typer(
    help="Domain packs: versioned prompts (English and French) with suites and a model card. "
    "Without a command: the list.",
    invoke_without_command=True,
    rich_markup_mode=None,
)

LangOpt = common.LangOpt
PackArg = Annotated[str, typer.Argument(help="The pack's name (see: prompteur packs).")]


def _project_root() -> Path:
    """The project around the working folder (a pack is installed into a project)."""
    config = common.config()
    if config.file is None:
        from ..config import CONFIG_NAME
        from ..errors import UserError

        raise UserError(
            f"not in a prompteur project: no {CONFIG_NAME} here or above",
            hint="create one with the pack: prompteur init DIR --pack NAME",
        )
    return config.root


def _rates(pack: Any) -> dict[str, str]:
    """model → mean pass rate, from the pack's card."""
    models = pack.card().get("models") or {}
    return {
        m: f"{e['mean_pass_rate']:.0%}"
        for m, e in models.items()
        if isinstance(e, dict) and e.get("mean_pass_rate") is not None
    }


@packs_app.callback()
def packs_list(ctx: typer.Context, lang: LangOpt = "en", as_json: JsonOpt = False) -> None:
    """List the domain packs; add one to a project with prompteur packs install NAME."""
    if ctx.invoked_subcommand is not None:
        return
    from ..learn import check_lang
    from ..packs import packs

    lang = check_lang(lang)
    rows = [
        {
            "name": p.name,
            "version": p.version,
            "description": p.description(lang),
            "prompts": p.prompts,
            "suites": p.suites,
            "card": _rates(p),
        }
        for p in packs()
    ]
    if as_json:
        common.print_json(rows)
        return
    from rich.table import Table

    heads = {
        "en": ("name", "version", "prompts", "measured pass rate", "description"),
        "fr": ("nom", "version", "prompts", "taux de réussite mesuré", "description"),
    }[lang]
    table = Table(title="Packs", title_justify="left")
    for col in heads:
        table.add_column(col, overflow="fold")
    for r in rows:
        card = ", ".join(f"{m} {v}" for m, v in r["card"].items()) or "—"
        table.add_row(r["name"], r["version"], str(len(r["prompts"])), card, r["description"])
    common.console().print(table)
    hint = {
        "en": "Add one: prompteur packs install NAME (or prompteur init DIR --pack NAME)",
        "fr": "Pour en ajouter un : prompteur packs install NOM (ou prompteur init DOSSIER "
        "--pack NOM)",
    }[lang]
    common.console().print(hint, markup=False)


@packs_app.command("show")
def packs_show(name: PackArg, as_json: JsonOpt = False) -> None:
    """A pack's prompts, each with its language, suite and pass rate per measured model."""
    from ..packs import get_pack

    pack = get_pack(name)
    card = pack.card()
    from ..prompt import load_prompt

    prompts = [load_prompt(f) for f in pack.prompt_files()]
    models = card.get("models") or {}
    if as_json:
        common.print_json(
            {
                "name": pack.name,
                "version": pack.version,
                "prompts": [
                    {
                        "name": p.name,
                        "family": p.meta.metadata.get("family"),
                        "lang": p.meta.metadata.get("lang"),
                        "description": p.meta.description,
                    }
                    for p in prompts
                ],
                "card": card,
            }
        )
        return
    from rich.table import Table

    table = Table(title=f"{pack.name} {pack.version}", title_justify="left")
    for col in ("prompt", "lang", *models, "description"):
        table.add_column(col, overflow="fold")
    for p in prompts:
        cells = []
        for entry in models.values():
            figures = (entry.get("prompts") or {}).get(p.name)
            cells.append(
                f"{figures['passed']}/{figures['judged']}"
                if figures and figures.get("judged")
                else "—"
            )
        table.add_row(
            p.name, str(p.meta.metadata.get("lang", "")), *cells, p.meta.description or ""
        )
    common.console().print(table)


@packs_app.command("install")
def packs_install(
    name: PackArg,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the pack's files if they exist.")
    ] = False,
) -> None:
    """Add a pack to this project: its prompts under prompts/NAME/, its suites under
    suites/NAME/, and .packs/NAME/ (commit it: it lets packs update merge your edits)."""
    from ..packs import get_pack, install

    root = _project_root()
    written = install(root, get_pack(name), force=force)
    console = common.console()
    console.print(f"Installed {name}: {len(written)} files.", markup=False)
    for path in written:
        console.print(f"  {path.relative_to(root)}", markup=False)


@packs_app.command("update")
def packs_update(
    name: PackArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Bring an installed pack to the version this prompteur ships, showing the diff. A file
    you changed is never overwritten: when the pack changed it too, the three-way merge
    (yours, the pack's old and new versions) is written beside it as FILE.pack-new."""
    from ..packs import get_pack, update

    root = _project_root()
    result = update(root, get_pack(name), dry_run=dry_run)
    if as_json:
        common.print_json(result.to_dict())
        return
    console = common.console()
    verb = "would change" if dry_run else "changed"
    console.print(
        f"{name} {result.old_version} → {result.new_version}: {len(result.of('added'))} added, "
        f"{len(result.of('updated'))} updated, {len(result.of('kept'))} kept as you changed "
        f"them, {len(result.of('merged', 'conflict'))} to review, "
        f"{len(result.of('unchanged'))} unchanged ({verb}).",
        markup=False,
    )
    words = {
        "added": "added",
        "updated": "updated (you had not changed it)",
        "kept": "kept: you changed it, the pack did not",
        "merged": "you and the pack both changed it: merged cleanly into",
        "conflict": "you and the pack both changed it: conflicts marked in",
        "deleted": "you deleted it: not brought back",
        "removed": "no longer in the pack: left as it is",
    }
    for c in result.changes:
        if c.status == "unchanged":
            continue
        where = f" {c.proposal}" if c.proposal else ""
        console.print(f"  {c.target}: {words[c.status]}{where}", markup=False)
        if c.diff:
            console.print(c.diff.rstrip("\n"), markup=False, highlight=False)
    if result.of("merged", "conflict"):
        console.print(
            "Your files were not touched. Review each .pack-new file, then move it over "
            "yours (or delete it).",
            markup=False,
        )


@packs_app.command("measure")
def packs_measure(
    name: PackArg,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Model id(s) to measure (default: local)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the card here instead of into the pack."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every suite of the pack (as shipped) on each model and write the pass rates into
    the pack's model card (model-card.yaml), keeping the other models' figures."""
    from ..packs import get_pack, measure, write_card

    config = common.config()
    pack = get_pack(name)
    entries = {}
    for model_id in model or ["local"]:
        with common.progress(common.console(stderr=True)) as progress:
            task = progress.add_task(f"{name} on {model_id}", total=None, extra="")
            entries[model_id] = measure(
                pack,
                model_id,
                config,
                on_start=lambda n, task=task: progress.update(task, total=n),
                on_result=lambda _r, task=task: progress.advance(task),
            )
        path = write_card(pack, model_id, entries[model_id], out)
    if as_json:
        common.print_json({"card": str(path), "models": entries})
        return
    from rich.table import Table

    table = Table(title=f"{pack.name} {pack.version} — model card", title_justify="left")
    table.add_column("prompt")
    for model_id in entries:
        table.add_column(model_id)
    names = list(next(iter(entries.values()))["prompts"])
    for prompt_name in names:
        cells = []
        for e in entries.values():
            f = e["prompts"][prompt_name]
            rate = "—" if f["pass_rate"] is None else f"{f['pass_rate']:.0%}"
            cells.append(f"{f['passed']}/{f['judged']} ({rate})")
        table.add_row(prompt_name, *cells)
    console = common.console()
    console.print(table)
    console.print(f"Written: {path}", markup=False)
