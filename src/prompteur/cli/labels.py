"""`prompteur label | promote | rollback | audit | regress`: thin shell over registry/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UserError
from . import _common as common
from ._common import JsonOpt

if TYPE_CHECKING:
    from rich.console import Console

    from ..registry import Move

ActorOpt = Annotated[
    str | None,
    typer.Option(help="Who moves the label (default: $PROMPTEUR_ACTOR, else the OS user)."),
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]
NoCacheOpt = Annotated[
    bool,
    typer.Option("--no-cache", help="Call the model even when the same request was answered."),
]
REPORT_SUFFIXES = (".html", ".htm", ".md", ".markdown", ".json")


class _Bar:
    """A progress bar that appears once the number of results to compute is known (a
    refusal before any model call shows none)."""

    def __init__(self, progress: Any, name: str) -> None:
        self.progress, self.name, self.task = progress, name, None

    def start(self, total: int) -> None:
        self.task = self.progress.add_task(self.name, total=total, extra="")

    def advance(self, _record: Any) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1)


def register(app: typer.Typer) -> None:
    app.command("label", help=LABEL_HELP)(label_command)
    app.command("promote")(promote_command)
    app.command("rollback")(rollback_command)
    app.command("audit")(audit_command)
    app.command("regress")(regress_command)


def _split_ref(text: str) -> tuple[str, str | None]:
    name, at, ref = text.partition("@")
    if not name:
        raise UserError(f"'{text}' names no prompt", hint="write NAME or NAME@VERSION")
    if at and not ref:
        raise UserError(f"'{text}' names no version", hint="write NAME@VERSION or NAME@LABEL")
    return name, (ref if at else None)


def _prompt_name(config: Any, name: str) -> str:
    """The stored name of a prompt: its front-matter name when the file is in the library."""
    from ..library import Library

    try:
        return Library.from_config(config).get(name).name
    except UserError:
        return name


# ---- label -------------------------------------------------------------------------------

LABEL_HELP = """List or move labels.

\b
  prompteur label                          every label of every prompt
  prompteur label NAME                     the labels of one prompt
  prompteur label set NAME@VERSION LABEL   point LABEL at a stored version (NAME alone: the
                                           working file, saved first)
  prompteur label rm NAME LABEL            take LABEL off the prompt

