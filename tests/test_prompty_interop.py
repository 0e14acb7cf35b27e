"""Prompty compatibility, both directions, against Prompty's reference runtime (PyPI `prompty`)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import prompty
import pytest

from prompteur.prompt import load_prompt

STARTERS = files("prompteur").joinpath("starter/prompts")

# Written the way Prompty v1 documented it (type:, api/configuration/parameters).
PROMPTY_V1 = """---
name: ExamplePrompt
description: A prompt that uses context to ground an incoming question
authors:
  - Seth Juarez
model:
  api: chat
  configuration:
    type: azure_openai
    azure_deployment: gpt-35-turbo
  parameters:
    max_tokens: 3000
sample:
  firstName: Seth
  question: What kind of clothing do you sell?
inputs:
  firstName:
    type: string
  question:
    type: string
---

system:
You are an AI assistant who helps people find information.

# Customer
You are helping {{firstName}} to find answers to their questions.

user:
{{question}}
"""

# Written the way Prompty 2 documents it (inputs as a list with kind:, model id/provider/options).
PROMPTY_V2 = """---
name: greeting
model:
  id: gpt-4o-mini
  provider: openai
  options:
    temperature: 0.2
    maxOutputTokens: 50
    stopSequences: ["END"]
inputs:
  - name: name
    kind: string
    default: World
template:
  format:
    kind: jinja2
  parser:
    kind: prompty
---
system:
You are a friendly assistant.

user:
Say hello to {{name}}.
"""


def theirs(path: Path, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    agent = prompty.load(str(path))
    return [(m.role, "".join(p.value for p in m.parts)) for m in prompty.prepare(agent, inputs)]


def ours(path: Path, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in load_prompt(path).render(inputs)]


@pytest.mark.parametrize(
    ("name", "inputs"),
    [
        ("sentiment.prompty", {"review": "It broke."}),
        ("tri-tickets.prompty", {"message": "Mon colis est perdu."}),
    ],
)
def test_our_starter_prompts_render_the_same_in_prompty(
    tmp_path: Path, name: str, inputs: dict[str, Any]
) -> None:
    path = tmp_path / name
    path.write_text(STARTERS.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
    ours_msgs = ours(path, inputs)
    # `examples` is our own key; Prompty ignores it, so hand it over as an input.
    theirs_msgs = theirs(path, {**inputs, "examples": load_prompt(path).meta.examples})
    assert ours_msgs == theirs_msgs
    assert prompty.load(str(path)).name == load_prompt(path).name


def test_prompty_v1_file_loads_and_renders_like_prompty(tmp_path: Path) -> None:
    path = tmp_path / "basic.prompty"
    path.write_text(PROMPTY_V1, encoding="utf-8")
    p = load_prompt(path)
    assert p.name == "ExamplePrompt" and p.meta.authors == ["Seth Juarez"]
    assert p.model_id == "openai:gpt-35-turbo"  # azure_openai speaks the OpenAI API
    assert p.params.max_tokens == 3000
    assert p.meta.inputs["firstName"].kind == "string"
    inputs = dict(p.meta.sample)
    msgs = ours(path, inputs)
    assert msgs[0][0] == "system" and "helping Seth" in msgs[0][1]
    assert msgs[1] == ("user", "What kind of clothing do you sell?")


def test_prompty_v2_file_loads_and_renders_like_prompty(tmp_path: Path) -> None:
    path = tmp_path / "greeting.prompty"
    path.write_text(PROMPTY_V2, encoding="utf-8")
    p = load_prompt(path)
    assert p.model_id == "openai:gpt-4o-mini"
    assert p.params.temperature == 0.2 and p.params.max_tokens == 50
    assert p.params.stop == ["END"]
    assert p.meta.inputs["name"].default == "World"
    assert ours(path, {}) == theirs(path, {})
    assert ours(path, {"name": "Ada"}) == theirs(path, {"name": "Ada"})
