"""IBM watsonx.ai's text generation (`watsonx:MODEL_ID`), called the way promptfoo's watsonx
provider calls it: the prompt as `input`, the model and the project, the generation options
under `parameters`; authenticated with an IAM API key (exchanged for a token at IBM Cloud's
IAM, kept until it expires) or a bearer token.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from .base import (
    AuthError,
    BadRequestError,
    ModelError,
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

IAM_URL = "https://iam.cloud.ibm.com/identity/token"
API_VERSION = "2023-05-29"
PROJECT_ENV = "WATSONX_AI_PROJECT_ID"
TOKEN_ENV = "WATSONX_AI_BEARER_TOKEN"
# Extra options that belong beside `parameters`, not in it.
_BODY = {"project_id", "space_id"}
_FINISH = {"eos_token": "stop", "stop_sequence": "stop", "max_tokens": "length"}


class WatsonxModel(HTTPModel):
    iam_url: str = IAM_URL
    project_id: str | None = None
    _bearer: str | None = None
    _expires: float = 0.0

    def auth_headers(self) -> dict[str, str]:
        return {}  # the token changes: sent with each request (see _token)

    async def _token(self) -> str:
        if self._bearer is not None and (not self._key or time.time() < self._expires - 60):
            return self._bearer
        if not self._key:
            raise AuthError("no IAM API key nor bearer token", model=self.id)
        form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": self._key}
        try:
            reply = await self.send_raw(
                "POST", self.iam_url, data=form, headers={"Accept": "application/json"}
            )
        except ModelError as exc:
            if exc.status is None:  # unreachable: the transport's error, as it is
                raise
            raise AuthError(
                f"IBM Cloud IAM refused the API key ({exc.status})", model=self.id
            ) from None
        data = self._json_object(reply.status_code, reply.content)
        token = data.get("access_token")
        if not isinstance(token, str):
            raise AuthError("IBM Cloud IAM answered without a token", model=self.id)
        self._bearer = token
        expiration = data.get("expiration")
        # IAM says when the token expires (epoch seconds); else assume its usual hour.
        self._expires = (
            float(expiration) if isinstance(expiration, int | float) else time.time() + 3000
        )
        return token

    def payload(self, request: Request) -> dict[str, Any]:
        if request.prompt_text is not None:
            text = request.prompt_text
        elif len(request.messages) == 1 and not request.messages[0].has_media:
            text = request.messages[0].content
        else:
            raise BadRequestError(
                "watsonx text generation takes one text prompt; this request has several "
                "messages or media",
                model=self.id,
            )
        p = request.params
        parameters = generation_options(p, seed="random_seed", stop="stop_sequences")
        body: dict[str, Any] = {"input": text, "model_id": self.model_name}
        for key, value in (p.extra or {}).items():
            (body if key in _BODY else parameters)[key] = value
        body["parameters"] = parameters
        if "project_id" not in body and "space_id" not in body:
            if not self.project_id:
                raise BadRequestError(
                    f"no watsonx project: set {PROJECT_ENV} (or project_id in the prompt's "
                    "provider options)",
                    model=self.id,
                )
            body["project_id"] = self.project_id
        return body

    async def generate(self, request: Request) -> Response:
        body = self.payload(request)
        headers = {"Authorization": f"Bearer {await self._token()}"}
        start = time.perf_counter()
        url = f"{self.base_url}/ml/v1/text/generation?version={API_VERSION}"
        reply = await self.send_raw("POST", url, json=body, headers=headers)
        data = self._json_object(reply.status_code, reply.content)
        results = data.get("results")
        first = results[0] if isinstance(results, list) and results else None
        if not isinstance(first, dict):
            raise ServerError("watsonx answered with no result", model=self.id)
        return Response(
            text=str(first.get("generated_text") or ""),
            model=self.id,
            finish_reason=_FINISH.get(str(first.get("stop_reason")), "unknown"),  # type: ignore[arg-type]
            usage=Usage(
                int(first.get("input_token_count") or 0),
                int(first.get("generated_token_count") or 0),
            ),
            latency_s=time.perf_counter() - start,
            raw=data,
        )


def make(ref: ModelRef, key: str | None, config: Config | None) -> WatsonxModel:
    from ..errors import UserError
    from .providers import key_allowed

    # A bearer token is a credential too: it goes only where a key may.
    token = None if key or not key_allowed(ref, config) else os.environ.get(TOKEN_ENV)
    if not key and not token:
        raise UserError(
            f"no API key for '{ref.id}'",
            field="model",
            hint=f"set WATSONX_AI_APIKEY (an IBM Cloud IAM API key) or {TOKEN_ENV}",
        )
    model = WatsonxModel.from_ref(ref, key, config)
    assert isinstance(model, WatsonxModel)
    model._bearer = token
    model.project_id = os.environ.get(PROJECT_ENV) or None
    return model
