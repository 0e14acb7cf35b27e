"""`prompteur init`, `render`, `ask`, `models` and `library …`: the prompt itself."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UserError
from . import _common as common
from ._common import InputsFileOpt, InputsOpt, JsonOpt

if TYPE_CHECKING:
    from ..prompt import Prompt

library_app = typer.Typer(
    help="Browse the prompt library and its stored versions.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


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
    from ..scaffold import init_project

    written = init_project(folder, force=force, pack=pack)
    console = common.console()
    console.print(f"Created a prompteur project in [bold]{folder.resolve()}[/]:")
    for path in written:
        console.print(f"  {path.relative_to(folder.resolve())}")
    console.print('Next: [bold]prompteur ask sentiment -i review="Works great"[/]')


def render(
    prompt: Annotated[str, typer.Argument(help="A prompt name or file path.")],
    input: InputsOpt = None,
    inputs: InputsFileOpt = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Render the prompt's variant for this model id."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the messages a prompt renders to, without calling any model (with --model: the
    prompt's variant for that model)."""
    config = common.config()
    p = common.load_prompt(config, prompt).for_model(model)
    values, typed = common.inputs(input, inputs)
    messages = p.render(values, from_strings=typed)
    if as_json:
        common.print_json(
            {
                "prompt": p.name,
                "version": p.version,
                "variant": p.variant,
                "messages": [m.to_dict() for m in messages],
            }
        )
        return
    console = common.console()
    for m in messages:
        console.rule(f"[bold]{m.role}[/]", align="left")
        if not m.has_media:
            console.print(m.content, markup=False)
            continue
        for part in m.parts:
            text = part.value if part.kind == "text" else f"[{part.kind}: {part.value}]"
            console.print(text, markup=False)


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

    from ..api import ask as run_ask
    from ..models.base import Params

    console = common.console()
    config = common.config()
    p = common.load_prompt(config, prompt)
    values, typed = common.inputs(input, inputs)
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
    if as_json:
        common.print_json(outcome.to_dict())
        return
    if stream:
        sys.stdout.write("\n")
    else:
        console.print(outcome.response.text.strip(), markup=False)
    r = outcome.response
    cost = "unknown" if outcome.cost is None else f"${outcome.cost:.6f}"
    common.console(stderr=True).print(
        f"[dim]{outcome.model_id} · {p.name}@{p.short_version} · tokens in {r.usage.input_tokens}"
        f" / out {r.usage.output_tokens} · {r.latency_s * 1000:.0f} ms · cost {cost} · "
        f"finish {r.finish_reason}[/]"
    )


def models(as_json: JsonOpt = False) -> None:
    """List the models you can use: the embedded one and each provider, with whether its key
    is set (never the key)."""
    import os

    from ..models.providers import base_url, key_env, providers

    config = common.config()
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
    _say_collisions("prompteur.providers")
    if as_json:
        common.print_json(rows)
        return

    table = common.table(title="Models")
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
    common.console().print(table)


def checks(as_json: JsonOpt = False) -> None:
    """List the checks a suite can use (`type:`), the built-ins and those of installed plugins,
    with what each does."""
    from ..checks import describe_checks

    rows = describe_checks()
    _say_collisions("prompteur.checks")
    if as_json:
        common.print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Checks", title_justify="left")
    for col in ("type", "from", "what"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], r["from"], r["description"])
    common.console().print(table)


def _say_collisions(group: str) -> None:
    from .. import plugins

    for line in plugins.collisions(group):
        common.console(stderr=True).print(f"[yellow]warning:[/] {line}", markup=True)


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
        common.print_json([_prompt_row(p) for p in prompts])
        return

    table = common.table(title=title)
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
    common.console().print(table)


