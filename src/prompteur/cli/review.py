"""`prompteur review …`: make review queues, follow them, export their labels and put them to
work. A thin shell over prompteur.review; heavy modules load inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from . import _common as common
from ._common import JsonOpt

review_app = typer.Typer(
    help="People in the loop: review queues from runs or traces, blind A/B preference, "
    "agreement between reviewers, labels to JSONL/CSV or to suite cases.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

QueueArg = Annotated[str, typer.Argument(help="The queue's name.", show_default=False)]
SizeOpt = Annotated[
    int | None, typer.Option("--size", help="Keep a seeded random sample of N items.", min=1)
]
SeedOpt = Annotated[int, typer.Option("--seed", help="The sample's seed (same seed, same items).")]
ReviewersOpt = Annotated[
    int, typer.Option("--reviewers", help="Labels wanted per item.", min=1, max=20)
]


def _show(store: Any, q: dict[str, Any], as_json: bool) -> None:
    from .. import review

    summary = review.summary(store, q)
    if as_json:
        common.print_json(summary)
        return
    _print_queue(summary)


def _print_queue(s: dict[str, Any]) -> None:
    from rich.markup import escape

    console = common.console()
    p = s["progress"]
    console.print(
        f"[bold]{escape(s['name'])}[/] ({s['kind']}, score {escape(s['score'])}): "
        f"{p['done']}/{p['items']} items done"
        + (f", {s['reviewers']} reviewers wanted per item" if s["reviewers"] > 1 else "")
    )
    for who, n in sorted(p["reviewers"].items()):
        console.print(f"  {escape(who)}: {n['labelled']} labelled, {n['skipped']} skipped")
    if s["agreement"]["items"]:
        console.print(escape(s["agreement"]["words"]))
    if "preference" in s:
        console.print(f"[bold]{escape(s['preference']['sentence'])}[/]")


@review_app.command("create")
def create(
    name: QueueArg,
    run: Annotated[
        str | None, typer.Option("--run", help="The run whose results to review.")
    ] = None,
    from_traces: Annotated[
        bool, typer.Option("--from-traces", help="Review production traces instead of a run.")
    ] = False,
    select: Annotated[
        str | None,
        typer.Option(
            "--select",
            help="From a run: all, failures, disagreement (checks disagree), "
            "judge-disagreement (a judge against the deterministic checks), sample. From "
            "traces: sample, low-score, negative-feedback.",
        ),
    ] = None,
    score: Annotated[
        str | None, typer.Option("--score", help="A score of prompteur.toml [scores.NAME].")
    ] = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", "-p", help="Traces of this prompt only.")
    ] = None,
    below: Annotated[
        float,
        typer.Option("--below", help="low-score / negative-feedback: scores under it.", min=0),
    ] = 0.5,
    size: SizeOpt = None,
    seed: SeedOpt = 0,
    blind: Annotated[
        bool, typer.Option("--blind", help="Reviewers do not see the automatic verdict.")
    ] = False,
    reviewers: ReviewersOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Make a review queue from a run's results or from production traces."""
    from .. import review
    from ..errors import UserError

    if (run is None) == (not from_traces):
        raise UserError("give --run RUN or --from-traces (one of them)", field="create")
    config = common.config()
    store = common.store(config)
    chosen = review.score_named(config, score)
    if from_traces:
        q = review.from_traces(
            store,
            name,
            score=chosen,
            select=select or "sample",
            prompt=prompt,
            size=size or 50,
            seed=seed,
            below=below,
            blind=blind,
            reviewers=reviewers,
            created_by="cli",
        )
    else:
        q = review.from_run(
            store,
            name,
            str(run),
            score=chosen,
            select=select or "all",
            size=size,
            seed=seed,
            blind=blind,
            reviewers=reviewers,
            created_by="cli",
        )
    _show(store, q, as_json)


