"""`prompteur probe` and `prompteur judge …`: thin shells over prompteur.probes. Heavy modules
load inside the commands so that `prompteur --help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import _common as common

if TYPE_CHECKING:
    from rich.console import Console


judge_app = typer.Typer(
    help="Check model judges against human labels before trusting them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def probe_command(
    prompt: Annotated[
        str | None, typer.Argument(help="The prompt to probe (a name, path or NAME@VERSION).")
    ] = None,
    suite: Annotated[
        str | None, typer.Option("--suite", "-s", help="The suite whose cases the probes vary.")
    ] = None,
    probes: Annotated[
        list[str] | None,
        typer.Option(
            "--probes",
            "-p",
            help="Categories or probes, comma-separated (default: all): robustness, ambiguity, "
            "injection, leakage, bias, hallucination, ethics, over-refusal, or one probe such "
            "as injection.encoded.",
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Probe these models (repeatable)."),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seed of every random choice (same seed, same cases).")
    ] = 0,
    per_case: Annotated[
        int, typer.Option(help="Attacks drawn from the corpus per case and probe (0: all).")
    ] = 2,
    max_cases: Annotated[
        int | None, typer.Option(help="Use only the suite's first N cases.", min=1)
    ] = None,
    field: Annotated[
        str | None, typer.Option(help="The input to vary (default: the longest text input).")
    ] = None,
    paraphraser: Annotated[
        str | None,
        typer.Option(help="A capable model for paraphrase and language switch (else skipped)."),
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(help="The judge of the ethics probe (default: the project's default model)."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(help="Your policy: what the assistant must never do or say, one rule a line."),
    ] = None,
    canary: Annotated[
        str | None, typer.Option(help="The canary word (default: a made-up word, by seed).")
    ] = None,
    resume: Annotated[
        str | None, typer.Option(help="Finish (or re-report) an earlier probe run.")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Call the model even for a request answered before.")
    ] = False,
    concurrency: Annotated[
        int | None, typer.Option(help="Calls in flight per model.", min=1)
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option(
            help="Exit 1 when a probe's pass rate (1 − failure rate) is below this (0–1).",
            min=0,
            max=1,
        ),
    ] = None,
    worst: Annotated[int, typer.Option(help="Worst findings to print per probe.")] = 3,
    output: Annotated[
        list[Path] | None,
        typer.Option("--output", "-o", help="Write the report: .json, .xml (JUnit) or .html."),
    ] = None,
    list_probes: Annotated[
        bool, typer.Option("--list", help="List the probes, what they do, and exit.")
    ] = False,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="A probe plan file (prompt, suite, probes, field, per_case, policy — as "
            "`prompteur import promptfoo` writes from a redteam section); options given on the "
            "command line win.",
        ),
    ] = None,
) -> None:
    """Hunt a prompt's weaknesses: turn a suite's cases into adversarial and counterfactual
    cases (robustness, ambiguity, injection, leakage, bias, hallucination, ethics,
    over-refusal), run them like an eval (stored, cached, resumable) and report what the
    detectors found, with evidence."""
    import asyncio

    from ..errors import UserError
    from ..probes import engine, report

    if list_probes:
        _print_probes(common.console())
        return
    config = common.config()
    store = common.store(config)
    err = common.console(stderr=True)
    info = None
    if resume:
        info = store.get_run(resume)
        plan = asyncio.run(engine.plan_from_run(config, store, info))
    else:
        if plan_file is not None:
            planned = engine.read_plan(plan_file)
            prompt = prompt or planned.get("prompt")
            suite = suite or planned.get("suite")
            probes = probes or planned.get("probes")
            field = field or planned.get("field")
            policy = policy or (Path(planned["policy"]) if planned.get("policy") else None)
            if "per_case" in planned and per_case == 2:
                per_case = int(planned["per_case"])
        if not prompt or not suite:
            raise UserError("name a prompt and --suite SUITE, or --resume RUN")
        words = [w.strip() for p in probes or [] for w in p.split(",") if w.strip()]
        options = engine.ProbeOptions(
            prompt=prompt,
            suite=suite,
            probes=words,
            models=list(model or []),
            seed=seed,
            per_case=per_case,
            max_cases=max_cases,
            field=field,
            paraphraser=paraphraser,
            judge=judge,
            policy=str(policy) if policy else None,
            canary=canary,
        )
        plan = asyncio.run(engine.prepare(config, store, options))
    done = _probe_run(store, config, plan, info, err, no_cache, concurrency)
    report.print_report(common.console(), done.report, worst=worst)
    for out in output or []:
        report.write(done.report, out)
        err.print(f"wrote {out}", markup=False)
    if fail_under is not None:
        under = report.probes_under(done.report, fail_under)
        if under:
            err.print(
                f"[red]{len(under)} probe(s) under --fail-under {fail_under:.1%}:[/] "
                + "; ".join(under),
                markup=True,
            )
            raise typer.Exit(1)


def _probe_run(
    store: Any,
    config: Any,
    plan: Any,
    info: Any,
    err: Any,
    no_cache: bool,
    concurrency: int | None,
) -> Any:
    import asyncio
    import time

    from ..probes import engine

    begun = time.monotonic()
    with common.progress(err) as progress:
        task = progress.add_task("probe", total=None, extra="")

        def on_start(run_id: str, total: int, already: int) -> None:
            common.run_started("probe", run_id)
            progress.console.print(
                f"probe run {run_id}: {total} results to have ({already} already stored) · "
                f"{len(plan.cases)} case(s) → {len(plan.probe_cases())} probe case(s) × "
                f"{len(plan.models)} model(s) · {len(plan.probes)} probe(s)",
                markup=False,
            )
            progress.update(task, total=total, completed=already)

        def on_result(_r: Any) -> None:
            progress.update(task, advance=1, extra=f"{time.monotonic() - begun:.0f}s")

        def on_phase(name: str) -> None:
            progress.update(task, description=name)

        return asyncio.run(
            engine.run_probe(
                config,
                store,
                plan,
                resume_run=info,
                use_cache=not no_cache,
                concurrency=concurrency,
                on_start=on_start,
                on_result=on_result,
                on_phase=on_phase,
            )
        )


def _print_probes(console: Console) -> None:
    from rich.table import Table

    from ..probes import select

    table = Table(title="Probes (prompteur probe PROMPT --suite SUITE -p …)", title_justify="left")
    for col in ("probe", "severity", "what it does"):
        table.add_column(col)
    for p in select(None):
        table.add_row(p.name, p.severity, p.description)
    console.print(table)


# ---- judges ------------------------------------------------------------------------------


@judge_app.command("calibrate")
def judge_calibrate(
    judge: Annotated[str, typer.Option("--judge", help="The judge model id, e.g. openai:gpt-4o.")],
    labels: Annotated[
        Path, typer.Option("--labels", help="CSV with a header: output,label (pass/fail).")
    ],
    rubric: Annotated[
        str | None,
        typer.Option("--rubric", help="The criterion, as text or a file (as in a rubric check)."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Calibrate on a policy file, as the ethics probe judges."),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="The score at which the judge passes an output.", min=0, max=1)
    ] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Grade outputs humans already labelled, with the judge and rubric your checks use, and
    measure the agreement: accuracy, Cohen's kappa with its interval, the confusion matrix.
    Stored: every report of a run judged by this judge shows it."""
    import asyncio

    from ..errors import UserError
    from ..models import parse_model_id
    from ..models.pool import ModelPool
    from ..probes import calibrate as cal
    from ..probes.policy import load_policy

    if (rubric is None) == (policy is None):
        raise UserError("give --rubric RUBRIC or --policy FILE (one of them)")
    text = load_policy(policy).rubric() if policy else cal.rubric_text(rubric or "")
    rows = cal.read_labels(labels)
    parse_model_id(judge)
    config = common.config()
    store = common.store(config)
    models = ModelPool(config)  # the judge as this project's checks see it

    async def go() -> Any:
        try:
            return await cal.calibrate(
                models.judge(judge), judge, text, rows, labels_name=str(labels), threshold=threshold
            )
        finally:
            await models.aclose()

    result = asyncio.run(go())
    cid = cal.save(store, result)
    if as_json:
        common.print_json({"id": cid, **result.to_dict()})
        return
    _print_calibration(common.console(), result, cid)


