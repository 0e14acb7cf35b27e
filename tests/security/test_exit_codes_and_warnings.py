"""Exit codes that mean something and warnings that are said: `eval` fails when every call
failed; `serve` off loopback warns about plain HTTP and about a project without keys; a
typo in a nested key gets the right "did you mean"."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._support import (
    PROMPTEUR,
    Project,
    assert_user_error,
    base_env,
    cli,
    free_port,
    init_project,
    listening_project,
    make_key,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    with listening_project(tmp_path_factory.mktemp("exits")) as p:
        yield p


def _two_cases(p: Project, name: str, model: str) -> str:
    (p.root / "suites" / f"{name}.yaml").write_text(
        f"prompts: [sentiment]\nmodels: ['{model}']\nchecks:\n  - type: equals\ncases:\n"
        "  - inputs: {review: fine}\n    expected: positive\n"
        "  - inputs: {review: bad}\n    expected: negative\n",
        encoding="utf-8",
    )
    return f"suites/{name}.yaml"


def test_eval_fails_when_every_call_failed(project: Project) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    suite = _two_cases(project, "unreachable", f"openai-compatible:x@{closed}")
    o = cli(
        "eval", suite, "--no-cache", cwd=project.root, env=base_env(**project.keys_env), timeout=180
    )
    assert o.killed is None and "Traceback" not in o.output, str(o)
    assert o.returncode != 0, f"every call failed, yet exit 0\n{o}"


def test_counter_eval_succeeds_when_calls_succeed(project: Project) -> None:
    suite = _two_cases(project, "reachable", f"openai-compatible:served@{project.trusted.url}/v1")
    o = cli("eval", suite, "--no-cache", cwd=project.root, env=base_env(**project.keys_env))
    assert o.returncode == 0, str(o)


def _serve_banner(root: Path, host: str, seconds: float = 30) -> str:
    """The first lines `prompteur serve` prints, until it says where it listens."""
    port = free_port()
    proc = subprocess.Popen(
        [PROMPTEUR, "serve", "--host", host, "--port", str(port), "--project", str(root)],
        cwd=root,
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if re.search(r"Uvicorn running|Application startup complete|API on", line):
                # Warnings printed right after the address line are still its banner.
                time.sleep(0.5)
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate(timeout=10)
        lines.append(out or "")
    # The test's own folder is in the banner, and its name says "warns".
    return "".join(lines).replace(str(root.parent), "<tmp>")


PLAIN_HTTP = re.compile(r"(?i)plain http|unencrypted|without tls|no tls|not encrypted|https")
NO_KEYS = re.compile(r"(?i)no (api )?keys?|without (api )?keys?|keys create")


def test_serve_off_loopback_warns(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    init_project(root)
    banner = _serve_banner(root, "0.0.0.0")
    assert "Traceback" not in banner, banner
    assert re.search(r"(?i)warn", banner), f"no warning at all:\n{banner}"
    assert PLAIN_HTTP.search(banner), f"no word about plain HTTP off loopback:\n{banner}"
    assert NO_KEYS.search(banner), f"no word about a project without keys:\n{banner}"


def test_counter_serve_on_loopback_with_keys_does_not_warn(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    init_project(root)
    make_key(root, "read")
    banner = _serve_banner(root, "127.0.0.1")
    assert "API on" in banner or "127.0.0.1" in banner, banner
    assert not PLAIN_HTTP.search(banner.replace("http://", "")), banner
    assert not NO_KEYS.search(banner), banner


def test_nested_typo_in_a_suite_gets_the_right_hint(project: Project) -> None:
    (project.root / "suites" / "typo.yaml").write_text(
        "prompts: [sentiment]\ncases:\n  - inputs: {review: fine}\n    expectd: positive\n",
        encoding="utf-8",
    )
    o = cli("eval", "suites/typo.yaml", cwd=project.root, env=base_env(**project.keys_env))
    assert_user_error(o)
    assert "did you mean 'expected'" in o.stderr, str(o)
    assert re.search(r"typo\.yaml:4", o.stderr), f"the line of the typo\n{o}"


def test_nested_typo_in_a_prompt_gets_the_right_hint(project: Project) -> None:
    path = project.root / "prompts" / "typo.prompty"
    path.write_text(
        "---\nname: typo\ninputs:\n  review:\n    kidn: string\n---\nuser:\n{{ review }}\n",
        encoding="utf-8",
    )
    try:
        o = cli("render", "typo", "-i", "review=x", cwd=project.root)
        assert_user_error(o)
        assert "did you mean 'kind'" in o.stderr, str(o)
    finally:
        path.unlink()


def test_typo_in_prompteur_toml_gets_the_right_hint(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    init_project(root)
    toml = root / "prompteur.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("default_model =", "defualt_model ="),
        encoding="utf-8",
    )
    o = cli("library", "list", cwd=root)
    assert_user_error(o)
    assert "did you mean 'default_model'" in o.stderr, str(o)