Gated labels (production, and [registry] gated in prompteur.toml) move only through
prompteur promote."""


def label_command(
    words: Annotated[
        list[str] | None,
        typer.Argument(help="[NAME] | set NAME@VERSION LABEL | rm NAME LABEL", show_default=False),
    ] = None,
    actor: ActorOpt = None,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:

    words = words or []
    config = common.config()
    store = common.store(config)
    if words and words[0] in {"set", "rm"}:
        move = _label_move(config, store, words, actor, reason)
        if as_json:
            common.print_json(move.to_dict() if move else None)
        elif move is None:
            common.console().print(f"{words[1]}: {words[2]} already points there.", markup=False)
        else:
            _print_moves(common.console(), [move], title=None)
        return
    if len(words) > 1:
        raise UserError(
            f"unexpected '{words[1]}'",
            hint="prompteur label [NAME] | set NAME@VERSION LABEL | rm NAME LABEL",
        )
    _list_labels(config, store, words[0] if words else None, as_json)


def _label_move(
    config: Any, store: Any, words: list[str], actor: str | None, reason: str | None
) -> Move | None:
    from ..registry import check_label, default_actor, gated_labels, move_label, remove_label
    from ..registry._gate import _candidate

    verb = words[0]
    if len(words) != 3:
        usage = "set NAME@VERSION LABEL" if verb == "set" else "rm NAME LABEL"
        raise UserError(f"label {verb} takes two arguments", hint=f"prompteur label {usage}")
    label = check_label(words[2])
    if label in gated_labels(config):
        raise UserError(
            f"'{label}' is gated: it moves only through the gate",
            field="label",
            hint=f"prompteur promote {words[1]} --to {label}",
        )
    who = default_actor(actor)
    if verb == "rm":
        return remove_label(store, _prompt_name(config, words[1]), label, actor=who, reason=reason)
    name, ref = _split_ref(words[1])
    prompt = _candidate(config, store, name, ref)
    return move_label(
        store, prompt.name, label, prompt.version, actor=who, reason=reason, evidence=None
    )


def _list_labels(config: Any, store: Any, name: str | None, as_json: bool) -> None:
    from ..registry import all_labels, gated_labels

    rows = all_labels(store)
    if name is not None:
        stored = _prompt_name(config, name)
        rows = [r for r in rows if r.name == stored]
    gated = gated_labels(config)
    if as_json:
        common.print_json([{**r.to_dict(), "gated": r.label in gated} for r in rows])
        return
    console = common.console()
    if not rows:
        console.print(
            "No label yet" + (f" on {name}" if name else "") + ": prompteur promote NAME "
            "--to production, or prompteur label set NAME@VERSION staging.",
            markup=False,
        )
        return

    table = common.table(title="Labels")
    for col in ("prompt", "label", "version", "gated", "moved by", "moved at"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.name,
            r.label,
            r.version[:12],
            "yes" if r.label in gated else "",
            r.moved_by,
            r.moved_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console.print(table)


# ---- promote, rollback, audit ----------------------------------------------------------------


def promote_command(
    target: Annotated[
        str,
        typer.Argument(
            help="NAME@VERSION (a stored version prefix or a label, e.g. NAME@staging); "
            "NAME alone: the working file, saved first."
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="The label to move.")] = "production",
    suite: Annotated[
        str | None,
        typer.Option(
            "--suite",
            "-s",
            help="The suite that judges it (default: metadata.suite in the prompt, "
            "[registry.suites] in prompteur.toml, else the suite that names the prompt).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Judge on this model (default: the suite's, the prompt's)."
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Lowest pass rate promoted (default: [registry] threshold, 0.8).", min=0, max=1
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Move the label even if the gate refuses.")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (required with --force).")
    ] = None,
    actor: ActorOpt = None,
    no_cache: NoCacheOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Move a label to a version through the gate: the prompt's suite runs on the candidate
    and on the label's current holder (same cases, same model); the move is refused (exit 1)
    when the pass rate is under the threshold or significantly worse than the holder's
    (exact McNemar, paired by case), unless --force --reason. The evidence goes into the
    audit log."""
    from ..registry import default_actor, promote

    err = common.console(stderr=True)
    name, ref = _split_ref(target)
    config = common.config()
    store = common.store(config)
    if force and not (reason or "").strip():
        raise UserError("--force needs --reason: the audit log says why", field="--reason")
    with common.progress(err) as progress:
        bar = _Bar(progress, "gate")
        result = promote(
            store,
            config,
            name,
            ref,
            to,
            actor=default_actor(actor),
            suite=suite,
            model=model,
            threshold=threshold,
            force=force,
            reason=reason,
            use_cache=not no_cache,
            on_start=bar.start,
            on_result=bar.advance,
        )
    if as_json:
        common.print_json(result.to_dict())
    else:
        common.console().print(result.words(), markup=False)
        if not result.moved and not result.unchanged:
            err.print(
                "nothing moved: fix the prompt, or override with --force --reason TEXT",
                markup=False,
            )
    if not result.moved and not result.unchanged:
        raise typer.Exit(1)


