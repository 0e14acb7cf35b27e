"""Try a prompt as it is being edited (the web playground): on the first cases of its suite,
or once on inputs typed by hand, as a stored `playground` run through the same evaluation as
`evaluate`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ._project import Project

if TYPE_CHECKING:
    from ..evaluation import EvalRun
    from ..prompt import Prompt


async def try_prompt_async(
    project: Project,
    prompt: Prompt,
    *,
    cases: int | None = 3,
    inputs: Mapping[str, str] | None = None,
) -> EvalRun:
    """Run `prompt` (a Prompt, often one not saved yet) once per case on the first `cases`
    cases of its suite (None: all of them), or, with `inputs`, once on those inputs and no
    checks. The model: the suite's, else the prompt's, else the project's. A fault of the
    template itself (an undefined input, a bound exceeded) raises at once, with no run; a
    case's own problem is recorded with that case's result."""
    from ..evaluation import EvalPlan, FirstCases, evaluate_plan, typed_suite
    from ..prompt import TemplateBoundError
    from ..registry import find_suite
    from ..runs import RunKind, choose_models

    config, store = project.config, project.store
    extra: dict[str, Any]
    if inputs is not None:
        suite = typed_suite(prompt, inputs)
        prompt.render(inputs)
        model = choose_models(None, suite, prompt, config)[0]
        work: EvalPlan = EvalPlan(suite, [prompt], {prompt.version: [model]}, 1)
        extra = {"typed": True}
    else:
        if cases is not None and cases < 1:
            raise UserError("cases must be at least 1 (or None: all of them)", field="cases")
        suite = find_suite(config, prompt)
        model = choose_models(None, suite, prompt, config)[0]
        work = first = FirstCases(suite, [prompt], {prompt.version: [model]}, 1, limit=cases)
        case = first.first_case()
        if case is not None:
            try:
                prompt.render(case.inputs)
            except TemplateBoundError:
                raise  # the template itself is at fault: said at once, no run
            except UserError:
                pass  # a case's own problem: recorded with that case's result
        extra = {"limit": cases}
    return await evaluate_plan(config, store, work, kind=RunKind.PLAYGROUND, extra=extra)


def try_prompt(project: Project, prompt: Prompt, **options: Any) -> EvalRun:
    """`try_prompt_async`, from synchronous code."""
    return asyncio.run(try_prompt_async(project, prompt, **options))
