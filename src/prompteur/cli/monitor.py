"""`prompteur monitor …` and `prompteur traces …`: thin shells over prompteur.traces. Heavy
modules load inside the commands so that `prompteur --help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from typer.core import TyperGroup

from ..i18n import plural, sentence
from . import _common as common
from ._common import JsonOpt

if TYPE_CHECKING:
    from ..traces import TraceRecord


class _DefaultShow(TyperGroup):
    """`prompteur monitor [NAME] [options]` runs `monitor show`; `monitor score` is a command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["show", *args]
        return super().parse_args(ctx, args)


monitor_app = typer.Typer(
    cls=_DefaultShow,
    help="Watch prompts in production: per version over time (volume, pass rate, latency, "
    "tokens, cost) and alerts. `prompteur monitor [NAME]` shows; `monitor score` scores.",
    rich_markup_mode=None,
)
traces_app = typer.Typer(
    help="Look at recorded production calls and turn bad ones into suite cases.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SinceOpt = Annotated[
    str, typer.Option("--since", help="How far back: 30m, 12h, 7d, 2w, or an ISO date.")
]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


@monitor_app.command("show")
def monitor_show(
    name: Annotated[str | None, typer.Argument(help="A prompt name (default: all).")] = None,
    since: SinceOpt = "7d",
    bucket: Annotated[str, typer.Option(help="Time bucket: hour or day.")] = "day",
    buckets: Annotated[
        bool, typer.Option("--buckets", help="Show every time bucket, not only the totals.")
    ] = False,
    webhook: Annotated[
        bool, typer.Option(help="POST new alerts to the project's webhook ([monitor] webhook).")
    ] = True,
    embeddings: Annotated[
        bool | None,
        typer.Option(
            help="Compare input meanings with embeddings (default: [monitor] embeddings; "
            "needs the semantic extra for the local embedder)."
        ),
    ] = None,
    fail_on_alert: Annotated[
        bool, typer.Option("--fail-on-alert", help="Exit with code 1 when there is an alert.")
    ] = False,
    lang: common.LangOpt = "en",
    as_json: JsonOpt = False,
) -> None:
    """Per prompt version: volume, errors, pass rate [95% CI], latency p50/p95, tokens, cost;
    then the alerts (pass-rate drop, input shift), sent to the webhook."""

    from ..learn import check_lang
    from ..traces.alerts import deliver, find_alerts
    from ..traces.monitor import version_stats
    from ..traces.window import parse_since

    lang = check_lang(lang)
    config = common.config()
    store = common.store(config)
    report = version_stats(store, since=parse_since(since), prompt=name, bucket=bucket)
    alerts = find_alerts(config, store, prompt=name, embeddings=embeddings)
    delivery = deliver(config, alerts) if webhook else None
    if as_json:
        common.print_json(
            {
                **report.to_dict(),
                "alerts": [a.to_dict() for a in alerts],
                "webhook": None
                if delivery is None
                else {
                    "sent": len(delivery.sent),
                    "held": len(delivery.held),
                    "error": delivery.error,
                },
            }
        )
    else:
        from rich.markup import escape

        _print_monitor(common.console(), report, buckets, lang)
        console = common.console()
        for alert in alerts:
            console.print(
                f"[bold red]{escape(sentence('ALERT', lang, {}))}[/] {escape(alert.text(lang))}",
                markup=True,
            )
        if not alerts:
            console.print(sentence("no alert", lang, {}), markup=False)
        if delivery is not None and delivery.error:
            common.console(stderr=True).print(
                sentence(
                    "warning: alerts not sent to {target}: {error}",
                    lang,
                    {"target": delivery.target, "error": delivery.error},
                ),
                markup=False,
            )
        elif delivery is not None and delivery.sent:
            n = len(delivery.sent)
            console.print(
                sentence(
                    "sent {alerts} to the webhook at {target}",
                    lang,
                    {
                        "alerts": plural(n, "alert" if lang == "en" else "alerte", lang=lang),
                        "target": delivery.target,
                    },
                ),
                markup=False,
            )
    if fail_on_alert and alerts:
        raise typer.Exit(1)


