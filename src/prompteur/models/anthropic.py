"""Anthropic's Messages API over httpx (same reasons as the OpenAI provider)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from . import structured
from .base import BadRequestError, Message, Part, Request, Response, Usage
from .http import HTTPModel

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024  # the API requires max_tokens; this is the value when unset
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class AnthropicModel(HTTPModel):
    @property
    def messages_path(self) -> str:
        # base_url is the API root (https://api.anthropic.com); accept one that ends in /v1 too
        return "/messages" if self.base_url.endswith("/v1") else "/v1/messages"

    def auth_headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        if self._key:
            headers["x-api-key"] = self._key
        return headers

    def _blocks(self, m: Message) -> list[dict[str, Any]]:
        if not m.has_media:
            return [{"type": "text", "text": m.content}]
        return [self._block(p) for p in m.parts if p.kind != "text" or p.value.strip()]

    def _block(self, part: Part) -> dict[str, Any]:
        if part.kind == "text":
            return {"type": "text", "text": part.value}
        if part.kind == "audio":
            raise BadRequestError("Anthropic's API reads no audio", model=self.id)
        kind = "image" if part.kind == "image" else "document"
        if part.value.startswith("data:") and ";base64," in part.value:
            media, _, data = part.value[5:].partition(";base64,")
            source = {"type": "base64", "media_type": part.media_type or media, "data": data}
        else:
            source = {"type": "url", "url": part.value}
        return {"type": kind, "source": source}

    def payload(self, request: Request, *, stream: bool = False) -> dict[str, Any]:
        p = request.params
        system = "\n\n".join(
            m.content
            for m in request.messages
            if m.role in ("system", "developer") and m.content.strip()
        )
        turns: list[dict[str, Any]] = []
        for m in request.messages:
            if m.role in ("system", "developer") or not (m.content.strip() or m.has_media):
                continue  # the API refuses empty text blocks
            role = "assistant" if m.role == "assistant" else "user"
            blocks = self._blocks(m)
            # The API wants alternating turns starting with the user: merge neighbours.
            if turns and turns[-1]["role"] == role:
                last = turns[-1]["content"]
                if isinstance(last, str) and not m.has_media:
                    turns[-1]["content"] = last + "\n\n" + m.content
                else:
                    if isinstance(last, str):
                        last = [{"type": "text", "text": last}]
                    turns[-1]["content"] = last + blocks
            else:
                turns.append({"role": role, "content": m.content if not m.has_media else blocks})
        if request.prompt_text is not None:
            turns = [{"role": "user", "content": request.prompt_text}]
        if request.output is not None and turns and turns[-1]["role"] == "assistant":
            turns.pop()  # a forced tool call is the whole answer: the API refuses a prefill
        if not turns or turns[0]["role"] != "user":
            turns.insert(0, {"role": "user", "content": "(continue)"})
        if turns[-1]["role"] == "assistant" and isinstance(turns[-1]["content"], str):
            # a prefilled answer: the API refuses one that ends with whitespace
            turns[-1]["content"] = turns[-1]["content"].rstrip()
        body: dict[str, Any] = {
            "model": self.model_name,
            "max_tokens": p.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": turns,
        }
        if system:
            body["system"] = system
        if p.temperature is not None:
            body["temperature"] = min(p.temperature, 1.0)  # Anthropic's range is 0..1
        if p.top_p is not None:
            body["top_p"] = p.top_p
        if p.top_k is not None:
            body["top_k"] = p.top_k
        if p.stop:
            body["stop_sequences"] = p.stop
        if request.tools:
            body["tools"] = [
                {
                    "name": t.name,
                    **({"description": t.description} if t.description else {}),
                    "input_schema": t.parameters or {"type": "object", "properties": {}},
                }
                for t in request.tools
            ]
        for key, value in (p.extra or {}).items():
            body.setdefault(key, value)
        if request.output is not None:
            # The contract as the one tool the model must call: its input is the answer.
            tool, _ = structured.anthropic_tool(request.output)
            body["tools"] = [*body.get("tools", []), tool]
            body["tool_choice"] = {"type": "tool", "name": tool["name"]}
        if stream:
            body["stream"] = True
        return body

    def _answer(self, request: Request, blocks: list[dict[str, Any]]) -> str:
        """The answer's text: its text blocks, or the forced tool's input as JSON."""
        if request.output is not None:
            tool, wrapped = structured.anthropic_tool(request.output)
            for block in blocks:
                if block.get("type") == "tool_use" and block.get("name") == tool["name"]:
                    return structured.tool_answer(block.get("input"), wrapped)
        return "".join(b.get("text", "") for b in blocks if b.get("type") == "text")

    async def generate(self, request: Request) -> Response:
        data, latency = await self.post_json(self.messages_path, self.payload(request))
        blocks = [b for b in data.get("content") or [] if isinstance(b, dict)]
        text = self._answer(request, blocks)
        contract = structured.anthropic_tool(request.output)[0]["name"] if request.output else None
        calls = tuple(
            {"id": b.get("id"), "name": b.get("name"), "arguments": json.dumps(b.get("input"))}
            for b in blocks
            if b.get("type") == "tool_use" and b.get("name") != contract
        )
        usage = data.get("usage") or {}
        return Response(
            text=text,
            model=self.id,
            finish_reason=_FINISH.get(data.get("stop_reason") or "", "unknown"),  # type: ignore[arg-type]
            usage=Usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)),
            latency_s=latency,
            raw=data,
            tool_calls=calls,
            enforced=structured.TOOL if request.output is not None else None,
        )

    async def stream(self, request: Request) -> AsyncIterator[str | Response]:
        start = time.perf_counter()
        pieces: list[str] = []
        finish, n_in, n_out = "unknown", 0, 0
        # A forced tool's input arrives as JSON fragments; a wrapped one is unwrapped at the end.
        wrapped = request.output is not None and structured.anthropic_tool(request.output)[1]
        async for event in self.stream_sse(self.messages_path, self.payload(request, stream=True)):
            kind = event.get("type")
            if kind == "message_start":
                n_in = int(
                    ((event.get("message") or {}).get("usage") or {}).get("input_tokens") or 0
                )
            elif kind == "content_block_delta":
                delta = event.get("delta") or {}
                piece = delta.get("partial_json" if request.output is not None else "text")
                if piece:
                    pieces.append(piece)
                    if not wrapped:
                        yield piece
            elif kind == "message_delta":
                finish = _FINISH.get((event.get("delta") or {}).get("stop_reason") or "", "unknown")
                n_out = int((event.get("usage") or {}).get("output_tokens") or n_out)
        text = "".join(pieces)
        if request.output is not None:
            text = _tool_text(text, wrapped)
            if wrapped and text:
                yield text
        yield Response(
            text=text,
            model=self.id,
            finish_reason=finish,  # type: ignore[arg-type]
            usage=Usage(n_in, n_out),
            latency_s=time.perf_counter() - start,
            raw={"stream": True},
            enforced=structured.TOOL if request.output is not None else None,
        )


def _tool_text(fragments: str, wrapped: bool) -> str:
    """A streamed tool input, as the answer's JSON text (unwrapped when it was wrapped)."""
    if not wrapped:
        return fragments
    try:
        value = json.loads(fragments)
    except json.JSONDecodeError:
        return fragments
    return structured.tool_answer(value, wrapped)


make = AnthropicModel.from_ref
