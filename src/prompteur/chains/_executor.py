"""Running a chain: each step is one work item of the shared runner (its limiter, retries
and response cache), the steps in dependency order, the values passed along."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UserError

if TYPE_CHECKING:
    from ..config import Config
    from ..models.base import Model, Params
    from ..runner import ResponseCache, Runner
    from ._spec import Chain, ParseSpec, Step


@dataclass
class StepTrace:
    id: str
    prompt: str
    model: str
    output: str | None  # the model's raw text
    value: Any = None  # after `parse`
    latency_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None
    cached: bool = False
    attempts: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChainOutcome:
    output: str | None
    steps: list[StepTrace] = field(default_factory=list)
    error: str | None = None

    def step(self, sid: str) -> StepTrace | None:
        return next((s for s in self.steps if s.id == sid), None)

    @property
    def latency_s(self) -> float:
        return sum(s.latency_s for s in self.steps)

    @property
    def cost(self) -> float | None:
        costs = [s.cost for s in self.steps]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "error": self.error,
            "latency_s": self.latency_s,
            "cost": self.cost,
            "steps": [s.to_dict() for s in self.steps],
        }


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def apply_parse(text: str, spec: ParseSpec | None) -> Any:
    """A step's value from its raw text; ValueError says why it could not be read."""
    if spec is None:
        return text.strip()
    if spec.regex is not None:
        m = re.search(spec.regex, text)
        if m is None:
            raise ValueError(f"no match for /{spec.regex}/ in {text[:80]!r}")
        try:
            value = m.group(spec.group)
        except IndexError as exc:
            raise ValueError(f"no group {spec.group!r}: {exc}") from None
        return value.strip() if spec.strip and value is not None else value
    if spec.json_:
        from ..checks import extract_json

        data = extract_json(text)
        if isinstance(spec.json_, str):
            if not isinstance(data, dict) or spec.json_ not in data:
                raise ValueError(f"the JSON has no field '{spec.json_}'")
            return data[spec.json_]
        return data
    return text.strip() if spec.strip else text


def model_for(step: Step, chain: Chain, config: Config, override: str | None) -> str:
    """The model of a step, in `runs.choose_models`' order: the caller's (`-m`, for every
    step), else the chain file's (the step's own `model:`, else the chain's), else the step
    prompt's, else the project's."""
    from ..runs import choose_models

    definition = step.spec.model or chain.spec.model
    return choose_models(override, [definition] if definition else None, step.prompt, config)[0]


class ChainExecutor:
    """Runs one chain over many input sets, sharing one runner (and its models)."""

    def __init__(
        self,
        chain: Chain,
        config: Config,
        *,
        model: str | None = None,
        cache: ResponseCache | None = None,
        concurrency: int | None = None,
        params: Params | None = None,
    ) -> None:
        from ..models.pool import ModelPool
        from ..models.pricing import cost as cost_of
        from ..runner import Runner

        self.chain = chain
        self.step_models = {s.id: model_for(s, chain, config, model) for s in chain.steps}
        ids = list(dict.fromkeys(self.step_models.values()))
        self.pool = ModelPool(config)
        self.models: dict[str, Model] = {m: self.pool.get(m) for m in ids}
        self.runner: Runner = Runner(
            self.models,
            cost_of=lambda m, usage: cost_of(m, usage, config),
            concurrency={m: concurrency for m in ids} if concurrency else None,
            cache=cache,
            params=params,
            pool=self.pool,
        )

    @property
    def label(self) -> str:
        """The model column of a chain's results: its models, in step order."""
        return "+".join(dict.fromkeys(self.step_models.values()))

    async def run(self, inputs: dict[str, Any], *, repeat: int = 0) -> ChainOutcome:
        from ..runner import WorkItem
        from ..suite import Case, case_id

        values = self.chain.resolve_inputs(inputs)
        done: dict[str, Any] = {}
        outcome = ChainOutcome(output=None)
        for step in self.chain.steps:
            try:
                args = self._args(step, values, done)
            except ValueError as exc:
                outcome.error = f"step {step.id}: {exc}"
                return outcome
            model_id = self.step_models[step.id]
            item = WorkItem(step.prompt, model_id, Case(case_id(args, None), args), repeat)
            rec = await self.runner.execute(item)
            trace = StepTrace(
                id=step.id,
                prompt=step.prompt.name,
                model=model_id,
                output=rec.output,
                latency_s=rec.latency_s or 0.0,
                input_tokens=rec.input_tokens,
                output_tokens=rec.output_tokens,
                cost=rec.cost,
                cached=rec.cached,
                attempts=rec.attempts,
                error=rec.error,
            )
            outcome.steps.append(trace)
            if rec.error or rec.output is None:
                outcome.error = f"step {step.id}: {rec.error or 'no output'}"
                return outcome
            try:
                trace.value = apply_parse(rec.output, step.spec.parse)
            except ValueError as exc:
                trace.error = f"parse: {exc}"
                outcome.error = f"step {step.id}: parse: {exc}"
                return outcome
            done[step.id] = trace.value
        outcome.output = as_text(done[self.chain.output_step])
        return outcome

    def _args(self, step: Step, values: dict[str, Any], done: dict[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for key, ref in step.refs.items():
            if ref.kind == "literal":
                value = ref.value
            elif ref.kind == "inputs":
                value = values[ref.name]
            else:
                value = done[ref.name]
                if ref.field is not None:
                    if not isinstance(value, dict) or ref.field not in value:
                        raise ValueError(
                            f"$steps.{ref.name}.{ref.field}: step {ref.name} gave no field "
                            f"'{ref.field}' (parse it as JSON)"
                        )
                    value = value[ref.field]
            spec = step.prompt.meta.inputs.get(key)
            if (spec is None or spec.kind == "string") and not isinstance(value, str):
                value = as_text(value)
            args[key] = value
        return args

    async def aclose(self) -> None:
        await self.pool.aclose()


def check_case_inputs(chain: Chain, inputs: dict[str, Any], where: str) -> None:
    """A suite case must give every chain input: said before any call, with the case's line."""
    try:
        chain.resolve_inputs(inputs)
    except UserError as exc:
        file, _, line = where.rpartition(":")
        raise UserError(
            exc.message.replace("chain input", "input") + f" for chain '{chain.name}'",
            file=file or where,
            line=int(line) if line.isdigit() else None,
            field=exc.field,
            hint=exc.hint,
        ) from None
