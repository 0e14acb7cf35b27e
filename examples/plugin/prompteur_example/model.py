"""The loud model: no network, no key, the same answer every time."""

from __future__ import annotations

from typing import Any

from prompteur.models import Model, Request, Response, Usage


class LoudModel(Model):
    def __init__(self, model_id: str) -> None:
        self.id = model_id

    async def generate(self, request: Request) -> Response:
        users = [m.content for m in request.messages if m.role == "user"]
        text = (users[-1] if users else request.prompt_text or "").upper()
        return Response(text=text, model=self.id, usage=Usage(len(text.split()), len(text.split())))


def make(ref: Any, _key: str | None, _config: Any) -> LoudModel:
    """Called by prompteur with the parsed model id, the provider's key (none) and the
    project's config."""
    return LoudModel(ref.id)
