"""No run without an end: a dataset that breaks at line 5,000, a CSV with bad columns, a
store that fills up mid-run, Ctrl-C and SIGTERM during `prompteur eval`. Afterwards
`prompteur runs --json` shows the run `failed` or `interrupted`, or no run at all; never
`running`. The command says what happened in one line, without a traceback."""

from __future__ import annotations

import contextlib
import re
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._support import (
    Project,
    assert_user_error,
    base_env,
    cli,
    listening_project,
    runs_json,
)

ENDED = {"failed", "interrupted"}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with listening_project(tmp_path) as p:
        yield p


def _env(p: Project) -> dict[str, str]:
    return base_env(**p.keys_env)


def _suite(p: Project, name: str, dataset: str) -> str:
    (p.root / "suites" / f"{name}.yaml").write_text(
        f"prompts: [sentiment]\nmodels: [openai:gpt-4o-mini]\nchecks:\n  - type: equals\n"
        f"dataset: {dataset}\n",
        encoding="utf-8",
    )
    return f"suites/{name}.yaml"


def _assert_no_run_left_running(
    p: Project, before: set[str], ended: set[str] = ENDED
) -> list[dict[str, Any]]:
    new = [r for r in runs_json(p.root) if r["id"] not in before]
    running = [(r["id"], r["status"]) for r in new if r["status"] not in ended]
    assert not running, f"runs that never ended: {running}"
    return new


def _ids(p: Project) -> set[str]:
    return {r["id"] for r in runs_json(p.root)}


def test_jsonl_broken_at_line_5000(project: Project) -> None:
    data = project.root / "suites" / "data" / "big.jsonl"
    lines = [f'{{"review": "review {i}", "expected": "positive"}}' for i in range(1, 5000)]
    data.write_text("\n".join(lines) + '\n{"review": "broken\n', encoding="utf-8")
    suite = _suite(project, "big", "data/big.jsonl")
    before = _ids(project)
    o = cli("eval", suite, "--concurrency", "16", cwd=project.root, env=_env(project), timeout=240)
    assert_user_error(o)
    assert re.search(r"big\.jsonl\W+(line\s+)?5000\b", o.stderr), f"names the file and line\n{o}"
    _assert_no_run_left_running(project, before)


@pytest.mark.parametrize(
    "csv",
    [
        "review,expected\nfine,positive\nbad,negative,extra,columns\n",
        "review,expected\nfine,positive\nonly-one-column\n",
        "expected\npositive\n",
    ],
    ids=["extra-columns", "missing-column", "no-input-column"],
)
def test_csv_with_bad_columns(project: Project, csv: str) -> None:
    (project.root / "suites" / "data" / "bad.csv").write_text(csv, encoding="utf-8")
    suite = _suite(project, "bad-csv", "data/bad.csv")
    before = _ids(project)
    o = cli("eval", suite, cwd=project.root, env=_env(project), timeout=120)
    assert o.killed is None and "Traceback" not in o.output, str(o)
    assert o.returncode != 0, f"a broken dataset is not a success\n{o}"
    assert_user_error(o, codes=(1, 2))
    # Without an input column every case is run and fails to render: the run is complete
    # (`done`, every result an error) and the command says so with exit 1. A broken file
    # stops the run instead (`failed`).
    complete_with_errors = csv.splitlines()[0] == "expected"
    _assert_no_run_left_running(
        project, before, ENDED | ({"done"} if complete_with_errors else set())
    )


# ---- the store fails mid-run -----------------------------------------------------------------


@contextlib.contextmanager
def _small_disk(folder: Path, size_kb: int) -> Iterator[bool]:
    """A tmpfs of `size_kb` at `folder` when this machine lets us mount one."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
            capture_output=True,
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.parametrize("how", ["full-disk", "file-size-limit"])
def test_store_that_fills_up_mid_run(project: Project, tmp_path: Path, how: str) -> None:
    big = "x" * 20_000
    project.trusted.handler = _big_outputs(big)
    data = project.root / "suites" / "data" / "many.jsonl"
    data.write_text(
        "\n".join(f'{{"review": "r{i}", "expected": "positive"}}' for i in range(300)) + "\n",
        encoding="utf-8",
    )
    suite = _suite(project, "many", "data/many.jsonl")
    # The store exists and is migrated before it is squeezed.
    assert cli("runs", cwd=project.root, env=_env(project)).returncode == 0
    db = project.root / ".prompteur" / "prompteur.db"
    size_kb = db.stat().st_size // 1024
    preexec = None
    if how == "full-disk":
        disk = tmp_path / "disk"
        stack = contextlib.ExitStack()
        mounted = stack.enter_context(_small_disk(disk, size_kb + 600))
        if not mounted:
            pytest.skip("cannot mount a tmpfs here: the file-size-limit case covers it")
        shutil.copy(db, disk / "prompteur.db")
        toml = project.toml.read_text(encoding="utf-8")
        project.toml.write_text(
            toml.replace(
                'store = "sqlite:///.prompteur/prompteur.db"',
                f'store = "sqlite:///{disk}/prompteur.db"',
            ),
            encoding="utf-8",
        )
    else:
        stack = contextlib.ExitStack()
        limit = (size_kb + 600) * 1024

        def preexec() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with stack:
        before = _ids(project)
        o = cli(
            "eval",
            suite,
            "--no-cache",
            cwd=project.root,
            env=_env(project),
            timeout=180,
            preexec=preexec,
        )
        assert o.killed is None and "Traceback" not in o.output, str(o)
        assert o.returncode == 1, f"a full store is the machine's problem: exit 1\n{o}"
        assert_user_error(o, codes=(1,))
        _assert_no_run_left_running(project, before)


def _big_outputs(text: str) -> Any:
    from ._support import openai_reply

    return openai_reply(lambda _req: text)


# ---- signals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_ends_the_run(project: Project, sig: signal.Signals) -> None:
    from ._support import openai_reply

    project.trusted.handler = openai_reply(delay=0.3)
    data = project.root / "suites" / "data" / "slow.jsonl"
    data.write_text(
        "\n".join(f'{{"review": "s{i}", "expected": "positive"}}' for i in range(60)) + "\n",
        encoding="utf-8",
    )
    suite = _suite(project, "slow", "data/slow.jsonl")
    before = _ids(project)
    sent: dict[str, float] = {}

    def interrupt(proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 60
        while len(project.trusted.requests) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(sig)
        sent["at"] = time.monotonic()

    o = cli(
        "eval",
        suite,
        "--no-cache",
        "--concurrency",
        "2",
        cwd=project.root,
        env=_env(project),
        timeout=90,
        on_start=interrupt,
    )
    assert sent, "the run never started"
    assert o.killed is None, str(o)
    assert "Traceback" not in o.output, str(o)
    assert o.returncode != 0, str(o)
    new = _assert_no_run_left_running(project, before)
    assert new, "the run that started is not in the store"
    project.trusted.handler = openai_reply()
    resume = cli("eval", "--resume", new[0]["id"], cwd=project.root, env=_env(project))
    assert resume.returncode == 0, f"an interrupted run resumes\n{resume}"
