"""The one interface every model speaks: Request in, Response out, typed errors.

Providers differ in wire format, not in meaning; the runner and everything above it only see
these types. Kept free of heavy imports: prompt files and the CLI import it on every start.
"""

from __future__ import annotations

import abc
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import PrompteurError

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


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

    def merged(self, other: Params | None) -> Params:
        """These parameters overridden by every field set in `other`."""
        if other is None:
            return self
        return self.model_copy(update=other.model_dump(exclude_unset=True, exclude_none=True))

    def key(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


@dataclass(frozen=True)
class Request:
    messages: tuple[Message, ...]
    params: Params = field(default_factory=Params)
    # For completion-style use of a model: the exact text to continue, bypassing chat roles.
    prompt_text: str | None = None


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
