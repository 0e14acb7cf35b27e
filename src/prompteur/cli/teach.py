"""`prompteur chain`, `learn` and `challenge`: thin shells over prompteur.chains, .learn and
.challenge. Heavy modules load inside the commands so that
`prompteur --help` stays fast."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..i18n import (
    colon,
    count,
    pct,
    plural,
    sentence,
    template,
    translate,
    translator,
    typography,
)
from . import _common as common
from ._common import JsonOpt

if TYPE_CHECKING:
    from ..config import Config
    from ..runner import ResponseCache

chain_app = typer.Typer(
    help="Chains: prompts in a pipeline, one step's output feeding the next.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
challenge_app = typer.Typer(
    help="Hiring challenges: a brief, a hidden suite, every attempt recorded, a report. "
    "/ Défis de recrutement : une consigne, une suite cachée, chaque essai enregistré.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

LangOpt = common.LangOpt


def _cache(config: Config) -> ResponseCache | None:
    """The project's response cache (a re-graded, unchanged prompt costs no call); none
    outside a project, so that nothing is written where no project lives."""
    if config.file is None:
        return None
    return common.store(config).cache


# ---- chains --------------------------------------------------------------------------------


@chain_app.command("check")
def chain_check(
    chain: Annotated[Path, typer.Argument(help="The chain file (YAML).")],
    as_json: JsonOpt = False,
) -> None:
    """Validate a chain (step references, cycles, inputs) and show its steps in run order."""
    from ..chains import load_chain
    from ..library import Library

    config = common.config()
    c = load_chain(chain, Library.from_config(config))
    steps = [
        {
            "id": s.id,
            "prompt": s.prompt.name,
            "version": s.prompt.short_version,
            "inputs": {
                k: (f"${r.kind}.{r.name}" if r.kind != "literal" else r.value)
                for k, r in s.refs.items()
            },
            "model": s.spec.model,
        }
        for s in c.steps
    ]
    if as_json:
        common.print_json(
            {"name": c.name, "version": c.version, "output": c.output_step, "steps": steps}
        )
        return
    console = common.console()
    console.print(f"[bold]{c.name}[/] @ {c.version[:12]} — ok, {plural(len(steps), 'step')}:")
    for s in steps:
        args = ", ".join(f"{k}←{v}" for k, v in s["inputs"].items())
        console.print(f"  {s['id']}: {s['prompt']}@{s['version']} ({args})", markup=False)
    console.print(f"  output: {c.output_step}", markup=False)


@chain_app.command("run")
def chain_run(
    chain: Annotated[Path, typer.Argument(help="The chain file (YAML).")],
    input: Annotated[
        list[str] | None,
        typer.Option(
            "--input", "-i", help="A chain input, key=value (repeatable).", metavar="KEY=VALUE"
        ),
    ] = None,
    inputs: Annotated[
        Path | None, typer.Option("--inputs", help="A JSON file with the input values.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Run every step on this model (instead of the chain's)."
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Call the models again.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a chain once: every step's output, then the final output."""
    import asyncio

    from ..chains import ChainExecutor, load_chain
    from ..library import Library

    async def go(executor: ChainExecutor, values: dict[str, Any]) -> Any:
        try:
            return await executor.run(values)
        finally:
            await executor.aclose()

    config = common.config()
    c = load_chain(chain, Library.from_config(config))
    values = common.parse_inputs(input, inputs)
    c.resolve_inputs(values)
    executor = ChainExecutor(c, config, model=model, cache=None if no_cache else _cache(config))
    outcome = asyncio.run(go(executor, values))
    if as_json:
        common.print_json({"chain": c.name, "version": c.version, **outcome.to_dict()})
    else:
        err = common.console(stderr=True)
        for s in outcome.steps:
            value = s.value if s.value is not None else s.output
            err.print(
                f"[dim]{s.id} ({s.prompt} on {s.model}, {s.latency_s * 1000:.0f} ms"
                f"{', cached' if s.cached else ''}):[/] {str(value).strip()[:300]}",
                markup=True,
                highlight=False,
            )
        if outcome.output is not None:
            common.console().print(outcome.output, markup=False)
    if outcome.error:
        common.console(stderr=True).print(f"[bold red]error:[/] {outcome.error}", markup=True)
        raise typer.Exit(1)


