"""Model ids → model instances. A table of providers, not an if-chain.

Ids: `local`, `local:NAME` (an embedded model by name: models/embedded.py),
`local:/path/to/any.gguf`, `openai:MODEL`, `anthropic:MODEL`, `mistral:MODEL`,
`gemini:MODEL`, `ollama:MODEL`, `openai-compatible:MODEL@BASE_URL`.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    from ..config import Config
    from ..plugins import Entry
    from .base import Model


@dataclass(frozen=True)
class Provider:
    name: str
    factory: str  # "module:callable", imported only when a model of this provider is made
    base_url: str | None = None
    key_env: str | None = None
    key_required: bool = True
    description: str = ""


# The built-in providers: declared as entry points of the group "prompteur.providers" in
# pyproject.toml, like a plugin's (plugins.py).
LOCAL = Provider(
    "local",
    "prompteur.models.local:make",
    key_required=False,
    description="embedded llama.cpp model (default: Gemma 3 270M), or any GGUF file",
)
OPENAI = Provider(
    "openai",
    "prompteur.models.openai_compat:make",
    "https://api.openai.com/v1",
    "OPENAI_API_KEY",
    description="OpenAI chat completions",
)
ANTHROPIC = Provider(
    "anthropic",
    "prompteur.models.anthropic:make",
    "https://api.anthropic.com",
    "ANTHROPIC_API_KEY",
    description="Anthropic messages API",
)
MISTRAL = Provider(
    "mistral",
    "prompteur.models.openai_compat:make",
    "https://api.mistral.ai/v1",
    "MISTRAL_API_KEY",
    description="Mistral (OpenAI-compatible)",
)
GEMINI = Provider(
    "gemini",
    "prompteur.models.openai_compat:make",
    "https://generativelanguage.googleapis.com/v1beta/openai",
    "GEMINI_API_KEY",
    description="Gemini's OpenAI-compatible API",
)
OLLAMA = Provider(
    "ollama",
    "prompteur.models.openai_compat:make",
    "http://localhost:11434/v1",
    None,
    key_required=False,
    description="Ollama on this machine",
)
AZURE_OPENAI = Provider(
    "azure_openai",
    "prompteur.models.azure_openai:make",
    None,  # the resource's endpoint: prompteur.toml, else AZURE_OPENAI_ENDPOINT
    "AZURE_OPENAI_API_KEY",
    key_required=False,  # or an Entra ID token: checked when the model is made
    description="Azure OpenAI deployments: DEPLOYMENT, DEPLOYMENT@https://RESOURCE.openai"
    ".azure.com",
)
OPENAI_COMPATIBLE = Provider(
    "openai-compatible",
    "prompteur.models.openai_compat:make",
    None,
    "OPENAI_COMPATIBLE_API_KEY",
    key_required=False,
    description="any OpenAI-compatible endpoint: MODEL@BASE_URL (vLLM, llama.cpp…)",
)
BEDROCK = Provider(
    "bedrock",
    "prompteur.models.bedrock:make",
    None,
    "AWS_BEARER_TOKEN_BEDROCK",
    description="Amazon Bedrock's Converse API (a Bedrock API key; region from AWS_REGION)",
)
REPLICATE = Provider(
    "replicate",
    "prompteur.models.replicate:make",
    "https://api.replicate.com/v1",
    "REPLICATE_API_TOKEN",
    description="Replicate's language models: OWNER/NAME or OWNER/NAME:VERSION",
)
HUGGINGFACE = Provider(
    "huggingface",
    "prompteur.models.huggingface:make",
    "https://router.huggingface.co/hf-inference",
    "HF_TOKEN",
    key_required=False,  # a TGI server may need none; the Inference API's is checked in make
    description="Hugging Face's text-generation task: OWNER/MODEL, or MODEL@https://ENDPOINT",
)
WATSONX = Provider(
    "watsonx",
    "prompteur.models.watsonx:make",
    "https://us-south.ml.cloud.ibm.com",
    "WATSONX_AI_APIKEY",
    key_required=False,  # or a bearer token: checked when the model is made
    description="IBM watsonx.ai text generation: MODEL_ID (project from WATSONX_AI_PROJECT_ID)",
)
ECHO = Provider(
    "echo",
    "prompteur.models.echo:make",
    key_required=False,
    description="answers with its prompt (promptfoo's echo): see what a prompt renders to",
)
HTTP = Provider(
    "http",
    "prompteur.models.endpoint:make",
    key_required=False,
    description="your application's HTTP endpoint: http:ENDPOINT.yaml (url, body, answer)",
)
SCRIPT = Provider(
    "script",
    "prompteur.models.script:make",
    key_required=False,
    description="a Python function as a model: script:provider.py:call_api (out of process)",
)

# Providers added by code (tests, an embedding application): they come after the entry points
# and may replace one. A plugin package declares an entry point instead.
_PROVIDERS: dict[str, Provider] = {}
GROUP = "prompteur.providers"


def register_provider(provider: Provider) -> None:
    """Add (or replace) a provider from code; plugins declare an entry point instead."""
    _PROVIDERS[provider.name] = provider


def providers() -> list[Provider]:
    """Every provider: the built-ins, the plugins' (entry points), then those added by code."""
    from .. import plugins

    table = {name: _loaded(entry) for name, entry in plugins.entries(GROUP).items()}
    return list({**table, **_PROVIDERS}.values())


