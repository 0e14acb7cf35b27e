"""`prompteur adapt PROMPT --to MODEL`: the whole "model changed" path in one command.

1. Regression: the prompt's suite on the current model and the new one, in one run, with
   the paired test (`registry.regress_prompt`): what the change costs as the prompt stands.
2. Re-tuning: the optimizer searches, on the new model and under a call budget, from the
   prompt as the new model runs it today (its variant for that model, else the default).
3. Proposal: the best candidate becomes a variant for that model (`variants:` in the front
   matter, first in the list so that it wins for that model and no other), and is proposed
   only when it beats the prompt as it stands on the held-out test cases the search never
   saw — the paired comparison says by how much and how surely. A proposal is stored as a
   version; `--write` puts it in the file, `--label` runs the registry's gate to move a
   label to it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import UserError

if TYPE_CHECKING:
    from ..config import Config
    from ..optimizer.engine import Outcome
    from ..optimizer.evaluator import Budget
    from ..prompt import Prompt
    from ..records import ResultRecord
    from ..registry import Promotion, PromptRegression
    from ..store import Store


@dataclass
class Adaptation:
    name: str
    from_model: str
    to_model: str
    variant: str
    regression: PromptRegression
    outcome: Outcome | None = None
    candidate: Prompt | None = None
    proposed: bool = False
    reasons: list[str] = field(default_factory=list)  # why nothing is proposed
    written: Path | None = None
    promotion: Promotion | None = None

    def to_dict(self) -> dict[str, Any]:
        o = self.outcome
        return {
            "prompt": self.name,
            "from": self.from_model,
            "to": self.to_model,
            "variant": self.variant,
            "regression": self.regression.to_dict(),
            "optimization": o.summary() if o else None,
            "proposed": self.proposed,
            "candidate_version": self.candidate.version if self.candidate else None,
            "reasons": self.reasons,
            "written": str(self.written) if self.written else None,
            "promotion": self.promotion.to_dict() if self.promotion else None,
            "words": self.words(),
        }

    def words(self) -> str:
        lines = [f"regression {self.from_model} → {self.to_model}: {self.regression.phrase()}"]
        o = self.outcome
        if o is not None and o.comparison is not None:
            lines.append(f"held-out test on {self.to_model}: {o.comparison.words()}")
        if self.proposed and self.candidate is not None:
            lines.append(
                f"proposed: variant '{self.variant}' for {self.to_model} in "
                f"{self.name}@{self.candidate.short_version}"
            )
        else:
            lines += [f"not proposed: {r}" for r in self.reasons]
        return "\n".join(lines)


def variant_name(model_id: str) -> str:
    """A variant name from a model id: `local:smollm2` → `local-smollm2`."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_id).strip("-.")[:64]
    return name or "tuned"


def standalone(prompt: Prompt) -> Prompt:
    """The prompt as one model runs it (its variant applied) as a file of its own, without
    `variants:`: the starting point the optimizer can search from."""
    from ..prompt import parse_prompt

    front = _front(prompt.text)
    front.pop("variants", None)
    front["model"] = {
        "id": prompt.model_id,
        "parameters": prompt.params.model_dump(exclude_none=True),
    }
    if prompt.meta.examples:
        front["examples"] = prompt.meta.examples
    else:
        front.pop("examples", None)
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100)
    return parse_prompt(f"---\n{head}---\n{prompt.body}", name=prompt.name)


def _front(text: str) -> dict[str, Any]:
    from ..yamlfile import safe_load

    norm = text.replace("\r\n", "\n")
    if not norm.startswith("---"):
        return {}
    end = norm.index("\n---", 3)
    data = safe_load(norm[3:end], "<front matter>") or {}
    return dict(data)


