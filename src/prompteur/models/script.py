"""`script:PATH.py:FUNCTION`: a model written in Python — promptfoo's `file://provider.py`
custom providers. `FUNCTION(prompt, options, context)` returns `{"output": ...}` (or `error`,
`tokenUsage`); it runs in a child process, bounded in time and memory (`prompteur.code`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import BadRequestError, Model, Request, Response, ServerError, Usage
from .echo import prompt_text

if TYPE_CHECKING:
    from ..config import Config
    from .registry import ModelRef


class ScriptModel(Model):
    def __init__(self, model_id: str, path: str, function: str, timeout: float = 120.0) -> None:
        self.id = model_id
        self.path = path
        self.function = function
        self.timeout = timeout

    async def generate(self, request: Request) -> Response:
        from ..code import CodeError, call

        start = time.perf_counter()
        # promptfoo gives a provider its config: the prompt's provider options.
        options: dict[str, Any] = {"config": dict(request.params.extra or {}), "id": self.id}
        context: dict[str, Any] = {"vars": {}}
        try:
            out = await call(
                "python",
                file=self.path,
                function=self.function,
                args=[prompt_text(request), options, context],
                cwd=str(Path(self.path).parent),
                timeout=self.timeout,
            )
        except CodeError as exc:
            raise ServerError(str(exc), model=self.id) from None
        if not isinstance(out, dict):
            raise BadRequestError("the provider must return a dict with 'output'", model=self.id)
        if out.get("error"):
            raise ServerError(str(out["error"])[:500], model=self.id)
        output = out.get("output")
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        usage = out.get("tokenUsage") or {}
        return Response(
            text=text,
            model=self.id,
            usage=Usage(int(usage.get("prompt", 0) or 0), int(usage.get("completion", 0) or 0)),
            latency_s=time.perf_counter() - start,
            raw={k: v for k, v in out.items() if k != "output"},
        )


def make(ref: ModelRef, key: str | None, config: Config | None) -> ScriptModel:
    from ..errors import UserError

    path, _, function = ref.name.rpartition(":")
    if not path.endswith(".py") or not function:
        raise UserError(f"'{ref.id}': write script:path/to/provider.py:function", field="model")
    if not Path(path).is_file():
        raise UserError(f"'{ref.id}': file not found", field="model", hint=path)
    return ScriptModel(ref.id, str(Path(path).resolve()), function)
