"""Replicate's predictions API, for its language models (`replicate:OWNER/NAME` or
`replicate:OWNER/NAME:VERSION`), read the way promptfoo's Replicate provider reads them.

A prediction takes one prompt and an optional system prompt, plus the model's own inputs
(`max_new_tokens`, `stop_sequences`…), which the prompt's provider options carry as they are.
The reply is a string or a list of text pieces; a prediction still running after the wait is
polled until it ends.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .base import (
    BadRequestError,
    ModelTimeoutError,
    Request,
    Response,
    ServerError,
    Usage,
    generation_options,
)
from .http import HTTPModel

if TYPE_CHECKING:
    from ..config import Config
    from .providers import ModelRef

WAIT_S = 60  # `Prefer: wait`: the API holds the answer this long before replying "processing"
POLL_S = 1.0
MAX_POLLS = 120
_DONE = {"succeeded", "failed", "canceled"}


class ReplicateModel(HTTPModel):
    def auth_headers(self) -> dict[str, str]:
        headers = {"Prefer": f"wait={WAIT_S}"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    @property
    def owner_name(self) -> str:
        return self.model_name.partition(":")[0]

    @property
    def version(self) -> str | None:
        return self.model_name.partition(":")[2] or None

    def payload(self, request: Request) -> tuple[str, dict[str, Any]]:
        """(path, body): a pinned version goes to /predictions, a model to its own route."""
        system = next((m.content for m in request.messages if m.role == "system"), None)
        turns = [m for m in request.messages if m.role != "system"]
        if request.prompt_text is not None:
            prompt = request.prompt_text
        elif len(turns) == 1 and turns[0].role == "user" and not turns[0].has_media:
            prompt = turns[0].content
        else:
            # promptfoo would send the first user message and drop the rest: refused instead.
            raise BadRequestError(
                "a Replicate language model takes one user prompt (and a system prompt); "
                "this request has several turns, an assistant turn or media",
                model=self.id,
            )
        p = request.params
        model_input = generation_options(p, stop="stop_sequences")
        if p.stop:  # Replicate's language models take one comma-separated string
            model_input["stop_sequences"] = ",".join(p.stop)
        model_input.update(p.extra or {})
        model_input["prompt"] = prompt
        if system is not None:
            model_input["system_prompt"] = system
        if self.version:
            return "/predictions", {"version": self.version, "input": model_input}
        owner, _, name = self.owner_name.partition("/")
        path = f"/models/{quote(owner, safe='')}/{quote(name, safe='')}/predictions"
        return path, {"input": model_input}

    async def get_json(self, path: str) -> dict[str, Any]:
        response = await self.send_raw("GET", self.base_url + path)
        return self._json_object(response.status_code, response.content)

    async def generate(self, request: Request) -> Response:
        start = time.perf_counter()
        path, body = self.payload(request)
        prediction, _ = await self.post_json(path, body)
        polls = 0
        while prediction.get("status") not in _DONE:
            ident = prediction.get("id")
            if not isinstance(ident, str) or polls >= MAX_POLLS:
                raise ModelTimeoutError(
                    f"the prediction did not end ({prediction.get('status')!r})", model=self.id
                )
            polls += 1
            await asyncio.sleep(POLL_S)
            prediction = await self.get_json(f"/predictions/{quote(ident, safe='')}")
        if prediction.get("status") != "succeeded":
            raise ServerError(
                f"the prediction {prediction.get('status')}: {prediction.get('error') or ''}",
                model=self.id,
            )
        output = prediction.get("output")
        if isinstance(output, list) and all(isinstance(x, str) for x in output):
            output = "".join(output)
        if not isinstance(output, str):
            raise ServerError(
                f"Replicate answered with no text ({type(output).__name__})", model=self.id
            )
        metrics = prediction.get("metrics") or {}
        return Response(
            text=output,
            model=self.id,
            usage=Usage(
                int(metrics.get("input_token_count") or 0),
                int(metrics.get("output_token_count") or 0),
            ),
            latency_s=time.perf_counter() - start,
            raw=prediction,
        )


def make(ref: ModelRef, key: str | None, config: Config | None) -> ReplicateModel:
    if not ref.name or "/" not in ref.name.partition(":")[0]:
        from ..errors import UserError

        raise UserError(
            f"'{ref.id}': a Replicate model is OWNER/NAME or OWNER/NAME:VERSION",
            field="model",
        )
    model = ReplicateModel.from_ref(ref, key, config)
    assert isinstance(model, ReplicateModel)
    return model
