"""The command line: a thin shell over the library. Heavy modules load inside each command so
that `prompteur --help` stays fast."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from .cli_craft import COACH_HELP, LINT_HELP, coach_command, image_app, lint_command, persona_app
from .cli_draft import SHORT_HELP as DRAFT_HELP
from .cli_draft import draft_command
from .cli_import import import_app
from .cli_monitor import monitor_app, traces_app
from .cli_optimize import optimize_command
from .cli_probe import judge_app, probe_command
from .cli_registry import register as register_registry
from .cli_server import keys_app, serve_command
from .cli_teach import chain_app, challenge_app, learn_command, packs_command
from .cli_web import SHORT_HELP as VIEW_HELP
from .cli_web import view_command
from .errors import PrompteurError, UserError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from .config import Config
    from .prompt import Prompt
    from .store import Store
    from .store.db import RunInfo

app = typer.Typer(
    name="prompteur",
    help="The prompt engineer's workbench: write, test, compare, improve, probe, ship and "
    "watch prompts. Runs offline on an embedded model; any provider with a key.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: typer's rich help formatter alone doubles start-up time.
    rich_markup_mode=None,
)
library_app = typer.Typer(
    help="Browse the prompt library and its stored versions.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


# ---- shared plumbing ---------------------------------------------------------------------


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _fail(exc: PrompteurError) -> NoReturn:
    from .models.base import ModelError

    console = _console(stderr=True)
    if isinstance(exc, UserError):
        if exc.file and Path(exc.file).is_absolute():
            # Show paths the way the user typed them: relative to where they stand.
            with contextlib.suppress(ValueError):
                exc.file = str(Path(exc.file).relative_to(Path.cwd()))
        console.print(f"[bold red]error:[/] {exc.render()}", markup=True)
        raise typer.Exit(exc.exit_code)
    if isinstance(exc, ModelError):
        console.print(f"[bold red]model error:[/] {exc}", markup=True)
        raise typer.Exit(1)
    console.print(f"[bold red]error:[/] {exc}", markup=True)
    raise typer.Exit(1)


def _progress(console: Console, unit: str = "") -> Progress:
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


# The options whose values are model ids the local user typed (see `_config`).
_MODEL_OPTIONS = ("model", "judge", "proposer", "paraphraser", "from_model", "to_model")


def _config() -> Config:
    """The project's config, as the local user's command sees it: the endpoints typed in
    this command's model options are trusted with their provider's key (a prompt or suite
    file naming an endpoint on its own is not: models/providers.py key_allowed)."""
    import click

    from . import limits
    from .config import load_config
    from .models.providers import inline_endpoint, parse_model_id

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


def _store(config: Config) -> Store:
    from .store import Store

    return Store(config.database_url)


def _parse_inputs(pairs: list[str] | None, inputs_file: Path | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if inputs_file is not None:
        from .yamlfile import load_json, read_text

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


def _strings(pairs: list[str] | None) -> set[str]:
    return {p.partition("=")[0].strip() for p in pairs or []}


def _print_json(data: Any) -> None:
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


def _load_prompt(config: Config, ref: str) -> Prompt:
    """The prompt, its notes (what loads but is probably a mistake) printed on stderr."""
    from .library import Library

    prompt = Library.from_config(config).get_local(ref)
    if prompt.notes:
        err = _console(stderr=True)
        for note in prompt.notes:
            err.print(f"[yellow]note:[/] {note.render()}", markup=True)
    return prompt


def _inputs(pairs: list[str] | None, inputs_file: Path | None) -> tuple[dict[str, Any], set[str]]:
    """Input values, and the names typed as text with -i (to convert to their kind)."""
    return _parse_inputs(pairs, inputs_file), _strings(pairs)


# ---- commands ----------------------------------------------------------------------------


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        from . import __version__

        typer.echo(f"prompteur {__version__}")
        raise typer.Exit()


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Where to create the project.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite the starter files.")] = False,
    pack: Annotated[
        str | None,
        typer.Option(
            "--pack", help="Add a domain pack's prompts and suites (see: prompteur packs)."
        ),
    ] = None,
) -> None:
    """Create a working project: prompteur.toml, example prompts (French and English),
    suites/ and a .gitignore for the store. With --pack in an existing project, adds the pack."""
    from .scaffold import init_project

    try:
        written = init_project(folder, force=force, pack=pack)
    except PrompteurError as exc:
        _fail(exc)
    console = _console()
    console.print(f"Created a prompteur project in [bold]{folder.resolve()}[/]:")
    for path in written:
        console.print(f"  {path.relative_to(folder.resolve())}")
    console.print('Next: [bold]prompteur ask sentiment -i review="Works great"[/]')


@app.command()
def render(
    prompt: Annotated[str, typer.Argument(help="A prompt name or file path.")],
    input: InputsOpt = None,
    inputs: InputsFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the messages a prompt renders to, without calling any model."""
    try:
        config = _config()
        p = _load_prompt(config, prompt)
        values, typed = _inputs(input, inputs)
        messages = p.render(values, from_strings=typed)
    except PrompteurError as exc:
        _fail(exc)
    if as_json:
        _print_json(
            {"prompt": p.name, "version": p.version, "messages": [m.to_dict() for m in messages]}
        )
        return
    console = _console()
    for m in messages:
        console.rule(f"[bold]{m.role}[/]", align="left")
        if not m.has_media:
            console.print(m.content, markup=False)
            continue
        for part in m.parts:
            text = part.value if part.kind == "text" else f"[{part.kind}: {part.value}]"
            console.print(text, markup=False)


