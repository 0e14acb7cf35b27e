"""The root command: `prompteur`, its options and its commands in the order of the work;
`main()` is the console script."""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated, Any

import typer

from . import _common as common
from . import evaluation, prompts
from ._common import GuardedGroup
from .craft import COACH_HELP, LINT_HELP, coach_command, image_app, lint_command, persona_app
from .draft import SHORT_HELP as DRAFT_HELP
from .draft import draft_command
from .imports import import_app
from .labels import register as register_labels
from .monitor import monitor_app, traces_app
from .optimize import adapt_command, optimize_command
from .packs import packs_app
from .probe import judge_app, probe_command
from .review import review_app
from .serve import keys_app, serve_command
from .suite import suite_app
from .teach import chain_app, challenge_app, learn_command
from .view import SHORT_HELP as VIEW_HELP
from .view import view_command

app = typer.Typer(
    cls=GuardedGroup,
    name="prompteur",
    help="The prompt engineer's workbench: write, test, compare, improve, probe, ship and "
    "watch prompts. Runs offline on an embedded model; any provider with a key.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: typer's rich help formatter alone doubles start-up time.
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        from .. import __version__

        typer.echo(f"prompteur {__version__}")
        raise typer.Exit()


# The core commands first, then the others in the order of the work: write, test, improve,
# attack, ship, watch, craft and teach (--help lists them so).
prompts.register(app)
evaluation.register(app)
app.add_typer(prompts.library_app, name="library")
app.add_typer(import_app, name="import")
app.add_typer(suite_app, name="suite")
app.command("draft", short_help=DRAFT_HELP)(draft_command)
app.command("lint", short_help=LINT_HELP)(lint_command)
app.command("coach", short_help=COACH_HELP)(coach_command)
app.command(
    "optimize",
    help="Improve a prompt automatically under a call budget, reported on held-out cases.",
)(optimize_command)
app.command(
    "adapt",
    help="The model changed: regress, re-tune on the new model, propose a gated variant.",
)(adapt_command)
app.command("probe")(probe_command)
app.add_typer(judge_app, name="judge")
register_labels(app)  # label, promote, rollback, audit, regress
app.command("serve", short_help="Serve the library, labels, gateway, runs and traces over HTTP.")(
    serve_command
)
app.add_typer(keys_app, name="keys")
app.command("view", short_help=VIEW_HELP)(view_command)
app.add_typer(monitor_app, name="monitor")
app.add_typer(traces_app, name="traces")
app.add_typer(review_app, name="review")
app.add_typer(persona_app, name="persona")
app.add_typer(image_app, name="image")
app.add_typer(chain_app, name="chain")
app.command("learn")(learn_command)
app.add_typer(challenge_app, name="challenge")
app.add_typer(packs_app, name="packs")


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
        common.console(stderr=True).print(f"[bold red]error:[/] {message}", markup=True)
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
    from ..store import store_failure

    return store_failure(exc)


def _where(exc: OSError) -> str:
    return f" ({exc.filename})" if exc.filename else ""
