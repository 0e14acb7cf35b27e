"""The command line: a thin shell over the library. Heavy modules load inside each command so
that `prompteur --help` stays fast."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from .errors import PrompteurError, UserError

if TYPE_CHECKING:
    from rich.console import Console

    from .config import Config
    from .prompt import Prompt
    from .store import Store

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
app.add_typer(library_app, name="library")


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


def _config() -> Config:
    from .config import load_config

    return load_config()


def _store(config: Config) -> Store:
    from .store import Store

    return Store(config.database_url)


def _parse_inputs(pairs: list[str] | None, inputs_file: Path | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if inputs_file is not None:
        try:
            data = json.loads(inputs_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError("inputs file not found", file=inputs_file) from None
        except json.JSONDecodeError as exc:
            raise UserError(
                f"malformed JSON: {exc.msg}", file=inputs_file, line=exc.lineno
            ) from None
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
    from .library import Library

    return Library.from_config(config).get(ref)


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
) -> None:
    """Create a working project: prompteur.toml, example prompts (French and English),
    suites/ and a .gitignore for the store."""
    from .project import init_project

    try:
        written = init_project(folder, force=force)
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
        console.print(m.content, markup=False)


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

    from .ask import ask as run_ask
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

    from .models.registry import base_url, key_env, providers

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
        "model": p.model_id,
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
            p.model_id or "",
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