def _print_calibration(console: Console, result: Any, cid: int) -> None:
    from rich.markup import escape
    from rich.table import Table

    from ..probes._text import clip
    from ..probes.agreement import LOW_KAPPA

    a = result.agreement
    console.print(
        f"[bold]Judge {escape(result.judge)}[/] on {escape(result.labels)} (calibration #{cid})"
    )
    console.print(f"rubric: {escape(clip(result.rubric, 200))}")
    table = Table(title="confusion matrix (rows: people, columns: judge)", title_justify="left")
    for col in ("", "judge pass", "judge fail"):
        table.add_column(col, justify="right")
    table.add_row("human pass", str(a.both_pass), str(a.judge_fails_a_pass))
    table.add_row("human fail", str(a.judge_passes_a_fail), str(a.both_fail))
    console.print(table)
    k = a.kappa
    kci = "" if k.low != k.low else f" [95% CI {k.low:.2f}, {k.high:.2f}]"
    console.print(f"accuracy {a.accuracy} · Cohen's kappa {k.estimate:.2f}{kci} ({a.strength})")
    console.print(
        f"failures caught (recall) {_pct(a.fail_recall)} · judge failures that are real "
        f"(precision) {_pct(a.fail_precision)}"
    )
    from ..probes.agreement import best_threshold, ranking_auc

    auc = ranking_auc(result.scores)
    if auc == auc:
        line = f"ranking (AUC) {auc:.2f}: how well its scores put passes above fails"
        best = best_threshold(result.scores)
        if best and best[1] > a.kappa.estimate + 0.05:
            line += (
                f"; with `threshold: {best[0]:.3g}` on the check, kappa would be {best[1]:.2f} "
                "(chosen on these labels: confirm with --threshold on other labels)"
            )
        console.print(line)
    if result.unreadable:
        console.print(
            f"[yellow]{result.unreadable} judge answers could not be read (counted as fail)[/]"
        )
    if result.failed_calls:
        console.print(f"[yellow]{result.failed_calls} judge calls failed (left out)[/]")
    for item in result.disagreements[:5]:
        said = "pass" if item["human_pass"] else "fail"
        console.print(
            f"  [dim]line {item['line']}: people said {said}, judge "
            f"{item['judge_score']:.2f} — {escape(clip(item['output'], 90))}[/]"
        )
    if a.low:
        console.print(
            f"[bold red]warning:[/] low agreement (kappa under {LOW_KAPPA}): do not trust this "
            "judge's verdicts without a human look; try a more capable judge or a sharper rubric"
        )
    if a.n < 30:
        console.print(f"[yellow]only {a.n} labels: the intervals are wide; 50 or more is better[/]")


