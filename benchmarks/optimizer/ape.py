"""Instruction-induction benchmark data (APE dev subset) — standard library only.

Loads the eight tasks of ``shared/data/ape-dev`` with the splits the benchmark fixes
(issue 4, "Benchmark"):

* train / dev: drawn from ``induce/`` — keys sorted numerically, shuffled with
  ``random.Random(f"{name}:{seed}")``, the first ``n_train`` are train, the next ``n_dev`` dev;
* test: the 100 examples of ``execute/`` in file order (never searched on);
* human instructions: ``annotations/`` (the first one is "the human instruction").

Metric: the paper's normalised exact match (lower-case, punctuation stripped, white space
collapsed), any accepted answer counts (``possible_translations`` for translation_en-fr).

The data directory is ``../../../shared/data/ape-dev`` relative to this file, or ``$APE_DATA``.

Self check: ``python benchmarks/optimizer/ape.py`` prints the split sizes per task.
"""

from __future__ import annotations

import json
import os
import random
import string
from dataclasses import dataclass
from pathlib import Path

TASKS: tuple[str, ...] = (
    "active_to_passive",
    "first_word_letter",
    "larger_animal",
    "negation",
    "num_to_verbal",
    "sentiment",
    "singular_to_plural",
    "translation_en-fr",
)


def data_dir() -> Path:
    """The ape-dev data directory (``$APE_DATA`` overrides the default)."""
    env = os.environ.get("APE_DATA")
    if env:
        return Path(env)
    return (Path(__file__).resolve().parent / "../../../shared/data/ape-dev").resolve()


@dataclass(frozen=True)
class Example:
    input: str
    output: str
    accepted: tuple[str, ...]  # every answer that counts (output first)


@dataclass
class Task:
    name: str
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    human_instructions: list[str]

    @property
    def human_instruction(self) -> str:
        return self.human_instructions[0]


def _example(raw: dict) -> Example:
    output = str(raw["output"])
    accepted = [output]
    for alt in raw.get("possible_translations") or ():
        if alt not in accepted:
            accepted.append(str(alt))
    return Example(input=str(raw["input"]), output=output, accepted=tuple(accepted))


def _read(sub: str, name: str) -> dict:
    with open(data_dir() / sub / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


def load_task(name: str, seed: int, n_train: int = 50, n_dev: int = 100) -> Task:
    """Load one task with the benchmark's fixed train/dev draw for ``seed``."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; expected one of {TASKS}")
    pool = _read("induce", name)["examples"]
    keys = sorted(pool, key=int)
    random.Random(f"{name}:{seed}").shuffle(keys)
    train = [_example(pool[k]) for k in keys[:n_train]]
    dev = [_example(pool[k]) for k in keys[n_train : n_train + n_dev]]
    test = [_example(raw) for raw in _read("execute", name)["examples"].values()]
    human = list(_read("annotations", name)["annotations"])
    return Task(name=name, train=train, dev=dev, test=test, human_instructions=human)


_PUNCT = str.maketrans("", "", string.punctuation)


def normalise(text: str) -> str:
    """Lower-case, strip ASCII punctuation, collapse white space."""
    return " ".join(text.lower().translate(_PUNCT).split())


def clean_prediction(completion: str) -> str:
    """A raw completion as the answer: ``.strip()``, then cut at the first newline."""
    return completion.strip().split("\n", 1)[0]


def score(prediction: str, example: Example) -> float:
    """1.0 if the (cleaned, normalised) prediction matches any accepted answer, else 0.0."""
    pred = normalise(clean_prediction(prediction))
    return 1.0 if any(pred == normalise(a) for a in example.accepted) else 0.0


def render_plain(instruction: str, demos: list[Example] | list, input: str) -> str:
    """The reference completion prompt ("Instruction / Input: / Output:").

    ``{instruction}\\n\\n`` (omitted when empty), then
    ``Input: {d.input}\\nOutput: {d.output}\\n\\n`` per demonstration,
    then ``Input: {input}\\nOutput:``. Generate greedily and stop at "\\n".
    ``demos`` only need ``.input`` and ``.output`` attributes.
    """
    parts = [f"{instruction}\n\n"] if instruction else []
    parts += [f"Input: {d.input}\nOutput: {d.output}\n\n" for d in demos]
    parts.append(f"Input: {input}\nOutput:")
    return "".join(parts)


if __name__ == "__main__":
    print(f"data: {data_dir()}")
    for _name in TASKS:
        _t = load_task(_name, seed=0)
        _acc = sum(len(e.accepted) for e in _t.test) / len(_t.test)
        print(
            f"{_name:20s} train={len(_t.train):3d} dev={len(_t.dev):3d} test={len(_t.test):3d} "
            f"human={len(_t.human_instructions)} accepted/test={_acc:.2f}"
        )
        assert score(" " + _t.test[0].output.upper() + ".\nmore", _t.test[0]) == 1.0
    _t = load_task("sentiment", 1)
    assert _t.train[0] == load_task("sentiment", 1).train[0] != load_task("sentiment", 2).train[0]
    print(render_plain("Do it.", _t.train[:1], "x"))
