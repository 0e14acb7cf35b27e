"""`http:ENDPOINT.yaml`: your own application's HTTP endpoint as a model — promptfoo's `http`
provider. The endpoint file says where and how to send the prompt and where the answer is:

```yaml
url: https://example.com/api/chat
method: POST                       # default POST
headers: {Authorization: "Bearer {{ env.MY_APP_KEY }}"}
body: {message: "{{ prompt }}"}    # an object (each string rendered) or a text template
transformResponse: json.reply      # a path into the JSON answer, or a JavaScript expression
transformRequest: "prompt.trim()"  # optional: JavaScript over `prompt` before the templates
```

Templates see `prompt` (the rendered prompt as text) and `env` (environment variables, so a
key is never written in the file). Without `transformResponse` the answer is the JSON body
(as JSON text) or the raw text. A JavaScript expression runs out of process in the embedded
engine (`prompteur.code`), with `json`, `text` and `context` in scope. `transformRequest` is
promptfoo's: a JavaScript expression, function or body over `prompt` (and `vars`, `context`);
text it returns is the templates' `prompt`, an object is merged over a JSON body.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from .base import (
    AuthError,
    BadRequestError,
    ConnectError,
    Model,
    ModelError,
    ModelTimeoutError,
    RateLimitError,
    Request,
    Response,
    ServerError,
)
from .echo import prompt_text

if TYPE_CHECKING:
    from ..config import Config
    from .registry import ModelRef

_PATH = re.compile(
    r"^\s*(json|text)((?:\.[A-Za-z_$][\w$]*|\[\s*(?:\d+|'[^']*'|\"[^\"]*\")\s*\])*)\s*$"
)
_STEP = re.compile(r"\.([A-Za-z_$][\w$]*)|\[\s*(\d+|'[^']*'|\"[^\"]*\")\s*\]")


class EndpointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    url: str
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    query_params: dict[str, Any] = Field(default_factory=dict, alias="queryParams")
    transform_response: str | None = Field(default=None, alias="transformResponse")
    transform_request: str | None = Field(default=None, alias="transformRequest")
    response_path: str | None = Field(default=None, alias="responsePath")
    validate_status: str | None = Field(default=None, alias="validateStatus")
    timeout: float = 120.0


def _render(value: Any, variables: dict[str, Any]) -> Any:
    from ..nunjucks import render_string

    if isinstance(value, str):
        return render_string(value, variables)
    if isinstance(value, list):
        return [_render(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _render(v, variables) for k, v in value.items()}
    return value


def follow_path(expr: str, data: Any, text: str) -> tuple[bool, Any]:
    """`json.a.b[0]` / `text`: (True, value) when the expression is a plain path."""
    m = _PATH.match(expr)
    if not m:
        return False, None
    value: Any = data if m.group(1) == "json" else text
    for key, index in _STEP.findall(m.group(2)):
        step: Any = key or (int(index) if index.isdigit() else index[1:-1])
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return True, None
    return True, value


async def send(
    model_id: str, method: str, url: str, *, timeout: float, what: str, **kwargs: Any
) -> Any:
    """One HTTP call; its failures as the typed model errors (the JSON `message` of an error
    body in the text)."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            reply = await client.request(method.upper(), url, **kwargs)
    except httpx.TimeoutException:
        raise ModelTimeoutError(f"{what} timed out", model=model_id) from None
    except httpx.HTTPError as exc:
        raise ConnectError(f"cannot reach {what}: {type(exc).__name__}", model=model_id) from None
    status = reply.status_code
    if status >= 400:
        try:
            body = reply.json()
            message = str(body.get("message", "")) if isinstance(body, dict) else ""
        except ValueError:
            message = ""
        kind = {401: AuthError, 403: AuthError, 429: RateLimitError}.get(
            status, ServerError if status >= 500 else BadRequestError
        )
        detail = f"HTTP {status}" + (f": {message[:300]}" if message else "")
        raise kind(detail, model=model_id, status=status)
    return reply


