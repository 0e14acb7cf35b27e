"""Bounded parsing: YAML alias bombs, deep JSON, oversized and special files are refused with
a UserError naming the file, before anything expands; ordinary anchors still work."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from prompteur.errors import UserError
from prompteur.limits import json_depth
from prompteur.prompt import load_prompt, parse_prompt
from prompteur.suite import load_suite
from prompteur.yamlfile import load_json, load_yaml, read_text

LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]"
        for i in range(8)
    ]
)
MERGES = "\n".join(
    ["a0: &a0 {k0: 1, k1: 2, k2: 3, k3: 4}"]
    + [f"a{i}: &a{i}\n  <<: [" + ", ".join([f"*a{i - 1}"] * 8) + "]" for i in range(1, 12)]
)


@pytest.mark.parametrize("text", [LAUGHS, MERGES], ids=["billion laughs", "merge keys"])
def test_an_alias_bomb_is_refused_before_it_expands(text: str) -> None:
    start = time.monotonic()
    with pytest.raises(UserError) as caught:
        load_yaml(text, "bomb.yaml")
    assert time.monotonic() - start < 2
    assert "aliases expand" in caught.value.message and caught.value.file == "bomb.yaml"


def test_an_alias_bomb_in_front_matter_names_the_prompt_file(tmp_path: Path) -> None:
    body = LAUGHS.replace("\n", "\n  ")
    path = tmp_path / "bomb.prompty"
    path.write_text(f"---\nname: bomb\nmetadata:\n  {body}\n---\nuser:\nhi\n")
    with pytest.raises(UserError) as caught:
        load_prompt(path)
    assert caught.value.file == str(path) and "aliases" in caught.value.message


def test_an_alias_bomb_in_a_suite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    body = LAUGHS.replace("\n", "\n  ")
    path.write_text(f"prompts: [x]\ncases: [{{inputs: {{}}}}]\ndescription: x\nx-junk:\n  {body}\n")
    with pytest.raises(UserError) as caught:
        load_suite(path)
    assert "aliases" in caught.value.message


def test_ordinary_anchors_still_load() -> None:
    data, lines = load_yaml(
        "base: &base {kind: string, description: a name}\n"
        "inputs:\n  first: *base\n  last:\n    <<: *base\n    description: another\n",
        "ok.yaml",
    )
    assert data["inputs"]["first"] == {"kind": "string", "description": "a name"}
    assert data["inputs"]["last"]["description"] == "another"
    assert lines.line(("inputs", "last")) == 4


def test_deep_json_is_refused_without_recursion() -> None:
    deep = "[" * 10_000 + "]" * 10_000
    assert json_depth(deep) == 10_000
    assert json_depth('{"a": "[[[[[[", "b": [1, {"c": [2]}]}') == 4
    with pytest.raises(UserError) as caught:
        load_json(deep, "inputs.json")
    assert "nested more than" in caught.value.message and caught.value.file == "inputs.json"


def test_deep_yaml_is_a_user_error() -> None:
    with pytest.raises(UserError):
        load_yaml("a: " + "[" * 5000 + "]" * 5000, "deep.yaml")


def test_an_oversized_prompt_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.prompty"
    with path.open("w") as fh:
        fh.write("---\nname: big\n---\nuser:\n")
        fh.write("x" * (2 * 1024 * 1024))
    with pytest.raises(UserError) as caught:
        load_prompt(path)
    assert "too large" in caught.value.message
    with pytest.raises(UserError):
        parse_prompt("x" * (2 * 1024 * 1024), name="big")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "suite.yaml"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(UserError) as caught:
        read_text(fifo, "suite file")
    assert time.monotonic() - start < 2 and "not a regular file" in caught.value.message


def test_a_dataset_line_without_end_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prompteur import limits

    (tmp_path / "data.jsonl").write_text('{"inputs": {"q": "' + "x" * 5000 + '"}}')
    suite = tmp_path / "suite.yaml"
    suite.write_text("prompts: [x]\ndataset: data.jsonl\n")
    with (
        limits.using(limits.DEFAULT.updated(dataset_line_bytes=1000)),
        pytest.raises(UserError) as caught,
    ):
        list(load_suite(suite).cases())
    assert caught.value.line == 1 and "longer than" in caught.value.message


def test_a_broken_dataset_line_names_its_line(tmp_path: Path) -> None:
    rows = [f'{{"inputs": {{"q": "{i}"}}}}' for i in range(4999)] + ["{not json"]
    (tmp_path / "data.jsonl").write_text("\n".join(rows) + "\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text("prompts: [x]\ndataset: data.jsonl\n")
    with pytest.raises(UserError) as caught:
        list(load_suite(suite).cases())
    assert caught.value.line == 5000


def test_a_csv_field_past_the_csv_module_limit_is_read(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("q,expected\n" + "y" * 200_000 + ",ok\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text("prompts: [x]\ndataset: data.csv\n")
    (case,) = load_suite(suite).cases()
    assert len(case.inputs["q"]) == 200_000
