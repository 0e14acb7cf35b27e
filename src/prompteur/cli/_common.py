"""What every command shares: the console, the one place where errors become exit codes,
the project's config and store as a local user's command sees them, input parsing, option
types, and the printing of a run's report. Only typer and the standard library load here:
`prompteur --help` imports this module."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from ..errors import PrompteurError, UserError
from ..i18n import plural

if TYPE_CHECKING:
    import click
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from ..config import Config
    from ..prompt import Prompt
    from ..report import VariantSummary
    from ..store import Store
    from ..store.db import RunInfo


class GuardedGroup(TyperGroup):
    """The root command group: every command runs inside its `invoke`, so this is the one
    place where prompteur's errors become exit codes (2 for the user's mistake, 1 for a model
    or store failure) and an interruption becomes exit 130, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PrompteurError as exc:
            fail(exc)
        except KeyboardInterrupt:
            interrupted()


# The run this command has under way (kind, id), for the message of an interruption.
_RUN: dict[str, str] = {}


def run_started(kind: str, run_id: str) -> None:
    """Say which run the command is making: an interruption then says how to finish it."""
    _RUN.update(kind=kind, id=run_id)


def interrupted() -> NoReturn:
    """Ctrl-C or `kill -TERM`: the run under way has ended `interrupted` on the way up (runs/);
    say how to finish it, and exit 130."""
    from ..records import RunKind

    text = "interrupted"
    if _RUN:
        text += f": run {_RUN['id']}; " + RunKind(_RUN["kind"]).resume_hint(_RUN["id"])
    console(stderr=True).print(text, markup=False)
    raise typer.Exit(130)


# Width given to output that goes to a file or a pipe (a CI log, `| less`, `> out.txt`):
# Rich would otherwise assume 80 columns and squeeze tables until their words are cut.
LOG_WIDTH = 1000


def console(stderr: bool = False) -> Console:
    """The console of a command: the terminal's width in a terminal (tables wrap to fit it);
    a log's full width when printed to a file or a pipe, unless COLUMNS says otherwise."""
    import os

    from rich.console import Console

    out = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not out.is_terminal and not os.environ.get("COLUMNS"):
        out.width = LOG_WIDTH
    return out


