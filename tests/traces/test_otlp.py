"""OTLP/HTTP ingestion: the real OpenTelemetry SDK and its OTLP/HTTP exporter (protobuf, plain
and gzip) send GenAI spans to our server on loopback; OTLP JSON is posted by hand. The
GenAI semantic conventions (old and new forms) map onto traces; other spans are skipped."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers_sdk import Loopback

from prompteur.store import Store
from prompteur.traces import TraceRecord, iter_traces
from prompteur.traces.otlp import decode, traces_from_spans

otel_sdk = pytest.importorskip("opentelemetry.sdk.trace")
otlp_http = pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")


@dataclass
class Server:
    url: str
    key: str
    store: Store


@pytest.fixture
def server(project: Path) -> Iterator[Server]:
    from prompteur.app import create_app
    from prompteur.server.keys import create_key
    from prompteur.server.projects import open_project

    opened = open_project(project)
    key = create_key(opened.store, opened.name, ("write",), "otel").secret
    with Loopback(create_app([opened])) as loop:
        yield Server(loop.url, key, opened.store)


def _provider(server: Server, **exporter_kw: Any) -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    exporter = otlp_http.OTLPSpanExporter(
        endpoint=f"{server.url}/otlp/v1/traces",
        headers={"Authorization": f"Bearer {server.key}"},
        **exporter_kw,
    )
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "shop-bot", "http.request.header.authorization": "Bearer sk-zzzz"}
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _by_model(store: Store) -> dict[str | None, TraceRecord]:
    return {t.model: t for t in iter_traces(store)}


def test_real_exporter_protobuf_maps_genai_conventions(server: Server) -> None:
    from opentelemetry.trace import Status, StatusCode

    provider = _provider(server)
    tracer = provider.get_tracer("test-app")
    # New attribute form, with our prompt attributes.
    with tracer.start_as_current_span("chat gpt-4o-mini") as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.provider.name", "openai")
        span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
        span.set_attribute("gen_ai.usage.input_tokens", 42)
        span.set_attribute("gen_ai.usage.output_tokens", 1)
        span.set_attribute("prompteur.prompt.name", "sentiment")
        span.set_attribute("prompteur.prompt.version", "abc123")
        span.set_attribute("prompteur.prompt.label", "production")
        span.set_attribute("prompteur.inputs", json.dumps({"review": "Arrived broken."}))
        span.set_attribute(
            "gen_ai.input.messages",
            json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": "Arrived broken."}]}]
            ),
        )
        span.set_attribute(
            "gen_ai.output.messages",
            json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "negative"}]}]),
        )
        time.sleep(0.02)
    # Older event form, no prompt attributes, and an error status.
    with tracer.start_as_current_span("chat claude") as span:
        span.set_attribute("gen_ai.system", "anthropic")
        span.set_attribute("gen_ai.request.model", "claude-x")
        span.set_attribute("gen_ai.usage.prompt_tokens", 7)
        span.add_event("gen_ai.user.message", {"content": "Bonjour, mon colis est perdu."})
        span.add_event("gen_ai.choice", {"message": json.dumps({"content": "Désolé !"})})
        span.set_status(Status(StatusCode.ERROR, "rate limited"))
    # Legacy indexed attributes (OpenLLMetry).
    with tracer.start_as_current_span("openai.chat") as span:
        span.set_attribute("gen_ai.request.model", "legacy-model")
        span.set_attribute("gen_ai.prompt.0.role", "system")
        span.set_attribute("gen_ai.prompt.0.content", "Be brief.")
        span.set_attribute("gen_ai.prompt.1.role", "user")
        span.set_attribute("gen_ai.prompt.1.content", "Hi there")
        span.set_attribute("gen_ai.completion.0.content", "Hello")
    # Not a model call: skipped.
    with tracer.start_as_current_span("GET /cart") as span:
        span.set_attribute("http.request.method", "GET")
    provider.shutdown()

    traces = _by_model(server.store)
    assert set(traces) == {"gpt-4o-mini", "claude-x", "legacy-model"}
    new = traces["gpt-4o-mini"]
    assert (new.prompt, new.version, new.label, new.operation) == (
        "sentiment",
        "abc123",
        "production",
        "chat",
    )
    assert new.inputs == {"review": "Arrived broken."} and new.output == "negative"
    assert (new.tokens_in, new.tokens_out, new.source) == (42, 1, "otlp")
    assert new.latency_ms is not None and new.latency_ms >= 20
    assert len(new.trace_id) == 32 and len(new.span_id) == 16
    assert new.meta["resource"]["service.name"] == "shop-bot"
    assert "sk-zzzz" not in json.dumps(new.meta)
    old = traces["claude-x"]
    assert old.inputs == {"prompt": "Bonjour, mon colis est perdu."}
    assert old.output == "Désolé !" and old.error == "rate limited" and old.tokens_in == 7
    legacy = traces["legacy-model"]
    assert legacy.inputs == {"prompt": "Hi there"} and legacy.output == "Hello"
    assert [m["role"] for m in legacy.meta["messages"]] == ["system", "user"]


def test_real_exporter_with_gzip(server: Server) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression

    provider = _provider(server, compression=Compression.Gzip)
    with provider.get_tracer("t").start_as_current_span("chat") as span:
        span.set_attribute("gen_ai.request.model", "gz-model")
        span.set_attribute("gen_ai.prompt", "zipped prompt")
        span.set_attribute("gen_ai.completion", "zipped answer")
    provider.shutdown()
    [t] = list(iter_traces(server.store))
    assert (t.model, t.inputs, t.output) == (
        "gz-model",
        {"prompt": "zipped prompt"},
        "zipped answer",
    )


def _json_export(span_id: str) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "x"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "manual"},
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": span_id,
                                "name": "chat",
                                "kind": 3,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000250000000",
                                "attributes": [
                                    {"key": "gen_ai.request.model", "value": {"stringValue": "m"}},
                                    {
                                        "key": "gen_ai.usage.output_tokens",
                                        "value": {"intValue": "9"},
                                    },
                                    {"key": "prompteur.prompt.name", "value": {"stringValue": "p"}},
                                    {"key": "prompteur.cost", "value": {"doubleValue": 0.5}},
                                ],
                                "status": {"code": 1},
                            }
                        ],
                    }
                ],
            }
        ]
    }


def test_otlp_json_auth_and_bad_bodies(server: Server) -> None:
    url = f"{server.url}/otlp/v1/traces"
    auth = {"Authorization": f"Bearer {server.key}"}
    body = json.dumps(_json_export("eee19b7ec3c1b174")).encode()
    assert (
        httpx.post(url, content=body, headers={"content-type": "application/json"}).status_code
        == 401
    )
    r = httpx.post(url, content=body, headers={**auth, "content-type": "application/json"})
    assert r.status_code == 200 and r.headers["x-prompteur-accepted"] == "1"
    # The same span again (an exporter's retry): stored once.
    zipped = gzip.compress(body)
    r = httpx.post(
        url,
        content=zipped,
        headers={**auth, "content-type": "application/json", "content-encoding": "gzip"},
    )
    assert r.status_code == 200
    [t] = list(iter_traces(server.store))
    assert (t.prompt, t.tokens_out, t.cost, t.latency_ms) == ("p", 9, 0.5, 250.0)
    assert t.started_at.year == 2023
    for content, ctype, status in (
        (b"\x0a\x05\xff", "application/x-protobuf", 400),
        (b"{not json", "application/json", 400),
        (b"<xml/>", "text/xml", 415),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": 3}]}]}]}',
            "application/json",
            400,
        ),
    ):
        bad = httpx.post(url, content=content, headers={**auth, "content-type": ctype})
        assert bad.status_code == status, (content, bad.text)
        assert "Traceback" not in bad.text
    assert len(list(iter_traces(server.store))) == 1


def test_decoder_agrees_with_the_reference_protobuf_encoder() -> None:
    """Our wire reader against the bytes of opentelemetry-proto's encoder, every value kind."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("t").start_as_current_span("chat") as span:
        span.set_attribute("gen_ai.request.model", "é-model")
        span.set_attribute("n", -5)
        span.set_attribute("x", 2.5)
        span.set_attribute("ok", True)
        span.set_attribute("tags", ["a", "b"])
        span.add_event("gen_ai.user.message", {"content": "hi"})
    spans = decode(
        encode_spans(memory.get_finished_spans()).SerializeToString(), "application/x-protobuf"
    )
    [s] = spans
    assert s.attributes == {
        "gen_ai.request.model": "é-model",
        "n": -5,
        "x": 2.5,
        "ok": True,
        "tags": ["a", "b"],
    }
    assert s.events[0]["attributes"] == {"content": "hi"}
    [trace], skipped = traces_from_spans(spans)
    assert skipped == 0 and trace.inputs == {"prompt": "hi"} and trace.model == "é-model"
