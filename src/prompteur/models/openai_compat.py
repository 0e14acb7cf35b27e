"""OpenAI chat completions, and every endpoint that speaks it (Mistral, Gemini, Ollama, vLLM,
llama.cpp server). Plain httpx rather than the SDK: we need the raw payload, the exact status
and Retry-After for typed errors, and a fast import."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from . import structured
from .base import BadRequestError, ModelError, Request, Response, ServerError, TokenLogprob, Usage
from .http import HTTPModel

if TYPE_CHECKING:
    from ..config import Config
    from .providers import ModelRef

_FINISH = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


class OpenAICompatModel(HTTPModel):
    """Dialects differ in a few names. `provider` picks them:

    - openai: chat takes `max_completion_tokens` (reasoning models refuse `max_tokens`);
    - mistral: `random_seed` instead of `seed`, and no `stream_options` (both refused with 422;
      Mistral sends the usage in the last chunk anyway);
    - everyone else: OpenAI's classic names, and `stream_options.include_usage` so that a
      stream reports its token counts (servers that do not know it ignore it).
    """

    provider = "openai-compatible"
    # Set once a server refused the standard structured-output form for the older one
    # (llama-cpp-python's server reads `{type: json_object, schema}` only).
    _legacy_format = False

    @classmethod
    def from_ref(cls, ref: ModelRef, key: str | None, config: Config | None) -> OpenAICompatModel:
        model = cast(OpenAICompatModel, super().from_ref(ref, key, config))
        model.provider = ref.provider.name
        return model

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def payload(self, request: Request, *, stream: bool = False) -> tuple[str, dict[str, Any]]:
        p = request.params
        body: dict[str, Any] = {"model": self.model_name}
        if request.prompt_text is not None:
            path = "/completions"
            body["prompt"] = request.prompt_text
            if p.logprobs is not None:
                body["logprobs"] = p.logprobs
        else:
            path = "/chat/completions"
            body["messages"] = [m.to_dict() for m in request.messages]
            if p.logprobs is not None:
                body["logprobs"] = True
                body["top_logprobs"] = p.logprobs
        chat_openai = self.provider == "openai" and path == "/chat/completions"
        names = {
            "temperature": "temperature",
            "max_tokens": "max_completion_tokens" if chat_openai else "max_tokens",
            "top_p": "top_p",
            "stop": "stop",
            "seed": "random_seed" if self.provider == "mistral" else "seed",
        }
        if self.provider not in ("openai", "azure_openai"):
            names["top_k"] = "top_k"  # vLLM, llama.cpp and Ollama read it; OpenAI refuses it
        names |= {
            "frequency_penalty": "frequency_penalty",
            "presence_penalty": "presence_penalty",
            "reasoning_effort": "reasoning_effort",
        }
        for name, wire in names.items():
            value = getattr(p, name)
            if value is not None and value != []:
                body[wire] = value
        if request.tools and path == "/chat/completions":
            body["tools"] = [t.to_openai() for t in request.tools]
            if p.parallel_tool_calls is not None:
                body["parallel_tool_calls"] = p.parallel_tool_calls
        for key, value in (p.extra or {}).items():
            body.setdefault(key, value)  # provider options from the file, never over ours
        if stream:
            body["stream"] = True
            if self.provider != "mistral":
                body["stream_options"] = {"include_usage": True}
        fmt, _ = self.response_format(request)
        if fmt is not None:
            body["response_format"] = fmt
        return path, body

    def response_format(self, request: Request) -> tuple[dict[str, Any] | None, str | None]:
        """The structured-output form for this request, and what it enforces (None, None when
        there is no contract, or for the completions endpoint, which takes none)."""
        out = request.output
        if out is None or request.prompt_text is not None:
            return None, None
        if self._legacy_format:
            return structured.json_object_format(out), structured.JSON_OBJECT
        if self.provider == "gemini":
            out = structured.OutputSchema(structured.gemini_schema(out.schema), out.name)
        return structured.openai_response_format(out)

    def _fall_back(self, request: Request, exc: ModelError) -> bool:
        """Whether to retry in the older form: a server that is not OpenAI's refused the
        standard one (a 400 or 422 about response_format; llama-cpp-python's server says it
        with a 500)."""
        if request.output is None or self._legacy_format or self.provider == "openai":
            return False
        if "response_format" not in str(exc):
            return False
        self._legacy_format = True
        return True

    async def generate(self, request: Request) -> Response:
        path, body = self.payload(request)
        try:
            data, latency = await self.post_json(path, body)
        except (BadRequestError, ServerError) as exc:
            if not self._fall_back(request, exc):
                raise
            path, body = self.payload(request)
            data, latency = await self.post_json(path, body)
        choice = (data.get("choices") or [{}])[0]
        calls: tuple[dict[str, Any], ...] = ()
        if "message" in choice:
            message = choice.get("message") or {}
            text = message.get("content") or ""
            calls = tuple(
                {
                    "id": c.get("id"),
                    "name": (c.get("function") or {}).get("name"),
                    "arguments": (c.get("function") or {}).get("arguments") or "{}",
                }
                for c in message.get("tool_calls") or []
                if isinstance(c, dict)
            )
        else:
            text = choice.get("text") or ""
        usage = data.get("usage") or {}
        return Response(
            text=text,
            model=self.id,
            finish_reason=_FINISH.get(choice.get("finish_reason") or "", "unknown"),  # type: ignore[arg-type]
            usage=Usage(
                int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            ),
            latency_s=latency,
            raw=data,
            logprobs=_logprobs(choice.get("logprobs")),
            tool_calls=calls,
            enforced=self.response_format(request)[1],
        )

    async def stream(self, request: Request) -> AsyncIterator[str | Response]:
        started = False
        try:
            async for item in self._stream_once(request):
                started = True
                yield item
        except (BadRequestError, ServerError) as exc:
            if started or not self._fall_back(request, exc):
                raise
            async for item in self._stream_once(request):
                yield item

    async def _stream_once(self, request: Request) -> AsyncIterator[str | Response]:
        path, body = self.payload(request, stream=True)
        start = time.perf_counter()
        pieces: list[str] = []
        finish, usage = "unknown", Usage()
        async for event in self.stream_sse(path, body):
            if isinstance(event.get("usage"), dict):
                u = event["usage"]
                usage = Usage(
                    int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0)
                )
            for choice in event.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content") or choice.get("text")
                if piece:
                    pieces.append(piece)
                    yield piece
                if choice.get("finish_reason"):
                    finish = _FINISH.get(choice["finish_reason"], "unknown")
        yield Response(
            text="".join(pieces),
            model=self.id,
            finish_reason=finish,  # type: ignore[arg-type]
            usage=usage,
            latency_s=time.perf_counter() - start,
            raw={"stream": True},
            enforced=self.response_format(request)[1],
        )


def _logprobs(block: Any) -> tuple[TokenLogprob, ...] | None:
    if not isinstance(block, dict):
        return None
    if isinstance(block.get("content"), list):  # chat format
        return tuple(
            TokenLogprob(
                token=item.get("token", ""),
                logprob=float(item.get("logprob", 0.0)),
                top=tuple(
                    (t.get("token", ""), float(t.get("logprob", 0.0)))
                    for t in item.get("top_logprobs") or []
                ),
            )
            for item in block["content"]
        )
    tokens = block.get("tokens")
    if isinstance(tokens, list):  # completions format
        lps = block.get("token_logprobs") or []
        tops = block.get("top_logprobs") or []
        return tuple(
            TokenLogprob(
                token=tok,
                logprob=float(lps[i] if i < len(lps) and lps[i] is not None else 0.0),
                top=tuple((k, float(v)) for k, v in (tops[i] or {}).items())
                if i < len(tops)
                else (),
            )
            for i, tok in enumerate(tokens)
        )
    return None


make = OpenAICompatModel.from_ref