def with_variant(prompt: Prompt, entry: dict[str, Any]) -> str:
    """The prompt file's text with `entry` first in its `variants:` (a variant of the same
    name replaced); the rest of the file is kept as written."""
    text = prompt.text.replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        lines = ["---", "---", *lines]
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    front = lines[1:end]
    others = [v for v in _front("\n".join(["---", *front, "---"])).get("variants") or []]
    others = [v for v in others if not (isinstance(v, dict) and v.get("name") == entry["name"])]
    start = next((i for i, ln in enumerate(front) if re.match(r"^variants\s*:", ln)), None)
    if start is not None:
        stop = start + 1
        while stop < len(front) and (not front[stop].strip() or front[stop][:1] in " -#\t"):
            stop += 1
        front = front[:start] + front[stop:]
    block = yaml.dump(
        {"variants": [entry, *others]},
        Dumper=_BlockDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    ).rstrip("\n")
    return "\n".join(["---", *front, *block.split("\n"), *lines[end:]])


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (a variant's body) as literal blocks, readable in review."""


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Not for a bare stop sequence ("\n") nor text that starts with blanks: those read
    # better, and round-trip safely, quoted.
    block = "\n" in value and value.strip() and not value[:1].isspace()
    style = "|" if block else ('"' if "\n" in value else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _literal)


def _variant_entry(best: Prompt, name: str, model_id: str, run: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "models": [model_id],
        "description": f"tuned for {model_id} by prompteur adapt (optimize run {run})",
    }
    params = best.params.model_dump(exclude_none=True)
    if params:
        entry["parameters"] = params
    entry["examples"] = best.meta.examples
    entry["body"] = best.body.strip("\n") + "\n"
    return entry


def adapt(
    store: Store,
    config: Config,
    prompt: Prompt,
    to_model: str,
    *,
    from_model: str | None = None,
    suite: str | None = None,
    budget: int = 100,
    seed: int = 0,
    variant: str | None = None,
    alpha: float = 0.05,
    write: bool = False,
    label: str | None = None,
    actor: str = "prompteur adapt",
    on_step: Callable[[str], None] | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
    on_progress: Callable[[Budget], None] | None = None,
) -> Adaptation:
    """Regress, re-tune on `to_model` under `budget` calls, propose a gated variant."""
    from ..library import Library
    from ..optimizer.engine import Settings, optimize, split_cases
    from ..prompt import parse_prompt
    from ..registry import find_suite, promote, regress_prompt
    from ..runs import open_runner

    say = on_step or (lambda _s: None)
    source = from_model or prompt.model_id or config.data.project.default_model
    # A variant of that name already in the file is replaced (re-adapting to the same model).
    name = variant or variant_name(to_model)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise UserError(f"'{name}' is not a variant name", field="--variant")
    found = find_suite(config, prompt, suite)
    say(f"regression: {prompt.name} on {source} and {to_model} ({found.path})")
    regression = regress_prompt(
        store, config, prompt, found, source, to_model, alpha=alpha, on_result=on_result
    )
    result = Adaptation(prompt.name, source, to_model, name, regression)
    start = standalone(prompt.for_model(to_model))
    train, dev, test = split_cases(list(found.cases()), seed, (0.3, 0.4, 0.3))
    say(
        f"re-tuning on {to_model}: {len(train)} train · {len(dev)} dev · {len(test)} held-out "
        f"test cases · budget {budget} calls"
    )

    async def tune() -> Outcome:
        async with open_runner(
            config,
            [to_model],
            checks=found.spec.checks,
            threshold=found.spec.threshold,
            cache=store.cache,
        ) as runner:
            return await optimize(
                store,
                runner,
                to_model,
                start,
                train,
                dev,
                test,
                Settings(budget=budget, seed=seed),
                suite=str(found.path),
                on_progress=on_progress,
            )

    outcome = result.outcome = asyncio.run(tune())
    c = outcome.comparison
    # Proposed on a positive held-out gain: the paired test's words say whether it is
    # significant, and the gate decides before any label moves to the variant.
    if not outcome.changed or c is None:
        result.reasons.append(
            f"no candidate beat the prompt as {to_model} runs it on the development cases"
        )
        return result
    if not c.cases or c.difference.estimate <= 0:
        result.reasons.append(
            f"on the held-out test cases the tuned variant does not beat the prompt as it "
            f"stands ({c.rate_a:.0%} → {c.rate_b:.0%})"
        )
        return result
    entry = _variant_entry(outcome.best, name, to_model, outcome.run_id)
    text = with_variant(prompt, entry)
    candidate = parse_prompt(text, path=prompt.path, name=prompt.name)
    # The variant serves the new model only: every other model gets what it got before.
    assert candidate.for_model(to_model).variant == name
    if source != to_model:
        before = prompt.for_model(source)
        after = candidate.for_model(source)
        if (before.body, before.meta.examples, before.params) != (
            after.body,
            after.meta.examples,
            after.params,
        ):
            raise UserError(f"the new variant would change what {source} runs: not proposed")
    result.candidate, result.proposed = candidate, True
    store.save_version(prompt.name, candidate.version, candidate.text, f"adapt:{outcome.run_id}")
    if write:
        result.written = Library.from_config(config).write(prompt.name, candidate.text)
    if label is not None:
        say(f"gate: {label} → {prompt.name}@{candidate.short_version} on {to_model}")
        result.promotion = promote(
            store,
            config,
            prompt.name,
            candidate.version[:16],
            label,
            actor=actor,
            suite=str(found.path),
            model=to_model,
            on_result=on_result,
        )
    return result
