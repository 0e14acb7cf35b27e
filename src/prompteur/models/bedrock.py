"""Amazon Bedrock, through its Converse API (one request shape for every model family on
Bedrock: Anthropic, Amazon Nova and Titan, Meta Llama, Mistral, AI21, DeepSeek, Cohere…).

`bedrock:MODEL_ID` (e.g. `bedrock:us.anthropic.claude-3-7-sonnet-20250219-v1:0`). The key is a
Bedrock API key in AWS_BEARER_TOKEN_BEDROCK (sent as a bearer token; SigV4 request signing with
IAM credentials is not implemented); the region is AWS_REGION (or AWS_DEFAULT_REGION, else
us-east-1), or set `base_url` under [providers.bedrock] in prompteur.toml.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .base import Model, Request, Response, Usage

if TYPE_CHECKING:
    from ..config import Config
    from .registry import ModelRef

_STOP = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
}


def default_base_url() -> str:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return f"https://bedrock-runtime.{region}.amazonaws.com"


def converse_body(request: Request) -> dict[str, Any]:
    """The Converse API's request: system turns apart, consecutive turns of one role merged."""
    system = [{"text": m.content} for m in request.messages if m.role == "system"]
    messages: list[dict[str, Any]] = []
    for m in request.messages:
        if m.role == "system":
            continue
        if messages and messages[-1]["role"] == m.role:
            messages[-1]["content"].append({"text": m.content})
        else:
            messages.append({"role": m.role, "content": [{"text": m.content}]})
    body: dict[str, Any] = {"messages": messages}
    if system:
        body["system"] = system
    p = request.params
    config = {
        k: v
        for k, v in {
            "maxTokens": p.max_tokens,
            "temperature": p.temperature,
            "topP": p.top_p,
            "stopSequences": p.stop,
        }.items()
        if v is not None
    }
    if config:
        body["inferenceConfig"] = config
    if p.top_k is not None:  # not a Converse field: the model's own (Anthropic, Mistral)
        body["additionalModelRequestFields"] = {"top_k": p.top_k}
    for key, value in (p.extra or {}).items():  # toolConfig, additionalModelRequestFields…
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**value, **body[key]}
        else:
            body.setdefault(key, value)
    return body


class BedrockModel(Model):
    def __init__(self, model_id: str, name: str, base_url: str, key: str | None) -> None:
        self.id = model_id
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._key = key

    async def generate(self, request: Request) -> Response:
        from .endpoint import send

        url = f"{self.base_url}/model/{quote(self.name, safe='')}/converse"
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        start = time.perf_counter()
        reply = await send(
            self.id,
            "POST",
            url,
            timeout=120,
            what="Bedrock",
            json=converse_body(request),
            headers=headers,
        )
        data = reply.json()
        parts = (((data.get("output") or {}).get("message") or {}).get("content")) or []
        text = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
        usage = data.get("usage") or {}
        return Response(
            text=text,
            model=self.id,
            finish_reason=_STOP.get(str(data.get("stopReason")), "unknown"),  # type: ignore[arg-type]
            usage=Usage(int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0))),
            latency_s=time.perf_counter() - start,
        )

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Embeddings from a Bedrock embedding model (InvokeModel): Cohere's take every text
        at once ({texts} → {embeddings}); Amazon Titan's one text a call ({inputText} →
        {embedding})."""
        from .base import BadRequestError
        from .endpoint import send

        url = f"{self.base_url}/model/{quote(self.name, safe='')}/invoke"
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        cohere = ".cohere." in f".{self.name}"
        bodies: list[dict[str, Any]] = (
            [{"texts": texts, "input_type": "search_document"}]
            if cohere
            else [{"inputText": t} for t in texts]
        )
        out: list[list[float]] = []
        for body in bodies:
            reply = await send(
                self.id, "POST", url, timeout=60, what="Bedrock", json=body, headers=headers
            )
            data = reply.json()
            vectors = data.get("embeddings") if cohere else [data.get("embedding")]
            try:
                out.extend([float(x) for x in v] for v in vectors)
            except (TypeError, ValueError):
                raise BadRequestError(
                    "embeddings response without numeric vectors", model=self.id
                ) from None
        if len(out) != len(texts):
            raise BadRequestError(f"{len(out)} embeddings for {len(texts)} texts", model=self.id)
        return out


def make(ref: ModelRef, key: str | None, config: Config | None) -> BedrockModel:
    return BedrockModel(ref.id, ref.name, ref.base_url or default_base_url(), key)
