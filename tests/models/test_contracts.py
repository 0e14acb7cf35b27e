"""Output contracts: a prompt's schema enforced where the model allows it, recorded with each
result, and the model's time kept apart from the time waiting for it.

- the embedded model decodes under the schema's grammar (real llama.cpp);
- llama-cpp-python's own OpenAI-compatible server, for real: it refuses the standard
  `json_schema` form, so the provider falls back to the form it reads, and the server enforces;
- OpenAI, Gemini's compatible API and Anthropic: loopback servers that check the request the
  way each provider documents it and answer in the documented format.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers_http import FakeAnthropic, LoopbackServer, Recorded, Reply, chat_reply, sse
from test_providers_http import (  # noqa: F401 - the session's llama.cpp server fixture
    ANTHROPIC_KEY,
    LLAMA_KEY,
    OPENAI_KEY,
    config_with,
    generate,
    llama_server,
    stream,
)

from prompteur.config import ProviderSection
from prompteur.models.base import Message, Model, Params, Request
from prompteur.models.providers import get_model
from prompteur.models.structured import _GEMINI_KEYS, OutputSchema, strict_ok
from prompteur.prompt import parse_prompt
from prompteur.records import ResultRecord
from prompteur.runner import Runner, cache_key, plan
from prompteur.suite import Case

TRIAGE = {
    "type": "object",
    "properties": {
        "categorie": {"type": "string", "enum": ["carte", "virement", "credit"]},
        "urgence": {"type": "string", "enum": ["haute", "basse"]},
        "reponse": {"type": "string"},
    },
    "required": ["categorie", "urgence", "reponse"],
}
STRICT = {**TRIAGE, "additionalProperties": False}

PROMPT = """---
name: triage
model:
  id: local
  parameters: {temperature: 0, max_tokens: 96}
inputs:
  email: {kind: string}
outputs:
  categorie: {kind: string, enumValues: [carte, virement, credit]}
  urgence: {kind: string, enumValues: [haute, basse]}
  reponse: {kind: string}
---
user:
Email : Mon virement n'est jamais arrivé.
JSON : {"categorie": "virement", "urgence": "haute", "reponse": "Nous vérifions votre virement."}

Email : {{ email }}
JSON :"""


def instance(schema: dict[str, Any]) -> Any:
    """A small value that obeys the schema: what a provider that enforces it returns."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {k: instance(v) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [instance(schema.get("items") or {"type": "string"})]
    return {"integer": 1, "number": 1.5, "boolean": True}.get(str(kind), "texte")


class Sink:
    def __init__(self) -> None:
        self.records: list[ResultRecord] = []

    def write(self, records: list[ResultRecord]) -> None:
        self.records.extend(records)


def run_cases(model: Model, prompt_text: str, emails: list[str]) -> list[ResultRecord]:
    prompt = parse_prompt(prompt_text, name="triage")
    cases = [Case(id=str(i), inputs={"email": e}) for i, e in enumerate(emails)]
    runner = Runner(
        {"local": model}, cost_of=lambda m, u: 0.0, default_checks=[{"type": "is-json"}]
    )
    sink = Sink()
    asyncio.run(runner.run(plan([prompt], {prompt.version: ["local"]}, lambda: cases, 1), sink))
    return sorted(sink.records, key=lambda r: r.case_id)


# ---- the prompt side ------------------------------------------------------------------------


def test_outputs_become_the_contract_and_enforce_false_turns_it_off() -> None:
    prompt = parse_prompt(PROMPT, name="triage")
    assert prompt.output_contract is not None
    assert prompt.output_contract.schema == TRIAGE
    assert prompt.request({"email": "x"}).output == prompt.output_contract
    off = parse_prompt(PROMPT.replace("name: triage", "name: triage\nenforce: false"))
    assert off.output_contract is None and off.request({"email": "x"}).output is None
    assert parse_prompt("user:\nhi").output_contract is None


