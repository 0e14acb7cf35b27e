"""`prompteur import …`: bring projects from other tools in. Thin: the importers do the work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..i18n import plural
from . import _common as common

import_app = typer.Typer(
    help="Convert projects from other tools (promptfoo) into prompt files and suites.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@import_app.command("promptfoo")
def promptfoo(
    config: Annotated[
        Path,
        typer.Argument(help="The promptfoo config (promptfooconfig.yaml), or its folder."),
    ] = Path("promptfooconfig.yaml"),
    out: Annotated[
        Path, typer.Option("--out", help="The project to write prompts/ and suites/ into.")
    ] = Path("."),
    name: Annotated[
        str | None,
        typer.Option("--name", help="Name of the suite and prompts (default: from the config)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Convert a promptfoo project: prompts, providers, tests, scenarios, vars and assertions
    become prompt files and one suite, rendered as promptfoo renders them; a redteam section
    becomes a probe plan. Everything that could not be converted is listed (where, what, why);
    nothing is written if any file fails to load back. The config's code (Python and JavaScript
    assertions, transforms, providers) runs, bounded and out of process, when the suite runs."""
    from ..importers.promptfoo import convert_promptfoo

    conversion = convert_promptfoo(config, out=out, name=name)
    written = conversion.write(force=force)
    if as_json:
        common.print_json(conversion.to_dict())
        return
    console = common.console()
    console.print(f"Wrote {plural(len(written), 'file')}:", markup=False)
    for path in written:
        console.print(f"  {common.shown(path)}", markup=False)
    if conversion.notes:
        console.print("Converted with a change:", markup=False)
        for note in conversion.notes:
            console.print(f"  - {note}", markup=False)
    if conversion.skipped:
        console.print(f"Could not convert ({len(conversion.skipped)}):", markup=False)
        for item in conversion.skipped:
            console.print(f"  - {item}", markup=False)
    else:
        console.print("Everything was converted.", markup=False)
    if conversion.suite is not None:
        console.print(f"Next: prompteur eval {common.shown(conversion.suite)}", markup=False)
    if conversion.plan is not None:
        console.print(f"      prompteur probe --plan {common.shown(conversion.plan)}", markup=False)
