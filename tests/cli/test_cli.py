"""The command line, end to end on a fresh project and the embedded model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prompteur.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The installed entry point in a real process (exit codes, stderr, no traceback)."""
    return subprocess.run(
        [sys.executable, "-m", "prompteur.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_init_writes_a_working_project(tmp_path: Path) -> None:
    code, _, _ = run("init", str(tmp_path / "p"))
    assert code == 0
    root = tmp_path / "p"
    for rel in (
        "prompteur.toml",
        ".gitignore",
        "prompts/sentiment.prompty",
        "prompts/tri-tickets.prompty",
        "suites",
    ):
        assert (root / rel).exists(), rel
    assert ".prompteur/" in (root / ".gitignore").read_text()
    assert 'name = "p"' in (root / "prompteur.toml").read_text()


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "prompteur.toml").write_text("# mine\n")
    code, _, err = run("init", str(root))
    assert code == 2 and "already exists" in err
    assert (root / "prompteur.toml").read_text() == "# mine\n"
    assert not (root / "prompts").exists()


def test_render_prints_messages(project: Path) -> None:
    code, out, _ = run("render", "sentiment", "-i", "review=It broke.", "--json")
    assert code == 0
    data = json.loads(out)
    assert [m["role"] for m in data["messages"]] == ["system", "user"]
    assert data["messages"][1]["content"].endswith("Review: It broke.\nSentiment:")


def test_render_from_inputs_file(project: Path) -> None:
    (project / "in.json").write_text(json.dumps({"review": "Lovely"}))
    code, out, _ = run("render", "prompts/sentiment.prompty", "--inputs", "in.json")
    assert code == 0 and "Review: Lovely" in out


def test_ask_runs_the_embedded_model_and_records_the_version(project: Path) -> None:
    code, out, _ = run("ask", "sentiment", "-i", "review=Terrible, it broke on day one.", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["output"].strip() == "negative"
    assert data["model"] == "local" and data["cost_usd"] == 0.0
    assert data["usage"]["input_tokens"] > 50 and data["usage"]["output_tokens"] >= 1
    assert data["latency_ms"] > 0
    code, out, _ = run("library", "versions", "sentiment", "--json")
    versions = json.loads(out)
    assert len(versions) == 1 and versions[0]["version"] == data["version"]
    assert versions[0]["current"] is True


def test_ask_french_prompt(project: Path) -> None:
    code, out, _ = run(
        "ask",
        "tri-tickets",
        "-i",
        "message=Mon colis devait arriver hier et il n'est toujours pas là.",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["output"].strip() == "livraison"


def test_ask_human_output_shows_tokens_latency_cost(project: Path) -> None:
    code, out, err = run("ask", "sentiment", "-i", "review=I love it, perfect.")
    assert code == 0
    assert out.strip() == "positive"
    assert "tokens in" in err and "ms" in err and "cost $0.000000" in err


def test_library_list_search_show_filter(project: Path) -> None:
    code, out, _ = run("library", "list", "--json")
    names = {p["name"] for p in json.loads(out)}
    assert names == {"sentiment", "tri-tickets"}
    code, out, _ = run("library", "list", "--tag", "fr", "--json")
    assert [p["name"] for p in json.loads(out)] == ["tri-tickets"]
    code, out, _ = run("library", "list", "--domain", "nope", "--json")
    assert json.loads(out) == []
    code, out, _ = run("library", "search", "colis", "--json")
    assert [(p["name"], p["matched"]) for p in json.loads(out)] == [("tri-tickets", "front matter")]
    code, out, _ = run("library", "search", "Message :", "--json")
    assert [(p["name"], p["matched"]) for p in json.loads(out)] == [("tri-tickets", "body")]
    code, out, _ = run("library", "show", "sentiment")
    assert code == 0 and "input review: string" in out


def test_library_save_versions_and_diff(project: Path) -> None:
    assert run("library", "save")[0] == 0
    path = project / "prompts" / "sentiment.prompty"
    v1 = json.loads(run("library", "show", "sentiment", "--json")[1])["full_version"]
    path.write_text(path.read_text().replace("positive or negative", "POSITIVE or NEGATIVE"))
    code, out, _ = run("library", "save", "sentiment")
    assert code == 0 and "saved" in out
    versions = json.loads(run("library", "versions", "sentiment", "--json")[1])
    assert len(versions) == 2
    code, out, _ = run("library", "diff", f"sentiment@{v1[:8]}", "sentiment")
    assert code == 0
    assert "-Classify the sentiment of each product review as positive or negative." in out
    assert "+Classify the sentiment of each product review as POSITIVE or NEGATIVE." in out
    code, _, err = run("library", "diff", "sentiment@ffffffff", "sentiment")
    assert code == 2 and "no version" in err


def test_models_lists_providers_and_key_presence_never_the_key(project: Path) -> None:
    secret = "sk-test-DO-NOT-LEAK-1234567890"
    proc = cli("models", "--json", cwd=project, env={"OPENAI_API_KEY": secret})
    assert proc.returncode == 0
    assert secret not in proc.stdout + proc.stderr
    rows = {r["provider"]: r for r in json.loads(proc.stdout)}
    assert rows["openai"]["key_set"] is True and rows["openai"]["key_env"] == "OPENAI_API_KEY"
    assert rows["local"]["ready"] is True and rows["local"]["default"] is True
    assert {"anthropic", "mistral", "gemini", "ollama", "openai-compatible"} <= set(rows)


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["render", "sentiment"], "inputs.review: missing input"),
        (["render", "sentiment", "-i", "revew=x"], "unknown input 'revew'"),
        (["render", "sentimnt"], "did you mean 'sentiment'"),
        (["ask", "sentiment", "-m", "opnai:gpt-4o", "-i", "review=x"], "did you mean 'openai'"),
        (["ask", "sentiment", "-m", "openai:gpt-4o", "-i", "review=x"], "OPENAI_API_KEY"),
        (["ask", "sentiment", "-m", "local:/nope.gguf", "-i", "review=x"], "model file not found"),
        (["render", "sentiment", "--inputs", "missing.json"], "inputs file not found"),
    ],
)
def test_user_mistakes_exit_2_without_traceback(
    project: Path, args: list[str], expect: str
) -> None:
    proc = cli(*args, cwd=project, env={"OPENAI_API_KEY": ""})
    assert proc.returncode == 2, proc.stderr
    assert expect in proc.stderr
    assert "Traceback" not in proc.stderr


