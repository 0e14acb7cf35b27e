"""Model ids → model instances. A table of providers, not an if-chain.

Ids: `local`, `local:/path/to/any.gguf`, `openai:MODEL`, `anthropic:MODEL`, `mistral:MODEL`,
`gemini:MODEL`, `ollama:MODEL`, `openai-compatible:MODEL@BASE_URL`.
"""

from __future__ import annotations

import difflib
import importlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    from ..config import Config
    from .base import Model


@dataclass(frozen=True)
class Provider:
    name: str
    factory: str  # "module:callable", imported only when a model of this provider is made
    base_url: str | None = None
    key_env: str | None = None
    key_required: bool = True
    description: str = ""


_PROVIDERS: dict[str, Provider] = {}


def register_provider(provider: Provider) -> None:
    """Add (or replace) a provider; plugins call this at import."""
    _PROVIDERS[provider.name] = provider


def providers() -> list[Provider]:
    return list(_PROVIDERS.values())


for _p in (
    Provider(
        "local",
        "prompteur.models.local:make",
        key_required=False,
        description="embedded llama.cpp model (default: Gemma 3 270M), or any GGUF file",
    ),
    Provider(
        "openai",
        "prompteur.models.openai_compat:make",
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        description="OpenAI chat completions",
    ),
    Provider(
        "anthropic",
        "prompteur.models.anthropic:make",
        "https://api.anthropic.com",
        "ANTHROPIC_API_KEY",
        description="Anthropic messages API",
    ),
    Provider(
        "mistral",
        "prompteur.models.openai_compat:make",
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
        description="Mistral (OpenAI-compatible)",
    ),
    Provider(
        "gemini",
        "prompteur.models.openai_compat:make",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "GEMINI_API_KEY",
        description="Gemini's OpenAI-compatible API",
    ),
    Provider(
        "ollama",
        "prompteur.models.openai_compat:make",
        "http://localhost:11434/v1",
        None,
        key_required=False,
        description="Ollama on this machine",
    ),
    Provider(
        "openai-compatible",
        "prompteur.models.openai_compat:make",
        None,
        "OPENAI_COMPATIBLE_API_KEY",
        key_required=False,
        description="any OpenAI-compatible endpoint: MODEL@BASE_URL (vLLM, llama.cpp…)",
    ),
):
    register_provider(_p)


@dataclass(frozen=True)
class ModelRef:
    provider: Provider
    name: str  # provider-side model name ("" for the embedded default)
    base_url: str | None
    id: str


def parse_model_id(model_id: str, config: Config | None = None) -> ModelRef:
    model_id = model_id.strip()
    provider_name, sep, rest = model_id.partition(":")
    if not sep and provider_name != "local":
        close = difflib.get_close_matches(model_id, list(_PROVIDERS), n=1)
        raise UserError(
            f"unknown model id '{model_id}'",
            field="model",
            hint=f"did you mean '{close[0]}:…'?"
            if close
            else "write provider:model, e.g. local, openai:gpt-4o-mini, anthropic:claude-haiku-4-5",
        )
    provider = _PROVIDERS.get(provider_name)
    if provider is None:
        close = difflib.get_close_matches(provider_name, list(_PROVIDERS), n=1)
        raise UserError(
            f"unknown model id '{model_id}': no provider '{provider_name}'",
            field="model",
            hint=(f"did you mean '{close[0]}'? " if close else "")
            + "providers: "
            + ", ".join(_PROVIDERS),
        )
    name = rest
    url: str | None = None
    if provider.name == "openai-compatible":
        name, at, url = rest.rpartition("@")
        if not at or not name or not url.startswith(("http://", "https://")):
            raise UserError(
                f"unknown model id '{model_id}'",
                field="model",
                hint="write openai-compatible:MODEL@http://host:port/v1",
            )
    elif provider.name != "local" and not name:
        raise UserError(
            f"model id '{model_id}' names no model",
            field="model",
            hint=f"write {provider.name}:MODEL",
        )
    if url is None:
        url = base_url(provider, config)
    return ModelRef(provider=provider, name=name, base_url=url, id=model_id)


def base_url(provider: Provider, config: Config | None) -> str | None:
    """The provider's endpoint: the project's override, else the built-in one."""
    override = config.provider(provider.name).base_url if config is not None else None
    return override or provider.base_url


def key_env(provider: Provider, config: Config | None) -> str | None:
    """Name of the environment variable holding the provider's key (never the key)."""
    if config is not None:
        custom = config.provider(provider.name).api_key_env
        if custom:
            return custom
    return provider.key_env


def get_model(model_id: str, config: Config | None = None) -> Model:
    """Build the model for an id. Raises UserError for an unknown id or a missing key."""
    ref = parse_model_id(model_id, config)
    env = key_env(ref.provider, config)
    key = os.environ.get(env) if env else None
    if ref.provider.key_required and not key:
        raise UserError(
            f"no API key for '{model_id}'",
            field="model",
            hint=f"set the environment variable {env}",
        )
    module_name, _, attr = ref.provider.factory.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(ref, key, config)