@chain_app.command("test")
def chain_test(
    chain: Annotated[
        Path | None, typer.Argument(help="The chain file (YAML); not with --resume.")
    ] = None,
    suite: Annotated[
        Path | None, typer.Option("--suite", "-s", help="The suite to run through it.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Run every step on this model (instead of the chain's)."
        ),
    ] = None,
    repeat: Annotated[int | None, typer.Option(help="Repeats per case.", min=1)] = None,
    resume: Annotated[
        str | None,
        typer.Option(help="Finish an interrupted chain run: only what is missing is computed."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Call the models again.")] = False,
    fail_under: Annotated[
        float | None,
        typer.Option(help="Exit 1 when the pass rate is below this (0–1).", min=0, max=1),
    ] = None,
    output: Annotated[
        list[Path] | None,
        typer.Option("--output", "-o", help="Write a report: .json, .jsonl, .csv, .xml, .html."),
    ] = None,
) -> None:
    """Run a suite end to end through a chain; checks with `step:` judge an intermediate
    step. The results are stored as a run (prompteur runs / show / compare); an interrupted
    run resumes with --resume RUN."""
    import asyncio
    import time

    from ..chains import evaluate_chain, load_chain, load_chain_suite, resume_args
    from ..errors import UserError
    from ..library import Library

    config = common.config()
    store = common.store(config)
    info = None
    if resume:
        info = store.get_run(resume)
        recorded = resume_args(info)
        chain, suite = chain or recorded.chain, suite or recorded.suite
        model, repeat = model or recorded.model, repeat or recorded.repeat
    elif chain is None or suite is None:
        raise UserError("name a chain file and --suite SUITE, or --resume RUN")
    c = load_chain(chain, Library.from_config(config))
    cs = load_chain_suite(suite, c)
    err = common.console(stderr=True)
    counts = {"pass": 0, "judged": 0}
    begun = time.monotonic()
    with common.progress(err) as progress:
        task = progress.add_task("chain", total=None, extra="")

        def on_start(run_id: str, total: int, already: int) -> None:
            common.run_started("chain", run_id)
            progress.console.print(
                f"run {run_id}: chain {c.name} ({len(c.steps)} steps) × "
                f"{plural(cs.suite.count_cases(), 'case')} × "
                f"{plural(total // max(1, cs.suite.count_cases()), 'repeat')}",
                markup=False,
            )
            progress.update(task, total=total, completed=already)

        def on_result(r: Any) -> None:
            if r.passed is not None:
                counts["judged"] += 1
                counts["pass"] += bool(r.passed)
            rate = counts["pass"] / counts["judged"] if counts["judged"] else 0.0
            progress.update(
                task, advance=1, extra=f"pass {rate:.0%} · {time.monotonic() - begun:.0f}s"
            )

        run_id = asyncio.run(
            evaluate_chain(
                c,
                cs,
                config,
                store,
                model=model,
                repeat=repeat,
                use_cache=not no_cache,
                resume_run=info,
                on_start=on_start,
                on_result=on_result,
            )
        )
    lowest = common.print_summary(store, run_id)
    common.write_reports(store, run_id, output)
    if fail_under is not None and (lowest is None or lowest < fail_under):
        common.console(stderr=True).print(
            f"[red]pass rate {lowest or 0:.1%} is under --fail-under {fail_under:.1%}[/]",
            markup=True,
        )
        raise typer.Exit(1)


# ---- lessons -------------------------------------------------------------------------------

_LEARN_T = {
    "title": "Lessons",
    "done": "Passed",
    "todo": "to do",
    "wrote": "Your exercise file: {path}",
    "kept": "Your exercise file (kept as you left it): {path}",
    "next": "Edit it, then grade it with: prompteur learn {id} --check {path}",
    "start": "Start with: prompteur learn {id}",
    "continue": "Press Enter for the exercise…",
    "exercise": "Exercise",
    "grading": "grading on the embedded model",
    "solution": "Reference solution",
}


def _lt(key: str, lang: str, **kw: Any) -> str:
    return sentence(_LEARN_T[key], lang, kw)


def learn_command(
    lesson: Annotated[
        str | None, typer.Argument(help="A lesson (id or number); omit to list them.")
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option("--check", help="Grade this file against the lesson's hidden suite."),
    ] = None,
    solution: Annotated[
        bool, typer.Option("--solution", help="Print the lesson's reference solution.")
    ] = False,
    folder: Annotated[Path, typer.Option("--dir", help="Where to write exercise files.")] = Path(
        "learn"
    ),
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
) -> None:
    """Short lessons on the craft, graded on the embedded model. / Leçons courtes sur le
    métier, notées sur le modèle embarqué."""
    from .. import learn

    lang = learn.check_lang(lang)
    config = common.config()
    if lesson is None:
        _list_lessons(common, config, lang, as_json)
        return
    les = learn.get_lesson(lesson)
    if solution:
        common.console().print(les.solution, markup=False)
        return
    if check is not None:
        _check_lesson(common, config, les, check, lang, as_json)
        return
    _show_lesson(common, config, les, folder, lang, as_json)


def _list_lessons(common: Any, config: Config, lang: str, as_json: bool) -> None:
    from .. import learn

    progress = learn.load_progress(config.state_dir)
    rows = [
        {
            **les.to_dict(lang),
            "passed": bool(progress.get(les.id, {}).get("passed")),
            "attempts": progress.get(les.id, {}).get("attempts", 0),
        }
        for les in learn.lessons()
    ]
    if as_json:
        common.print_json(
            [{k: v for k, v in r.items() if k not in {"explanation", "exercise"}} for r in rows]
        )
        return

    table = common.table(title=_lt("title", lang))
    t = translator(lang)
    for col in ("#", "id", "title", "", "summary"):
        table.add_column(t(col))
    for r in rows:
        state = f"[green]✓ {_lt('done', lang)}[/]" if r["passed"] else _lt("todo", lang)
        table.add_row(str(r["order"]), r["id"], r["title"], state, r["summary"])
    console = common.console()
    console.print(table)
    first = next((r for r in rows if not r["passed"]), rows[0])
    console.print(_lt("start", lang, id=first["id"]), markup=False)


def _show_lesson(
    common: Any, config: Config, les: Any, folder: Path, lang: str, as_json: bool
) -> None:
    import sys

    from ..files import write_atomic

    base = folder if folder.is_absolute() else config.root / folder
    target = base / les.file
    fresh = not target.exists()
    if fresh:
        write_atomic(target, les.starter)
    shown = target
    with contextlib.suppress(ValueError):
        shown = target.relative_to(Path.cwd())
    if as_json:
        common.print_json({**les.to_dict(lang), "file": str(shown), "written": fresh})
        return
    console = common.console()
    console.rule(f"[bold]{les.order}. {les.text('title', lang)}[/]", align="left")
    console.print(les.text("explanation", lang), markup=False)
    if sys.stdin.isatty() and sys.stdout.isatty():
        # An interactive terminal: let the learner read before the exercise scrolls in.
        input(_lt("continue", lang))
    console.rule(_lt("exercise", lang), align="left")
    console.print(les.text("exercise", lang), markup=False)
    console.print(_lt("wrote" if fresh else "kept", lang, path=shown), markup=False)
    console.print(_lt("next", lang, id=les.id, path=shown), markup=False)


def _check_lesson(
    common: Any, config: Config, les: Any, path: Path, lang: str, as_json: bool
) -> None:
    from .. import learn

    err = common.console(stderr=True)
    with common.progress(err) as progress:
        task = progress.add_task(_lt("grading", lang), total=None, extra="")
        result = learn.check_file(
            les,
            path,
            config,
            lang=lang,
            cache=_cache(config),
            on_result=lambda _r: progress.update(task, advance=1),
        )
    entry = learn.record_attempt(config.state_dir, les.id, result.passed, result.score)
    if as_json:
        common.print_json({**result.to_dict(), "progress": entry})
    else:
        console = common.console()
        mark = "[bold green]✓[/]" if result.passed else "[bold red]✗[/]"
        head = {"en": ("Passed", "Not yet"), "fr": ("Réussi", "Pas encore")}[lang]
        console.print(
            f"{mark} {les.text('title', lang)}: {head[0] if result.passed else head[1]}",
            markup=True,
        )
        for line in result.feedback:
            console.print(f"  {line}", markup=False)
        for name, g in result.grades.items():
            for c in g.cases:
                if not c.passed:
                    why = c.error or "; ".join(f"{n}: {r}" for n, r in c.failed)
                    label = "" if name == "hidden" else f"[{name}] "
                    console.print(
                        f"  [red]✗[/] {label}{str(c.output or '')[:70]!r} — {why[:160]}",
                        markup=True,
                        highlight=False,
                    )
    if not result.passed:
        raise typer.Exit(1)


# ---- challenges ----------------------------------------------------------------------------


@challenge_app.command("list")
def challenge_list(lang: LangOpt = "en", as_json: JsonOpt = False) -> None:
    """List the challenges shipped with prompteur."""
    from ..challenge import challenges
    from ..learn import check_lang

    lang = check_lang(lang)
    rows = [{"id": c.id, "title": c.title(lang), "file": c.file} for c in challenges()]
    if as_json:
        common.print_json(rows)
        return
    for r in rows:
        common.console().print(f"{r['id']}: {r['title']}", markup=False)


@challenge_app.command("new")
def challenge_new(
    challenge: Annotated[str, typer.Argument(help="Which challenge (see: challenge list).")],
    folder: Annotated[Path, typer.Argument(help="The candidate's workspace.")] = Path("."),
    candidate: Annotated[str | None, typer.Option(help="The candidate's name.")] = None,
    hidden: Annotated[
        Path | None,
        typer.Option(
            "--hidden",
            help="A suite the recruiter keeps elsewhere: the workspace "
            "records only its fingerprint; grade with --hidden on submit or report.",
        ),
    ] = None,
    lang: LangOpt = "en",
) -> None:
    """Create a candidate's workspace: the brief and a starter prompt (the suite stays hidden)."""
    from ..challenge import get_challenge, new_workspace
    from ..learn import check_lang

    lang = check_lang(lang)
    c = get_challenge(challenge)
    written = new_workspace(c, folder.resolve(), lang=lang, candidate=candidate, hidden=hidden)
    console = common.console()
    intro = {"en": "Challenge ready in", "fr": "Défi prêt dans"}[lang]
    console.print(f"{intro} {folder.resolve()}:", markup=False)
    for p in written:
        console.print(f"  {p.name}", markup=False)
    nxt = template("Read {b}, edit {f}, then: prompteur challenge submit", lang)
    console.print(typography(nxt.format(b=written[0].name, f=c.file), lang), markup=False)


SECRET_ENV = "PROMPTEUR_CHALLENGE_SECRET"


def _secret() -> bytes | None:
    """The recruiter's secret that seals the attempts: from the environment of the machine
    that records them (never from the workspace, never written anywhere)."""
    import os

    value = os.environ.get(SECRET_ENV, "")
    return value.encode("utf-8") if value else None


@challenge_app.command("submit")
def challenge_submit(
    folder: Annotated[Path, typer.Argument(help="The workspace.")] = Path("."),
    note: Annotated[str | None, typer.Option(help="What you changed, in a few words.")] = None,
    hidden: Annotated[
        Path | None, typer.Option("--hidden", help="The recruiter's suite, when they keep it.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the prompt file as a new attempt and grade it on the hidden suite."""
    from ..challenge import open_workspace, submit

    ws = open_workspace(folder.resolve())
    config = common.config()
    err = common.console(stderr=True)
    with err.status(translate("grading…", ws.lang)):
        attempt = submit(
            ws, config, hidden=hidden, note=note, cache=_cache(config), secret=_secret()
        )
    if as_json:
        common.print_json({k: v for k, v in attempt.items() if k != "content"})
        return
    lang = ws.lang
    t = translator(lang)
    console = common.console()
    if attempt.get("score") is None:
        console.print(
            typography(
                t("Attempt #{n} recorded (the recruiter grades it).").format(**attempt), lang
            ),
            markup=False,
        )
        return
    console.print(
        typography(
            t("Attempt #{n}: {score} ({passed} of {total} cases pass)").format(
                n=attempt["n"],
                score=pct(attempt["score"], lang, 0),
                passed=attempt["passed"],
                total=attempt["total"],
            ),
            lang,
        ),
        markup=False,
    )
    if attempt.get("error"):
        console.print(f"  {attempt['error']}", markup=False)
    for name, k in (attempt.get("failing_checks") or {}).items():
        console.print(typography(f"  {name}: {count(k, 'failure', lang)}", lang), markup=False)


@challenge_app.command("report")
def challenge_report(
    folder: Annotated[Path, typer.Argument(help="The workspace.")] = Path("."),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report as HTML.")
    ] = None,
    hidden: Annotated[
        Path | None,
        typer.Option("--hidden", help="The recruiter's suite: grades the ungraded attempts."),
    ] = None,
    regrade: Annotated[
        bool,
        typer.Option(
            "--regrade",
            help="Grade every attempt again (scores are not "
            "protected by the hash chain; the contents are).",
        ),
    ] = False,
    lang: Annotated[
        str | None, typer.Option("--lang", help="en or fr (default: the workspace's).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score the best and final attempts and show how the candidate improved the prompt:
    timeline, score per attempt, diffs between attempts."""
    from ..challenge import build_report, grade_missing, hidden_suite, open_workspace, to_html
    from ..files import write_atomic
    from ..learn import check_lang

    ws = open_workspace(folder.resolve())
    lang = check_lang(lang or ws.lang)
    config = common.config()
    if hidden is not None or regrade:
        suite = hidden_suite(ws, hidden)
        if suite is not None:
            grade_missing(ws, config, suite, _cache(config), regrade=regrade, secret=_secret())
    rep = build_report(ws, lang, secret=_secret())
    if output is not None:
        write_atomic(output, to_html(rep))
        common.console(stderr=True).print(f"wrote {output}", markup=False)
    if as_json:
        common.print_json(rep.to_dict())
        return

    from ..challenge._report import t

    console = common.console()
    table = common.table(title=f"{t('title', lang)} — {rep.title}")
    for col in (
        "#",
        t("elapsed", lang),
        t("score", lang),
        t("cases", lang),
        t("changed", lang),
        t("note", lang),
    ):
        table.add_column(col)
    for r in rep.rows:
        table.add_row(
            str(r.n),
            f"{r.minutes}",
            t("ungraded", lang) if r.score is None else pct(r.score, lang, 0),
            "" if r.passed is None else f"{r.passed}/{r.total}",
            f"+{r.added} −{r.removed}",
            r.note or "",
        )
    console.print(table)
    for key, row in (("best", rep.best), ("final", rep.final)):
        if row is not None:
            score = t("ungraded", lang) if row.score is None else pct(row.score, lang, 0)
            console.print(f"{t(key, lang)}{colon(lang)} #{row.n} — {score}", markup=False)
    console.print(typography(t("intact" if rep.intact else "broken", lang), lang), markup=False)
    seal = "seal-broken" if rep.seal == "broken" else rep.seal
    console.print(typography(t(seal, lang), lang), markup=False)
