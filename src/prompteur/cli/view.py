"""`prompteur view`: the web interface on this machine, for the project you are in.

It runs the same app as `prompteur serve --dev` on loopback (no key: only this machine can
reach it) and opens the browser on it. FastAPI and uvicorn load inside the command so that
`prompteur --help` stays fast."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UserError
from . import _common as common

SHORT_HELP = "Open the web interface on this project (library, runs, optimizer, probes…)."
HOST = "127.0.0.1"


def _free_port(port: int) -> int:
    """`port` if nothing listens there (0: any free one), else a UserError saying so."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            raise UserError(
                f"port {port} is already in use on {HOST}",
                field="--port",
                hint="give another one with --port, or --port 0 for any free port",
            ) from None
        return int(s.getsockname()[1])


def view_command(
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 (0: any free port).", min=0, max=65535)
    ] = 8788,
    no_open: Annotated[
        bool, typer.Option("--no-open", help="Do not open a browser; just print the address.")
    ] = False,
    project: Annotated[
        Path | None,
        typer.Option("--project", help="The project folder (default: the one you are in)."),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Open the pages in this language: en or fr.")
    ] = None,
) -> None:
    """Open the web interface on the local project: the library and promotion, runs and
    comparisons, the optimizer, probes, monitoring and the playground. Listens on loopback
    only, without keys (the server's --dev mode); stop it with Ctrl-C."""
    if lang is not None and lang not in {"en", "fr"}:
        raise UserError(f"unknown language '{lang}'", field="--lang", hint="en or fr")

    folder = project.resolve() if project else common.project_root()
    chosen = _free_port(port)
    _run(folder, chosen, open_browser=not no_open, lang=lang)


def _run(folder: Path, port: int, *, open_browser: bool, lang: str | None) -> None:
    import uvicorn

    from ..app import create_app
    from ..web import PREFIX

    app = create_app([folder], dev=True)
    url = f"http://{HOST}:{port}{PREFIX}/library" + (f"?lang={lang}" if lang else "")
    server = uvicorn.Server(
        uvicorn.Config(app, host=HOST, port=port, log_level="warning", access_log=False)
    )
    console = common.console(stderr=True)
    (project,) = app.state.projects.values()
    console.print(f"project [bold]{project.name}[/] ({project.root})")

    def announce() -> None:
        # After uvicorn has bound the port, so the browser never meets a refused connection.
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if not server.started:
            return
        console.print(f"web interface on {url} (loopback only, no key) · Ctrl-C to stop")
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