def rollback_command(
    name: Annotated[str, typer.Argument(help="A prompt name.")],
    label: Annotated[str, typer.Option("--label", "-l", help="The label to move back.")] = (
        "production"
    ),
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a label back to the version it held before its last move (not gated: it is the
    way out of a bad release). Repeat to go further back."""
    from ..registry import default_actor, rollback

    config = common.config()
    store = common.store(config)
    move = rollback(
        store,
        _prompt_name(config, name),
        label,
        actor=default_actor(actor),
        reason=reason,
    )
    if as_json:
        common.print_json(move.to_dict())
        return
    _print_moves(common.console(), [move], title=None)


def audit_command(
    name: Annotated[str | None, typer.Argument(help="Only this prompt.")] = None,
    label: Annotated[str | None, typer.Option("--label", "-l", help="Only this label.")] = None,
    limit: Annotated[
        int | None, typer.Option(help="Only the newest N moves.", min=1, show_default=False)
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every label move, oldest first: who, when, what, why, forced or not, and the gate's
    evidence (pass rates with intervals, the paired test, the run)."""
    from ..registry import audit_log

    config = common.config()
    store = common.store(config)
    moves = audit_log(store, _prompt_name(config, name) if name else None, label, limit=limit)
    if as_json:
        common.print_json([m.to_dict() for m in moves])
        return
    if not moves:
        common.console().print("No label move recorded yet.", markup=False)
        return
    _print_moves(common.console(), moves, title="Audit log")


def _evidence_words(m: Move) -> str:
    ev = m.evidence or {}
    if "undoes_step" in ev:
        return f"undoes step {ev['undoes_step']}"
    parts = []
    cand, holder, paired = ev.get("candidate"), ev.get("holder"), ev.get("paired")

    def rate(t: dict[str, Any]) -> str:
        if t.get("pass_rate") is None:
            return "no case judged"
        return (
            f"{t['pass_rate']:.1%} [{t['low']:.1%}, {t['high']:.1%}] ({t['passed']}/{t['judged']})"
        )

    if cand:
        parts.append(f"candidate {rate(cand)}")
    if holder:
        parts.append(f"holder {rate(holder)}")
    if paired and paired.get("p_value") is not None:
        parts.append(f"McNemar p = {paired['p_value']:.3g}")
    if ev.get("run"):
        parts.append(f"run {ev['run']}")
    if ev.get("verdict") == "refused":
        parts.append("gate refused: " + "; ".join(ev.get("reasons", [])))
    return " · ".join(parts)


def _print_moves(console: Console, moves: list[Move], title: str | None) -> None:
    """One block per move, not a table: hashes, reasons and evidence stay whole at any
    terminal width."""
    from rich.markup import escape

    if title:
        console.print(f"[bold]{title}[/]")
    for m in moves:
        forced = " [bold red]FORCED[/]" if m.forced else ""
        console.print(
            f"{m.created_at.strftime('%Y-%m-%d %H:%M:%S')}  [bold]{escape(m.name)}[/] {m.label} "
            f"step {m.seq}: {m.action}{forced}  {(m.from_version or '—')[:12]} → "
            f"{(m.to_version or '—')[:12]}  by {escape(m.actor)}",
            highlight=False,
        )
        if m.reason:
            console.print(f"    why: {m.reason}", markup=False)
        words = _evidence_words(m)
        if words:
            console.print(f"    evidence: {words}", markup=False)


# ---- regress -------------------------------------------------------------------------------


def regress_command(
    from_model: Annotated[str, typer.Option("--from", help="The model in use now.")],
    to_model: Annotated[str, typer.Option("--to", help="The model to move to.")],
    suite: Annotated[
        list[str] | None,
        typer.Option(
            "--suite",
            "-s",
            help="Only the labelled prompts this suite names, judged by it (repeatable). "
            "Default: every labelled prompt, each with its own suite.",
        ),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", "-l", help="Only versions holding this label (repeatable)."),
    ] = None,
    alpha: Annotated[
        float, typer.Option(help="Significance level of the paired tests.", min=0.0001, max=0.5)
    ] = 0.05,
    output: Annotated[
        list[Path] | None,
        typer.Option("--output", "-o", help="Write the report: .html, .md or .json (repeatable)."),
    ] = None,
    fail_on_regression: Annotated[
        bool,
        typer.Option("--fail-on-regression", help="Exit 1 when a prompt is significantly worse."),
    ] = False,
    no_cache: NoCacheOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Will the labelled prompts survive a model change? Re-runs the suite of every labelled
    prompt on both models (the cache makes the current model free when it ran before) and
    reports, per prompt, what got worse: pass rates, the change in points with its interval
    and the paired test (exact McNemar, Holm-adjusted over the prompts)."""
    from ..registry import check_label, regress
    from ..registry._render import write_report

    err = common.console(stderr=True)
    for path in output or []:
        if path.suffix.lower() not in REPORT_SUFFIXES:
            raise UserError("unknown report format", file=path, hint="use .html, .md or .json")
    for name in label or []:
        check_label(name, field="--label")
    config = common.config()
    store = common.store(config)
    with common.progress(err) as progress:
        bar = _Bar(progress, "regress")
        result = regress(
            store,
            config,
            from_model,
            to_model,
            labels=label,
            suites=suite,
            alpha=alpha,
            use_cache=not no_cache,
            on_start=bar.start,
            on_result=bar.advance,
        )
    for path in output or []:
        write_report(result, path)
        err.print(f"wrote {path}", markup=False)
    if as_json:
        common.print_json(result.to_dict())
    else:
        _print_regression(common.console(), result)
    if fail_on_regression and result.worse:
        raise typer.Exit(1)


def _print_regression(console: Console, result: Any) -> None:

    table = common.table(title=f"{result.from_model} → {result.to_model}")
    for col in ("prompt", "labels", "before", "after", "change (95% CI)", "p", "verdict"):
        table.add_column(col)
    for p in result.prompts:
        c = p.comparison
        head = (f"{p.name}@{p.version[:8]}", ", ".join(p.labels))
        if p.skipped or c is None or not c.cases:
            table.add_row(*head, "", "", "", "", f"skipped: {p.skipped}")
            continue
        d = c.difference
        verdict = (
            "[bold red]significantly worse[/]"
            if p.worse
            else "[green]significantly better[/]"
            if p.better
            else "no significant difference"
        )
        table.add_row(
            *head,
            str(p.before.rate),
            str(p.after.rate),
            f"{d.estimate * 100:+.1f} pts [{d.low * 100:+.1f}, {d.high * 100:+.1f}]",
            f"{c.p:.3g}",
            verdict,
        )
    console.print(table)
    console.print(result.words(), markup=False)
    for p in result.worse:
        for case in p.lost[:5]:
            console.print(
                f"  {p.name} case {case['case_id']}: {case['before']!r} → {case['after']!r}"
                + (f" ({case['why']})" if case["why"] else ""),
                markup=False,
            )
