"""The one interface every model speaks: Request in, Response out, typed errors.

Providers differ in wire format, not in meaning; the runner and everything above it only see
these types. Kept free of heavy imports: prompt files and the CLI import it on every start.
"""

from __future__ import annotations

import abc
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import PrompteurError
from .structured import OutputSchema

# `developer` is OpenAI's name for system instructions (Prompty reads it as a marker); `tool`
# turns come only from a conversation history passed as a `thread` input.
Role = Literal["system", "user", "assistant", "developer", "tool"]
PartKind = Literal["text", "image", "file", "audio"]


@dataclass(frozen=True)
class Part:
    """One piece of a multimodal message: text, or media given by URL or data URI."""

    kind: PartKind
    value: str  # the text, or the media's source (URL, data: URI)
    detail: str | None = None
    media_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """OpenAI's content-part form (the most widely spoken one)."""
        if self.kind == "text":
            return {"type": "text", "text": self.value}
        if self.kind == "image":
            url: dict[str, Any] = {"url": self.value}
            if self.detail:
                url["detail"] = self.detail
            return {"type": "image_url", "image_url": url}
        if self.kind == "audio":
            fmt = "mp3" if self.media_type and "mp" in self.media_type else "wav"
            return {"type": "input_audio", "input_audio": {"data": self.value, "format": fmt}}
        return {"type": "file", "file": {"url": self.value}}


@dataclass(frozen=True)
class Message:
    role: Role
    content: str  # the text of the message (its text parts joined)
    # Set only for a message that carries media: every part in order, text ones included.
    parts: tuple[Part, ...] = ()
    # Extra wire fields a conversation history may carry (name, tool_call_id, tool_calls).
    extra: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def has_media(self) -> bool:
        return any(p.kind != "text" for p in self.parts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role}
        out["content"] = [p.to_dict() for p in self.parts] if self.has_media else self.content
        if self.extra:
            out.update({k: v for k, v in self.extra.items() if k not in ("role", "content")})
        return out


class Params(BaseModel):
    """Sampling parameters. Unset means "the provider's default"."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: list[str] | None = None
    seed: int | None = None
    logprobs: int | None = Field(
        default=None, ge=0, le=20, description="return the top-N alternatives per token"
    )
    top_k: int | None = Field(default=None, ge=1)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    reasoning_effort: str | None = None
    parallel_tool_calls: bool | None = None
    extra: dict[str, Any] | None = Field(
        default=None, description="provider-specific options sent as they are"
    )

    def merged(self, other: Params | None) -> Params:
        """These parameters overridden by every field set in `other`."""
        if other is None:
            return self
        return self.model_copy(update=other.model_dump(exclude_unset=True, exclude_none=True))

    def key(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def generation_options(p: Params, *, seed: str = "seed", stop: str = "stop") -> dict[str, Any]:
    """The sampling parameters that are set, under the names text-generation APIs share
    (Hugging Face, Replicate, watsonx: `max_new_tokens`); `seed` and `stop` are the API's
    names for those two."""
    options = {
        "temperature": p.temperature,
        "top_p": p.top_p,
        "top_k": p.top_k,
        "max_new_tokens": p.max_tokens,
        seed: p.seed,
        stop: p.stop,
    }
    return {k: v for k, v in options.items() if v is not None}


@dataclass(frozen=True)
class Tool:
    """A function the model may call: name, description and a JSON Schema of its arguments."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = field(default=None, hash=False)
    strict: bool = False

    def to_openai(self) -> dict[str, Any]:
        fn: dict[str, Any] = {"name": self.name}
        if self.description:
            fn["description"] = self.description
        if self.parameters is not None:
            fn["parameters"] = self.parameters
        if self.strict:
            fn["strict"] = True
        return {"type": "function", "function": fn}


@dataclass(frozen=True)
class Request:
    messages: tuple[Message, ...]
    params: Params = field(default_factory=Params)
    # For completion-style use of a model: the exact text to continue, bypassing chat roles.
    prompt_text: str | None = None
    # Functions offered to the model (providers without tool calling refuse a request with any).
    tools: tuple[Tool, ...] = ()
    # The output contract to enforce while decoding, where the provider can (structured.py).
    output: OutputSchema | None = None


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


FinishReason = Literal["stop", "length", "content_filter", "tool_calls", "error", "unknown"]


@dataclass(frozen=True)
class Response:
    text: str
    model: str
    finish_reason: FinishReason = "stop"
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    logprobs: tuple[TokenLogprob, ...] | None = None
    # Calls the model asked for: {"id", "name", "arguments" (a JSON string)} each.
    tool_calls: tuple[dict[str, Any], ...] = ()
    # How the text was held to `Request.output` (structured.py: "grammar", "json_schema"…);
    # None: it was not.
    enforced: str | None = None

    @property
    def output(self) -> str:
        """What checks read and runs store: the text, or, when the model answered only with
        tool calls, those calls as JSON in OpenAI's shape (as promptfoo gives them)."""
        if self.text or not self.tool_calls:
            return self.text
        calls = [
            {
                "id": c.get("id"),
                "type": "function",
                "function": {"name": c.get("name"), "arguments": c.get("arguments", "{}")},
            }
            for c in self.tool_calls
        ]
        return json.dumps(calls, ensure_ascii=False)

    def __post_init__(self) -> None:
        # JSON allows "\ud800": a lone surrogate that no store, file or report can encode.
        # A provider's (or an attacker's endpoint's) answer must not break them.
        if _SURROGATE.search(self.text):
            object.__setattr__(self, "text", _SURROGATE.sub("\ufffd", self.text))


_SURROGATE = re.compile("[\ud800-\udfff]")


# ---- typed provider errors -------------------------------------------------------------


class ModelError(PrompteurError):
    """A model call failed. `retryable` tells the runner whether trying again can help."""

    retryable = False

    def __init__(self, message: str, *, model: str = "", status: int | None = None) -> None:
        self.model = model
        self.status = status
        super().__init__(f"{model}: {message}" if model else message)


class AuthError(ModelError):
    """Missing, wrong or unauthorised key."""


class BadRequestError(ModelError):
    """The provider refused the request itself (unknown model, bad parameter, too long)."""


class RateLimitError(ModelError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ModelTimeoutError(ModelError):
    retryable = True


class ServerError(ModelError):
    retryable = True


class ConnectError(ModelError):
    """The endpoint could not be reached (refused, reset, DNS)."""

    retryable = True


# ---- the interface ---------------------------------------------------------------------


class Model(abc.ABC):
    """One model behind one provider. Instances are cheap; connections are pooled inside."""

    #: `provider:name` as the user writes it (never contains a key)
    id: str

    @abc.abstractmethod
    async def generate(self, request: Request) -> Response: ...

    async def stream(self, request: Request) -> AsyncIterator[str | Response]:
        """Text chunks (str) as they come, then the complete Response as the last item.

        Providers without streaming yield the whole text once, then the Response.
        """
        response = await self.generate(request)
        yield response.text
        yield response

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most models hold nothing
        """Release connections. Safe to call more than once."""

    def describe(self) -> dict[str, Any]:
        return {"id": self.id}

    @property
    def cache_scope(self) -> str:
        """What a cached answer is keyed on besides the request: the id, unless the id alone
        does not say which model answers (`local` names whatever file `[local] path` gives)."""
        return self.id
