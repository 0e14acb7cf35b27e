"""`prompteur lint`, `coach`, `persona …` and `image …`: thin shells over prompteur.lint,
prompteur.persona and prompteur.image. Heavy modules load inside the commands so that
`prompteur --help` stays fast."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..i18n import plural
from . import _common as common
from ._common import JsonOpt

if TYPE_CHECKING:
    from rich.console import Console

    from ..lint import Finding, Lang, Measurement

persona_app = typer.Typer(
    help="Design the assistant's personality: compile a persona into a system prompt, check "
    "that replies keep it.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
image_app = typer.Typer(
    help="Image prompts: render a structured spec for Midjourney, DALL·E or Stable Diffusion; "
    "generate with OpenAI's Images API.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

LINT_HELP = "Find what makes prompts fail: rule id, line, why, how to fix (en/fr)."
COACH_HELP = "Lint findings plus a capable model's critique and rewrite of a prompt."

LangOpt = Annotated[
    str, typer.Option("--lang", help="Language of the messages: en or fr.", metavar="en|fr")
]


def _lang(value: str) -> Lang:
    from ..errors import UserError

    value = value.strip().lower()
    if value not in ("en", "fr"):
        raise UserError(f"unknown language '{value}'", field="--lang", hint="use en or fr")
    return value  # type: ignore[return-value]


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def print_findings(console: Console, findings: list[Finding], lang: Lang) -> None:
    from rich.markup import escape

    from ..i18n import colon, translator

    t = translator(lang)
    for f in findings:
        style = _SEVERITY_STYLE[f.severity.label]
        console.print(
            f"[bold]{escape(f.where)}[/] [{style}]{f.rule} {t(f.severity.label)}[/] "
            f"{escape(t_text(f.message, lang))}",
            markup=True,
        )
        console.print(t_text(f"    {t('why')}{colon(lang)} {f.why}", lang), markup=False)
        console.print(t_text(f"    {t('fix')}{colon(lang)} {f.fix}", lang), markup=False)
        if f.suggestion:
            # The suggestion is text for the prompt itself, in the prompt's language.
            text = f.suggestion.replace("\n", "\n        ")
            console.print(f"    {t('try')}{colon(lang)} {text}", markup=False)


def t_text(text: str, lang: Lang) -> str:
    """A line already in `lang`, with French typography when French."""
    from ..i18n import typography

    return typography(text, lang)


def _summary(n: int, files: int, counts: dict[str, int], lang: Lang) -> str:
    from ..i18n import plural, translate

    many = {"error": "errors", "warning": "warnings", "info": "infos"}
    parts = ", ".join(
        plural(v, translate(k, lang), translate(many[k], lang), lang)
        for k, v in counts.items()
        if v
    )
    if lang == "fr":
        head = plural(n, "constat", lang="fr") if n else "Aucun constat"
        where = plural(files, "fichier", lang="fr")
        return f"{head}{f' ({parts})' if parts else ''} dans {where}."
    head = plural(n, "finding") if n else "No finding"
    return f"{head}{f' ({parts})' if parts else ''} in {plural(files, 'file')}."


def _print_rules(as_json: bool, lang: Lang) -> None:
    from ..lint import rules

    rows = [
        {
            "rule": r.id,
            "name": r.name,
            "kind": r.kind,
            "severity": r.severity.label,
            "title": re.sub(r"\{\w+\}", "…", r.text(lang).title),
            "why": r.text(lang).why,
            "fix": r.text(lang).fix,
        }
        for r in rules()
    ]
    if as_json:
        common.print_json(rows)
        return

    from ..i18n import translator

    t = translator(lang)
    table = common.table(title=t("Lint rules"))
    for col in ("rule", "name", "for", "severity", "what"):
        table.add_column(t(col))
    for r in rows:
        table.add_row(r["rule"], r["name"], r["kind"], t(r["severity"]), r["title"])
    common.console().print(table)


def _print_measure(m: Measurement, as_json: bool) -> None:
    if as_json:
        common.print_json(m.to_dict())
        return

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.0%}"

    langs = ", ".join(f"{v} {k}" for k, v in sorted(m.languages.items()))
    table = common.table(
        title=f"Rules on {m.files} labelled files ({langs}; {m.good_files} good, "
        f"{m.clean_good_files} of them with no finding)",
        title_justify="left",
    )
    for col in ("rule", "labelled", "fired right", "false alarms", "missed", "precision", "recall"):
        table.add_column(col, justify="left" if col == "rule" else "right")
    rows = [*m.scores.values(), m.total()]
    for s in rows:
        table.add_row(
            s.rule,
            str(s.tp + s.fn),
            str(s.tp),
            str(s.fp),
            str(s.fn),
            pct(s.precision),
            pct(s.recall),
        )
    console = common.console()
    console.print(table)
    for line in m.misses:
        console.print(f"  {line}", markup=False)


def lint_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Prompt files, image specs (.image.yaml) or folders; default: the "
            "project's prompts."
        ),
    ] = None,
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding has this severity or worse: info, warning, error, never.",
        ),
    ] = "warning",
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select", help="Only these rules: ids or prefixes, comma-separated (P003, P00, I)."
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Skip these rules: ids or prefixes, comma-separated."),
    ] = None,
    list_rules: Annotated[bool, typer.Option("--rules", help="List the rules and exit.")] = False,
    measure: Annotated[
        bool,
        typer.Option(
            "--measure",
            help="Score the rules on labelled files (metadata: {lint_expect: [...]}); default: "
            "the labelled set shipped with prompteur.",
        ),
    ] = False,
) -> None:
    """Lint prompt files and image specs. Each finding: rule id, file:line, severity, why it
    matters, how to fix it, and a concrete suggestion. Silence one with a comment in the
    prompt: {# prompteur: ignore P003 #} (this line and the next) or
    {# prompteur: ignore-file P003 #}."""
    from ..errors import UserError

    language = _lang(lang)
    if list_rules:
        _print_rules(as_json, language)
        return
    if measure:
        from ..lint import measure as run_measure

        _print_measure(run_measure(paths or None), as_json)
        return
    from ..lint import Selection, Severity, lint_paths

    try:
        threshold = None if fail_on == "never" else Severity.parse(fail_on)
    except ValueError:
        raise UserError(
            f"unknown severity '{fail_on}'",
            field="--fail-on",
            hint="info, warning, error or never",
        ) from None
    selection = Selection.parse(select, ignore)
    if not paths:
        config = common.config()
        if not config.prompts_dir.is_dir():
            raise UserError(
                "no prompts folder to lint",
                file=config.prompts_dir,
                hint="name files or folders: prompteur lint PATH",
            )
        paths = [config.prompts_dir]
    report = lint_paths(paths, lang=language, selection=selection, shown=common.shown)
    if as_json:
        common.print_json(report.to_dict())
    else:
        console = common.console()
        print_findings(console, report.findings, language)
        counts = {s.label: report.count(s) for s in reversed(Severity)}
        console.print(
            _summary(len(report.findings), len(report.files), counts, language), markup=False
        )
    if report.fails(threshold):
        raise typer.Exit(1)


def coach_command(
    prompt: Annotated[str, typer.Argument(help="A prompt name or file path.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="A capable model for the critique (openai:gpt-4o-mini, "
            "anthropic:…); default: the project's. The embedded model gives none.",
        ),
    ] = None,
    lang: LangOpt = "en",
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Save the proposed rewrite as a new prompt file here."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --write file.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Coach a prompt: the lint findings with concrete rewrite suggestions and, with a capable
    model, its critique and a rewritten prompt (kept only if it loads and keeps the inputs)."""
    import asyncio

    from ..errors import UserError
    from ..lint._coach import coach

    language = _lang(lang)
    if write is not None and write.exists() and not force:
        raise UserError("file exists", file=write, hint="use --force to overwrite")
    config = common.config()
    p = common.load_prompt(config, prompt)
    shown = common.shown(p.path) if p.path else None
    result = asyncio.run(coach(p, config, model_id=model, lang=language, file=shown))
    if write is not None and result.rewrite is None:
        raise UserError(
            "no rewrite to write: " + (result.rewrite_problem or result.note or "none"),
            field="--write",
        )
    if write is not None and result.rewrite is not None:
        from ..files import write_atomic

        write_atomic(write, result.rewrite)
    if as_json:
        common.print_json({**result.to_dict(), "written": str(write) if write else None})
        return
    console = common.console()
    if result.note:
        console.print(result.note, markup=False)
    print_findings(console, result.findings, language)
    if not result.findings:
        console.print(
            "No finding from the rules." if language == "en" else "Aucun constat des règles.",
            markup=False,
        )
    if result.critique:
        console.rule(f"critique · {result.model}", align="left")
        console.print(result.critique, markup=False)
    if result.rewrite:
        console.rule("rewrite" if language == "en" else "réécriture", align="left")
        console.print(result.rewrite, markup=False)
        left = len(result.rewrite_findings)
        console.print(
            f"Rules on the rewrite: {plural(left, 'finding')}, was {len(result.findings)}."
            if language == "en"
            else f"Règles sur la réécriture : {plural(left, 'constat', lang='fr')}, "
            f"contre {len(result.findings)}.",
            markup=False,
        )
        if write:
            console.print(f"wrote {common.shown(write)}", markup=False)
    elif result.rewrite_problem:
        console.print(f"[yellow]{result.rewrite_problem}[/]", markup=True)


# ---- persona --------------------------------------------------------------------------------


@persona_app.command("compile")
def persona_compile(
    persona: Annotated[Path, typer.Argument(help="The persona file (YAML).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the system prompt here (default: print it)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the output file.")] = False,
) -> None:
    """Compile a persona (role, values, register, tone, vocabulary, example replies) into a
    system prompt: an ordinary prompt file with one input, `message`."""
    from ..errors import UserError
    from ..persona import compile_persona, load_persona

    compiled = compile_persona(load_persona(persona))
    from ..prompt import parse_prompt

    parse_prompt(compiled.text, name="persona")  # it must load before it is written
    if output is not None:
        if output.exists() and not force:
            raise UserError("file exists", file=output, hint="use --force to overwrite")
        from ..files import write_atomic

        write_atomic(output, compiled.text)
    err = common.console(stderr=True)
    for w in compiled.warnings:
        err.print(f"[bold yellow]warning:[/] {w}", markup=True)
    if output is None:
        typer.echo(compiled.text, nl=False)
    else:
        err.print(f"wrote {common.shown(output)}", markup=False)


@persona_app.command("check")
def persona_check(
    persona: Annotated[Path, typer.Argument(help="The persona file (YAML).")],
    dialogue: Annotated[
        Path | None,
        typer.Option(
            "--dialogue",
            "-d",
            help="A dialogue (YAML turns: user, assistant); missing replies are generated with -m.",
        ),
    ] = None,
    suite: Annotated[
        Path | None,
        typer.Option(
            "--suite",
            help="Instead, write a persona suite here (and the compiled "
            "prompt next to it) to run with prompteur eval.",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Who writes missing replies (default: the project's)."),
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option("--judge", help="Who grades the tone (default: the project's model)."),
    ] = None,
    no_judge: Annotated[
        bool, typer.Option("--no-judge", help="Skip the judged tone check.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --suite files.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check that replies keep the persona across a dialogue: register (tu/vous, formal/casual),
    forbidden and required vocabulary, and the tone (judged by a model). Exit 1 when a reply
    breaks it."""
    import asyncio

    from ..errors import UserError
    from ..persona import check_dialogue, load_dialogue, load_persona

    p = load_persona(persona)
    d = load_dialogue(dialogue) if dialogue else None
    if suite is not None:
        _write_persona_suite(p, d, suite, judge=judge, force=force)
        return
    if d is None:
        raise UserError("give --dialogue FILE to check, or --suite FILE to write a suite")
    results = asyncio.run(
        check_dialogue(p, d, common.config(), model_id=model, judge=judge, tone=not no_judge)
    )
    failed = [r for r in results if not r.passed]
    if as_json:
        common.print_json(
            {"persona": p.name, "turns": [r.to_dict() for r in results], "kept": not failed}
        )
    else:
        console = common.console()
        for r in results:
            mark = "[green]✓[/]" if r.passed else "[red]✗[/]"
            made = " (generated)" if r.generated else ""
            console.print(
                f"{mark} turn {r.index + 1} ({common.shown(d.path)}:{r.line}){made}", markup=True
            )
            console.print(f"    reply: {r.reply[:200]}", markup=False)
            for name, ok, score, reason in r.checks:
                state = "pass" if ok else "FAIL"
                console.print(f"    {name}: {state} ({score:.2f}) {reason}", markup=False)
        console.print(
            f"{len(results) - len(failed)} of {len(results)} replies keep the persona {p.name}.",
            markup=False,
        )
    if failed:
        raise typer.Exit(1)


def _write_persona_suite(p: Any, d: Any, suite: Path, *, judge: str | None, force: bool) -> None:
    import yaml

    from ..errors import UserError
    from ..files import write_atomic
    from ..persona import compile_persona, suite_for

    # The compiled prompt joins the project's library, so the suite names it like any other.
    prompt_path = common.config().prompts_dir / f"persona-{p.name}.prompty"
    for path in (suite, prompt_path):
        if path.exists() and not force:
            raise UserError("file exists", file=path, hint="use --force to overwrite")
    data = suite_for(p, d, f"persona-{p.name}", judge=judge)
    compiled = compile_persona(p)
    text = (
        "# prompteur eval "
        + common.shown(suite)
        + "\n"
        + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    )
    write_atomic(prompt_path, compiled.text)
    write_atomic(suite, text)
    from ..suite import load_suite

    try:
        load_suite(suite)  # what we wrote must load: checks built, fields valid
    except UserError:
        suite.unlink(missing_ok=True)
        prompt_path.unlink(missing_ok=True)
        raise
    err = common.console(stderr=True)
    for path in (prompt_path, suite):
        err.print(f"wrote {common.shown(path)}", markup=False)
    err.print(f"Next: prompteur eval {common.shown(suite)}", markup=False)


# ---- image ----------------------------------------------------------------------------------


@image_app.command("render")
def image_render(
    spec: Annotated[Path, typer.Argument(help="The image spec (YAML).")],
    target: Annotated[
        list[str] | None,
        typer.Option("--target", "-t", help="midjourney, dalle or sd (repeatable; default: all)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Render an image spec in the syntax of Midjourney (--ar, --no, :: weights), DALL·E
    (prose) or Stable Diffusion ((term:1.2) weights, negative prompt)."""
    from ..errors import UserError
    from ..image import TARGETS, load_image_spec, render

    s = load_image_spec(spec)
    targets = target or list(TARGETS)
    for t in targets:
        if t not in TARGETS:
            raise UserError(
                f"unknown target '{t}'", field="--target", hint="midjourney, dalle or sd"
            )
    out = [render(s, t) for t in targets]  # type: ignore[arg-type]
    if as_json:
        common.print_json([r.to_dict() for r in out])
        return
    console = common.console()
    for r in out:
        if len(out) > 1:
            console.rule(r.target, align="left")
        console.print(r.prompt, markup=False, soft_wrap=True)
        if r.negative_prompt:
            console.print(f"negative prompt: {r.negative_prompt}", markup=False)
        if r.params and r.target != "midjourney":
            console.print(" ".join(f"{k}={v}" for k, v in r.params.items()), markup=False)
        for note in r.notes:
            common.console(stderr=True).print(f"[dim]note: {note}[/]", markup=True)


@image_app.command("lint")
def image_lint(
    specs: Annotated[list[Path], typer.Argument(help="Image specs or folders.")],
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
) -> None:
    """Lint image specs (the I… rules): the same as prompteur lint on them."""
    lint_command(
        specs,
        lang=lang,
        as_json=as_json,
        fail_on="warning",
        select=["I", "P000"],
        ignore=None,
        list_rules=False,
        measure=False,
    )


@image_app.command("generate")
def image_generate(
    spec: Annotated[Path, typer.Argument(help="The image spec (YAML).")],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="openai:gpt-image-1, openai:dall-e-3, or "
            "openai-compatible:NAME@URL. Needs the provider's key.",
        ),
    ] = "openai:gpt-image-1",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Image file (default: NAME.png).")
    ] = None,
    size: Annotated[
        str | None, typer.Option(help="e.g. 1024x1024 (default: from the aspect ratio).")
    ] = None,
    quality: Annotated[str | None, typer.Option(help="low, medium, high, hd… (per model).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the image file.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate the image with OpenAI's Images API (only when the key is set)."""
    import asyncio

    from ..errors import UserError
    from ..image import load_image_spec
    from ..image._generate import generate_image

    s = load_image_spec(spec)
    out = output or spec.with_name(f"{s.name}.png")
    if out.exists() and not force:
        raise UserError("file exists", file=out, hint="use --force to overwrite")
    result = asyncio.run(
        generate_image(s, out, model_id=model, config=common.config(), size=size, quality=quality)
    )
    if as_json:
        common.print_json(result.to_dict())
        return
    common.console().print(
        f"wrote {common.shown(result.path)} ({result.bytes} bytes, {result.size}, {result.model}, "
        f"{result.latency_s:.1f} s)",
        markup=False,
    )
