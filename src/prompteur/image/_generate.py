"""OpenAI's Images API (`POST /images/generations`): the spec rendered as DALL·E prose, one
image back as base64, written to a file. Used only when a key is set; the key goes in the
Authorization header and nowhere else (errors are redacted by the shared HTTP layer)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..files import write_atomic
from ._render import dalle
from ._spec import ImageSpec

if TYPE_CHECKING:
    from ..config import Config

IMAGE_PROVIDERS = ("openai", "openai-compatible")


@dataclass
class Generated:
    path: Path
    model: str
    prompt: str
    size: str
    revised_prompt: str | None
    bytes: int
    latency_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "model": self.model,
            "prompt": self.prompt,
            "size": self.size,
            "revised_prompt": self.revised_prompt,
            "bytes": self.bytes,
            "latency_s": round(self.latency_s, 3),
        }


def _client(model_id: str, config: Config | None) -> Any:
    from ..models.http import HTTPModel
    from ..models.providers import key_env, parse_model_id

    ref = parse_model_id(model_id, config)
    if ref.provider.name not in IMAGE_PROVIDERS:
        raise UserError(
            f"'{model_id}' is not an image model",
            field="--model",
            hint="use openai:gpt-image-1, openai:dall-e-3 or openai-compatible:NAME@URL",
        )
    env = key_env(ref.provider, config)
    key = os.environ.get(env) if env else None
    if not key:
        raise UserError(
            f"no API key for '{model_id}'",
            field="--model",
            hint=f"set the environment variable {env}",
        )

    class _Images(HTTPModel):
        async def generate(self, request: Any) -> Any:  # not a chat model
            raise NotImplementedError

        def auth_headers(self) -> dict[str, str]:
            return {"Authorization": f"Bearer {self._key}"}

    return _Images.from_ref(ref, key, config), ref.name


async def generate_image(
    spec: ImageSpec,
    out: Path,
    *,
    model_id: str = "openai:gpt-image-1",
    config: Config | None = None,
    size: str | None = None,
    quality: str | None = None,
) -> Generated:
    client, name = _client(model_id, config)
    rendered = dalle(spec, name)
    chosen = size or rendered.params["size"]
    payload: dict[str, Any] = {"model": name, "prompt": rendered.prompt, "n": 1, "size": chosen}
    if name.startswith("dall-e"):
        payload["response_format"] = "b64_json"  # gpt-image models always answer in base64
    if quality:
        payload["quality"] = quality
    try:
        body, latency = await client.post_json("/images/generations", payload)
    finally:
        await client.aclose()
    from ..models.base import ServerError

    try:
        item = body["data"][0]
        data = base64.b64decode(item["b64_json"], validate=True)
    except (KeyError, IndexError, TypeError, ValueError):
        raise ServerError(
            "the Images API answered without a base64 image", model=model_id
        ) from None
    write_atomic(out, data)
    return Generated(
        out, model_id, rendered.prompt, chosen, item.get("revised_prompt"), len(data), latency
    )
