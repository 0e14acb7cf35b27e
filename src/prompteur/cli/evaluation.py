"""`prompteur eval`, `runs`, `show` and `compare`: suites run, listed, reported, compared."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UserError
from ..i18n import count
from . import _common as common
from ._common import JsonOpt, OutputOpt

if TYPE_CHECKING:
    from ..store.db import RunInfo


def eval_(
    suite: Annotated[str | None, typer.Argument(help="A suite file (YAML).")] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Run on these models instead (repeatable)."),
    ] = None,
    repeat: Annotated[
        int | None, typer.Option(help="Repeats per case (independent samples).", min=1)
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(help="Finish an interrupted run: only what is missing is computed."),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache", help="Call the model even when the same request was answered before."
        ),
    ] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Calls in flight per model (default: 8; 16 for local, batched in one context).",
            min=1,
        ),
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option(help="Exit 1 when a variant's pass rate is below this (0–1).", min=0, max=1),
    ] = None,
    output: OutputOpt = None,
) -> None:
    """Run a suite: prompts × models × cases × repeats. Every result is stored as it arrives;
    an interrupted run resumes with --resume RUN."""
    import asyncio
    import time
    from pathlib import Path

    from ..api import Project, evaluate_async

    if not suite and not resume:
        raise UserError("name a suite file, or --resume RUN")
    config = common.config()
    project = Project(config)
    store = project.store
    err = common.console(stderr=True)
    counts = {"pass": 0, "judged": 0, "cost": 0.0}
    begun = time.monotonic()
    bar = common.RunBar(err, "eval")

    def on_plan(plan: Any) -> None:
        bar.shape = (
            f"{count(len(plan.prompts), 'prompt')} × {count(len(plan.model_ids), 'model')} × "
            f"{count(plan.suite.count_cases(), 'case')} × {count(plan.repeat, 'repeat')}"
        )

    def on_result(r: Any) -> None:
        if r.passed is not None:
            counts["judged"] += 1
            counts["pass"] += bool(r.passed)
        counts["cost"] += r.cost or 0.0
        rate = counts["pass"] / counts["judged"] if counts["judged"] else 0.0
        bar.update(
            advance=1,
            extra=f"pass {rate:.0%} · ${counts['cost']:.4f} · {time.monotonic() - begun:.0f}s",
        )

    with bar:
        outcome = asyncio.run(
            evaluate_async(
                project,
                # The suite as the user typed it: a file of theirs, relative to the working folder.
                Path(suite) if suite else None,
                models=model,
                repeat=repeat,
                resume=resume,
                use_cache=not no_cache,
                concurrency=concurrency,
                on_plan=on_plan,
                on_start=bar.start,
                on_result=on_result,
            )
        )
    stats, run_id = outcome.stats, outcome.run_id
    err.print(
        f"{stats.done} new results · {stats.calls} model calls · {stats.cached} from "
        f"cache · {stats.retries} retries ({stats.rate_limited} rate-limited) · "
        f"{stats.errors} errors",
        markup=False,
    )
    lowest = common.print_summary(store, run_id)
    common.write_reports(store, run_id, output)
    if stats.done and stats.errors == stats.done:
        common.console(stderr=True).print(
            f"[bold red]error:[/] every one of the {stats.done} calls failed: see the errors "
            f"above (prompteur show {run_id})",
            markup=True,
        )
        raise typer.Exit(1)
    if fail_under is not None and (lowest is None or lowest < fail_under):
        common.console(stderr=True).print(
            f"[red]pass rate {lowest if lowest is not None else 0:.1%} is"
            f" under --fail-under {fail_under:.1%}[/]",
            markup=True,
        )
        raise typer.Exit(1)


def list_runs(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List runs, newest first."""
    rows = common.store(common.config()).runs(limit)
    if as_json:
        common.print_json([r.__dict__ for r in rows])
        return

    table = common.table(title="Runs")
    for col in ("id", "suite", "status", "progress", "passed", "failed", "errors", "started"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.id,
            r.suite,
            r.status,
            progress_of(r),
            str(r.passed),
            str(r.failed),
            str(r.errors),
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    common.console().print(table)


def progress_of(run: RunInfo) -> str:
    """How far a run got: results for an eval or a probe ("12/60"); for an optimization,
    its task-model calls against the budget, which caps them all (the search's and the
    held-out report's), with the split beside them."""
    from ..records import RunKind

    if run.kind == RunKind.OPTIMIZE:
        calls = (run.plan.get("result") or {}).get("calls")
        if calls:
            total = calls.get("total", calls["search"] + calls.get("reporting", 0))
            return (
                f"calls {total} of {calls['budget']} "
                f"({calls['search']} search · {calls.get('reporting', 0)} reporting)"
            )
        return f"calls {min(run.done, run.total)} of {run.total}"
    return f"{run.done}/{run.total}"


def show(
    run: Annotated[str, typer.Argument(help="A run id (or prefix, or 'latest').")],
    output: OutputOpt = None,
    worst: Annotated[int, typer.Option(help="Failing cases to show per variant.")] = 3,
) -> None:
    """Print a run's report again (and write it to files with -o)."""
    store = common.store(common.config())
    info = store.get_run(run)
    if info.kind == "probe":
        # The eval table (one row per model, pass rates over mixed probe cases) means
        # nothing for a probe run: show its own report, and write its own formats.
        common.show_probe_run(common.console(), store, info, output, worst=worst)
        return
    common.print_summary(store, info.id, worst=worst)
    common.write_reports(store, info.id, output)


def compare(
    run_a: Annotated[str, typer.Argument(help="The baseline run (id, prefix or 'latest').")],
    run_b: Annotated[
        str | None, typer.Argument(help="The other run; omit to compare the variants within RUN_A.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Paired comparison on the same cases: exact McNemar on pass/fail, the difference with
    its interval, Holm-corrected for several variants, said in words."""
    from dataclasses import replace

    from .. import report

    store = common.store(common.config())
    a = store.get_run(run_a)
    records = store.results(a.id)
    if run_b:
        b = store.get_run(run_b)
        # Label each run's variants by run, so the same prompt in both stays apart.
        records = [replace(r, prompt=f"{r.prompt} [{a.id[-6:]}]") for r in records] + [
            replace(r, prompt=f"{r.prompt} [{b.id[-6:]}]") for r in store.results(b.id)
        ]
    comparisons = report.paired(records)
    if not comparisons:
        common.console().print("Nothing to compare: one variant only.")
        raise typer.Exit(1)
    if as_json:
        common.print_json(
            [
                {
                    **c.__dict__,
                    "difference": c.difference.__dict__,
                    "score_difference": c.score_difference.__dict__ if c.score_difference else None,
                    "significant": c.significant,
                    "words": c.words(),
                }
                for c in comparisons
            ]
        )
        return
    for c in comparisons:
        common.console().print(c.words(), markup=False)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_)
    app.command("runs")(list_runs)
    app.command()(show)
    app.command()(compare)