def test_the_contract_is_part_of_the_cache_key() -> None:
    on = parse_prompt(PROMPT).request({"email": "x"})
    off = parse_prompt(PROMPT.replace("name: triage", "name: triage\nenforce: false"))
    assert cache_key("local", on, 0) != cache_key("local", off.request({"email": "x"}), 0)
    # a request without a contract keeps the key it always had
    plain = Request((Message("user", "hi"),))
    assert cache_key("local", plain, 0) == cache_key("local", plain, 0)


def test_strict_subset() -> None:
    assert strict_ok(STRICT)
    assert not strict_ok(TRIAGE)  # additionalProperties not false
    assert not strict_ok({**STRICT, "required": ["categorie"]})
    assert not strict_ok({"type": "array", "items": {"type": "string"}})


# ---- the embedded model: a grammar --------------------------------------------------------------

EMAILS = [
    "Ma carte bancaire est bloquée depuis ce matin.",
    "Je voudrais un crédit pour ma voiture.",
    "Le virement vers mon fils n'apparaît pas.",
]


def test_embedded_model_obeys_the_schema_and_records_it() -> None:
    model = get_model("local")
    enforced = run_cases(model, PROMPT, EMAILS)
    for r in enforced:
        assert r.enforcement == "grammar"
        data = json.loads(r.output or "")  # the whole output is JSON, nothing around it
        jsonschema.validate(data, TRIAGE)
        assert r.passed
    free = run_cases(model, PROMPT.replace("name: triage", "name: triage\nenforce: false"), EMAILS)
    assert {r.enforcement for r in free} == {"off"}


def test_embedded_model_grammar_when_sampling_and_streaming() -> None:
    model = get_model("local")
    out = OutputSchema(TRIAGE, "triage")
    prompt = parse_prompt(PROMPT).render({"email": EMAILS[0]})
    for params in (Params(temperature=0.9, seed=3, max_tokens=96), Params(max_tokens=96)):
        request = Request(tuple(prompt), params, output=out)
        chunks, final = stream(model, request)
        assert final.enforced == "grammar"
        assert "".join(chunks) == final.text
        jsonschema.validate(json.loads(final.text), TRIAGE)


def test_a_schema_beyond_llama_cpp_runs_free_and_says_so() -> None:
    model = get_model("local")
    odd = OutputSchema({"type": "object", "properties": {"a": {"$ref": "https://x/y.json"}}})
    r = generate(model, Request((Message("user", "JSON:"),), Params(max_tokens=4), output=odd))
    assert r.enforced is None


# ---- llama-cpp-python's OpenAI-compatible server, for real ---------------------------------