@review_app.command("pair")
def pair(
    name: QueueArg,
    run: Annotated[str, typer.Option("--run", help="The run with both variants (or variant a).")],
    a: Annotated[
        str | None,
        typer.Option("--a", help="Variant a: a model id, prompt name, version prefix, p@v."),
    ] = None,
    b: Annotated[str | None, typer.Option("--b", help="Variant b, selected the same way.")] = None,
    run_b: Annotated[
        str | None, typer.Option("--run-b", help="Take variant b from this other run.")
    ] = None,
    size: SizeOpt = None,
    seed: SeedOpt = 0,
    reviewers: ReviewersOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Make a blind A/B preference queue: both variants' outputs on the same cases, shown in
    a random order per item; reviewers choose A, B or a tie."""
    from .. import review

    store = common.store(common.config())
    q = review.preference_queue(
        store,
        name,
        run,
        a=a,
        b=b,
        run_b=run_b,
        size=size,
        seed=seed,
        reviewers=reviewers,
        created_by="cli",
    )
    _show(store, q, as_json)


@review_app.command("list")
def list_queues(as_json: JsonOpt = False) -> None:
    """The review queues with their progress."""
    rows = common.store(common.config()).reviews.queues()
    if as_json:
        common.print_json(rows)
        return
    if not rows:
        common.console().print("No review queue yet: prompteur review create --help")
        return
    from rich.table import Table

    table = Table(title="Review queues", title_justify="left")
    for col in ("name", "kind", "score", "source", "done", "items", "labels", "created"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            r["kind"],
            r["score"],
            f"{r['source']} {r['ref'] or ''}".strip(),
            str(r["done"]),
            str(r["items"]),
            str(r["labels"]),
            f"{r['created_at']:%Y-%m-%d %H:%M}",
        )
    common.console().print(table)


@review_app.command("progress")
def progress(queue: QueueArg, as_json: JsonOpt = False) -> None:
    """A queue's progress per reviewer, the agreement between reviewers, and for an A/B
    queue the preference with its interval and sign test."""
    from .. import review

    store = common.store(common.config())
    _show(store, review.queue(store, queue), as_json)


@review_app.command("agreement")
def agreement(queue: QueueArg, as_json: JsonOpt = False) -> None:
    """How far the reviewers agree (Cohen's kappa for two, Krippendorff's alpha for more,
    with 95% bootstrap intervals) and the items they disagree on."""
    from .. import review

    store = common.store(common.config())
    q = review.queue(store, queue)
    figure = review.agreement_of(store, q)
    items = review.disagreements(store, q)
    if as_json:
        common.print_json({**figure.to_dict(), "disagreements": items})
        return
    from rich.markup import escape

    console = common.console()
    console.print(escape(figure.words()))
    for d in items:
        labels = ", ".join(f"{who}: {v}" for who, v in d["labels"].items())
        console.print(f"  #{d['position']} {escape(str(d['case_id'] or ''))} → {escape(labels)}")


@review_app.command("label")
def label(
    queue: QueueArg,
    position: Annotated[
        int, typer.Argument(help="The item's position (1, 2, …).", min=1, max=1_000_000)
    ],
    value: Annotated[
        str | None, typer.Argument(help="pass/fail, a category, a number, or a/b/tie.")
    ] = None,
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who labels.")] = "cli",
    comment: Annotated[str | None, typer.Option("--comment", help="A note.")] = None,
    correction: Annotated[
        str | None, typer.Option("--correction", help="The answer that should have been given.")
    ] = None,
    skip: Annotated[bool, typer.Option("--skip", help="Skip the item.")] = False,
) -> None:
    """Label one item from a script (people use the web page: prompteur view)."""
    from .. import review

    store = common.store(common.config())
    q = review.queue(store, queue)
    review.label(
        store,
        q,
        position,
        reviewer,
        value=value,
        comment=comment,
        correction=correction,
        skipped=skip,
    )


@review_app.command("export")
def export(
    queue: QueueArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Every label of a queue (who, when, value, comment, correction, the item), one per
    line of JSONL or row of CSV; an A/B queue's values are revealed (a = variant a)."""
    from .. import review

    store = common.store(common.config())
    text = review.export_text(store, review.queue(store, queue), fmt)
    if output is None:
        typer.echo(text, nl=False)
        return
    from ..files import write_atomic

    write_atomic(output, text)
    common.console().print(f"wrote {common.shown(output)}")


@review_app.command("to-cases")
def to_cases(
    queue: QueueArg,
    suite: Annotated[Path, typer.Option("--suite", "-s", help="The suite file to append to.")],
    only: Annotated[
        str,
        typer.Option(
            "--only", help="failures (failed or corrected items) or corrections (corrected only)."
        ),
    ] = "failures",
    as_json: JsonOpt = False,
) -> None:
    """Append a queue's reviewed failures (and, from traces, the items an end user gave
    negative feedback that no reviewer passed) to a suite as cases, a reviewer's correction as
    the expected value. Cases already in the suite are not added again."""
    from .. import review
    from ..errors import UserError

    if only not in review.TO_CASES:
        raise UserError(f"unknown choice '{only}'", field="--only", hint="failures or corrections")
    store = common.store(common.config())
    result = review.to_cases(store, review.queue(store, queue), suite, only=only)
    if as_json:
        common.print_json(result.to_dict())
        return
    common.console().print(
        f"added {len(result.added)} case(s) to {common.shown(suite)}"
        + (f" ({result.duplicates} already there)" if result.duplicates else "")
    )