def _pct(x: float) -> str:
    return "—" if x != x else f"{x:.1%}"


@judge_app.command("list")
def judge_list(
    judge: Annotated[str | None, typer.Option(help="Only this judge.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List stored judge calibrations, newest first."""

    from ..probes.calibrate import calibrations

    rows = calibrations(common.store(common.config()), judge)
    if as_json:
        common.print_json(rows)
        return
    if not rows:
        common.console().print("No calibration yet: prompteur judge calibrate --help")
        return
    from rich.table import Table

    from ..probes._text import clip

    table = Table(title="Judge calibrations", title_justify="left")
    for col in ("#", "judge", "rubric", "labels", "n", "accuracy", "kappa [95% CI]", "when"):
        table.add_column(col)
    for r in rows:
        k = "—" if r["kappa"] is None else f"{r['kappa']:.2f}"
        if r["kappa_low"] is not None:
            k += f" [{r['kappa_low']:.2f}, {r['kappa_high']:.2f}]"
        colour = "red" if r["low"] else "green"
        table.add_row(
            str(r["id"]),
            r["judge"],
            clip(r["rubric"], 50),
            r["labels"],
            str(r["n"]),
            f"{r['accuracy']:.1%}",
            f"[{colour}]{k}[/]",
            r["created_at"][:16],
        )
    common.console().print(table)
