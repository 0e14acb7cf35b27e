"""`prompteur draft`: a brief in, a first prompt and a starter suite out. Thin: prompteur.draft
does the work; heavy modules load inside the command so `prompteur --help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import _common as common

SHORT_HELP = "Draft a first prompt and a starter suite from a brief."


def draft_command(
    brief: Annotated[Path, typer.Option("--brief", help="The brief (YAML).")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Who writes the instructions: 'local' assembles them from the pattern library; "
            "a capable model (openai:gpt-4o-mini, …) writes them. Default: the project's model.",
        ),
    ] = None,
    out_prompt: Annotated[
        Path | None,
        typer.Option(
            "--out-prompt", help="Where to write the prompt (default: prompts/NAME.prompty)."
        ),
    ] = None,
    out_suite: Annotated[
        Path | None,
        typer.Option("--out-suite", help="Where to write the suite (default: suites/NAME.yaml)."),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language of the prompt, en or fr (default: the brief's)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Draft a prompt file (role, context, instructions, output format, few-shot examples) and
    a suite whose cases are the brief's examples not shown in the prompt. Nothing is written if
    a file exists (without --force) or if anything fails to load back."""
    import asyncio

    from ..draft import draft

    result = asyncio.run(
        draft(
            brief,
            common.config(),
            model_id=model,
            out_prompt=out_prompt,
            out_suite=out_suite,
            lang=lang,
        )
    )
    written = result.write(force=force)
    err = common.console(stderr=True)
    for warning in result.warnings:
        err.print(f"[bold yellow]warning:[/] {warning}", markup=True)
    if as_json:
        common.print_json(result.to_dict())
        return
    console = common.console()
    author = result.instructions.author
    how = (
        f"assembled from the pattern library ({len(result.instructions.patterns)} patterns)"
        if author == "patterns"
        else f"written by {author}"
    )
    console.print(f"Instructions {how}.", markup=False)
    for path in written:
        console.print(f"  wrote {common.shown(path)}", markup=False)
    for note in result.notes:
        console.print(f"  - {note}", markup=False)
    console.print(f"Next: prompteur eval {common.shown(result.suite_path)}", markup=False)
