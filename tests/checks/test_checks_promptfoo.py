"""The checks promptfoo configs need: code checks (javascript, python-script) run out of
process, transforms, metric names, is-sql, is-valid-openai-tools-call, the RAG checks,
moderation and classifier. Each has a case where it must pass and one where it must fail."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from test_judges import StubJudge
from test_judges import stub as stub  # the fixture

from prompteur.checks import CheckContext, CheckResult, build
from prompteur.code import CodeError, call_sync, javascript_available
from prompteur.errors import UserError

needs_js = pytest.mark.skipif(not javascript_available(), reason="pip install 'prompteur[js]'")


def run(spec: dict[str, Any], output: str, **kw: Any) -> CheckResult:
    from prompteur.models.pool import ModelPool

    kw.setdefault("models", ModelPool(None))  # no project: judges and embedders by their ids
    return asyncio.run(build(spec)(CheckContext(output=output, **kw)))


# ---- code, out of process -----------------------------------------------------------------


@needs_js
@pytest.mark.parametrize(
    ("code", "output", "passed"),
    [
        ("output.length < 10", "short", True),
        ("output.length < 10", "much too long an answer", False),
        ("const n = output.split(' ').length; n === 2", "two words", True),
        (
            "const p = output.includes('x');\nreturn { pass: p, score: 0.5, reason: 'r' }",
            "xyz",
            True,
        ),
        (
            "const p = output.includes('x');\nreturn { pass: p, score: 0.5, reason: 'r' }",
            "abc",
            False,
        ),
        ("context.vars.city === 'Paris'", "anything", True),
    ],
)
def test_javascript_inline(code: str, output: str, passed: bool) -> None:
    assert run({"type": "javascript", "value": code}, output, inputs={"city": "Paris"}).passed is (
        passed
    )


@needs_js
def test_javascript_multiline_body_and_threshold() -> None:
    body = "const words = output.split(' ');\nreturn words.length / 10;"
    assert run({"type": "javascript", "value": body, "threshold": 0.3}, "a b c").passed
    assert not run({"type": "javascript", "value": body, "threshold": 0.5}, "a b c").passed


@needs_js
def test_javascript_file_and_error_and_no_require(tmp_path: Path) -> None:
    f = tmp_path / "check.js"
    f.write_text("module.exports = (output, context) => output.startsWith('ok');\n")
    assert run({"type": "javascript", "file": str(f)}, "ok fine").passed
    assert not run({"type": "javascript", "file": str(f)}, "nope").passed
    bad = run({"type": "javascript", "value": "require('fs').readFileSync('/etc/passwd')"}, "x")
    assert not bad.passed and "require(fs) is not available" in bad.reason


TS_ASSERTION = """\
import type { AssertionContext, GradingResult } from 'promptfoo';
import { type Unused } from 'promptfoo';
interface Limits { min: number; }
type Score = number | null;
const limits: Record<string, number> = { min: 2, max: 5 };
export default async function (output: string, context: AssertionContext): Promise<GradingResult> {
  const words: string[] = output.split(' ');
  const long = (w: string, i?: number): boolean => w.length > (i ?? 0);
  const n = words.filter((w) => long(w, 1)).length;
  const at = { min: limits.min, max: limits.max } as const;
  const ok = n >= at.min && n <= at.max;
  return { pass: ok, score: n, reason: `${n} words` } satisfies GradingResult;
}
"""


@needs_js
def test_typescript_assertion_runs_with_its_types_dropped(tmp_path: Path) -> None:
    from prompteur.code import strip_types

    f = tmp_path / "check.ts"
    f.write_text(TS_ASSERTION)
    assert run({"type": "javascript", "file": str(f)}, "three long words").passed
    assert not run({"type": "javascript", "file": str(f)}, "one").passed
    # Object literals keep their keys; only type syntax goes.
    assert "{ min: limits.min, max: limits.max }" in strip_types(TS_ASSERTION)
    assert "(output, context)" in strip_types(TS_ASSERTION)
    # TypeScript beyond types (an enum) is left as it is: a syntax error, never a change.
    (tmp_path / "enum.ts").write_text("enum A { B }\nexport default (o: string) => true;\n")
    bad = run({"type": "javascript", "file": str(tmp_path / "enum.ts")}, "x")
    assert not bad.passed and "SyntaxError" in bad.reason


@needs_js
def test_javascript_time_and_memory_are_bounded() -> None:
    slow = run({"type": "javascript", "value": "while (true) {}", "timeout": 1}, "x")
    assert not slow.passed and "the code failed" in slow.reason
    greedy = run(
        {"type": "javascript", "value": "let a = []; while (true) a.push('x'.repeat(1e6));"}, "x"
    )
    assert not greedy.passed and "the code failed" in greedy.reason


def test_python_script_inline_and_file(tmp_path: Path) -> None:
    assert run({"type": "python-script", "value": "'yes' in output.lower()"}, "Yes!").passed
    assert not run({"type": "python-script", "value": "'yes' in output.lower()"}, "No").passed
    body = "words = output.split()\nreturn {'pass': len(words) > 2, 'score': 0.9, 'reason': 'n'}"
    assert run({"type": "python-script", "value": body}, "one two three").passed
    assert not run({"type": "python-script", "value": body}, "one").passed
    f = tmp_path / "grade.py"
    f.write_text(
        "def get_assert(output, context):\n    return context['vars']['n'] == len(output)\n"
    )
    spec = {"type": "python-script", "file": str(f), "function": "get_assert"}
    assert run(spec, "abc", inputs={"n": 3}).passed
    assert not run(spec, "abcd", inputs={"n": 3}).passed


def test_python_runs_in_another_process_with_a_timeout() -> None:
    import os

    code = "import os\n\ndef main():\n    return os.getpid()\n"
    assert call_sync("python", code=code, function="main", args=[]) != os.getpid()
    with pytest.raises(CodeError, match="timed out"):
        call_sync(
            "python",
            code="import time\ndef main():\n    time.sleep(30)\n",
            function="main",
            args=[],
            timeout=0.5,
        )
    failed = run({"type": "python-script", "value": "1 / 0"}, "x")
    assert not failed.passed and "ZeroDivisionError" in failed.reason


@needs_js
def test_transform_then_check_and_metric_name() -> None:
    spec = {
        "type": "equals",
        "value": "HELLO",
        "transform": "output.toUpperCase()",
        "metric": "shouting",
    }
    check = build(spec)
    assert check.name == "shouting"
    assert asyncio.run(check(CheckContext(output="hello"))).passed
    assert not asyncio.run(check(CheckContext(output="bye"))).passed
    obj = {"type": "javascript", "value": "output.answer === 42", "transform": "JSON.parse(output)"}
    assert run(obj, '{"answer": 42}').passed
    assert not run(obj, '{"answer": 41}').passed


def test_transform_in_python_file(tmp_path: Path) -> None:
    f = tmp_path / "t.py"
    f.write_text("def get_transform(output, context):\n    return output.strip().lower()\n")
    spec = {"type": "equals", "value": "yes", "transform": {"file": str(f)}}
    assert run(spec, "  YES ").passed
    assert not run(spec, " no ").passed


def test_json_schema_strict() -> None:
    schema = {"type": "object", "required": ["a"]}
    assert run({"type": "json-schema", "value": schema, "strict": True}, '{"a": 1}').passed
    assert not run(
        {"type": "json-schema", "value": schema, "strict": True}, 'Here: {"a": 1}'
    ).passed
    assert run({"type": "json-schema", "value": schema}, 'Here: {"a": 1}').passed


# ---- formats -----------------------------------------------------------------------------


def test_is_sql() -> None:
    assert run({"type": "is-sql"}, "SELECT name FROM users WHERE id = 3").passed
    assert not run({"type": "is-sql"}, "SELEC name FRM users").passed
    assert not run({"type": "is-sql"}, "hello world").passed
    allow = {
        "type": "is-sql",
        "value": {"databaseType": "MySQL", "allowedTables": ["select::null::users"]},
    }
    assert run(allow, "SELECT id FROM users").passed
    assert not run(allow, "SELECT id FROM secrets").passed
    assert not run(allow, "DELETE FROM users").passed


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def test_is_valid_openai_tools_call() -> None:
    spec = {"type": "is-valid-openai-tools-call", "tools": TOOLS}
    args = json.dumps({"city": "Paris"})
    call = {"name": "get_weather", "arguments": args}
    good = json.dumps([{"type": "function", "function": call}])
    assert run(spec, good).passed
    assert not run(
        spec, '[{"type": "function", "function": {"name": "get_time", "arguments": "{}"}}]'
    ).passed
    assert not run(
        spec, '[{"type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]'
    ).passed
    assert not run(spec, "I would call the weather tool").passed
    with pytest.raises(UserError):
        build({"type": "is-valid-openai-tools-call"})


# ---- judged and hosted -------------------------------------------------------------------


def _yes_if(word: str) -> Any:
    def answer(system: str, user: str) -> str:
        return (
            '{"reason": "checked", "score": 1}'
            if word in user
            else ('{"reason": "checked", "score": 0}')
        )

    return answer


@pytest.mark.parametrize(
    ("kind", "inputs", "output", "word"),
    [
        (
            "context-faithfulness",
            {"context": "Paris is in France.", "query": "Where?"},
            "Paris is in France.",
            "Paris is in France",
        ),
        ("answer-relevance", {"query": "What is the capital of Peru?"}, "Lima.", "capital of Peru"),
        (
            "context-relevance",
            {"context": "Lima is Peru's capital.", "query": "Peru capital?"},
            "x",
            "Lima is",
        ),
    ],
)
def test_rag_checks(
    stub: Any,
    kind: str,
    inputs: dict[str, str],
    output: str,
    word: str,
) -> None:
    judge: StubJudge = stub(_yes_if(word))
    spec = {"type": kind, "judge": judge.id}
    assert run(spec, output, inputs=inputs).passed
    other = stub(_yes_if("never there"))
    assert not run({"type": kind, "judge": other.id}, output, inputs=inputs).passed


def test_rag_check_without_its_input_fails_and_says_which(stub: Any) -> None:
    judge = stub(_yes_if(""))
    res = run({"type": "context-faithfulness", "judge": judge.id}, "x", inputs={"query": "q"})
    assert not res.passed and "'context'" in res.reason


def test_context_recall(stub: Any) -> None:
    judge = stub(_yes_if("Lima"))
    spec = {"type": "context-recall", "value": "Lima", "judge": judge.id}
    assert run(spec, "x", inputs={"context": "Lima is the capital."}).passed
    judge2 = stub(_yes_if("Cusco"))
    assert not run({**spec, "judge": judge2.id}, "x", inputs={"context": "Lima."}).passed


def test_moderation_and_classifier_say_what_they_need(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    res = run({"type": "moderation"}, "hello")
    assert not res.passed and "OPENAI_API_KEY" in res.reason
    res = run({"type": "classifier", "model": "org/model", "value": "toxic"}, "hello")
    assert not res.passed and "HF_TOKEN" in res.reason


def test_moderation_reads_the_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers_http import LoopbackServer, Recorded, Reply

    def handle(req: Recorded) -> Reply:
        flagged = "hate" in req.json["input"]
        return Reply(
            200,
            {"results": [{"flagged": flagged, "categories": {"hate": flagged, "violence": False}}]},
        )

    from prompteur.config import load_config
    from prompteur.models.pool import ModelPool

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with LoopbackServer(handle) as server:
        # The key goes only to the endpoint the project names (a suite cannot redirect it).
        (tmp_path / "prompteur.toml").write_text(
            f'[providers.openai]\nbase_url = "{server.url}/v1"\n'
            f'[security]\nendpoints = ["{server.url}/v1"]\n',
            encoding="utf-8",
        )
        pool = ModelPool(load_config(tmp_path))
        spec = {"type": "moderation"}
        assert run(spec, "a kind word", models=pool).passed
        res = run(spec, "some hate", models=pool)
        assert not res.passed and "hate" in res.reason
        assert server.requests[0].headers["authorization"] == "Bearer sk-test"


# ---- providers promptfoo configs use --------------------------------------------------------


def test_bedrock_converse_on_the_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers_http import LoopbackServer, Recorded, Reply

    from prompteur.models import AuthError, Message, Params, Request, get_model

    def handle(req: Recorded) -> Reply:
        if req.headers.get("authorization") != "Bearer br-key":
            return Reply(403, {"message": "The security token included in the request is invalid"})
        return Reply(
            200,
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "Paris"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 12, "outputTokens": 1},
            },
        )

    with LoopbackServer(handle) as server:
        monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "br-key")
        from prompteur.models.bedrock import BedrockModel

        model = BedrockModel(
            "bedrock:anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic.claude-3-haiku-20240307-v1:0",
            server.url,
            "br-key",
        )
        request = Request(
            (Message("system", "Be brief."), Message("user", "Capital of France?")),
            Params(temperature=0, max_tokens=5, stop=["\n"]),
        )
        response = asyncio.run(model.generate(request))
        assert response.text == "Paris" and response.usage.output_tokens == 1
        sent = server.requests[0]
        assert sent.path == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
        assert sent.json == {
            "messages": [{"role": "user", "content": [{"text": "Capital of France?"}]}],
            "system": [{"text": "Be brief."}],
            "inferenceConfig": {"maxTokens": 5, "temperature": 0.0, "stopSequences": ["\n"]},
        }
        bad = BedrockModel("bedrock:x", "x", server.url, "wrong")
        with pytest.raises(AuthError, match="security token"):
            asyncio.run(bad.generate(request))
    assert get_model("bedrock:x").id == "bedrock:x"  # the key comes from the environment


def test_similar_on_bedrock_embeddings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """promptfoo's `bedrock:embeddings:` provider: Titan's InvokeModel, one text a call."""
    from helpers_http import LoopbackServer, Recorded, Reply

    vectors = {"sunny": [1.0, 0.0], "It is sunny today": [0.9, 0.1], "Heavy rain": [0.0, 1.0]}

    def handle(req: Recorded) -> Reply:
        assert req.path == "/model/amazon.titan-embed-text-v2%3A0/invoke"
        return Reply(200, {"embedding": vectors[req.json["inputText"]], "inputTextTokenCount": 2})

    with LoopbackServer(handle) as server:
        (tmp_path / "prompteur.toml").write_text(
            f'[providers.bedrock]\nbase_url = "{server.url}"\n', encoding="utf-8"
        )
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "br-key")
        from prompteur.config import load_config
        from prompteur.models.pool import ModelPool

        pool = ModelPool(load_config(tmp_path))
        spec: dict[str, Any] = {"type": "similar", "value": "sunny", "threshold": 0.8}
        spec["embedder"] = "bedrock:amazon.titan-embed-text-v2:0"
        assert run(spec, "It is sunny today", models=pool).passed
        assert not run(spec, "Heavy rain", models=pool).passed
        assert len(server.requests) == 3 and server.requests[0].headers["authorization"] == (
            "Bearer br-key"
        )


def test_echo_answers_with_its_prompt() -> None:
    from prompteur.models import Message, Request, get_model

    one = asyncio.run(get_model("echo").generate(Request((Message("user", "hello"),))))
    assert one.text == "hello"
    two = asyncio.run(
        get_model("echo").generate(Request((Message("system", "s"), Message("user", "u"))))
    )
    assert json.loads(two.text) == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
    ]
