"""Azure OpenAI: the chat completions API of a resource's deployment.

    POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}

The endpoint is the project's (`[providers.azure_openai] base_url`), else the environment's
`AZURE_OPENAI_ENDPOINT`, else the one a prompt file's connection names — in the model id
(`azure_openai:DEPLOYMENT@https://RESOURCE.openai.azure.com`), where the registry's endpoint
rules see it (`key_allowed`: the key goes there only when prompteur.toml lists it).
Authentication: an API key in the `api-key` header (`AZURE_OPENAI_API_KEY`, the
project's `api_key_env`, or the variable the file's connection names), else a Microsoft Entra
ID bearer token from `AZURE_OPENAI_AD_TOKEN`. The api-version: the project's `api_version`,
else `AZURE_OPENAI_API_VERSION`, else `DEFAULT_API_VERSION`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from ..errors import UserError
from .base import Request
from .openai_compat import OpenAICompatModel

if TYPE_CHECKING:
    from ..config import Config
    from .providers import ModelRef

DEFAULT_API_VERSION = "2024-10-21"
ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
TOKEN_ENV = "AZURE_OPENAI_AD_TOKEN"
VERSION_ENV = "AZURE_OPENAI_API_VERSION"


class AzureOpenAIModel(OpenAICompatModel):
    provider = "azure_openai"
    _bearer = False  # the secret is an Entra ID token, not an API key (redacted the same way)
    _api_version: str = DEFAULT_API_VERSION

    def auth_headers(self) -> dict[str, str]:
        if not self._key:
            return {}
        return {"Authorization": f"Bearer {self._key}"} if self._bearer else {"api-key": self._key}

    def payload(self, request: Request, *, stream: bool = False) -> tuple[str, dict[str, Any]]:
        if request.prompt_text is not None:
            raise UserError(
                "Azure OpenAI deployments are called through chat completions here: a "
                "completion-style request has no route",
                field="model",
            )
        path, body = super().payload(request, stream=stream)
        body.pop("model", None)  # the deployment, in the path, is the model
        return f"{path}?api-version={quote(self._api_version, safe='')}", body


def make(ref: ModelRef, key: str | None, config: Config | None) -> AzureOpenAIModel:
    section = config.provider("azure_openai") if config is not None else None
    endpoint = ref.base_url or os.environ.get(ENDPOINT_ENV)
    if not endpoint:
        raise UserError(
            f"no endpoint for '{ref.id}'",
            field="model",
            hint=f"set {ENDPOINT_ENV}, or [providers.azure_openai] base_url in prompteur.toml",
        )
    from .providers import key_allowed

    # The token is a credential too: it goes only where a key may (registry.key_allowed).
    token = None if key or not key_allowed(ref, config) else os.environ.get(TOKEN_ENV)
    if not key and not token:
        raise UserError(
            f"no API key for '{ref.id}'",
            field="model",
            hint=f"set {ref.key_env or 'AZURE_OPENAI_API_KEY'} (or an Entra ID token in "
            f"{TOKEN_ENV})",
        )
    deployment = quote(ref.name, safe="")
    base = f"{endpoint.rstrip('/')}/openai/deployments/{deployment}"
    model = AzureOpenAIModel(
        ref.id,
        ref.name,
        base,
        key or token,
        timeout=section.timeout if section else 120.0,
        headers=section.headers if section else None,
    )
    model._bearer = not key
    model._api_version = (
        (section.api_version if section else None)
        or os.environ.get(VERSION_ENV)
        or DEFAULT_API_VERSION
    )
    return cast(AzureOpenAIModel, model)
