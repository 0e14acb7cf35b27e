"""`prompteur serve` and `prompteur keys …`: thin shells over prompteur.server. FastAPI and
uvicorn load inside the commands so that `prompteur --help` stays fast."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UserError
from . import _common as common
from ._common import JsonOpt

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..server.projects import ServedProject

keys_app = typer.Typer(
    help="API keys of the server: create (shown once), list, revoke.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ProjectOpt = Annotated[
    Path | None,
    typer.Option("--project", help="The project folder (default: the one you are in)."),
]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8787,
    project: Annotated[
        list[Path] | None,
        typer.Option(
            "--project",
            help="A project folder to serve (repeatable; default: the one you are in). Each "
            "project has its own store and its own keys.",
        ),
    ] = None,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev",
            help="Let callers without a key in, as admin of the first project. Only on a "
            "loopback host.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            help="Server processes (each opens the stores; on PostgreSQL several servers can "
            "share one store).",
            min=1,
            max=64,
        ),
    ] = 1,
    log_level: Annotated[
        str, typer.Option(help="uvicorn's log level: critical, error, warning, info, debug.")
    ] = "info",
    max_body: Annotated[
        int | None,
        typer.Option(
            "--max-body",
            help="Largest request body in bytes (default 8 MiB, or [limits] body_bytes); "
            "larger ones get 413.",
            min=1024,
        ),
    ] = None,
) -> None:
    """Serve the prompt library, labels, the gateway, runs and traces over HTTP (FastAPI;
    the OpenAPI document is at /docs and /openapi.json). Every route needs an API key
    (`prompteur keys create`) unless --dev on loopback."""
    if dev and not is_loopback(host):
        raise UserError(
            f"--dev is refused on {host}: anonymous access is only for this machine",
            field="--host",
            hint="use --host 127.0.0.1, or create keys: prompteur keys create",
        )
    if log_level not in {"critical", "error", "warning", "info", "debug"}:
        raise UserError(f"unknown log level '{log_level}'", field="--log-level")
    folders = [p.resolve() for p in project] if project else [common.project_root()]
    _serve(
        folders,
        host=host,
        port=port,
        dev=dev,
        workers=workers,
        log_level=log_level,
        max_body=max_body,
    )


def _serve(
    folders: list[Path],
    *,
    host: str,
    port: int,
    dev: bool,
    workers: int,
    log_level: str,
    max_body: int | None,
) -> None:
    import uvicorn

    from ..app import SETTINGS_ENV, create_app

    console = common.console(stderr=True)
    if workers == 1:
        app = create_app(folders, dev=dev, max_body=max_body)
        _announce(console, app.state.projects, host, port, dev)
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
        return
    # Opened once here to report a bad project before forking, then by each worker.
    from ..server.projects import close_projects, open_projects

    projects = open_projects(folders)
    _announce(console, projects, host, port, dev)
    close_projects(projects.values())
    os.environ[SETTINGS_ENV] = json.dumps(
        {"projects": [str(f) for f in folders], "dev": dev, "max_body": max_body}
    )
    uvicorn.run(
        "prompteur.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
    )


def _announce(
    console: Any, projects: dict[str, ServedProject], host: str, port: int, dev: bool
) -> None:
    shown = f"[{host}]" if ":" in host else host
    for p in projects.values():
        console.print(f"serving project [bold]{p.name}[/] ({p.root}) · store {p.store.safe_url}")
    console.print(f"API on http://{shown}:{port}/v1 · docs http://{shown}:{port}/docs")
    if dev:
        console.print("[yellow]--dev: callers without a key are admins (loopback only)[/]")
    for line in serve_warnings(projects, host, dev):
        console.print(f"[yellow]warning:[/] {line}", markup=True)


def serve_warnings(projects: dict[str, ServedProject], host: str, dev: bool) -> list[str]:
    """What an operator must hear before exposing the server: plain HTTP off this machine,
    and projects that no key can reach yet."""
    from ..server.keys import list_keys

    out = []
    if not is_loopback(host):
        out.append(
            f"listening on {host} over plain HTTP: API keys and prompts cross the network in "
            "clear; put the server behind TLS (a reverse proxy) or keep it on 127.0.0.1"
        )
    if not dev:
        for p in projects.values():
            if not any(k.active for k in list_keys(p.store, p.name)):
                out.append(
                    f"project {p.name} has no API key yet: every request will get 401 "
                    f"(create one: prompteur keys create --project {p.root})"
                )
    return out


# ---- keys --------------------------------------------------------------------------------


@contextlib.contextmanager
def _opened(project: Path | None) -> Iterator[ServedProject]:
    """The project a key command works on, its store closed when the command is done."""
    from ..server.projects import open_project

    served = open_project(project.resolve() if project else common.project_root())
    try:
        yield served
    finally:
        served.store.close()


@keys_app.command("create")
def keys_create(
    scopes: Annotated[
        str,
        typer.Option(
            "--scopes",
            help="read, write or admin, comma-separated; read < write < admin (a key holds "
            "every scope below its highest). Narrower: review (read and label review queues, "
            "never promote) and feedback (send end-user feedback only).",
        ),
    ] = "read",
    name: Annotated[
        str | None, typer.Option("--name", help="What the key is for (shown by keys list).")
    ] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key for a project and print it once: only its hash is stored."""
    from ..server.keys import create_key, parse_scopes

    wanted = parse_scopes(scopes)
    with _opened(project) as served:
        new = create_key(served.store, served.name, wanted, name)
    if as_json:
        common.print_json(
            {
                "id": new.info.id,
                "project": new.info.project,
                "name": new.info.name,
                "scopes": list(new.info.scopes),
                "key": new.secret,
            }
        )
        return
    # The key alone on stdout, so that `KEY=$(prompteur keys create ...)` works.
    typer.echo(new.secret)
    common.console(stderr=True).print(
        f"[dim]key {new.info.id} of project {new.info.project}, scopes "
        f"{','.join(new.info.scopes)}: shown once, only its hash is stored. Send it as "
        "'Authorization: Bearer <key>'.[/]"
    )


@keys_app.command("list")
def keys_list(
    project: ProjectOpt = None,
    all_keys: Annotated[bool, typer.Option("--all", help="Show revoked keys too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List a project's keys (ids, names, scopes, dates; never the keys)."""
    from ..server.keys import list_keys

    with _opened(project) as served:
        keys = [k for k in list_keys(served.store, served.name) if all_keys or k.active]
    if as_json:
        common.print_json(
            [
                {
                    "id": k.id,
                    "project": k.project,
                    "name": k.name,
                    "scopes": list(k.scopes),
                    "created_at": k.created_at.isoformat(),
                    "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                    "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
                }
                for k in keys
            ]
        )
        return

    console = common.console()
    if not keys:
        console.print("no key (create one: prompteur keys create --scopes read)")
        return
    table = common.table(title=f"API keys of {served.name}")
    for col in ("id", "name", "scopes", "created", "last used", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(
            k.id,
            k.name or "",
            ",".join(k.scopes),
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see keys list) or a prefix.")],
    project: ProjectOpt = None,
) -> None:
    """Revoke a key: the server refuses it from the next request on (it stays listed)."""
    from ..server.keys import revoke_key

    with _opened(project) as served:
        info = revoke_key(served.store, key_id, served.name)
    common.console().print(f"revoked key {info.id} of project {info.project}")