def test_broken_prompt_file_error_names_file_line_and_field(project: Path) -> None:
    bad = project / "prompts" / "bad.prompty"
    # Prompty 2 refuses a property without `kind:` (v1's `type:`)
    bad.write_text("---\nname: bad\ninputs:\n  a:\n    type: string\n---\nuser:\n{{ a }}\n")
    proc = cli("render", "bad", "-i", "a=1", cwd=project)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # paths are shown relative to where the user stands
    assert "prompts/bad.prompty:5: inputs.a.type:" in proc.stderr
    # the library still lists the good prompts and says which file it skipped
    proc = cli("library", "list", "--json", cwd=project)
    assert proc.returncode == 0 and "skipped" in proc.stderr and "bad.prompty:5" in proc.stderr
    assert {p["name"] for p in json.loads(proc.stdout)} == {"sentiment", "tri-tickets"}


def test_secret_in_config_is_refused(project: Path) -> None:
    cfg = project / "prompteur.toml"
    cfg.write_text(cfg.read_text() + '\n[providers.mistral]\napi_key = "abc"\n')
    proc = cli("models", cwd=project)
    assert proc.returncode == 2 and "secret" in proc.stderr and "abc" not in proc.stderr


def test_bad_config_names_line_and_field(project: Path) -> None:
    cfg = project / "prompteur.toml"
    cfg.write_text(cfg.read_text().replace("context = 4096", "context = 12"))
    proc = cli("models", cwd=project)
    assert proc.returncode == 2
    line = next(
        i
        for i, t in enumerate(cfg.read_text().splitlines(), 1)
        if "context" in t and not t.startswith("#")
    )
    assert f"prompteur.toml:{line}: local.context" in proc.stderr


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["init", "--help"],
        ["render", "--help"],
        ["ask", "--help"],
        ["models", "--help"],
        ["library", "--help"],
        ["library", "list", "--help"],
        ["library", "show", "--help"],
        ["library", "search", "--help"],
        ["library", "versions", "--help"],
        ["library", "diff", "--help"],
        ["library", "save", "--help"],
        ["import", "--help"],
        ["import", "promptfoo", "--help"],
        ["eval", "--help"],
        ["runs", "--help"],
        ["show", "--help"],
        ["compare", "--help"],
    ):
        code, out, _ = run(*args)
        assert code == 0 and "Usage" in out, args
