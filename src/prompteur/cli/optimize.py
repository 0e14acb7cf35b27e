"""`prompteur optimize`: thin shell over optimize/ — options, progress, the printed outcome."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UserError
from . import _common as common

if TYPE_CHECKING:
    from rich.console import Console

    from ..optimizer.engine import Outcome


def optimize_command(
    prompt: Annotated[
        str | None,
        typer.Argument(help="The prompt to improve (name, path or NAME@VERSION)."),
    ] = None,
    suite: Annotated[
        str | None, typer.Option("--suite", "-s", help="The suite whose cases and checks score it.")
    ] = None,
    budget: Annotated[
        int,
        typer.Option(
            help="Task-model calls the optimization may make in all: the search and the "
            "held-out report (cache hits are free).",
            min=1,
        ),
    ] = 300,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="The model to optimize for (default: the prompt's)."),
    ] = None,
    proposer: Annotated[
        str | None,
        typer.Option(
            help="A capable model that proposes instructions (critique-and-edit from failures, "
            "instructions induced from examples). Without one, proposals are deterministic."
        ),
    ] = None,
    proposer_budget: Annotated[
        int, typer.Option(help="Calls the proposer model may make.", min=0)
    ] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the split and of the search.")] = 0,
    max_demos: Annotated[
        int,
        typer.Option(
            help="Most demonstrations in a candidate (more usually help a base model, and "
            "cost tokens on every call).",
            min=0,
        ),
    ] = 16,
    split: Annotated[
        str, typer.Option(help="Train, development and test shares of the suite's cases.")
    ] = "0.3,0.4,0.3",
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Replace the prompt file with the optimized version, when the held-out test "
            "shows it is better.",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the optimized prompt to this file, when the held-out test shows it is "
            "better.",
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(help="Finish an interrupted optimization: its calls are not made again."),
    ] = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Show the search of an optimization (the latest, or the run named by PROMPT).",
        ),
    ] = False,
    output: Annotated[
        list[Path] | None,
        typer.Option("--output", "-o", help="Write a report: .html (with the chart) or .json."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable outcome.")] = False,
) -> None:
    """Improve a prompt automatically under a call budget: demonstrations (which, how many,
    in what order), instruction, label words — raced on development cases, reported on
    held-out test cases with a paired comparison against the starting prompt. It says
    "improved" only when that comparison is significant."""

    config = common.config()
    store = common.store(config)
    if history:
        info = _optimization_run(store, prompt)
        _print_history(common.console(), info.plan)
        _write(store, info.id, output)
        return
    outcome = _run(
        config,
        store,
        prompt,
        suite,
        budget,
        model,
        proposer,
        proposer_budget,
        seed,
        split,
        resume,
        max_demos,
    )
    if write or out:
        _save_file(common.console(stderr=True), outcome, out)
    if as_json:
        common.print_json(outcome.summary())
    else:
        _print_outcome(common.console(), outcome)
    _write(store, outcome.run_id, output)


def _parse_split(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise UserError(f"--split '{text}': give three numbers, train,dev,test (e.g. 0.3,0.4,0.3)")
    return parts  # type: ignore[return-value]


def _run(
    config: Any,
    store: Any,
    prompt_ref: str | None,
    suite_path: str | None,
    budget: int,
    model: str | None,
    proposer_id: str | None,
    proposer_budget: int,
    seed: int,
    split: str,
    resume: str | None,
    max_demos: int,
) -> Outcome:
    import asyncio

    from ..api import Project, optimize_async

    split_parts = _parse_split(split)
    info = store.get_run(resume) if resume else None
    err = common.console(stderr=True)
    with common.progress(err, " calls") as progress:
        task = progress.add_task("search", total=None, extra="")

        def on_start(run_id: str, begin: Any) -> None:
            common.run_started("optimize", run_id)
            if begin.proposer and begin.proposer.split(":")[0] == "local":
                progress.console.print(
                    "warning: the embedded model is too small to write instructions; "
                    "its proposals will rarely help",
                )
            p = begin.prompt
            progress.console.print(
                f"optimizing {p.name}@{p.short_version} for {begin.model_id}: "
                f"{begin.train} train · {begin.dev} dev · {begin.test} test cases · budget "
                f"{budget if info is None else info.plan['settings']['budget']} calls",
                markup=False,
            )
            progress.update(task, total=budget if info is None else info.plan["settings"]["budget"])

        return asyncio.run(
            optimize_async(
                Project(config, store=store),
                prompt_ref,
                # The suite as the user typed it: a file of theirs, relative to the working folder.
                Path(suite_path) if suite_path else None,
                budget=budget,
                model=model,
                proposer=proposer_id,
                proposer_budget=proposer_budget,
                seed=seed,
                split=split_parts,
                max_demos=max_demos,
                resume=info.id if info is not None else None,
                on_start=on_start,
                on_progress=lambda b: progress.update(
                    task,
                    completed=min(b.spent_task + b.spent_final, b.task_calls),
                    extra=f"{b.spent_final} of them reporting · {b.cache_hits} cached · "
                    f"{b.spent_proposer} proposer",
                ),
            )
        )


def _optimization_run(store: Any, ref: str | None) -> Any:
    if ref:
        info = store.get_run(ref)
        if info.kind != "optimize":
            raise UserError(f"run {info.id} is not an optimization", hint="see: prompteur runs")
        return info
    for info in store.runs(1, kind="optimize"):
        return info
    raise UserError("no optimization in the store yet", hint="run: prompteur optimize PROMPT -s S")


def _fmt(d: dict[str, Any]) -> str:
    if not d["cases"]:  # the budget left no call to report on this split
        return "— (n=0)"
    m = d["mean"]
    return f"{m['estimate']:.3f} [{m['low']:.3f}, {m['high']:.3f}] (n={d['cases']})"


def _print_outcome(console: Console, outcome: Outcome) -> None:

    from ..optimizer.report import calls_line, verdict

    s = outcome.summary()
    table = common.table(title=f"{outcome.start.name}: start vs optimized (mean score, 95% CI)")
    table.add_column("split")
    table.add_column(f"start {outcome.start.short_version}")
    table.add_column(f"optimized {outcome.best.short_version}")
    for split, by in s["scores"].items():
        table.add_row(split, _fmt(by["start"]), _fmt(by["best"]))
    console.print(table)
    if outcome.changed:
        console.print("changes: " + " → ".join(outcome.changes), markup=False, highlight=False)
    else:
        console.print("no candidate beat the starting prompt on the development cases.")
    if s["test_comparison"]:
        console.print("held-out test: " + s["test_comparison"]["words"], markup=False)
    console.print(verdict(s), markup=False)
    console.print(calls_line(s["calls"]) + f" · run {outcome.run_id}", markup=False)
    for note in outcome.notes:
        console.print(f"note: {note}", markup=False)
    if not outcome.changed:
        return
    console.print(
        f"saved as {outcome.best.name}@{outcome.best.short_version} · see: prompteur library "
        f"diff {outcome.best.name}@{outcome.start.short_version} "
        f"{outcome.best.name}@{outcome.best.short_version}",
        markup=False,
    )


def _print_history(console: Console, plan: dict[str, Any]) -> None:

    table = common.table(
        title=f"search history of {plan.get('prompt')} (budget "
        f"{plan.get('settings', {}).get('budget')} calls)"
    )
    for col in ("round", "calls", "candidate", "proposer", "change", "cases", "score"):
        table.add_column(col)
    for e in plan.get("history", []):
        if e.get("event") == "scored":
            table.add_row(
                str(e["round"]),
                str(e["spent"]),
                e["version"][:12],
                e.get("proposer", ""),
                e.get("change", ""),
                str(e["cases"]),
                f"{e['score']:.3f}",
            )
        elif e.get("event") == "best":
            table.add_row(
                str(e.get("round", "")),
                str(e["spent"]),
                e["version"][:12],
                "",
                f"★ new best: {e.get('change', 'starting prompt')}",
                "all dev",
                f"{e['score']:.3f}",
                style="bold",
            )
    console.print(table)
    result = plan.get("result")
    if result and result.get("test_comparison"):
        console.print("held-out test: " + result["test_comparison"]["words"], markup=False)


def _save_file(console: Console, outcome: Outcome, out: Path | None) -> None:
    from ..files import write_atomic

    target = out or outcome.start.path
    if target is None:
        raise UserError("the prompt has no file to write: use --out PATH")
    if not outcome.improved:
        console.print(
            f"not written to {target}: the held-out test does not show an improvement "
            f"(the candidate stays in the store as {outcome.best.name}@"
            f"{outcome.best.short_version})",
            markup=False,
        )
        return
    write_atomic(Path(target), outcome.best.text)


def _write(store: Any, run_id: str, outputs: list[Path] | None) -> None:
    if not outputs:
        return
    from ..optimizer.report import write_report

    for path in outputs:
        write_report(store, run_id, path)


def adapt_command(
    prompt: Annotated[str, typer.Argument(help="The prompt to adapt (name or path).")],
    to_model: Annotated[str, typer.Option("--to", help="The new model's id.")],
    from_model: Annotated[
        str | None,
        typer.Option(
            "--from", help="The current model (default: the prompt's, then the project's)."
        ),
    ] = None,
    suite: Annotated[
        str | None, typer.Option("--suite", "-s", help="The suite that judges the prompt.")
    ] = None,
    budget: Annotated[
        int, typer.Option(help="Calls the re-tuning search may make on the new model.", min=1)
    ] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the split and of the search.")] = 0,
    variant: Annotated[
        str | None,
        typer.Option(help="Name of the variant to write (default: from the model id)."),
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Write the proposed variant into the prompt file.")
    ] = False,
    label: Annotated[
        str | None,
        typer.Option(help="Then run the registry's gate to move this label to the proposal."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable outcome.")] = False,
) -> None:
    """The model changed: regress the prompt from its model to the new one, re-tune it on the
    new model under a budget, and propose the result as a variant for that model, gated on
    held-out cases with a paired comparison."""
    err = common.console(stderr=True)
    config = common.config()
    store = common.store(config)
    from ..adapt import adapt
    from ..library import Library
    from ..registry import default_actor

    target = Library.from_config(config).get_local(prompt)
    with common.progress(err, " calls") as progress:
        task = progress.add_task("adapt", total=None, extra="")

        def step(text: str) -> None:
            progress.update(task, description=text[:60], completed=0, total=None)
            err.print(text, markup=False)

        result = adapt(
            store,
            config,
            target,
            to_model,
            from_model=from_model,
            suite=suite,
            budget=budget,
            seed=seed,
            variant=variant,
            write=write,
            label=label,
            actor=default_actor(),
            on_step=step,
            on_result=lambda _r: progress.advance(task),
            on_progress=lambda b: progress.update(
                task, completed=min(b.spent_task, b.task_calls), total=b.task_calls
            ),
        )
    if as_json:
        common.print_json(result.to_dict())
        return
    console = common.console()
    if result.outcome is not None:
        _print_outcome(console, result.outcome)
    console.print(result.words(), markup=False, highlight=False)
    if result.proposed and result.candidate is not None:
        ref = f"{result.name}@{result.candidate.short_version}"
        if result.written:
            console.print(f"written: {result.written}", markup=False)
        else:
            console.print(
                f"stored as {ref} · see: prompteur library diff {result.name} {ref} · adopt "
                f"it with --write, or: prompteur promote {ref} --to LABEL -m {result.to_model}",
                markup=False,
            )
        if result.promotion is not None:
            console.print(result.promotion.words(), markup=False)