def test_llama_cpp_server_enforces_through_its_own_form(
    llama_server: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", LLAMA_KEY)
    model = get_model(f"openai-compatible:gemma@{llama_server}")
    out = OutputSchema(TRIAGE, "triage")
    messages = (Message("user", f"Email : {EMAILS[0]}\nRéponds en JSON."),)
    r = generate(model, Request(messages, Params(temperature=0, max_tokens=96), output=out))
    # The server refused {type: json_schema} (its request model knows json_object only): the
    # provider fell back to {type: json_object, schema}, which the server turns into a grammar.
    assert r.enforced == "json_object"
    jsonschema.validate(json.loads(r.text), TRIAGE)
    _, final = stream(model, Request(messages, Params(max_tokens=96), output=out))
    assert final.enforced == "json_object"
    jsonschema.validate(json.loads(final.text), TRIAGE)


# ---- OpenAI, as documented ----------------------------------------------------------------------

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _format_problems(fmt: Any) -> list[str]:
    """What OpenAI's chat completions API refuses in `response_format`."""
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        return ["response_format.type: must be text, json_object or json_schema"]
    if fmt["type"] != "json_schema":
        return []
    js = fmt.get("json_schema")
    if not isinstance(js, dict):
        return ["response_format.json_schema: required"]
    out = []
    if not isinstance(js.get("name"), str) or not _NAME.match(js["name"]):
        out.append("response_format.json_schema.name: must match ^[a-zA-Z0-9_-]{1,64}$")
    if not isinstance(js.get("schema"), dict):
        out.append("response_format.json_schema.schema: must be an object")
    if "strict" in js and not isinstance(js["strict"], bool):
        out.append("response_format.json_schema.strict: must be a boolean")
    if js.get("strict") and not strict_ok(js.get("schema")):
        out.append(
            "Invalid schema for response_format: In context=(), 'additionalProperties' is "
            "required to be supplied and to be false, and all properties must be required"
        )
    return out


def _openai_structured(gemini: bool = False) -> Any:
    """Answers with a value of the requested schema; refuses what OpenAI (or Gemini's
    compatible endpoint, which reads an OpenAPI subset) refuses."""
    gemini_keys = _GEMINI_KEYS  # the OpenAPI subset Gemini documents for responseSchema

    def unknown(node: Any) -> list[str]:
        if isinstance(node, list):
            return [k for n in node for k in unknown(n)]
        if not isinstance(node, dict):
            return []
        found = [k for k in node if k not in gemini_keys]
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found += [k for v in value.values() for k in unknown(v)]
            elif key in ("items", "anyOf"):
                found += unknown(value)
        return found

    def handle(req: Recorded) -> Reply:
        body = req.json
        fmt = body.get("response_format")
        problems = _format_problems(fmt) if fmt is not None else []
        if gemini and fmt and fmt.get("type") == "json_schema":
            problems += [
                f'Invalid JSON payload received. Unknown name "{k}"'
                for k in unknown(fmt["json_schema"]["schema"])
            ]
        if problems:
            return Reply(
                400, {"error": {"message": "; ".join(problems), "type": "invalid_request_error"}}
            )
        schema = (fmt or {}).get("json_schema", {}).get("schema")
        text = json.dumps(instance(schema)) if schema else "plain text"
        if body.get("stream"):
            half = len(text) // 2
            chunks = [
                {"choices": [{"index": 0, "delta": {"content": text[:half]}}]},
                {
                    "choices": [
                        {"index": 0, "delta": {"content": text[half:]}, "finish_reason": "stop"}
                    ]
                },
            ]
            return Reply(200, chunks=sse([(None, c) for c in chunks] + [(None, "[DONE]")]))
        return chat_reply(text)

    return handle


def test_openai_json_schema_strict_and_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    with LoopbackServer(_openai_structured()) as server:
        config = config_with(tmp_path, openai=ProviderSection(base_url=server.url + "/v1"))
        model = get_model("openai:gpt-4o-mini", config)
        msgs = (Message("user", "Trie cet e-mail."),)
        strict = generate(model, Request(msgs, output=OutputSchema(STRICT, "tri des e-mails")))
        loose = generate(model, Request(msgs, output=OutputSchema(TRIAGE, "triage")))
        _, streamed = stream(model, Request(msgs, output=OutputSchema(STRICT, "t")))
        plain = generate(model, Request(msgs))
    sent = [r.json for r in server.requests]
    assert sent[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "tri_des_e-mails", "schema": STRICT, "strict": True},
    }
    assert sent[1]["response_format"]["json_schema"]["strict"] is False
    assert "response_format" in sent[2] and sent[2]["stream"] is True
    assert "response_format" not in sent[3]
    assert strict.enforced == "json_schema:strict" and loose.enforced == "json_schema"
    assert streamed.enforced == "json_schema:strict" and plain.enforced is None
    for r in (strict, loose, streamed):
        jsonschema.validate(json.loads(r.text), TRIAGE)


