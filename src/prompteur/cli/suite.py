"""`prompteur suite …`: commands about suites themselves (their strength)."""

from __future__ import annotations

from typing import Annotated

import typer

from . import _common as common

suite_app = typer.Typer(
    help="Work on suites themselves: how strong a suite is (mutation testing).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@suite_app.command("strength")
def strength_command(
    suite: Annotated[str, typer.Argument(help="A suite file (YAML).")],
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Run on these models instead (repeatable)."),
    ] = None,
    budget: Annotated[
        int,
        typer.Option(
            help="Most model calls to spend (the baseline and the prompt mutants).", min=0
        ),
    ] = 300,
    outputs_only: Annotated[
        bool,
        typer.Option(
            "--outputs-only",
            help="Mutate outputs only: no model call (references are the run's outputs with "
            "--run, else the cases' expected values).",
        ),
    ] = False,
    run: Annotated[
        str | None,
        typer.Option(help="Mutate the outputs of this stored run instead of running the suite."),
    ] = None,
    cases: Annotated[
        int | None,
        typer.Option(
            "--cases",
            help="Run the model on a seeded sample of this many cases (the baseline and each "
            "prompt mutant); the mutants that survive it run on more cases until killed, or "
            "until the cases or --budget run out.",
            min=1,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the --cases sample.")] = 0,
    fail_under: Annotated[
        float | None,
        typer.Option(
            help="Exit 1 when the share of mutants killed is below this (0–1).", min=0, max=1
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Mutation testing for a suite: standard mutants of the prompt (drop the instruction, swap
    the labels, remove the output format, vous → tu, a wrong example, truncate) and of its
    outputs (a wrong field value, the wrong register, broken JSON, an empty answer), the share
    of them the suite's checks kill — per check and in all — and the survivors listed."""
    import asyncio

    from ..errors import PrompteurError

    try:
        config = common.config()
        store = common.store(config)
        recorded = None
        if run is not None:
            recorded = list(store.results(store.get_run(run).id))
        from ..strength import measure

        err = common.console(stderr=True)
        report = asyncio.run(
            measure(
                config,
                store,
                suite,
                models=model,
                budget=budget,
                outputs_only=outputs_only or run is not None,
                recorded=recorded,
                cases=cases,
                seed=seed,
                on_progress=lambda text: err.print(text, markup=False),
            )
        )
    except PrompteurError as exc:
        common.fail(exc)
    if as_json:
        common.print_json(report.to_dict())
    else:
        _print_report(report)
    score = report.score
    if fail_under is not None and (score is None or score < fail_under):
        common.console(stderr=True).print(
            f"[red]{score or 0:.0%} of mutants killed, under --fail-under {fail_under:.0%}[/]",
            markup=True,
        )
        raise typer.Exit(1)


def _print_report(report: object) -> None:
    from rich.table import Table

    from ..strength import StrengthReport

    assert isinstance(report, StrengthReport)
    console = common.console()
    counted = len(report.counted)
    score = f"{report.score:.0%}" if report.score is not None else "—"
    if (interval := report.interval()) is not None:
        score += f", 95% interval {interval[0]:.0%}–{interval[1]:.0%}"
    console.print(
        f"{report.suite}: {report.killed}/{counted} mutants killed ({score}) · "
        f"{sum(m.status == 'equivalent' for m in report.mutants)} equivalent · "
        f"{sum(m.status == 'skipped' for m in report.mutants)} not run · "
        f"{report.calls} model calls",
        markup=False,
    )
    table = Table(title="Kills per check", title_justify="left")
    table.add_column("check")
    table.add_column("killed", justify="right")
    table.add_column("share", justify="right")
    for label, n in report.per_check().items():
        table.add_row(label, str(n), f"{n / counted:.0%}" if counted else "—")
    console.print(table)
    ops = Table(title="Per mutation", title_justify="left")
    for col in ("mutation", "killed / counted"):
        ops.add_column(col)
    for op, (k, n) in sorted(report.per_operator().items()):
        ops.add_row(op, f"{k}/{n}")
    console.print(ops)
    survivors = report.survivors()
    if survivors:
        console.print(f"survivors ({len(survivors)}):", markup=False)
        for m in survivors[:30]:
            where = f" case {m.case_id}" if m.case_id else ""
            console.print(f"  ✗ {m.target}:{m.operator}{where} — {m.detail}", markup=False)
            if m.note:
                console.print(f"      {m.note}", markup=False)
        if len(survivors) > 30:
            console.print(f"  … and {len(survivors) - 30} more (--json lists all)", markup=False)
    for name, fields in report.blind.items():
        console.print(
            f"no check can fail on {', '.join(fields)} of {name} (lint S001): a wrong value "
            "there goes unseen",
            markup=False,
        )
    for note in report.notes:
        if note.startswith(("sample:", "baseline:")):
            console.print(note, markup=False)
    for m in report.mutants:
        if m.status == "skipped" and m.note.startswith("budget"):
            console.print(
                f"not run: prompt:{m.operator} ({m.note}); raise --budget to run it", markup=False
            )