def provider_names() -> list[str]:
    """Every provider's name, from metadata: nothing is imported."""
    from .. import plugins

    return list(dict.fromkeys([*plugins.entries(GROUP), *_PROVIDERS]))


def known_provider(name: str) -> bool:
    return name in provider_names()


def get_provider(name: str) -> Provider | None:
    """The provider `name`; only its own entry point is loaded."""
    if name in _PROVIDERS:
        return _PROVIDERS[name]
    from .. import plugins

    entry = plugins.entries(GROUP).get(name)
    return _loaded(entry) if entry is not None else None


def _loaded(entry: Entry) -> Provider:
    provider = entry.load()
    if not isinstance(provider, Provider) or provider.name != entry.name:
        raise UserError(
            f"the plugin {entry.dist} declares the provider '{entry.name}' as {entry.value}, "
            "which is not a Provider of that name"
        )
    return provider


_BARE = {"local", "echo"}  # ids that name no model


@dataclass(frozen=True)
class ModelRef:
    provider: Provider
    name: str  # provider-side model name ("" for the embedded default)
    base_url: str | None
    id: str
    # The endpoint came with the id (a Prompty connection's), not from the project.
    inline: bool = False
    # The variable a prompt file's connection names for the key (`apiKey: ${env:NAME}`).
    key_env: str | None = None


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


MAX_MODEL_ID = 2048


def parse_model_id(model_id: str, config: Config | None = None) -> ModelRef:
    if not isinstance(model_id, str) or len(model_id) > MAX_MODEL_ID:
        raise UserError("a model id must be text of at most 2,048 characters", field="model")
    if any(ord(c) < 32 for c in model_id):
        raise UserError("a model id with control characters is refused", field="model")
    model_id = model_id.strip()
    provider_name, sep, rest = model_id.partition(":")
    if not sep and provider_name not in _BARE:
        close = difflib.get_close_matches(model_id, provider_names(), n=1)
        raise UserError(
            f"unknown model id '{model_id}'",
            field="model",
            hint=f"did you mean '{close[0]}:…'?"
            if close
            else "write provider:model, e.g. local, openai:gpt-4o-mini, anthropic:claude-haiku-4-5",
        )
    provider = get_provider(provider_name)
    if provider is None:
        close = difflib.get_close_matches(provider_name, provider_names(), n=1)
        raise UserError(
            f"unknown model id '{model_id}': no provider '{provider_name}'",
            field="model",
            hint=(f"did you mean '{close[0]}'? " if close else "")
            + "providers: "
            + ", ".join(provider_names()),
        )
    name = rest
    url: str | None = None
    named_key: str | None = None
    if provider.name == "azure_openai":
        # DEPLOYMENT[@ENDPOINT][#KEY_VARIABLE]: what a Prompty connection names, in the id so
        # that the endpoint rules below see where the key would go.
        name, _, named_key = rest.partition("#")
        name, at, url = name.partition("@")
        bad_url = bool(at) and not url.startswith(("http://", "https://"))
        if bad_url or not name or (named_key and not _ENV_NAME.match(named_key)):
            raise UserError(
                f"unknown model id '{model_id}'",
                field="model",
                hint="write azure_openai:DEPLOYMENT or azure_openai:DEPLOYMENT@https://RESOURCE"
                ".openai.azure.com",
            )
        if url:
            return ModelRef(provider, name, url, model_id, True, named_key or None)
        return ModelRef(
            provider, name, base_url(provider, config), model_id, False, named_key or None
        )
    if provider.name == "openai-compatible":
        name, at, url = rest.rpartition("@")
        if not at or not name or not url.startswith(("http://", "https://")):
            raise UserError(
                f"unknown model id '{model_id}'",
                field="model",
                hint="write openai-compatible:MODEL@http://host:port/v1",
            )
    elif provider.name == "huggingface" and "@" in rest:
        # MODEL@URL: an Inference Endpoint or a TGI server, the whole route in the id.
        name, _, url = rest.rpartition("@")
        if not name or not url.startswith(("http://", "https://")):
            raise UserError(
                f"unknown model id '{model_id}'",
                field="model",
                hint="write huggingface:OWNER/MODEL or huggingface:MODEL@https://ENDPOINT",
            )
        return ModelRef(provider, name, url, model_id, True)
    elif provider.name not in _BARE and not name:
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


