"""The CLI never prints a traceback for a user mistake or a broken environment: one clear
line, exit 2 (the user's mistake) or 1 (the machine's: a full disk, a store it cannot open)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._support import PROMPTEUR, assert_user_error, cli, init_project, run


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "proj"
    init_project(root)
    (root / "prompts" / "typed.prompty").write_text(
        "---\nname: typed\ninputs:\n  n:\n    kind: integer\n  flag:\n    kind: boolean\n"
        "  items:\n    kind: array\n---\nuser:\n{{ n }} {{ flag }} {{ items }}\n",
        encoding="utf-8",
    )
    return root


def test_recursive_macro(root: Path) -> None:
    path = root / "prompts" / "recursive.prompty"
    path.write_text(
        "---\nname: recursive\n---\nuser:\n{% macro r(n) %}{{ r(n) }}{% endmacro %}{{ r(1) }}\n",
        encoding="utf-8",
    )
    try:
        o = cli("render", "recursive", cwd=root, timeout=30)
        assert_user_error(o)
        assert "recursive.prompty" in o.stderr, str(o)
    finally:
        path.unlink()


@pytest.mark.parametrize(
    "content",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"review": ' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"review": ' + '{"a": ' * 10_000 + "1" + "}" * 10_000 + "}",
    ],
    ids=["array", "value-array", "value-object"],
)
def test_inputs_file_nested_10000_deep(root: Path, tmp_path: Path, content: str) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(content, encoding="utf-8")
    o = cli("render", "sentiment", "--inputs", str(deep), cwd=root, timeout=30)
    assert_user_error(o)
    assert "deep.json" in o.stderr, str(o)


@pytest.mark.parametrize(
    "pair",
    [
        "=x",
        " =x",
        "review",
        "review=",
        "review=a=b",
        "review=\x1b[31mred",
        "review=" + "x" * 100_000,
        "unknown=1",
        "n=abc",
        "n=99999999999999999999999999999",
        "n=1e400",
        "flag=maybe",
        "items=[1,",
        "items=" + "[" * 5000 + "]" * 5000,
    ],
)
def test_odd_input_values(root: Path, pair: str) -> None:
    prompt = "typed" if pair.split("=")[0] in {"n", "flag", "items"} else "sentiment"
    extra = [] if prompt == "sentiment" else ["-i", "n=1", "-i", "flag=true", "-i", "items=[]"]
    o = cli("render", prompt, *extra, "-i", pair, cwd=root, timeout=30)
    assert o.killed is None and "Traceback" not in o.output, str(o)
    assert o.returncode in (0, 2), str(o)
    if o.returncode == 2:
        assert_user_error(o)


def test_input_that_is_not_utf8(root: Path) -> None:
    """Bytes that are no UTF-8 on the command line (argv is bytes on Linux)."""
    o = run(
        [PROMPTEUR.encode(), b"render", b"sentiment", b"-i", b"review=\xff\xfe caf\xe9"],  # type: ignore[list-item]
        cwd=root,
        timeout=30,
    )
    assert o.killed is None and "Traceback" not in o.output, str(o)
    assert o.returncode in (0, 2), str(o)


def _set_store(root: Path, url: str) -> str:
    toml = root / "prompteur.toml"
    before = toml.read_text(encoding="utf-8")
    after = before.replace('store = "sqlite:///.prompteur/prompteur.db"', f'store = "{url}"')
    assert after != before
    toml.write_text(after, encoding="utf-8")
    return before


def test_store_in_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    init_project(root)
    missing = tmp_path / "nowhere-folder" / "deeper"
    _set_store(root, f"sqlite:///{missing}/prompteur.db")
    o = cli("runs", cwd=root, timeout=30)
    assert_user_error(o, codes=(1, 2))
    assert "nowhere-folder" in o.stderr, f"the error names the folder\n{o}"
    assert not (tmp_path / "nowhere-folder").exists(), "the store's folder was created silently"


@pytest.mark.parametrize("where", ["a-folder", "under-a-file"])
def test_store_that_cannot_be_opened(tmp_path: Path, where: str) -> None:
    root = tmp_path / "proj"
    init_project(root)
    target = root / ".prompteur" if where == "a-folder" else root / "prompteur.toml" / "p.db"
    _set_store(root, f"sqlite:///{target}")
    o = cli("runs", cwd=root, timeout=30)
    assert_user_error(o, codes=(1, 2))


def test_inputs_file_is_json_but_not_an_object(root: Path, tmp_path: Path) -> None:
    for content in ("1e999999", '"x"' * 1, "null", "\ufeff{}", '{"review": "\\ud800"}'):
        f = tmp_path / "odd.json"
        f.write_text(content, encoding="utf-8")
        o = cli("render", "sentiment", "--inputs", str(f), cwd=root, timeout=30)
        assert o.killed is None and "Traceback" not in o.output, str(o)
        assert o.returncode in (0, 2), str(o)