def _print_monitor(console: Any, report: Any, buckets: bool, lang: str = "en") -> None:
    from ..i18n import interval, money, translator

    t = translator(lang)
    since = f"{report.since:%Y-%m-%d %H:%M}"
    if not report.series:
        console.print(sentence("no traces since {since} UTC", lang, {"since": since}), markup=False)
        return
    table = common.table(
        title=sentence("Traces since {since} UTC, by version", lang, {"since": since}),
        title_justify="left",
    )
    cols = [
        "version",
        *(["from"] if buckets else []),
        "calls",
        "err",
        "pass [95% CI]",
        "scored",
        "p50/p95 ms",
        "tokens",
        "cost",
        "feedback (neg)",
    ]
    for col in cols:
        table.add_column(t(col), justify="left" if col in ("version", "from") else "right")
    for s in report.series:
        label = f"{s.prompt or '?'}@{(s.version or '?')[:8]}"
        rows = [("total", s.total)] + (
            [(f"{b.start:%m-%d %H:%M}", b) for b in s.buckets] if buckets else []
        )
        for when, st in rows:
            rate = st.pass_rate
            table.add_row(
                label if when == "total" else "",
                *([t(when) if when == "total" else when] if buckets else []),
                str(st.volume),
                str(st.errors),
                interval(rate, lang) if rate else "—",
                str(st.scored),
                f"{_ms(st.latency(0.5))}/{_ms(st.latency(0.95))}",
                f"{st.tokens_in}/{st.tokens_out}",
                money(st.cost, lang, ".4g"),
                _feedback_cell(s.feedback) if when == "total" else "",
            )
    console.print(table)


def _feedback_cell(feedback: dict[str, Any]) -> str:
    """`12 (3)`: traces with end-user feedback, negative ones in brackets."""
    if not feedback.get("with_feedback"):
        return "—"
    return f"{feedback['with_feedback']} ({feedback['negative']})"


@monitor_app.command("score")
def monitor_score(
    prompt: Annotated[
        str | None, typer.Option("--prompt", "-p", help="Only this prompt's traces.")
    ] = None,
    sample: Annotated[
        float | None,
        typer.Option(
            help="Share of traces to score, 0-1 (default: [monitor] sample, per prompt).",
            min=0.0,
            max=1.0,
        ),
    ] = None,
    suite: Annotated[
        str | None, typer.Option("--suite", "-s", help="Score with this suite's checks.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only traces this recent (e.g. 7d).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Score at most N traces.", min=1)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a sample of the unscored traces with their prompt's suite checks (the ones that
    need no expected value, judges included); the scores are stored on the traces."""

    console = common.console(stderr=True)
    from ..traces.scoring import score_traces
    from ..traces.window import parse_since

    config = common.config()
    store = common.store(config)
    with common.progress(console, " traces") as progress:
        task = progress.add_task("scoring", total=None, extra="")

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = score_traces(
            config,
            store,
            prompt=prompt,
            sample=sample,
            suite=suite,
            since=parse_since(since) if since else None,
            limit=limit,
            on_progress=on_progress,
        )
    if as_json:
        common.print_json(report.to_dict())
        return
    out = common.console()
    out.print(
        f"scored {report.scored} of {report.considered} unscored traces: "
        f"{report.passed} passed, {report.scored - report.passed} failed",
        markup=False,
    )
    for name, stats in sorted(report.by_prompt.items()):
        extra = (
            f" (skipped, need an expected value: {', '.join(stats['needs_expected'])})"
            if stats["needs_expected"]
            else ""
        )
        out.print(
            f"  {name}: {stats['passed']}/{stats['scored']} passed with "
            f"{Path(stats['suite']).name}{extra}",
            markup=False,
        )
    for name, why in sorted(report.skipped_prompts.items()):
        out.print(f"  {name}: not scored: {why}", markup=False)


# ---- traces ------------------------------------------------------------------------------


def _row(t: TraceRecord) -> list[str]:
    status = (
        "error" if t.error else "pass" if t.passed else "FAIL" if t.passed is False else "—"
    ) + (" ⚑" if t.flagged else "")
    text = " ".join(str(v) for v in t.inputs.values())
    return [
        str(t.id),
        f"{t.started_at:%m-%d %H:%M:%S}",
        f"{t.prompt or '?'}@{(t.version or '?')[:8]}",
        t.model or "—",
        status,
        _ms(t.latency_ms),
        (text[:40] + "…") if len(text) > 40 else text,
        ((t.output or t.error or "")[:40]).replace("\n", " "),
    ]


@traces_app.command("list")
def traces_list(
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="Only this prompt.")] = None,
    version: Annotated[str | None, typer.Option(help="Only this version (a prefix).")] = None,
    label: Annotated[str | None, typer.Option(help="Only traces of this label.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="failing, passing, error, scored, unscored or flagged."),
    ] = None,
    since: Annotated[str | None, typer.Option(help="How far back: 12h, 7d…")] = None,
    limit: Annotated[int, typer.Option(help="How many (newest first).", min=1)] = 20,
    before: Annotated[
        int | None, typer.Option(help="Only traces older than this id (the next page).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The newest traces, filtered."""

    from ..traces import TraceFilter, list_traces
    from ..traces.window import parse_since

    store = common.store(common.config())
    where = TraceFilter(
        prompt=prompt,
        version=version,
        label=label,
        model=model,
        status=status,
        since=parse_since(since) if since else None,
    )
    page = list_traces(store, where, limit=limit, before=before)
    if as_json:
        common.print_json(
            {"traces": [t.to_dict() for t in page.items], "next_cursor": page.next_cursor}
        )
        return

    table = common.table(title="Traces, newest first")
    for col in ("id", "when (UTC)", "prompt@version", "model", "status", "ms", "inputs", "output"):
        table.add_column(col)
    for t in page.items:
        table.add_row(*_row(t))
    console = common.console()
    console.print(table)
    if page.next_cursor:
        console.print(f"more: prompteur traces list --before {page.next_cursor}", markup=False)


@traces_app.command("show")
def traces_show(
    ref: Annotated[str, typer.Argument(help="A trace's id (from `traces list`) or trace id.")],
    as_json: JsonOpt = False,
) -> None:
    """One trace in full: inputs, output, scores, metadata."""

    from ..traces import get_trace

    t = get_trace(common.store(common.config()), ref)
    data = t.to_dict()
    if as_json:
        common.print_json(data)
        return
    import json

    console = common.console()
    for key, value in data.items():
        if value is None or value == {} or value == []:
            continue
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, indent=2, default=str)
        console.print(f"{key}: {value}", markup=False, highlight=False)