def test_openai_refusal_is_not_retried_in_another_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenAI's own API has no older form to fall back to: its refusal is the answer.
    from prompteur.models.base import BadRequestError

    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)

    def refuse(req: Recorded) -> Reply:
        return Reply(
            400, {"error": {"message": "response_format: bad", "type": "invalid_request_error"}}
        )

    with LoopbackServer(refuse) as server:
        config = config_with(tmp_path, openai=ProviderSection(base_url=server.url + "/v1"))
        model = get_model("openai:gpt-4o-mini", config)
        with pytest.raises(BadRequestError):
            generate(model, Request((Message("user", "x"),), output=OutputSchema(STRICT)))
    assert len(server.requests) == 1


def test_gemini_gets_the_schema_in_its_subset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", OPENAI_KEY)
    schema = {**STRICT, "$schema": "https://json-schema.org/draft/2020-12/schema"}
    with LoopbackServer(_openai_structured(gemini=True)) as server:
        config = config_with(
            tmp_path, gemini=ProviderSection(base_url=server.url + "/v1beta/openai")
        )
        model = get_model("gemini:gemini-2.5-flash", config)
        r = generate(model, Request((Message("user", "x"),), output=OutputSchema(schema, "triage")))
    sent = server.requests[0].json["response_format"]["json_schema"]["schema"]
    assert "additionalProperties" not in sent and "$schema" not in sent
    assert sent["propertyOrdering"] == ["categorie", "urgence", "reponse"]
    assert sent["properties"]["urgence"]["enum"] == ["haute", "basse"]
    jsonschema.validate(json.loads(r.text), TRIAGE)
    assert r.enforced == "json_schema"


# ---- Anthropic: a forced tool ----------------------------------------------------------------


class FakeAnthropicTools(FakeAnthropic):
    """The Messages API's rules for tools and tool_choice; a forced tool is called with a
    value of its input schema (as a model under tool forcing does)."""

    @staticmethod
    def problems(body: Any) -> list[str]:
        out = FakeAnthropic.problems(body)
        tools = body.get("tools") or []
        names = set()
        for j, tool in enumerate(tools):
            if not isinstance(tool, dict) or not _NAME.match(str(tool.get("name", ""))):
                out.append(f"tools.{j}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
                continue
            names.add(tool["name"])
            schema = tool.get("input_schema")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                out.append(f"tools.{j}.input_schema.type: Input should be 'object'")
            extra = set(tool) - {"name", "description", "input_schema", "cache_control"}
            if extra:
                out.append(f"tools.{j}: Extra inputs are not permitted: {sorted(extra)}")
        choice = body.get("tool_choice")
        if choice is not None:
            if not tools:
                out.append("tool_choice may only be specified while providing tools")
            kind = choice.get("type") if isinstance(choice, dict) else None
            if kind not in ("auto", "any", "tool", "none"):
                out.append("tool_choice.type: Input tag does not match")
            if kind == "tool" and choice.get("name") not in names:
                out.append(f"tool_choice.name: no tool named {choice.get('name')!r}")
        return out

    def handle(self, req: Recorded) -> Reply:
        body = req.json or {}
        choice = body.get("tool_choice") or {}
        if choice.get("type") != "tool" or self.validate(req) is not None:
            return super().handle(req)
        tool = next(t for t in body["tools"] if t["name"] == choice["name"])
        value = instance(tool["input_schema"])
        usage = {"input_tokens": 10, "output_tokens": 7}
        if not body.get("stream"):
            return Reply(
                200,
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": body["model"],
                    "content": [
                        {"type": "tool_use", "id": "toolu_1", "name": tool["name"], "input": value}
                    ],
                    "stop_reason": "tool_use",
                    "stop_sequence": None,
                    "usage": usage,
                },
            )
        text = json.dumps(value)
        block = {"type": "tool_use", "id": "toolu_1", "name": tool["name"], "input": {}}
        events: list[tuple[str | None, Any]] = [
            ("message_start", {"type": "message_start", "message": {"usage": usage}}),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": block},
            ),
        ]
        for piece in (text[:5], text[5:]):
            delta = {"type": "input_json_delta", "partial_json": piece}
            events.append(
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
            )
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "tool_use"},
                    "usage": {"output_tokens": 7},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return Reply(200, chunks=sse(events))