@app.command()
def ask(
    prompt: Annotated[str, typer.Argument(help="A prompt name or file path.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="provider:model; default: the prompt's, then the project's."
        ),
    ] = None,
    input: InputsOpt = None,
    inputs: InputsFileOpt = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens to generate.")] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed.")] = None,
    stream: Annotated[bool, typer.Option(help="Print the output as it is generated.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Render a prompt, call a model, print the output, then tokens, latency and cost."""
    import asyncio

    from .api import ask as run_ask
    from .models.base import Params

    console = _console()
    try:
        config = _config()
        p = _load_prompt(config, prompt)
        values, typed = _inputs(input, inputs)
        values = p.resolve_inputs(values, from_strings=typed)
        overrides = Params(temperature=temperature, max_tokens=max_tokens, seed=seed)
        on_text = None
        if stream and not as_json:

            def on_text(piece: str) -> None:
                sys.stdout.write(piece)
                sys.stdout.flush()

        outcome = asyncio.run(
            run_ask(config, p, values, model_id=model, params=overrides, on_text=on_text)
        )
    except PrompteurError as exc:
        _fail(exc)
    if as_json:
        _print_json(outcome.to_dict())
        return
    if stream:
        sys.stdout.write("\n")
    else:
        console.print(outcome.response.text.strip(), markup=False)
    r = outcome.response
    cost = "unknown" if outcome.cost is None else f"${outcome.cost:.6f}"
    _console(stderr=True).print(
        f"[dim]{outcome.model_id} · {p.name}@{p.short_version} · tokens in {r.usage.input_tokens}"
        f" / out {r.usage.output_tokens} · {r.latency_s * 1000:.0f} ms · cost {cost} · "
        f"finish {r.finish_reason}[/]"
    )


@app.command()
def models(as_json: JsonOpt = False) -> None:
    """List the models you can use: the embedded one and each provider, with whether its key
    is set (never the key)."""
    import os

    from .models.providers import base_url, key_env, providers

    try:
        config = _config()
    except PrompteurError as exc:
        _fail(exc)
    rows = []
    for prov in providers():
        env = key_env(prov, config)
        has = bool(env and os.environ.get(env))
        example = {"local": "local", "openai-compatible": "openai-compatible:MODEL@URL"}.get(
            prov.name, f"{prov.name}:MODEL"
        )
        rows.append(
            {
                "provider": prov.name,
                "id": example,
                "base_url": base_url(prov, config),
                "key_env": env,
                "key_set": has if env else None,
                "ready": has or not prov.key_required,
                "description": prov.description,
                "default": config.data.project.default_model.split(":")[0] == prov.name,
            }
        )
    if as_json:
        _print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Models", title_justify="left")
    for col in ("id", "ready", "key", "base URL", "what"):
        table.add_column(col)
    for r in rows:
        key = (
            "—"
            if r["key_env"] is None
            else (
                f"[green]{r['key_env']} set[/]"
                if r["key_set"]
                else f"[red]{r['key_env']} missing[/]"
            )
        )
        ready = "[green]yes[/]" if r["ready"] else "[red]no[/]"
        default = " [bold](default)[/]" if r["default"] else ""
        table.add_row(r["id"] + default, ready, key, r["base_url"] or "", r["description"])
    _console().print(table)


# ---- library -----------------------------------------------------------------------------


def _prompt_row(p: Prompt) -> dict[str, Any]:
    return {
        "name": p.name,
        "version": p.short_version,
        "description": p.meta.description,
        "tags": p.meta.tags,
        "domain": p.meta.domain,
        "model": p.model_id or p.model_name,
        "targets": p.meta.targets,
        "path": str(p.path) if p.path else None,
        "inputs": list(p.meta.inputs),
    }


def _print_prompts(prompts: list[Prompt], as_json: bool, title: str) -> None:
    if as_json:
        _print_json([_prompt_row(p) for p in prompts])
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in ("name", "version", "tags", "domain", "model", "description"):
        table.add_column(col)
    for p in prompts:
        table.add_row(
            p.name,
            p.short_version,
            ", ".join(p.meta.tags),
            p.meta.domain or "",
            p.model_id or p.model_name or "",
            p.meta.description or "",
        )
    _console().print(table)


@library_app.command("list")
def library_list(
    tag: Annotated[str | None, typer.Option(help="Only prompts with this tag.")] = None,
    domain: Annotated[str | None, typer.Option(help="Only prompts of this domain.")] = None,
    model: Annotated[str | None, typer.Option(help="Only prompts for this model.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the prompts in the library (broken files are reported, not hidden)."""
    from .library import Library

    try:
        config = _config()
        lib = Library.from_config(config)
        _, broken = lib.scan()
        prompts = lib.filter(tag=tag, domain=domain, model=model)
    except PrompteurError as exc:
        _fail(exc)
    _print_prompts(prompts, as_json, f"Prompts in {lib.root}")
    err = _console(stderr=True)
    for b in broken:
        err.print(f"[yellow]skipped:[/] {b.error.render()}", markup=True)


@library_app.command("show")
def library_show(
    name: Annotated[str, typer.Argument(help="NAME, a path, or NAME@VERSION.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a prompt: its metadata, inputs and text."""
    from .library import Library

    try:
        config = _config()
        store = _store(config) if "@" in name else None
        p = Library.from_config(config).resolve(store, name)
    except PrompteurError as exc:
        _fail(exc)
    if as_json:
        _print_json({**_prompt_row(p), "full_version": p.version, "text": p.text})
        return
    console = _console()
    console.print(f"[bold]{p.name}[/] @ {p.short_version}  [dim]{p.path or ''}[/]")
    if p.meta.description:
        console.print(p.meta.description, markup=False)
    for key, spec in p.meta.inputs.items():
        default = f" = {spec.default!r}" if spec.default is not None else ""
        console.print(f"  input [bold]{key}[/]: {spec.kind}{default}  {spec.description or ''}")
    console.rule()
    console.print(p.text, markup=False)


@library_app.command("search")
def library_search(
    text: Annotated[str, typer.Argument(help="Text to look for (any case).")],
    as_json: JsonOpt = False,
) -> None:
    """Find prompts whose name, description, tags, domain or body mention TEXT."""
    from .library import Library

    try:
        hits = list(Library.from_config(_config()).search(text))
    except PrompteurError as exc:
        _fail(exc)
    if as_json:
        _print_json([{**_prompt_row(p), "matched": where} for p, where in hits])
        return
    if not hits:
        _console().print(f"No prompt mentions {text!r}.", markup=False)
        raise typer.Exit(1)
    _print_prompts([p for p, _ in hits], False, f"Prompts mentioning {text!r}")


@library_app.command("versions")
def library_versions(
    name: Annotated[str, typer.Argument(help="A prompt name.")],
    as_json: JsonOpt = False,
) -> None:
    """List the stored versions of a prompt, newest first; marks the working file's."""
    from .library import Library

    try:
        config = _config()
        lib = Library.from_config(config)
        current = None
        try:
            current = lib.get(name)
            name = current.name
        except UserError:
            pass
        rows = _store(config).versions(name)
    except PrompteurError as exc:
        _fail(exc)
    if as_json:
        _print_json(
            [
                {
                    "name": v.name,
                    "version": v.version,
                    "created_at": v.created_at,
                    "source": v.source,
                    "current": bool(current and current.version == v.version),
                }
                for v in rows
            ]
        )
        return
    if not rows:
        _console().print(
            f"No stored version of {name!r} yet (run it, or: prompteur library save NAME).",
            markup=False,
        )
        return
    from rich.table import Table

    table = Table(title=f"Versions of {name}", title_justify="left")
    for col in ("version", "saved", "source", ""):
        table.add_column(col)
    for v in rows:
        mark = "working file" if current and current.version == v.version else ""
        table.add_row(
            v.version[:12], v.created_at.strftime("%Y-%m-%d %H:%M:%S"), v.source or "", mark
        )
    _console().print(table)


@library_app.command("save")
def library_save(
    names: Annotated[
        list[str] | None, typer.Argument(help="Prompts to save; default: all.")
    ] = None,
) -> None:
    """Record the current content of prompts as versions in the store."""
    from .library import Library

    try:
        config = _config()
        lib = Library.from_config(config)
        prompts = [lib.get(n) for n in names] if names else lib.prompts()
        store = _store(config)
        console = _console()
        for p in prompts:
            new = lib.save(store, p)
            state = "saved" if new else "already stored"
            console.print(f"{p.name}@{p.short_version}: {state}", markup=False)
    except PrompteurError as exc:
        _fail(exc)


@library_app.command("diff")
def library_diff(
    a: Annotated[str, typer.Argument(help="NAME@VERSION or NAME (the working file).")],
    b: Annotated[str, typer.Argument(help="NAME@VERSION or NAME (the working file).")],
) -> None:
    """Show what changed between two versions of a prompt (a unified diff)."""
    from .library import Library, unified_diff

    try:
        config = _config()
        store = _store(config)
        lib = Library.from_config(config)
        pa, pb = lib.resolve(store, a), lib.resolve(store, b)
    except PrompteurError as exc:
        _fail(exc)
    text = unified_diff(pa, pb, f"{pa.name}@{pa.short_version}", f"{pb.name}@{pb.short_version}")
    if not text:
        _console().print("No difference.")
        return
    from rich.syntax import Syntax

    _console().print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))


# ---- evaluation ----------------------------------------------------------------------------

OutputOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--output",
        "-o",
        help="Write a report: .json, .jsonl, .csv, .xml (JUnit) or .html (repeatable).",
    ),
]


def _write_reports(store: Store, run_id: str, outputs: list[Path] | None) -> None:
    if not outputs:
        return
    from . import report
    from .files import write_atomic

    info = store.get_run(run_id)
    records = store.results(run_id)
    run_meta = {
        "id": info.id,
        "suite": info.suite,
        "status": info.status,
        "created": info.created_at.isoformat(),
        "plan": info.plan,
    }
    for out in outputs:
        suffix = out.suffix.lower()
        if suffix == ".json":
            text = report.to_json(records, run_meta)
        elif suffix == ".jsonl":
            text = "".join(report.to_jsonl(records))
        elif suffix == ".csv":
            text = report.to_csv(records)
        elif suffix == ".xml":
            text = report.to_junit(records, info.suite)
        elif suffix in {".html", ".htm"}:
            text = report.to_html(records, run_meta)
        else:
            raise UserError(
                "unknown report format", file=out, hint="use .json, .jsonl, .csv, .xml or .html"
            )
        write_atomic(out, text)
        _console(stderr=True).print(f"wrote {out}", markup=False)


def _print_summary(store: Store, run_id: str, *, worst: int = 3) -> float | None:
    """The terminal report; returns the lowest pass rate (for --fail-under)."""
    from rich.table import Table

    from . import report

    info = store.get_run(run_id)
    records = store.results(run_id)
    summaries = report.summarise(records, worst=worst)
    console = _console()
    table = Table(title=f"Run {info.id} · {info.suite} · {info.status}", title_justify="left")
    for col in (
        "variant",
        "pass rate [95% CI]",
        "mean score [95% CI]",
        "passed/judged",
        "errors",
        "pass^k",
        "flaky",
        "p50 / p95",
        "cost",
    ):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for sm in summaries:
        ms = sm.mean_score
        table.add_row(
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
    console.print(table)
    for sm in summaries:
        for w in sm.worst:
            console.print(
                f"[red]✗[/] {sm.label} case {w['case_id']}#{w['repeat']}: "
                f"{(w['error'] or w['why'] or '')[:160]}",
                markup=True,
            )
    for cmp in report.paired(records):
        console.print(cmp.words(), markup=False)
    from .cli_probe import print_run_notes  # a probe run's report; judges' calibrations

    print_run_notes(console, store, info, worst=worst)
    if info.done < info.total:
        console.print(
            f"[yellow]incomplete:[/] {info.done} of {info.total} results; "
            f"finish with: prompteur eval --resume {info.id}",
            markup=True,
        )
    rates = [sm.pass_rate.estimate for sm in summaries if sm.passed + sm.failed]
    return min(rates) if rates else None


# Runs that other commands made: their plans are not an eval plan, so `eval --resume` would
# rebuild the wrong cases and mix plain results into them.
_RESUME_WITH = {"probe": "prompteur probe --resume", "optimize": "prompteur optimize --resume"}


def _refuse_foreign_resume(info: RunInfo) -> None:
    kind = info.plan.get("kind")
    if kind in _RESUME_WITH:
        raise UserError(
            f"run {info.id} is a {kind} run, not an eval run",
            field="--resume",
            hint=f"finish it with: {_RESUME_WITH[kind]} {info.id}",
        )


@app.command("eval")
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

    from .evaluation import execute, make_plan
    from .runs import resume as runs_resume
    from .runs import start as runs_start

    run_id = None
    try:
        config = _config()
        store = _store(config)
        if resume:
            info = store.get_run(resume)
            _refuse_foreign_resume(info)
            suite_path = suite or info.plan.get("suite") or info.suite
            plan = make_plan(
                config,
                store,
                suite_path,
                models=model or info.plan.get("models"),
                repeat=repeat or info.plan.get("repeat"),
            )
            handle = runs_resume(store, info.id)
        else:
            if not suite:
                raise UserError("name a suite file, or --resume RUN")
            plan = make_plan(config, store, suite, models=model, repeat=repeat)
            handle = runs_start(store, str(plan.suite.path), plan.describe())
        run_id = handle.id
        with handle:
            total = plan.total()
            handle.set_total(total)
            already = len(store.done_keys(run_id))
            err = _console(stderr=True)
            err.print(
                f"run {run_id}: {total} results to have ({already} already stored) · "
                f"{len(plan.prompts)} prompt(s) × {len(plan.model_ids)} model(s) × "
                f"{plan.suite.count_cases()} case(s) × {plan.repeat} repeat(s)",
                markup=False,
            )
            counts = {"pass": 0, "judged": 0, "cost": 0.0}
            start = time.monotonic()
            with _progress(err) as progress:
                task = progress.add_task("eval", total=total, completed=already, extra="")

                def on_result(r: Any) -> None:
                    if r.passed is not None:
                        counts["judged"] += 1
                        counts["pass"] += bool(r.passed)
                    counts["cost"] += r.cost or 0.0
                    rate = counts["pass"] / counts["judged"] if counts["judged"] else 0.0
                    progress.update(
                        task,
                        advance=1,
                        extra=f"pass {rate:.0%} · "
                        f"${counts['cost']:.4f} · {time.monotonic() - start:.0f}s",
                    )

                stats = asyncio.run(
                    execute(
                        config,
                        store,
                        plan,
                        run_id,
                        use_cache=not no_cache,
                        concurrency=concurrency,
                        on_result=on_result,
                    )
                )
        err.print(
            f"{stats.done} new results · {stats.calls} model calls · {stats.cached} from "
            f"cache · {stats.retries} retries ({stats.rate_limited} rate-limited) · "
            f"{stats.errors} errors",
            markup=False,
        )
        lowest = _print_summary(store, run_id)
        _write_reports(store, run_id, output)
    except KeyboardInterrupt:
        if run_id:
            _console(stderr=True).print(
                f"interrupted: finish with prompteur eval --resume {run_id}"
            )
        raise typer.Exit(130) from None
    except PrompteurError as exc:
        _fail(exc)
    if stats.done and stats.errors == stats.done:
        _console(stderr=True).print(
            f"[bold red]error:[/] every one of the {stats.done} calls failed: see the errors "
            f"above (prompteur show {run_id})",
            markup=True,
        )
        raise typer.Exit(1)
    if fail_under is not None and (lowest is None or lowest < fail_under):
        _console(stderr=True).print(
            f"[red]pass rate {lowest if lowest is not None else 0:.1%} is"
            f" under --fail-under {fail_under:.1%}[/]",
            markup=True,
        )
        raise typer.Exit(1)


@app.command()
def runs(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List runs, newest first."""
    try:
        rows = _store(_config()).runs(limit)
    except PrompteurError as exc:
        _fail(exc)
    if as_json:
        _print_json([r.__dict__ for r in rows])
        return
    from rich.table import Table

    table = Table(title="Runs", title_justify="left")
    for col in ("id", "suite", "status", "done/total", "passed", "failed", "errors", "started"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.id,
            r.suite,
            r.status,
            f"{r.done}/{r.total}",
            str(r.passed),
            str(r.failed),
            str(r.errors),
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    _console().print(table)


@app.command()
def show(
    run: Annotated[str, typer.Argument(help="A run id (or prefix, or 'latest').")],
    output: OutputOpt = None,
    worst: Annotated[int, typer.Option(help="Failing cases to show per variant.")] = 3,
) -> None:
    """Print a run's report again (and write it to files with -o)."""
    try:
        store = _store(_config())
        info = store.get_run(run)
        if info.plan.get("kind") == "probe":
            # The eval table (one row per model, pass rates over mixed probe cases) means
            # nothing for a probe run: show its own report, and write its own formats.
            from .cli_probe import show_probe_run

            show_probe_run(_console(), store, info, output, worst=worst)
            return
        _print_summary(store, info.id, worst=worst)
        _write_reports(store, info.id, output)
    except PrompteurError as exc:
        _fail(exc)


@app.command()
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

    from . import report

    try:
        store = _store(_config())
        a = store.get_run(run_a)
        records = store.results(a.id)
        if run_b:
            b = store.get_run(run_b)
            # Label each run's variants by run, so the same prompt in both stays apart.
            records = [replace(r, prompt=f"{r.prompt} [{a.id[-6:]}]") for r in records] + [
                replace(r, prompt=f"{r.prompt} [{b.id[-6:]}]") for r in store.results(b.id)
            ]
        comparisons = report.paired(records)
    except PrompteurError as exc:
        _fail(exc)
    if not comparisons:
        _console().print("Nothing to compare: one variant only.")
        raise typer.Exit(1)
    if as_json:
        _print_json(
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
        _console().print(c.words(), markup=False)


# ---- the other commands, in the order of the work: write, test, improve, attack, ship, watch,
# craft and teach (registered here, after the core ones above, because --help lists them so) --

app.add_typer(library_app, name="library")
app.add_typer(import_app, name="import")
app.command("draft", short_help=DRAFT_HELP)(draft_command)
app.command("lint", short_help=LINT_HELP)(lint_command)
app.command("coach", short_help=COACH_HELP)(coach_command)
app.command(
    "optimize",
    help="Improve a prompt automatically under a call budget, reported on held-out cases.",
)(optimize_command)
app.command("probe")(probe_command)
app.add_typer(judge_app, name="judge")
register_registry(app)  # label, promote, rollback, audit, regress
app.command("serve", short_help="Serve the library, labels, gateway, runs and traces over HTTP.")(
    serve_command
)
app.add_typer(keys_app, name="keys")
app.command("view", short_help=VIEW_HELP)(view_command)
app.add_typer(monitor_app, name="monitor")
app.add_typer(traces_app, name="traces")
app.add_typer(persona_app, name="persona")
app.add_typer(image_app, name="image")
app.add_typer(chain_app, name="chain")
app.command("learn")(learn_command)
app.add_typer(challenge_app, name="challenge")
app.command("packs")(packs_command)


def main() -> None:
    import signal

    def _terminated(_signum: int, _frame: Any) -> None:
        # `kill -TERM` ends a command the way Ctrl-C does: runs end `interrupted`, not
        # `running` forever.
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread (embedded in a test)
        signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    except (Exception, MemoryError) as exc:  # the environment failed: one line, no traceback
        message = environment_failure(exc)
        if message is None:
            raise
        _console(stderr=True).print(f"[bold red]error:[/] {message}", markup=True)
        raise SystemExit(1) from None


def environment_failure(exc: BaseException) -> str | None:
    """One line for a failure that is not prompteur's bug nor the user's typo: a full disk,
    no memory, a store that went away. None for anything else (a bug: its traceback)."""
    import errno

    if isinstance(exc, MemoryError):
        return "out of memory: the input is too large for this machine"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to process"
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return f"the disk is full{_where(exc)}; nothing more was written"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"permission denied{_where(exc)}"
        return f"{exc.strerror or exc}{_where(exc)}"
    try:
        from sqlalchemy.exc import DBAPIError
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, DBAPIError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return f"the store failed: {detail}"
    return None


def _where(exc: OSError) -> str:
    return f" ({exc.filename})" if exc.filename else ""


if __name__ == "__main__":
    main()
