"""Run one prompt once: render → model → response, with cost, and record the version."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..models.base import Params, Response
from ..models.pricing import cost as cost_of
from ..models.providers import get_model

if TYPE_CHECKING:
    from ..config import Config
    from ..prompt import Prompt


@dataclass(frozen=True)
class AskOutcome:
    prompt: str
    version: str
    model_id: str
    response: Response
    cost: float | None
    variant: str | None = None  # the prompt's variant for this model; None: the default

    def to_dict(self) -> dict[str, Any]:
        r = self.response
        return {
            "prompt": self.prompt,
            "version": self.version,
            "model": self.model_id,
            "variant": self.variant,
            "output": r.text,
            "finish_reason": r.finish_reason,
            "usage": {"input_tokens": r.usage.input_tokens, "output_tokens": r.usage.output_tokens},
            "latency_ms": round(r.latency_s * 1000, 1),
            "cost_usd": self.cost,
            "logprobs": [
                {"token": t.token, "logprob": t.logprob, "top": list(t.top)} for t in r.logprobs
            ]
            if r.logprobs
            else None,
        }


def choose_model(config: Config, prompt: Prompt, model_id: str | None) -> str:
    """The command line's choice, else the prompt's, else the project's default."""
    return model_id or prompt.resolved_model_id(config) or config.data.project.default_model


async def ask(
    config: Config,
    prompt: Prompt,
    inputs: Mapping[str, Any],
    *,
    model_id: str | None = None,
    params: Params | None = None,
    on_text: Callable[[str], None] | None = None,
    record: bool = True,
) -> AskOutcome:
    """Render `prompt` with `inputs`, call the model and return the outcome.

    Nothing is written when rendering fails; the version is recorded only once the model has
    answered, so the store holds versions that really ran.
    """
    chosen = choose_model(config, prompt, model_id)
    served = prompt.for_model(chosen)
    request = served.request(inputs, params=params)
    model = get_model(chosen, config)
    try:
        if on_text is None:
            response = await model.generate(request)
        else:
            async for item in model.stream(request):
                if isinstance(item, Response):
                    response = item
                else:
                    on_text(item)
    finally:
        await model.aclose()
    if record:
        from ..library import Library
        from ..store import Store

        store = Store(config.database_url)
        try:
            Library.from_config(config).save(store, prompt)
        finally:
            store.close()
    return AskOutcome(
        prompt.name,
        prompt.version,
        chosen,
        response,
        cost_of(chosen, response.usage, config),
        served.variant,
    )