def test_anthropic_forces_the_schema_as_a_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    with FakeAnthropicTools(ANTHROPIC_KEY) as server:
        config = config_with(tmp_path, anthropic=ProviderSection(base_url=server.url))
        model = get_model("anthropic:claude-test-1", config)
        # a prefilled answer: the API refuses one with a forced tool, so it is left out
        msgs = (Message("user", "Trie cet e-mail."), Message("assistant", "{"))
        r = generate(model, Request(msgs, output=OutputSchema(TRIAGE, "triage")))
        chunks, streamed = stream(model, Request(msgs, output=OutputSchema(TRIAGE, "triage")))
        labels = {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
        wrapped = generate(model, Request(msgs, output=OutputSchema(labels, "labels")))
        _, wrapped_stream = stream(model, Request(msgs, output=OutputSchema(labels, "labels")))
        plain = generate(model, Request(msgs[:1]))
    sent = server.requests[0].json
    assert sent["tool_choice"] == {"type": "tool", "name": "triage"}
    assert sent["tools"][0]["input_schema"] == TRIAGE
    assert sent["messages"] == [{"role": "user", "content": "Trie cet e-mail."}]
    assert r.enforced == streamed.enforced == "tool"
    assert json.loads(r.text) == instance(TRIAGE) == json.loads(streamed.text)
    assert "".join(chunks) == streamed.text
    # a non-object schema travels wrapped in {"value": ...} and comes back unwrapped
    assert server.requests[2].json["tools"][0]["input_schema"]["properties"]["value"] == labels
    assert json.loads(wrapped.text) == ["a"] == json.loads(wrapped_stream.text)
    assert plain.enforced is None and plain.text.startswith("Echo:")
    assert "tools" not in server.requests[-1].json


# ---- time: the model's, apart from the queue ---------------------------------------------------


def test_model_time_excludes_the_queue() -> None:
    # Sampled calls to the embedded model run one at a time: four sent together wait for each
    # other. Their model times cannot add up to more than the wall time they took together —
    # before, each one counted the wait for the calls ahead of it (1 + 2 + 3 + 4 = 2.5× the
    # wall time).
    model = get_model("local")
    prompt = parse_prompt(
        "---\nmodel: {parameters: {temperature: 0.8, seed: 1, max_tokens: 24}}\n---\n"
        "user:\nWrite about {{ topic }}:",
        name="t",
    )
    cases = [Case(id=str(i), inputs={"topic": f"the sea, part {i}"}) for i in range(4)]
    runner = Runner({"local": model}, cost_of=lambda m, u: 0.0, concurrency={"local": 4})
    sink = Sink()
    asyncio.run(model.generate(Request((Message("user", "warm up"),), Params(max_tokens=1))))
    start = time.perf_counter()
    asyncio.run(runner.run(plan([prompt], {prompt.version: ["local"]}, lambda: cases, 1), sink))
    wall = time.perf_counter() - start
    latencies = [r.latency_s or 0.0 for r in sink.records]
    assert sum(latencies) <= wall * 1.05, (latencies, wall)
    queued = sorted(r.queue_s or 0.0 for r in sink.records)
    assert queued[-1] > min(latencies)  # the last one waited for at least one call ahead
    for r in sink.records:
        assert r.latency_s is not None and r.queue_s is not None
        assert r.latency_s + r.queue_s <= wall * 1.05


def test_latency_check_reads_the_model_time() -> None:
    from prompteur.checks import CheckContext, build

    chk = build({"type": "latency", "max_ms": 500})
    ctx = CheckContext(output="x", latency_s=0.2)
    assert asyncio.run(chk(ctx)).passed
    assert not asyncio.run(chk(CheckContext(output="x", latency_s=0.9))).passed