# ---- endpoints a model id names itself -----------------------------------------------------


def inline_endpoint(ref: ModelRef) -> str | None:
    """The URL or model file a model id names itself (`openai-compatible:M@URL`,
    `local:/path.gguf`), normalised; None when the provider's own endpoint applies."""
    if (ref.provider.name == "openai-compatible" or ref.inline) and ref.base_url:
        return normalise_endpoint(ref.base_url)
    if ref.provider.name == "local" and ref.name:
        from .embedded import embedded

        # A packaged model by name opens no file a request names: not an endpoint.
        return None if embedded(ref.name) else normalise_endpoint(ref.name)
    if ref.provider.name == "http" and ref.name:  # an endpoint file
        return normalise_endpoint(ref.name)
    if ref.provider.name == "script" and ref.name:  # a Python file: path.py:function
        return normalise_endpoint(ref.name.rpartition(":")[0] or ref.name)
    return None


def normalise_endpoint(value: str) -> str:
    """One spelling per endpoint: a URL without its trailing slash, scheme and host in lower
    case; a file as its absolute path."""
    value = value.strip()
    if value.startswith(("http://", "https://")):
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(value)
        return urlunsplit(
            (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
        )
    import os.path

    return os.path.abspath(os.path.expanduser(value))


def configured_endpoints(config: Config) -> set[str]:
    """Endpoints prompteur.toml names: each provider's base_url, `[local] path` and the
    `[security] endpoints` list. These are trusted with the provider's key."""
    found = {
        normalise_endpoint(section.base_url)
        for section in config.data.providers.values()
        if section.base_url
    }
    if config.data.local.path:
        found.add(normalise_endpoint(str(config.root / config.data.local.path)))
    for item in config.data.security.endpoints:
        if item.startswith(("http://", "https://")):
            found.add(normalise_endpoint(item))
        else:
            found.add(normalise_endpoint(str(config.root / item)))
    return found


def endpoint_allowed(ref: ModelRef, config: Config | None) -> bool:
    """Whether the endpoint a model id names itself may be called at all. For a local user
    (the command line, the Python API) every endpoint may; a server calls only those the
    project names: in prompteur.toml, in its own prompt and suite files (found when it was
    opened), never one from a request or a version stored through the web."""
    endpoint = inline_endpoint(ref)
    if endpoint is None or config is None or not config.served:
        return True
    return endpoint in configured_endpoints(config) | config.project_endpoints


def key_allowed(ref: ModelRef, config: Config | None) -> bool:
    """Whether the provider's key may go to this model's endpoint: its built-in or configured
    endpoint, or one prompteur.toml lists or the local user typed; never one that a prompt
    file, a suite or a request names on its own."""
    endpoint = inline_endpoint(ref)
    if endpoint is None or config is None:
        return True
    return endpoint in configured_endpoints(config) | config.typed_endpoints


def check_endpoint(model_id: str, config: Config | None) -> ModelRef:
    """The parsed id, or a UserError when a server may not call the endpoint it names."""
    ref = parse_model_id(model_id, config)
    if not endpoint_allowed(ref, config):
        raise UserError(
            f"'{model_id}' names an endpoint this project does not: refused",
            field="model",
            hint="a server calls only the endpoints of the project's files; list it under "
            "[security] endpoints in prompteur.toml to allow it",
        )
    return ref


def get_model(model_id: str, config: Config | None = None) -> Model:
    """Build the model for an id. Raises UserError for an unknown id, a missing key, or an
    endpoint this context may not call (see `endpoint_allowed`)."""
    ref = check_endpoint(model_id, config)
    env = ref.key_env or key_env(ref.provider, config)
    key = os.environ.get(env) if env and key_allowed(ref, config) else None
    if ref.provider.key_required and not key:
        raise UserError(
            f"no API key for '{model_id}'",
            field="model",
            hint=f"set the environment variable {env}",
        )
    module_name, _, attr = ref.provider.factory.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(ref, key, config)
