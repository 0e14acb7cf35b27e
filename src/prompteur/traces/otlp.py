"""OTLP/HTTP trace exports (protobuf or JSON) → traces, following the OpenTelemetry GenAI
semantic conventions.

Read from a span: `gen_ai.request.model` (else `gen_ai.response.model`), `gen_ai.operation.name`,
`gen_ai.usage.input_tokens`/`output_tokens` (and the older `prompt_tokens`/`completion_tokens`),
the prompt and completion in any of their forms — `gen_ai.prompt`/`gen_ai.completion` (text
or JSON), indexed `gen_ai.prompt.0.content` attributes, the newer `gen_ai.input.messages`/
`gen_ai.output.messages`, or the `gen_ai.*.message`/`gen_ai.choice` events —, the span's
duration as latency and an error status as the error. `prompteur.prompt.name`/`.version`/
`.label` and `prompteur.inputs` (a JSON object) say which prompt made the call; without them
`gen_ai.prompt.name`/`.version` are used. Spans with no `gen_ai.*` or `prompteur.*` attribute
(HTTP, database… spans of an instrumented app) are skipped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ..errors import UserError
from .model import TraceIn
from .protobuf import Span, WireError, export_request

STATUS_ERROR = 2
# Attributes whose content is moved into the trace's own fields rather than kept in metadata.
_CONSUMED_PREFIXES = ("gen_ai.prompt", "gen_ai.completion", "gen_ai.input.", "gen_ai.output.")


def decode(body: bytes, content_type: str) -> list[Span]:
    """The spans of an export request; a UserError when the body is not one."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/x-protobuf", "application/protobuf", "application/octet-stream"):
        try:
            return export_request(body)
        except WireError as exc:
            raise UserError(f"not an OTLP protobuf export: {exc}", field="body") from None
        except RecursionError:
            raise UserError(
                "not an OTLP protobuf export: nested too deeply", field="body"
            ) from None
    if kind == "application/json" or not kind:
        from ..yamlfile import load_json

        try:
            data = load_json(body, field="body")
        except UnicodeDecodeError as exc:
            raise UserError(f"malformed JSON: {exc}", field="body") from None
        return json_spans(data)
    raise UserError(
        f"unsupported content type {content_type!r}",
        field="Content-Type",
        hint="application/x-protobuf or application/json",
    )


# ---- OTLP JSON ---------------------------------------------------------------------------


