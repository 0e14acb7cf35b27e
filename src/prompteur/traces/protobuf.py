"""A reader for the protobuf wire format, enough for OTLP/HTTP trace exports.

Written here rather than depending on `protobuf` + `opentelemetry-proto`: the OTLP trace
messages need about a dozen field numbers, the wire format is four cases, and the tests feed
this reader what the real OpenTelemetry exporter sends. Unknown fields are skipped, as
protobuf requires, so newer exporters keep working.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint too long")


def fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of each field: an int for varints and fixed-width
    values, bytes for length-delimited ones."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            if pos + 8 > end:
                raise WireError("truncated fixed64")
            value = int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > end:
                raise WireError("truncated length-delimited field")
            value = buf[pos : pos + size]
            pos += size
        elif wire == 5:
            if pos + 4 > end:
                raise WireError("truncated fixed32")
            value = int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire}")
        yield number, wire, value


def _text(value: Any) -> str:
    if not isinstance(value, bytes):
        raise WireError("expected a length-delimited string")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError("a string is not valid UTF-8") from None


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


# ---- OTLP messages (opentelemetry/proto/trace/v1/trace.proto, common/v1/common.proto) ------


def any_value(buf: bytes, depth: int = 0) -> Any:
    """An AnyValue as a Python value (str, bool, int, float, list, dict, bytes); arrays and
    maps nested past the bound of limits.py are refused, not recursed into."""
    from .. import limits

    if depth > limits.current().nesting_depth:
        raise WireError("values nested too deeply")
    out: Any = None
    for number, wire, value in fields(buf):
        if number == 1:
            out = _text(value)
        elif number == 2 and wire == 0:
            out = bool(value)
        elif number == 3 and wire == 0:
            out = _signed64(value)
        elif number == 4 and wire == 1:
            out = struct.unpack("<d", value.to_bytes(8, "little"))[0]
        elif number == 5 and wire == 2:
            out = [any_value(v, depth + 1) for n, w, v in fields(value) if n == 1 and w == 2]
        elif number == 6 and wire == 2:
            out = key_values((v for n, w, v in fields(value) if n == 1 and w == 2), depth + 1)
        elif number == 7 and wire == 2:
            out = value.hex()
    return out


def key_value(buf: bytes, depth: int = 0) -> tuple[str, Any]:
    key, val = "", None
    for number, wire, value in fields(buf):
        if number == 1 and wire == 2:
            key = _text(value)
        elif number == 2 and wire == 2:
            val = any_value(value, depth)
    return key, val


def key_values(bufs: Any, depth: int = 0) -> dict[str, Any]:
    return dict(key_value(b, depth) for b in bufs)


@dataclass
class Span:
    """An OTLP span, from protobuf or JSON, with attributes as plain Python values."""

    trace_id: str = ""
    span_id: str = ""
    parent_span_id: str | None = None
    name: str = ""
    kind: int = 0
    start_ns: int = 0
    end_ns: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    status_code: int = 0
    status_message: str = ""
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str = ""


def _event(buf: bytes) -> dict[str, Any]:
    event: dict[str, Any] = {"name": "", "time_ns": 0, "attributes": {}}
    attrs = []
    for number, wire, value in fields(buf):
        if number == 1 and wire == 1:
            event["time_ns"] = value
        elif number == 2 and wire == 2:
            event["name"] = _text(value)
        elif number == 3 and wire == 2:
            attrs.append(value)
    event["attributes"] = key_values(attrs)
    return event


def _span(buf: bytes, resource: dict[str, Any], scope: str) -> Span:
    span = Span(resource=resource, scope=scope)
    attrs = []
    for number, wire, value in fields(buf):
        if wire == 2 and number in (1, 2, 4):
            hexed = value.hex() or None
            if number == 1:
                span.trace_id = hexed or ""
            elif number == 2:
                span.span_id = hexed or ""
            else:
                span.parent_span_id = hexed
        elif number == 5 and wire == 2:
            span.name = _text(value)
        elif number == 6 and wire == 0:
            span.kind = value
        elif number == 7 and wire == 1:
            span.start_ns = value
        elif number == 8 and wire == 1:
            span.end_ns = value
        elif number == 9 and wire == 2:
            attrs.append(value)
        elif number == 11 and wire == 2:
            span.events.append(_event(value))
        elif number == 15 and wire == 2:
            for n, w, v in fields(value):
                if n == 2 and w == 2:
                    span.status_message = _text(v)
                elif n == 3 and w == 0:
                    span.status_code = v
    span.attributes = key_values(attrs)
    return span


def export_request(buf: bytes) -> list[Span]:
    """The spans of an ExportTraceServiceRequest."""
    spans: list[Span] = []
    for number, wire, rs in fields(buf):
        if number != 1 or wire != 2:
            continue
        resource: dict[str, Any] = {}
        scope_spans = []
        for n, w, v in fields(rs):
            if n == 1 and w == 2:
                resource = key_values(b for k, t, b in fields(v) if k == 1 and t == 2)
            elif n == 2 and w == 2:
                scope_spans.append(v)
        for ss in scope_spans:
            scope = ""
            raw_spans = []
            for n, w, v in fields(ss):
                if n == 1 and w == 2:
                    scope = next((_text(b) for k, t, b in fields(v) if k == 1 and t == 2), "")
                elif n == 2 and w == 2:
                    raw_spans.append(v)
            spans.extend(_span(s, resource, scope) for s in raw_spans)
    return spans