@library_app.command("list")
def library_list(
    tag: Annotated[str | None, typer.Option(help="Only prompts with this tag.")] = None,
    domain: Annotated[str | None, typer.Option(help="Only prompts of this domain.")] = None,
    model: Annotated[str | None, typer.Option(help="Only prompts for this model.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the prompts in the library (broken files are reported, not hidden)."""
    from ..library import Library

    config = common.config()
    lib = Library.from_config(config)
    _, broken = lib.scan()
    prompts = lib.filter(tag=tag, domain=domain, model=model)
    _print_prompts(prompts, as_json, f"Prompts in {lib.root}")
    err = common.console(stderr=True)
    for b in broken:
        err.print(f"[yellow]skipped:[/] {b.error.render()}", markup=True)


@library_app.command("show")
def library_show(
    name: Annotated[str, typer.Argument(help="NAME, a path, or NAME@VERSION.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a prompt: its metadata, inputs, variants per model (with their pass rates in the
    runs of this version) and text."""
    from ..library import Library, variant_scores

    config = common.config()
    store = common.store(config)
    p = Library.from_config(config).resolve(store, name)
    variants = variant_scores(p, store)
    if as_json:
        common.print_json(
            {
                **_prompt_row(p),
                "full_version": p.version,
                "variants": [v.to_dict() for v in variants],
                "text": p.text,
            }
        )
        return
    console = common.console()
    console.print(f"[bold]{p.name}[/] @ {p.short_version}  [dim]{p.path or ''}[/]")
    if p.meta.description:
        console.print(p.meta.description, markup=False)
    for key, spec in p.meta.inputs.items():
        default = f" = {spec.default!r}" if spec.default is not None else ""
        console.print(f"  input [bold]{key}[/]: {spec.kind}{default}  {spec.description or ''}")
    if len(variants) > 1 or variants[0].scores:
        _print_variants(console, p.model_id, variants)
    console.rule()
    console.print(p.text, markup=False)


def _print_variants(console: Any, default_model: str | None, variants: list[Any]) -> None:
    from rich.table import Table

    table = Table(title="Variants (first match wins)", title_justify="left")
    for col in ("variant", "models", "pass rate in runs of this version"):
        table.add_column(col, overflow="fold")
    for v in variants:
        models = ", ".join(v.models) if v.models else f"any other ({default_model or 'default'})"
        scores = "; ".join(
            f"{m}: {passed}/{judged} ({passed / judged:.0%})" if judged else f"{m}: not judged"
            for m, (passed, judged) in sorted(v.scores.items())
        )
        table.add_row(v.name, models, scores or "no run yet")
    console.print(table)


@library_app.command("search")
def library_search(
    text: Annotated[str, typer.Argument(help="Text to look for (any case).")],
    as_json: JsonOpt = False,
) -> None:
    """Find prompts whose name, description, tags, domain or body mention TEXT."""
    from ..library import Library

    hits = list(Library.from_config(common.config()).search(text))
    if as_json:
        common.print_json([{**_prompt_row(p), "matched": where} for p, where in hits])
        return
    if not hits:
        common.console().print(f"No prompt mentions {text!r}.", markup=False)
        raise typer.Exit(1)
    _print_prompts([p for p, _ in hits], False, f"Prompts mentioning {text!r}")


@library_app.command("versions")
def library_versions(
    name: Annotated[str, typer.Argument(help="A prompt name.")],
    as_json: JsonOpt = False,
) -> None:
    """List the stored versions of a prompt, newest first; marks the working file's."""
    from ..library import Library

    config = common.config()
    lib = Library.from_config(config)
    current = None
    try:
        current = lib.get(name)
        name = current.name
    except UserError:
        pass
    rows = common.store(config).versions(name)
    if as_json:
        common.print_json(
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
        common.console().print(
            f"No stored version of {name!r} yet (run it, or: prompteur library save NAME).",
            markup=False,
        )
        return

    table = common.table(title=f"Versions of {name}")
    for col in ("version", "saved", "source", ""):
        table.add_column(col)
    for v in rows:
        mark = "working file" if current and current.version == v.version else ""
        table.add_row(
            v.version[:12], v.created_at.strftime("%Y-%m-%d %H:%M:%S"), v.source or "", mark
        )
    common.console().print(table)


@library_app.command("save")
def library_save(
    names: Annotated[
        list[str] | None, typer.Argument(help="Prompts to save; default: all.")
    ] = None,
) -> None:
    """Record the current content of prompts as versions in the store."""
    from ..library import Library

    config = common.config()
    lib = Library.from_config(config)
    prompts = [lib.get(n) for n in names] if names else lib.prompts()
    store = common.store(config)
    console = common.console()
    for p in prompts:
        new = lib.save(store, p)
        state = "saved" if new else "already stored"
        console.print(f"{p.name}@{p.short_version}: {state}", markup=False)


@library_app.command("diff")
def library_diff(
    a: Annotated[str, typer.Argument(help="NAME@VERSION or NAME (the working file).")],
    b: Annotated[str, typer.Argument(help="NAME@VERSION or NAME (the working file).")],
) -> None:
    """Show what changed between two versions of a prompt (a unified diff)."""
    from ..library import Library, unified_diff

    config = common.config()
    store = common.store(config)
    lib = Library.from_config(config)
    pa, pb = lib.resolve(store, a), lib.resolve(store, b)
    text = unified_diff(pa, pb, f"{pa.name}@{pa.short_version}", f"{pb.name}@{pb.short_version}")
    if not text:
        common.console().print("No difference.")
        return
    from rich.syntax import Syntax

    common.console().print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(render)
    app.command()(ask)
    app.command()(models)
    app.command()(checks)
