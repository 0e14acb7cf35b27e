"""Every run ends: a crash leaves it `failed`, Ctrl-C (SIGINT) and `kill -TERM` leave it
`interrupted` with exit code 130 — never `running` — for eval, probe, optimize and chain test.
The real CLI in a subprocess, against benchmarks/stub_server.py answering slowly on loopback,
signalled while its run is under way; the run's status is read back from the project's store.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_http import stub_server

from prompteur.store import Store

CASES = 200
# A python check that crashes the process on the third output it sees. An ordinary exception in
# a check is a result ("the check could not run: …", a failed check), not a crash; a
# BaseException is what no layer may swallow: the run must still end `failed`.
CRASH = """
calls = 0


class Crash(BaseException):
    pass


def check(output, ctx):
    global calls
    calls += 1
    if calls >= 3:
        raise Crash("the check crashed")
    return True
"""


@pytest.fixture(scope="module")
def slow_url() -> Iterator[str]:
    with stub_server("--delay", "2.0") as url:
        yield url


@pytest.fixture
def workspace(project: Path) -> Path:
    data = project / "suites" / "data"
    data.mkdir(parents=True, exist_ok=True)
    with (data / "slow.jsonl").open("w") as f:
        for i in range(CASES):
            f.write(json.dumps({"review": f"review number {i}", "expected": "positive"}) + "\n")
    checks = "checks:\n  - {type: contains, value: positive}\n"
    (project / "suites" / "slow.yaml").write_text(
        "prompts: [sentiment]\n" + checks + "dataset: data/slow.jsonl\n"
    )
    (project / "suites" / "crash.py").write_text(CRASH)  # beside the suite that names it
    (project / "suites" / "crash.yaml").write_text(
        "prompts: [sentiment]\n"
        + checks
        + "  - {type: python, value: crash.py:check}\n"
        + "dataset: data/slow.jsonl\n"
    )
    (project / "slow.chain.yaml").write_text(
        "name: slow\ninputs:\n  review: {description: a review}\n"
        "steps:\n  - id: mood\n    prompt: sentiment\n"
    )
    return project


def command(kind: str, url: str, suite: str) -> list[str]:
    model = ["-m", f"openai-compatible:stub@{url}/v1"]
    return {
        "eval": ["eval", suite, *model, "--no-cache", "--concurrency", "2"],
        "probe": [
            "probe",
            "sentiment",
            "--suite",
            suite,
            *model,
            "--probes",
            "robustness.typos",
            "--no-cache",
            "--concurrency",
            "2",
        ],
        "optimize": ["optimize", "sentiment", "--suite", suite, *model, "--budget", "200"],
        "chain": ["chain", "test", "slow.chain.yaml", "--suite", suite, *model, "--no-cache"],
    }[kind]


def start(root: Path, argv: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("PROMPTEUR_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "prompteur.cli", *argv],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def runs(root: Path) -> list[tuple[str, str, str]]:
    """(id, kind, status) of the project's runs, newest first."""
    db = root / ".prompteur" / "prompteur.db"
    if not db.exists():
        return []
    store = Store(f"sqlite:///{db}")
    try:
        return [(r.id, r.kind.value, r.status) for r in store.runs(10)]
    finally:
        store.close()


def wait_for_run(root: Path, proc: subprocess.Popen[str], timeout: float = 180) -> str:
    """The id of the run the command started, once it is under way and has results."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the command ended before its run was under way:\n{err[-3000:]}")
        found = runs(root)
        if found and found[0][2] == "running":
            db = Store(f"sqlite:///{root / '.prompteur' / 'prompteur.db'}")
            try:
                if db.get_run(found[0][0]).done >= 1:
                    return found[0][0]
            finally:
                db.close()
        time.sleep(0.2)
    proc.kill()
    pytest.fail("no run under way in time")


KINDS = ("eval", "probe", "optimize", "chain")


@pytest.mark.timeout(400)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_signal_leaves_the_run_interrupted(
    workspace: Path, slow_url: str, kind: str, sig: signal.Signals
) -> None:
    proc = start(workspace, command(kind, slow_url, "suites/slow.yaml"))
    run_id = wait_for_run(workspace, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert f"interrupted: run {run_id}" in err, err[-3000:]
    assert runs(workspace)[0] == (run_id, kind, "interrupted")


@pytest.mark.timeout(400)
@pytest.mark.parametrize("kind", KINDS)
def test_a_crash_leaves_the_run_failed(workspace: Path, slow_url: str, kind: str) -> None:
    proc = start(workspace, command(kind, slow_url, "suites/crash.yaml"))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode != 0, err[-3000:]
    assert "the check crashed" in err, err[-3000:]
    found = runs(workspace)
    assert found and found[0][1:] == (kind, "failed"), (found, err[-3000:])


def test_a_run_is_resumed_only_by_its_own_command(workspace: Path) -> None:
    """Each kind refuses another kind's run, naming the command that finishes it."""
    store = Store(f"sqlite:///{workspace / '.prompteur' / 'prompteur.db'}")
    try:
        chain_run = store.new_run("suites/slow.yaml", {"kind": "chain"}, 10)
        gate_run = store.new_run("suites/slow.yaml", {"kind": "promote"}, 10)
    finally:
        store.close()
    for argv, run_id, words in (
        (["eval", "--resume", chain_run], chain_run, "prompteur chain test --resume"),
        (["probe", "--resume", chain_run], chain_run, "prompteur chain test --resume"),
        (["eval", "--resume", gate_run], gate_run, "not resumed: run the command again"),
        (["chain", "test", "--resume", gate_run], gate_run, "not resumed"),
    ):
        proc = start(workspace, argv)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        assert words in err and run_id in err, err
