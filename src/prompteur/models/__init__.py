"""Models: one async interface (Request → Response) over every provider."""

from .base import (
    AuthError,
    BadRequestError,
    ConnectError,
    Message,
    Model,
    ModelError,
    ModelTimeoutError,
    Params,
    Part,
    RateLimitError,
    Request,
    Response,
    ServerError,
    TokenLogprob,
    Tool,
    Usage,
)
from .providers import get_model, parse_model_id, providers, register_provider

__all__ = [
    "AuthError",
    "BadRequestError",
    "ConnectError",
    "Message",
    "Model",
    "ModelError",
    "ModelTimeoutError",
    "Params",
    "Part",
    "RateLimitError",
    "Request",
    "Response",
    "ServerError",
    "TokenLogprob",
    "Tool",
    "Usage",
    "get_model",
    "parse_model_id",
    "providers",
    "register_provider",
]