class EndpointModel(Model):
    def __init__(self, model_id: str, spec: EndpointSpec) -> None:
        self.id = model_id
        self.spec = spec

    async def _extract(self, data: Any, text: str) -> Any:
        expr = self.spec.transform_response or (
            f"json.{self.spec.response_path}" if self.spec.response_path else None
        )
        if expr is None:
            return data if data is not None else text
        plain, value = follow_path(expr, data, text)
        if plain:
            return value
        body = expr if "\n" in expr or "return " in expr else f"return ({expr})"
        if re.match(r"^\s*(\(|function\b|async\b)[^=]*=>|^\s*function\b", expr) or "=>" in expr:
            body = f"return ({expr})(json, text, context)"
        return await self._javascript(
            body, {"json": data, "text": text, "context": {}}, "transformResponse", ServerError
        )

    async def _javascript(
        self, body: str, scope: dict[str, Any], what: str, error: type[ModelError]
    ) -> Any:
        """A transform's JavaScript, run bounded in the embedded engine, with `scope` in scope."""
        from ..code import CodeError, call

        try:
            return await call(
                "javascript", code=body, params=list(scope), args=list(scope.values()), timeout=30
            )
        except CodeError as exc:
            raise error(f"{what} failed: {exc}", model=self.id) from None

    async def _transform_request(self, prompt: str) -> Any:
        """promptfoo's createTransformRequest: the same three forms of JavaScript."""
        expr = (self.spec.transform_request or "").strip()
        if not expr:
            return prompt
        if re.match(r"^(\(.*?\)\s*=>|function\s*\(.*?\))", expr, re.S):
            body = f"return ({expr})(prompt, vars, context)"
        elif re.search(r"\breturn\b", expr):
            body = expr
        else:
            body = f"return ({expr})"
        return await self._javascript(
            body, {"prompt": prompt, "vars": {}, "context": {}}, "transformRequest", BadRequestError
        )

    async def generate(self, request: Request) -> Response:
        spec = self.spec
        prompt = await self._transform_request(prompt_text(request))
        merged: dict[str, Any] | None = None
        if isinstance(prompt, dict) and (spec.body is None or isinstance(spec.body, dict)):
            # An object from transformRequest is laid over the body as it is written.
            merged = {**(spec.body or {}), **prompt}
        elif not isinstance(prompt, str):
            prompt = json.dumps(prompt, ensure_ascii=False)
        variables = {"prompt": prompt, "env": dict(os.environ)}
        url = _render(spec.url, variables)
        headers = {k: str(_render(v, variables)) for k, v in spec.headers.items()}
        params = _render(spec.query_params, variables)
        kwargs: dict[str, Any] = {"headers": headers, "params": params}
        if merged is not None:
            kwargs["json"] = merged
        elif spec.body is not None:
            body = _render(spec.body, variables)
            if isinstance(body, dict | list):
                kwargs["json"] = body
            else:
                kwargs["content"] = str(body).encode()
        start = time.perf_counter()
        reply = await send(
            self.id, spec.method, url, timeout=spec.timeout, what="the endpoint", **kwargs
        )
        status = reply.status_code
        text = reply.text
        try:
            data = reply.json()
        except ValueError:
            data = None
        value = await self._extract(data, text)
        out = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return Response(
            text=out, model=self.id, latency_s=time.perf_counter() - start, raw={"status": status}
        )


def make(ref: ModelRef, key: str | None, config: Config | None) -> EndpointModel:
    import yaml

    from ..errors import UserError

    path = Path(ref.name)
    if not path.is_file():
        raise UserError(f"'{ref.id}': endpoint file not found", field="model", hint=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = EndpointSpec.model_validate(data)
    except Exception as exc:  # yaml or validation: say which file
        raise UserError(f"'{ref.id}': bad endpoint file: {exc}", file=path) from None
    return EndpointModel(ref.id, spec)
