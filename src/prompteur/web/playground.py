"""The playground's work: an edited prompt, run on the first cases of its suite (or all of
them), or on inputs typed in the page (no suite needed), through the same evaluation as
`prompteur eval` (a stored run), or saved as a version."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..evaluation import EvalPlan, evaluate_plan
from ..models.providers import check_endpoint
from ..prompt import Prompt, TemplateBoundError, parse_prompt
from ..registry import find_suite
from ..runner import WorkItem, plan
from ..runs import RunKind, choose_models
from ..suite import Case, Suite

if TYPE_CHECKING:
    from ..config import Config
    from ..library import Library
    from ..store import Store

CASE_CHOICES = ("3", "10", "all")


@dataclass
class FirstCases(EvalPlan):
    """An eval plan over the suite's first `limit` cases only (None: all of them)."""

    limit: int | None = None

    def _cases(self) -> Iterator[Case]:
        return itertools.islice(self.suite.cases(), self.limit)

    def items(self) -> Iterator[WorkItem]:
        return plan(self.prompts, self.models, self._cases, self.repeat)

    def total(self) -> int:
        n = sum(1 for _ in self._cases())
        return n * self.repeat * sum(len(v) for v in self.models.values())


def edited(text: str, library: Library, name: str) -> tuple[Prompt, Path | None]:
    """The edited prompt (a UserError names the line), and the library file it replaces.
    `name` is a prompt of the library or nothing: never a path."""
    from ..library import check_name

    original = None
    if name:
        check_name(name)  # a path, a NUL, 2 kB: a 400, not a lookup
        try:
            original = library.get(name)
        except UserError:
            original = None
    path = original.path if original else None
    # Parsed under the file's name so that errors point at the file being edited.
    prompt = parse_prompt(text, path=path, name=name or None)
    return prompt, path


def run_cases(config: Config, store: Store, prompt: Prompt, limit: int | None) -> str:
    """Run `prompt` on its suite's first `limit` cases; returns the run's id."""
    suite = find_suite(config, prompt)
    model = choose_models(None, suite, prompt, config)[0]
    work = FirstCases(suite, [prompt], {prompt.version: [model]}, 1, limit=limit)
    first = next(iter(work._cases()), None)
    if first is not None:
        try:
            prompt.render(first.inputs)
        except TemplateBoundError:
            raise  # the template itself is at fault: said at once (a 400), no run
        except UserError:
            pass  # a case's own problem: recorded with that case's result
    done = asyncio.run(
        evaluate_plan(config, store, work, kind=RunKind.PLAYGROUND, extra={"limit": limit})
    )
    return done.run_id


# Typed inputs: as many as a prompt declares, each bounded like a form field.
MAX_TYPED_INPUTS = 50
MAX_TYPED_CHARS = 20_000


def typed_suite(prompt: Prompt, inputs: dict[str, str]) -> Suite:
    """A one-case suite, in memory, from inputs typed in the page: no checks (nothing says
    what a right answer is), so the run shows the output and stores it, unjudged."""
    from ..suite import CaseSpec, SuiteFile
    from ..yamlfile import LineMap

    if len(inputs) > MAX_TYPED_INPUTS:
        raise UserError(f"at most {MAX_TYPED_INPUTS} inputs", field="inputs")
    for key, value in inputs.items():
        if len(value) > MAX_TYPED_CHARS:
            raise UserError(
                f"input '{key}' is {len(value):,} characters long: at most {MAX_TYPED_CHARS:,}",
                field=f"input.{key}",
            )
    spec = SuiteFile(prompts=[prompt.name], cases=[CaseSpec(inputs=dict(inputs))])
    return Suite(Path("typed-inputs"), spec, LineMap({}, 1))


def run_typed(config: Config, store: Store, prompt: Prompt, inputs: dict[str, str]) -> str:
    """Run `prompt` once on typed `inputs`; returns the run's id. The template's own faults
    (an undefined input, a bound exceeded) are said at once, as a 400, with no run."""
    suite = typed_suite(prompt, inputs)
    prompt.render(inputs)
    model = choose_models(None, suite, prompt, config)[0]
    work = EvalPlan(suite, [prompt], {prompt.version: [model]}, 1)
    done = asyncio.run(
        evaluate_plan(config, store, work, kind=RunKind.PLAYGROUND, extra={"typed": True})
    )
    return done.run_id


def save(
    config: Config, store: Store, library: Library, name: str, prompt: Prompt, write_file: bool
) -> tuple[bool, Path | None]:
    """Record the version (immutable, by content hash) and, when asked, rewrite the library
    file of the prompt `name`. Returns (new version, file written). A text whose model names
    an endpoint the project does not is refused: a stored version must never carry one."""
    if prompt.model_id:
        check_endpoint(prompt.model_id, config)
    target = library.get(name) if write_file else None
    source = str(target.path) if target and target.path else None
    new = store.save_version(prompt.name, prompt.version, prompt.text, source)
    if target is not None:
        return new, library.write(name, prompt.text)
    return new, None
