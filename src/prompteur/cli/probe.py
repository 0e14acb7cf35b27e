"""`prompteur probe` and `prompteur judge …`: thin shells over prompteur.probes. Heavy modules
load inside the commands so that `prompteur --help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..i18n import pct, plural, sentence
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
    lang: common.LangOpt = "en",
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

    from ..errors import UserError
    from ..learn import check_lang
    from ..probes import report

    lang = check_lang(lang)
    if list_probes:
        _print_probes(common.console())
        return
    if not resume and plan_file is not None:
        from ..probes.engine import read_plan

        planned = read_plan(plan_file)
        prompt = prompt or planned.get("prompt")
        suite = suite or planned.get("suite")
        probes = probes or planned.get("probes")
        field = field or planned.get("field")
        policy = policy or (Path(planned["policy"]) if planned.get("policy") else None)
        if "per_case" in planned and per_case == 2:
            per_case = int(planned["per_case"])
    if not resume and (not prompt or not suite):
        raise UserError("name a prompt and --suite SUITE, or --resume RUN")
    config = common.config()
    err = common.console(stderr=True)
    words = [w.strip() for p in probes or [] for w in p.split(",") if w.strip()]
    options = {
        "probes": words,
        "models": list(model or []),
        "seed": seed,
        "per_case": per_case,
        "max_cases": max_cases,
        "field": field,
        "paraphraser": paraphraser,
        "judge": judge,
        "policy": policy,
        "canary": canary,
        "resume": resume,
        "use_cache": not no_cache,
        "concurrency": concurrency,
    }
    done = _probe_run(config, err, prompt, suite, options)
    report.print_report(common.console(), done.report, worst=worst, lang=lang)
    for out in output or []:
        report.write(done.report, out)
        err.print(sentence("wrote {path}", lang, {"path": out}), markup=False)
    if fail_under is not None:
        under = report.probes_under(done.report, fail_under)
        if under:
            from rich.markup import escape

            head = sentence(
                "{probes} under --fail-under {limit}:",
                lang,
                {
                    "probes": plural(len(under), "probe" if lang == "en" else "sonde", lang=lang),
                    "limit": pct(fail_under, lang),
                },
            )
            err.print(f"[red]{escape(head)}[/] " + escape("; ".join(under)), markup=True)
            raise typer.Exit(1)


def _probe_run(
    config: Any, err: Any, prompt: str | None, suite: str | None, options: dict[str, Any]
) -> Any:
    import asyncio
    import time

    from ..api import Project, probe_async

    begun = time.monotonic()
    bar = common.RunBar(err, "probe", "probe run")

    def on_plan(plan: Any) -> None:
        bar.shape = (
            f"{plural(len(plan.cases), 'case')} → "
            f"{plural(len(plan.probe_cases()), 'probe case')} × "
            f"{plural(len(plan.models), 'model')} · {plural(len(plan.probes), 'probe')}"
        )

    with bar:
        return asyncio.run(
            probe_async(
                Project(config),
                prompt,
                # The suite as the user typed it: a file of theirs, relative to the working folder.
                Path(suite) if suite else None,
                **options,
                on_plan=on_plan,
                on_start=bar.start,
                on_result=lambda _r: bar.update(
                    advance=1, extra=f"{time.monotonic() - begun:.0f}s"
                ),
                on_phase=lambda name: bar.update(description=name),
            )
        )


def _print_probes(console: Console) -> None:

    from ..probes import select

    table = common.table(
        title="Probes (prompteur probe PROMPT --suite SUITE -p …)", title_justify="left"
    )
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
        Path | None, typer.Option("--labels", help="CSV with a header: output,label (pass/fail).")
    ] = None,
    from_queue: Annotated[
        str | None,
        typer.Option(
            "--from-queue",
            help="Use a review queue's stored pass/fail labels (the majority per item).",
        ),
    ] = None,
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
    """Grade outputs humans already labelled (a CSV, or a review queue's stored labels), with
    the judge and rubric your checks use, and measure the agreement: accuracy, Cohen's kappa
    with its interval, the confusion matrix. Stored: every report of a run judged by this
    judge shows it."""
    import asyncio

    from ..errors import UserError
    from ..models import parse_model_id
    from ..models.pool import ModelPool
    from ..probes import calibrate as cal
    from ..probes.policy import load_policy

    if (rubric is None) == (policy is None):
        raise UserError("give --rubric RUBRIC or --policy FILE (one of them)")
    if (labels is None) == (from_queue is None):
        raise UserError("give --labels FILE or --from-queue QUEUE (one of them)")
    text = load_policy(policy).rubric() if policy else cal.rubric_text(rubric or "")
    parse_model_id(judge)
    config = common.config()
    store = common.store(config)
    if labels is not None:
        rows = cal.read_labels(labels)
        source = str(labels)
    else:
        from .. import review

        q = review.queue(store, str(from_queue))
        rows = [
            cal.Label(position, output, verdict, f"{q['name']}#{position}")
            for position, output, verdict in review.human_verdicts(store, q)
        ]
        if not rows:
            raise UserError(
                f"queue '{q['name']}' has no item with a majority pass/fail label yet",
                field="--from-queue",
                hint=f"see: prompteur review progress {q['name']}",
            )
        source = f"queue:{q['name']}"
    models = ModelPool(config)  # the judge as this project's checks see it

    async def go() -> Any:
        try:
            return await cal.calibrate(
                models.judge(judge), judge, text, rows, labels_name=source, threshold=threshold
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

    from ..probes._text import clip
    from ..probes.agreement import LOW_KAPPA

    a = result.agreement
    console.print(
        f"[bold]Judge {escape(result.judge)}[/] on {escape(result.labels)} (calibration #{cid})"
    )
    console.print(f"rubric: {escape(clip(result.rubric, 200))}")
    table = common.table(
        title="confusion matrix (rows: people, columns: judge)", title_justify="left"
    )
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

    from ..probes._text import clip

    table = common.table(title="Judge calibrations")
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
