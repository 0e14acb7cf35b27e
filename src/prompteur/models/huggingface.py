"""Hugging Face's text-generation task (`huggingface:MODEL` on the Inference API, or
`huggingface:MODEL@URL` for an Inference Endpoint or a TGI server), called the way promptfoo's
`huggingface:text-generation` provider calls it: the prompt as `inputs`, the generation
options under `parameters`, only the new text back (`return_full_text: false`).

Chat models on Hugging Face are served OpenAI-compatible by its router: use
`openai-compatible:MODEL@https://router.huggingface.co/v1` for them.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .base import BadRequestError, Request, Response, ServerError, generation_options
from .http import HTTPModel, redact

if TYPE_CHECKING:
    from ..config import Config
    from .providers import ModelRef


class HuggingFaceModel(HTTPModel):
    #: the full URL to POST to: an endpoint the id names, else the model's Inference API route
    endpoint: str = ""

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def payload(self, request: Request) -> dict[str, Any]:
        turns = [m for m in request.messages if m.role != "system"]
        if request.prompt_text is not None:
            text = request.prompt_text
        elif len(request.messages) == 1 and turns and not turns[0].has_media:
            text = turns[0].content
        else:
            raise BadRequestError(
                "the text-generation task takes one text prompt; this request has a system "
                "message, several turns or media (use a chat model through "
                "openai-compatible:MODEL@https://router.huggingface.co/v1)",
                model=self.id,
            )
        p = request.params
        parameters: dict[str, Any] = {"return_full_text": False, **generation_options(p)}
        parameters.update(p.extra or {})
        return {"inputs": text, "parameters": parameters}

    async def generate(self, request: Request) -> Response:
        start = time.perf_counter()
        response = await self.send_raw("POST", self.endpoint, json=self.payload(request))
        try:  # a list of generations ([{"generated_text": …}]) or one object
            data = json.loads(response.content)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("error"):
            raise ServerError(redact(str(data["error"])[:300], self._key), model=self.id)
        row = data[0] if isinstance(data, list) and data else data
        text = row.get("generated_text") if isinstance(row, dict) else None
        if not isinstance(text, str):
            shown = redact(response.content[:200].decode("utf-8", "replace"), self._key)
            raise ServerError(f"the reply holds no generated_text: {shown!r}", model=self.id)
        return Response(text=text, model=self.id, latency_s=time.perf_counter() - start, raw=row)


def make(ref: ModelRef, key: str | None, config: Config | None) -> HuggingFaceModel:
    if not ref.inline and not key:
        from ..errors import UserError
        from .providers import key_env

        raise UserError(
            f"no API key for '{ref.id}'",
            field="model",
            hint=f"set the environment variable {ref.key_env or key_env(ref.provider, config)}",
        )
    model = HuggingFaceModel.from_ref(ref, key, config)
    assert isinstance(model, HuggingFaceModel)
    if ref.inline:  # an Inference Endpoint or TGI server: its URL is the whole route
        model.endpoint = model.base_url
    else:
        model.endpoint = f"{model.base_url}/models/{quote(ref.name, safe='/')}"
    return model
