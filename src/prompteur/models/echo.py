"""`echo`: the model that answers with its prompt — promptfoo's `echo` provider. For checking
what a prompt renders to, and for tests of checks and suites, without any model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .base import Model, Request, Response, Usage

if TYPE_CHECKING:
    from ..config import Config
    from .registry import ModelRef


def prompt_text(request: Request) -> str:
    """The prompt as one text: the single message's content, or the messages as JSON."""
    if request.prompt_text is not None:
        return request.prompt_text
    if len(request.messages) == 1:
        return request.messages[0].content
    return json.dumps([m.to_dict() for m in request.messages], ensure_ascii=False)


class EchoModel(Model):
    id = "echo"

    async def generate(self, request: Request) -> Response:
        text = prompt_text(request)
        return Response(text=text, model="echo", usage=Usage(0, 0))


def make(ref: ModelRef, key: str | None, config: Config | None) -> EchoModel:
    return EchoModel()