@traces_app.command("flag")
def traces_flag(
    ids: Annotated[list[int], typer.Argument(help="Trace ids.")],
    note: Annotated[str | None, typer.Option(help="Why (kept with the trace).")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the flag.")] = False,
) -> None:
    """Flag traces as wrong (for `traces to-cases --flagged`)."""

    from ..traces import set_flag

    n = set_flag(common.store(common.config()), ids, not clear, note)
    common.console().print(
        f"{'unflagged' if clear else 'flagged'} {plural(n, 'trace')}", markup=False
    )


def _parse_ids(text: str | None) -> list[int] | None:
    from ..errors import UserError

    if text is None:
        return None
    try:
        ids = [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise UserError(
            f"--ids expects trace ids separated by commas, got {text!r}", field="--ids"
        ) from None
    if not ids:
        raise UserError("--ids is empty", field="--ids")
    return ids


@traces_app.command("to-cases")
def traces_to_cases(
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="The prompt whose traces.")],
    suite: Annotated[Path, typer.Option("--suite", "-s", help="The suite file to append to.")],
    failing: Annotated[
        bool, typer.Option("--failing", help="Traces that failed their checks or errored.")
    ] = False,
    flagged: Annotated[bool, typer.Option("--flagged", help="Flagged traces.")] = False,
    ids: Annotated[str | None, typer.Option("--ids", help="These trace ids: 4,7,12.")] = None,
    expected: Annotated[
        str | None,
        typer.Option(help="The expected value of every added case (default: left to fill in)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Add at most N cases.", min=1)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Append traces to a suite as cases: their inputs, the bad output and a note; expected
    left for you to fill in. Cases already in the suite are not added again."""
    from ..errors import UserError

    chosen = [s for s, on in (("failing", failing), ("flagged", flagged)) if on]
    if len(chosen) + (ids is not None) != 1:
        raise UserError(
            "choose which traces: one of --failing, --flagged or --ids",
            field="to-cases",
        )
    from ..traces.cases import _MISSING, traces_to_cases

    result = traces_to_cases(
        common.store(common.config()),
        suite,
        prompt=prompt,
        status=chosen[0] if chosen else None,
        ids=_parse_ids(ids),
        expected=expected if expected is not None else _MISSING,
        limit=limit,
    )
    if as_json:
        common.print_json(result.to_dict())
        return
    console = common.console()
    console.print(
        f"added {plural(len(result.added), 'case')} to {suite}"
        + (f" ({result.duplicates} already there)" if result.duplicates else ""),
        markup=False,
    )
    if result.added and expected is None:
        console.print("fill in their expected values before the next eval", markup=False)


spool_app = typer.Typer(
    help="The SDK's trace spool: traces an application could not deliver while the server "
    "was away, kept on disk. `prompteur traces spool` lists the spools.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
traces_app.add_typer(spool_app, name="spool")

DirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="The spool folder (default: $PROMPTEUR_SPOOL_DIR, else the user's cache folder).",
    ),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="PROMPTEUR_URL",
        help="The server the traces go to ($PROMPTEUR_URL); none: the local project's store.",
    ),
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="PROMPTEUR_API_KEY",
        show_envvar=True,
        help="The API key they are sent with ($PROMPTEUR_API_KEY; better than this option, "
        "which other users may see in the process list).",
    ),
]
FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="One spool file (from `spool show`), sent with this URL and key whatever key it "
        "was made with: after a key was replaced.",
    ),
]


def _age(when: float | None) -> str:
    import time

    if when is None:
        return "—"
    seconds = max(0.0, time.time() - when)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


@spool_app.callback()
def spool_main(ctx: typer.Context, folder: DirOpt = None, as_json: JsonOpt = False) -> None:
    """List the spools: where their traces go, how many wait, the oldest, and how many the
    caps dropped. Then `spool drain` delivers one, `spool clear` deletes one."""
    if ctx.invoked_subcommand is not None:
        return
    from ..sdk import default_spool_folder, find_spools

    root = folder or default_spool_folder()
    found = find_spools(root)
    if as_json:
        common.print_json({"folder": str(root), "spools": [s.to_dict() for s in found]})
        return
    console = common.console()
    if not found:
        console.print(f"no spool in {root}", markup=False)
        return
    console.print(f"trace spools in {root}:", markup=False)
    for s in found:
        console.print(f"  {s.path.name}", markup=False)
        if s.corrupt:
            console.print("    corrupt, set aside (kept for a human; never read again)")
        elif s.error:
            console.print(f"    cannot be read: {s.error}", markup=False)
        else:
            console.print(
                f"    traces go to {s.target or '?'}: {s.traces} waiting ({s.bytes} bytes), "
                f"oldest {_age(s.oldest)} ago; {s.dropped} dropped by the caps",
                markup=False,
            )


@spool_app.command("drain")
def spool_drain(
    url: UrlOpt = None,
    key: KeyOpt = None,
    folder: DirOpt = None,
    file: FileOpt = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds to keep trying while the server does not answer.")
    ] = 30.0,
    as_json: JsonOpt = False,
) -> None:
    """Deliver the spool of this server and key (or of the local project) now. Exit code 1
    when traces are left (the server still does not take them)."""

    from ..sdk import drain_spool

    stats = drain_spool(url, key, spool=file or folder, timeout=timeout)
    if as_json:
        common.print_json(stats.to_dict())
    else:
        line = (
            f"delivered {plural(stats.from_spool, 'trace')} from the spool; "
            f"{stats.spool_pending} left"
        )
        if stats.failed:
            line += f"; {stats.failed} refused by the server"
        if stats.spool_pending and stats.last_error:
            line += f" ({stats.last_error})"
        common.console().print(line, markup=False)
    if stats.spool_pending:
        raise typer.Exit(1)


@spool_app.command("clear")
def spool_clear(
    url: UrlOpt = None,
    key: KeyOpt = None,
    folder: DirOpt = None,
    file: FileOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete them.")] = False,
) -> None:
    """Delete the spooled traces of this server and key (or of the local project) without
    delivering them."""
    from ..errors import UserError

    if not yes:
        raise UserError(
            "this deletes traces that were never delivered",
            field="--yes",
            hint="add --yes to delete them, or deliver them: prompteur traces spool drain",
        )
    from ..sdk import clear_spool

    n = clear_spool(url, key, spool=file or folder)
    common.console().print(f"deleted {plural(n, 'spooled trace')}", markup=False)