def table(title: str | None = None, **options: Any) -> Table:
    """A Rich table whose cells wrap between words and fold a word too long for its column
    onto the next line, rather than cut it with an ellipsis ("varia…")."""
    from rich.table import Table

    class WrappingTable(Table):
        def add_column(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("overflow", "fold")
            super().add_column(*args, **kwargs)

    options.setdefault("title_justify", "left")
    return WrappingTable(title=title, **options)


def fail(exc: PrompteurError) -> NoReturn:
    from ..models.base import ModelError

    err = console(stderr=True)
    if isinstance(exc, UserError):
        if exc.file and Path(exc.file).is_absolute():
            # Show paths the way the user typed them: relative to where they stand.
            with contextlib.suppress(ValueError):
                exc.file = str(Path(exc.file).relative_to(Path.cwd()))
        err.print(f"[bold red]error:[/] {exc.render()}", markup=True)
        raise typer.Exit(exc.exit_code)
    if isinstance(exc, ModelError):
        err.print(f"[bold red]model error:[/] {exc}", markup=True)
        raise typer.Exit(1)
    err.print(f"[bold red]error:[/] {exc}", markup=True)
    raise typer.Exit(1)


def progress(console: Console, unit: str = "") -> Progress:
    """The progress bar of long commands: done/total, a free text field, time left."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}" + unit),
        TextColumn("{task.fields[extra]}"),
        TimeRemainingColumn(),
        console=console,
    )


class RunBar:
    """The progress bar of a command that makes a run (eval, probe): shown only once the run
    exists, so that a plan that does not load leaves no bar behind; `shape` (what the plan
    holds, set by the API's on_plan) is said when the run starts."""

    def __init__(self, err: Console, kind: str, title: str = "run") -> None:
        self.bar = progress(err)
        self.task = self.bar.add_task(kind, total=None, extra="")
        self.kind, self.title = kind, title
        self.shape = ""

    def start(self, run_id: str, total: int, already: int) -> None:
        self.bar.start()
        run_started(self.kind, run_id)
        self.bar.console.print(
            f"{self.title} {run_id}: {plural(total, 'result')} to have "
            f"({already} already stored) · {self.shape}",
            markup=False,
        )
        self.bar.update(self.task, total=total, completed=already)

    def update(self, **fields: Any) -> None:
        self.bar.update(self.task, **fields)

    def __enter__(self) -> RunBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.bar.stop()


# The options whose values are model ids the local user typed (see `_config`).
_MODEL_OPTIONS = ("model", "judge", "proposer", "paraphraser", "from_model", "to_model")


def config() -> Config:
    """The project's config, as the local user's command sees it: the endpoints typed in
    this command's model options are trusted with their provider's key (a prompt or suite
    file naming an endpoint on its own is not: models/providers.py key_allowed)."""
    import click

    from .. import limits
    from ..config import load_config
    from ..models.providers import inline_endpoint, parse_model_id

    config = load_config()
    limits.set_limits(config.limits)
    ctx = click.get_current_context(silent=True)
    for name in _MODEL_OPTIONS:
        value = ctx.params.get(name) if ctx is not None else None
        for model_id in [value] if isinstance(value, str) else value or []:
            with contextlib.suppress(UserError):  # a bad id is reported where it is used
                endpoint = inline_endpoint(parse_model_id(model_id, config))
                if endpoint:
                    config.typed_endpoints.add(endpoint)
    return config


def store(config: Config) -> Store:
    from ..store import Store

    return Store(config.database_url)


def parse_inputs(pairs: list[str] | None, inputs_file: Path | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if inputs_file is not None:
        from ..yamlfile import load_json, read_text

        data = load_json(read_text(inputs_file, "inputs file"), inputs_file)
        if not isinstance(data, dict):
            raise UserError(
                'inputs file must hold a JSON object {"name": value}', file=inputs_file, line=1
            )
        values.update(data)
    for pair in pairs or []:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise UserError(f"-i expects key=value, got {pair!r}", field="-i")
        values[key.strip()] = value
    return values


def strings(pairs: list[str] | None) -> set[str]:
    return {p.partition("=")[0].strip() for p in pairs or []}


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


InputsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--input", "-i", help="An input value, key=value (repeatable).", metavar="KEY=VALUE"
    ),
]
InputsFileOpt = Annotated[
    Path | None, typer.Option("--inputs", help="A JSON file with the input values.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
LangOpt = Annotated[
    str, typer.Option("--lang", help="Language of the texts: en or fr.", metavar="en|fr")
]


def load_prompt(config: Config, ref: str) -> Prompt:
    """A prompt named on the command line (a local user may give a file's path), its notes
    (what loads but is probably a mistake) printed on stderr."""
    from ..library import Library

    prompt = Library.from_config(config).get_local(ref)
    if prompt.notes:
        err = console(stderr=True)
        for note in prompt.notes:
            err.print(f"[yellow]note:[/] {note.render()}", markup=True)
    return prompt


def inputs(pairs: list[str] | None, inputs_file: Path | None) -> tuple[dict[str, Any], set[str]]:
    """Input values, and the names typed as text with -i (to convert to their kind)."""
    return parse_inputs(pairs, inputs_file), strings(pairs)


OutputOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--output",
        "-o",
        help="Write a report: .json, .jsonl, .csv, .xml (JUnit) or .html (repeatable).",
    ),
]


def write_reports(store: Store, run_id: str, outputs: list[Path] | None) -> None:
    if not outputs:
        return
    from .. import report
    from ..files import write_atomic

    info = store.get_run(run_id)
    records = store.results(run_id)
    run_meta = {
        "id": info.id,
        "suite": info.suite,
        "status": info.status,
        "created": info.created_at.isoformat(),
        "plan": info.plan,
    }
    from ..review import run_preferences

    preferences = run_preferences(store, run_id)  # blind A/B verdicts people gave on it
    for out in outputs:
        suffix = out.suffix.lower()
        if suffix == ".json":
            text = report.to_json(records, run_meta, preferences=preferences)
        elif suffix == ".jsonl":
            text = "".join(report.to_jsonl(records))
        elif suffix == ".csv":
            text = report.to_csv(records)
        elif suffix == ".xml":
            text = report.to_junit(records, info.suite)
        elif suffix in {".html", ".htm"}:
            text = report.to_html(records, run_meta, preferences=preferences)
        else:
            raise UserError(
                "unknown report format", file=out, hint="use .json, .jsonl, .csv, .xml or .html"
            )
        write_atomic(out, text)
        console(stderr=True).print(f"wrote {out}", markup=False)


def print_summary(store: Store, run_id: str, *, worst: int = 3) -> float | None:
    """The terminal report; returns the lowest pass rate (for --fail-under)."""

    from .. import report

    info = store.get_run(run_id)
    records = store.results(run_id)
    summaries = report.summarise(records, worst=worst)
    out = console()
    grid = table(title=f"Run {info.id} · {info.suite} · {info.status}")
    for col in (
        "variant",
        "pass rate [95% CI]",
        "mean score [95% CI]",
        "passed/judged",
        "errors",
        "pass^k",
        "flaky",
        "model p50 / p95",
        "cost",
    ):
        grid.add_column(col, justify="left" if col == "variant" else "right")
    for sm in summaries:
        ms = sm.mean_score
        grid.add_row(
            sm.label,
            str(sm.pass_rate),
            f"{ms.estimate:.3f} [{ms.low:.3f}, {ms.high:.3f}]" if ms else "—",
            f"{sm.passed}/{sm.passed + sm.failed}",
            str(sm.errors),
            f"{sm.pass_hat_k:.1%} (k={sm.repeats})" if sm.pass_hat_k is not None else "—",
            str(len(sm.flaky_cases)),
            f"{sm.latency_p50 * 1000:.0f} / {sm.latency_p95 * 1000:.0f} ms"
            if sm.latency_p50 is not None and sm.latency_p95 is not None
            else "—",
            f"${sm.cost:.4f}" if sm.cost_known else "unknown",
        )
    out.print(grid)
    print_fields(out, summaries)
    for sm in summaries:
        for w in sm.worst:
            out.print(
                f"[red]✗[/] {sm.label} case {w['case_id']}#{w['repeat']}: "
                f"{(w['error'] or w['why'] or '')[:160]}",
                markup=True,
            )
    for cmp in report.paired(records):
        out.print(cmp.words(), markup=False)
    print_run_notes(out, store, info, worst=worst)
    if info.done < info.total:
        out.print(
            f"[yellow]incomplete:[/] {info.done} of {info.total} results; "
            f"{info.kind.resume_hint(info.id)}",
            markup=True,
        )
    rates = [sm.pass_rate.estimate for sm in summaries if sm.passed + sm.failed]
    return min(rates) if rates else None


def shown(path: Path) -> str:
    """A path as the user would type it: relative to where they stand, when it is below."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def project_root() -> Path:
    """The folder of the project the user stands in; a UserError outside any project."""
    from ..config import load_config

    config = load_config()
    if config.file is None:
        raise UserError(
            "not in a prompteur project",
            field="--project",
            hint="run it in a project (prompteur init) or give --project DIR",
        )
    return config.root


# ---- notes beside a run's report (called by `eval` and `show`) ---------------------------


def show_probe_run(
    out: Console, store: Store, info: RunInfo, outputs: list[Path] | None, *, worst: int = 3
) -> None:
    """`prompteur show RUN` on a probe run: the probe report as stored (with today's judge
    calibrations), and `-o` writes the probe formats; an unfinished run says how to finish."""
    from ..errors import UserError
    from ..probes import report
    from ..probes.notes import judged_by
    from ..probes.storage import load_report

    stored = load_report(store, info.id)
    if stored is None:
        if outputs:
            raise UserError(
                f"probe run {info.id} has no report yet ({info.done} of {info.total} results)",
                hint=f"finish it with: prompteur probe --resume {info.id}",
            )
        out.print(
            f"[yellow]probe run {info.id} is unfinished:[/] {info.done} of {info.total} "
            f"results, no findings yet; finish it with: prompteur probe --resume {info.id}"
        )
        return
    # Calibrations made since the run count: read them now, not as stored.
    current = {**stored, "judges": judged_by(store, info.plan, _default_model())}
    report.print_report(out, current, worst=worst)
    for path in outputs or []:
        report.write(current, path)
        console(stderr=True).print(f"wrote {path}", markup=False)


def print_run_notes(console: Console, store: Store, info: RunInfo, *, worst: int = 3) -> None:
    """A probe run's report; for any run judged by a model, how far that judge agrees with
    people (or that it was never checked); and the blind A/B verdicts people gave on its
    variants."""
    from rich.markup import escape

    from ..probes.notes import judged_by
    from ..probes.storage import load_report

    if info.kind == "probe":
        stored = load_report(store, info.id)
        if stored is not None:
            from ..probes.report import print_report

            # Calibrations made since the run count: read them now, not as stored.
            print_report(
                console,
                {**stored, "judges": judged_by(store, info.plan, _default_model())},
                worst=worst,
            )
            return
    for note in judged_by(store, info.plan, _default_model()):
        colour = "red" if note["low"] else "green"
        console.print(f"[{colour}]judge:[/] {escape(note['text'])}")
    from ..review import run_preferences

    for pref in run_preferences(store, info.id):
        console.print(f"[bold]blind A/B ({escape(pref['queue'])}):[/] {escape(pref['words'])}")


def _default_model() -> str:
    from ..config import load_config

    return load_config().data.project.default_model


def print_fields(console: Console, summaries: list[VariantSummary]) -> None:
    """A table of field accuracies when some check compared objects field by field, and one
    line per variant on queue time and enforcement when there is something to say."""
    from rich.table import Table

    if any(sm.fields for sm in summaries):
        table = Table(title="Fields", title_justify="left")
        for col in ("variant", "field", "accuracy [95% CI]"):
            table.add_column(col, justify="right" if col.startswith("acc") else "left")
        for sm in summaries:
            for name, acc in sm.fields.items():
                table.add_row(sm.label, name, str(acc))
        console.print(table)
    for sm in summaries:
        notes = []
        if sm.queue_p50:
            notes.append(f"queued p50 {sm.queue_p50 * 1000:.0f} ms (not in the model's time)")
        if sm.enforcement:
            notes.append(
                "schema: " + ", ".join(f"{k} ×{n}" for k, n in sorted(sm.enforcement.items()))
            )
        if notes:
            console.print(f"{sm.label}: " + " · ".join(notes), markup=False)