def _get(obj: dict[str, Any], camel: str) -> Any:
    """A field by its lowerCamelCase name or its proto snake_case name (both are allowed)."""
    if camel in obj:
        return obj[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return obj.get(snake)


def _json_any(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "string_value"):
        if key in value:
            return value[key]
    for key in ("boolValue", "bool_value"):
        if key in value:
            return bool(value[key])
    for key in ("intValue", "int_value"):
        if key in value:
            return int(value[key])  # int64 travels as a string in JSON
    for key in ("doubleValue", "double_value"):
        if key in value:
            return float(value[key])
    arr = _get(value, "arrayValue")
    if arr is not None:
        return [_json_any(v) for v in arr.get("values", [])]
    kv = _get(value, "kvlistValue")
    if kv is not None:
        return _json_attrs(kv.get("values", []))
    raw = _get(value, "bytesValue")
    if raw is not None:
        return raw
    return None


def _json_attrs(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        raise ValueError("attributes must be a list of {key, value}")
    return {str(kv["key"]): _json_any(kv.get("value")) for kv in items if isinstance(kv, dict)}


def _nanos(value: Any) -> int:
    return int(value or 0)


def json_spans(data: Any) -> list[Span]:
    """The spans of an OTLP JSON export (ids in hex, as the OTLP JSON encoding says)."""
    try:
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object with resourceSpans")
        spans: list[Span] = []
        for rs in _get(data, "resourceSpans") or []:
            resource = _json_attrs((_get(rs, "resource") or {}).get("attributes", []))
            for ss in _get(rs, "scopeSpans") or []:
                scope = str((_get(ss, "scope") or {}).get("name", ""))
                for raw in ss.get("spans", []):
                    status = raw.get("status") or {}
                    code = status.get("code", 0)
                    spans.append(
                        Span(
                            trace_id=str(_get(raw, "traceId") or ""),
                            span_id=str(_get(raw, "spanId") or ""),
                            parent_span_id=_get(raw, "parentSpanId") or None,
                            name=str(raw.get("name", "")),
                            kind=int(raw.get("kind", 0) or 0)
                            if not isinstance(raw.get("kind"), str)
                            else 0,
                            start_ns=_nanos(_get(raw, "startTimeUnixNano")),
                            end_ns=_nanos(_get(raw, "endTimeUnixNano")),
                            attributes=_json_attrs(raw.get("attributes", [])),
                            events=[
                                {
                                    "name": str(e.get("name", "")),
                                    "time_ns": _nanos(_get(e, "timeUnixNano")),
                                    "attributes": _json_attrs(e.get("attributes", [])),
                                }
                                for e in raw.get("events", [])
                            ],
                            status_code=2 if code in (2, "STATUS_CODE_ERROR") else 0,
                            status_message=str(status.get("message", "")),
                            resource=resource,
                            scope=scope,
                        )
                    )
        return spans
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UserError(f"not an OTLP JSON export: {exc}", field="body") from None


# ---- GenAI semantic conventions → TraceIn ------------------------------------------------------


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        from ..yamlfile import load_json

        try:
            return load_json(value)
        except UserError:  # not JSON, or nested past the bound: kept as the text it is
            return value
    return value


def _message_text(message: Any) -> str:
    """The text of a message in the old (`content`) or new (`parts`) form."""
    if isinstance(message, str):
        return message
    if not isinstance(message, dict):
        return "" if message is None else json.dumps(message, ensure_ascii=False)
    content = message.get("content")
    if isinstance(content, str):
        return content
    parts = message.get("parts") or (content if isinstance(content, list) else None)
    if isinstance(parts, list):
        texts = []
        for p in parts:
            if isinstance(p, dict):
                texts.append(str(p.get("content") or p.get("text") or ""))
            elif isinstance(p, str):
                texts.append(p)
        return "".join(texts)
    inner = message.get("message")
    if inner is not None:
        return _message_text(inner)
    return ""


def _messages(value: Any) -> list[dict[str, Any]]:
    value = _maybe_json(value)
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    return [
        {
            "role": str(m.get("role", "user")) if isinstance(m, dict) else "user",
            "content": _message_text(m),
        }
        for m in value
    ]


def _indexed(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """OpenLLMetry's `gen_ai.prompt.0.role` / `gen_ai.prompt.0.content` attributes."""
    found: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if not key.startswith(prefix + "."):
            continue
        index, _, name = key[len(prefix) + 1 :].partition(".")
        if index.isdigit() and name in ("role", "content"):
            found.setdefault(int(index), {})[name] = value
    return [
        {"role": str(m.get("role", "user")), "content": _message_text(m.get("content"))}
        for _, m in sorted(found.items())
    ]


def _event_messages(span: Span) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    prompt: list[dict[str, Any]] = []
    completion: list[dict[str, Any]] = []
    for event in span.events:
        name, attrs = event["name"], event["attributes"]
        if name in (
            "gen_ai.system.message",
            "gen_ai.user.message",
            "gen_ai.assistant.message",
            "gen_ai.tool.message",
        ):
            role = name.split(".")[1]
            body = attrs.get("content", attrs.get("body", attrs.get("message")))
            prompt.append({"role": role, "content": _message_text(_maybe_json(body))})
        elif name == "gen_ai.choice":
            body = _maybe_json(attrs.get("message", attrs.get("body", attrs.get("content"))))
            completion.append({"role": "assistant", "content": _message_text(body)})
        elif name == "gen_ai.content.prompt":
            prompt.extend(_messages(attrs.get("gen_ai.prompt")))
        elif name == "gen_ai.content.completion":
            completion.extend(_messages(attrs.get("gen_ai.completion")))
        elif name == "gen_ai.client.inference.operation.details":
            prompt.extend(_messages(attrs.get("gen_ai.input.messages")))
            completion.extend(_messages(attrs.get("gen_ai.output.messages")))
    return prompt, completion


def _first(attrs: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def is_genai(span: Span) -> bool:
    return any(k.startswith(("gen_ai.", "prompteur.")) for k in span.attributes) or any(
        e["name"].startswith("gen_ai.") for e in span.events
    )


def to_trace(span: Span) -> dict[str, Any]:
    """The TraceIn fields of a GenAI span."""
    a = span.attributes
    prompt_msgs = (
        (_messages(a["gen_ai.input.messages"]) if "gen_ai.input.messages" in a else [])
        or (_messages(a["gen_ai.prompt"]) if "gen_ai.prompt" in a else [])
        or _indexed(a, "gen_ai.prompt")
    )
    completion_msgs = (
        (_messages(a["gen_ai.output.messages"]) if "gen_ai.output.messages" in a else [])
        or (_messages(a["gen_ai.completion"]) if "gen_ai.completion" in a else [])
        or _indexed(a, "gen_ai.completion")
    )
    if not prompt_msgs or not completion_msgs:
        ev_prompt, ev_completion = _event_messages(span)
        prompt_msgs = prompt_msgs or ev_prompt
        completion_msgs = completion_msgs or ev_completion

    inputs = _maybe_json(a.get("prompteur.inputs"))
    if not isinstance(inputs, dict):
        inputs = {
            k[len("prompteur.input.") :]: v
            for k, v in a.items()
            if k.startswith("prompteur.input.")
        }
    if not inputs and prompt_msgs:
        users = [m["content"] for m in prompt_msgs if m["role"] == "user"]
        inputs = {"prompt": users[-1] if users else prompt_msgs[-1]["content"]}

    output = _first(a, "prompteur.output")
    if output is None and completion_msgs:
        output = "\n".join(m["content"] for m in completion_msgs)

    error = None
    if span.status_code == STATUS_ERROR:
        error = span.status_message or str(a.get("error.type") or "error")

    metadata: dict[str, Any] = {
        k: v
        for k, v in a.items()
        if not k.startswith(_CONSUMED_PREFIXES) and not k.startswith("prompteur.")
    }
    metadata["span.name"] = span.name
    if span.scope:
        metadata["otel.scope"] = span.scope
    if span.resource:
        metadata["resource"] = span.resource
    if prompt_msgs and (len(prompt_msgs) > 1 or "prompt" not in inputs):
        metadata["messages"] = prompt_msgs

    latency = (span.end_ns - span.start_ns) / 1e6 if span.end_ns >= span.start_ns > 0 else None
    return {
        "prompt": _first(a, "prompteur.prompt.name", "gen_ai.prompt.name"),
        "version": _first(a, "prompteur.prompt.version", "gen_ai.prompt.version"),
        "label": _first(a, "prompteur.prompt.label", "gen_ai.prompt.label"),
        "model": _first(a, "gen_ai.request.model", "gen_ai.response.model"),
        "operation": _first(a, "gen_ai.operation.name"),
        "inputs": inputs,
        "output": None if output is None else str(output),
        "error": error,
        "latency_ms": latency,
        "tokens_in": _int(_first(a, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")),
        "tokens_out": _int(
            _first(a, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
        ),
        "cost": _first(a, "prompteur.cost", "gen_ai.usage.cost"),
        "started_at": datetime.fromtimestamp(span.start_ns / 1e9, UTC) if span.start_ns else None,
        "trace_id": span.trace_id or None,
        "span_id": span.span_id or None,
        "parent_span_id": span.parent_span_id,
        "metadata": metadata,
        "source": "otlp",
    }


def traces_from_spans(spans: list[Span]) -> tuple[list[TraceIn], int]:
    """The GenAI spans as traces, and how many spans were skipped (not GenAI calls)."""
    out: list[TraceIn] = []
    skipped = 0
    for span in spans:
        if not is_genai(span):
            skipped += 1
            continue
        fields = to_trace(span)
        try:
            out.append(TraceIn.model_validate(fields))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"])
            raise UserError(
                f"span {span.span_id or span.name!r}: {err['msg']}", field=where
            ) from None
    return out, skipped
