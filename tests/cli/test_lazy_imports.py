"""`prompteur --help` must not import the heavy modules: they load inside the commands that use
them. No timing here (that is benchmarks/cli_startup.py): each test runs the CLI's entry point
in a fresh interpreter under `python -X importtime` and reads which modules were imported, and by
whom, so a failure names the import chain to cut.

What counts as heavy was measured with `python -X importtime -c "import X"` (cumulative time on
the 2-core dev machine, Python 3.11): alembic ~270 ms, sqlalchemy ~165 ms, llama_cpp ~120 ms
(+ numpy), httpx ~110 ms, numpy ~60 ms, jinja2 ~45 ms, pydantic ~40 ms, PyYAML ~20 ms;
typer's rich help formatter (typer.rich_utils, ~95 ms) pulls rich.table, rich.markdown
(markdown_it, ~40 ms) and rich.syntax / pygments. The whole `prompteur --help` with plain help
imports ~150 modules; with typer's rich help ~320.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache

import pytest

# Third-party modules `--help` must not import (a module counts with all its submodules).
HEAVY_THIRD_PARTY = (
    "llama_cpp",
    "sqlalchemy",
    "alembic",
    "httpx",
    "jinja2",
    "numpy",
    "pydantic",
    "yaml",
    "rich.table",
    "rich.markdown",
    "markdown_it",
    "pygments",
    # Plugin discovery (plugins.py) reads every installed distribution's entry points: lazily,
    # when a command needs an extension point, never for --help.
    "importlib.metadata",
)
# Our own modules that import the above at module level: loading one is the usual way to regress.
HEAVY_OURS = (
    "prompteur.store",
    "prompteur.config",
    "prompteur.prompt",
    "prompteur.library",
    "prompteur.api",
    "prompteur.models.base",
    "prompteur.models.http",
    "prompteur.models.local",
)
HEAVY = HEAVY_THIRD_PARTY + HEAVY_OURS

COMMANDS = ("init", "render", "ask", "models", "library")

# Run the console script's own code (`from prompteur.cli import main; sys.exit(main())`) with the
# given arguments, so the test does not depend on where the script was installed.
ENTRY = "import sys; sys.argv[0] = 'prompteur'; from prompteur.cli import main; sys.exit(main())"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in (
        "FORCE_COLOR",
        "PY_COLORS",
        "CLICOLOR_FORCE",
        "GITHUB_ACTIONS",
        "PYTHONPROFILEIMPORTTIME",
        "TYPER_USE_RICH",  # test what users get by default
    ):
        env.pop(var, None)
    env.update(NO_COLOR="1", COLUMNS="120", TERM="dumb")
    return env


def _run(*args: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-c", ENTRY, *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )


_LINE = re.compile(r"^import time:\s*\d+\s*\|\s*\d+\s*\|(?P<indent>\s*)(?P<name>\S+)\s*$")


@cache
def _imports(args: tuple[str, ...]) -> tuple[int, dict[str, list[str]], str]:
    """Exit status, and for each module imported: the chain of importers, outermost first."""
    proc = _run(*args, importtime=True)
    entries = []  # (depth, name) in the order importtime prints them: a module after its imports
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            entries.append((len(m["indent"]) // 2, m["name"]))
    chains: dict[str, list[str]] = {}
    for i, (depth, name) in enumerate(entries):
        chain, want = [name], depth
        for d, parent in entries[i + 1 :]:  # the importer is the next line one level up
            if d < want:
                chain.append(parent)
                want = d
                if d == 0:
                    break
        chains[name] = chain[::-1]
    return proc.returncode, chains, proc.stderr


# typer ≥ 0.29 validates option values with pydantic as soon as any option is processed (its
# own --help flag included), so only the bare `prompteur --help` can avoid it.
TYPER_PULLS = ("pydantic", "importlib.metadata")  # pydantic reads its plugins' metadata


def _heavy_found(chains: dict[str, list[str]], allowed: tuple[str, ...] = ()) -> list[str]:
    found = []
    for heavy in HEAVY:
        if heavy in allowed:
            continue
        hits = [n for n in chains if n == heavy or n.startswith(heavy + ".")]
        if hits:
            # The first-imported module of the family shows who pulled the family in.
            first = min(hits, key=len)
            found.append(f"{heavy}: {' -> '.join(chains[first])}")
    return found


@pytest.mark.parametrize(
    "args",
    [("--help",), ("--version",), ("library", "--help"), ("library", "list", "--help")],
    ids=lambda a: " ".join(a),
)
def test_help_does_not_import_heavy_modules(args: tuple[str, ...]) -> None:
    status, chains, stderr = _imports(args)
    assert status == 0, stderr[-2000:]
    assert "prompteur.cli" in chains, "importtime output not understood:\n" + stderr[-2000:]
    found = _heavy_found(chains, () if args == ("--help",) else TYPER_PULLS)
    assert not found, (
        f"`prompteur {' '.join(args)}` imports heavy modules. Module: import chain, outermost "
        "first; a chain that does not start at prompteur.cli began with an import run inside a "
        "function (importtime does not show the calling function):\n  " + "\n  ".join(found)
    )


def test_importtime_parsing_sees_a_known_chain() -> None:
    """Guard the parser above: typer is imported by the command line's app module
    (prompteur.cli._app, which `main` imports for anything but `--version`), at top level."""
    _, chains, _ = _imports(("--help",))
    typer_chain = chains["typer"]
    assert typer_chain == ["typer"] or (
        typer_chain[0] in ("prompteur.cli", "prompteur.cli._app")
        and all(m.startswith("prompteur.cli") for m in typer_chain[:-1])
        and typer_chain[-1] == "typer"
    ), typer_chain
    assert chains["prompteur.cli"][-1] == "prompteur.cli"
    assert "prompteur.cli._app" in chains


def test_version_answers_before_the_commands_load() -> None:
    status, chains, stderr = _imports(("--version",))
    assert status == 0, stderr[-2000:]
    assert "prompteur.cli" in chains
    assert "typer" not in chains and "prompteur.cli._app" not in chains


def test_help_exits_0_and_lists_the_commands() -> None:
    proc = _run("--help")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Usage:" in out
    listed = set(re.findall(r"^[\s│|]*([a-z][a-z-]*)\s{2,}\S", out, re.MULTILINE))
    missing = [c for c in COMMANDS if c not in listed]
    assert not missing, f"commands missing from --help: {missing}\n{out}"
