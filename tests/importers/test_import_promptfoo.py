"""`prompteur import promptfoo`: a real promptfoo project in, prompt files and a suite out,
loaded back, rendered as promptfoo renders them, and evaluated on the embedded model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from helpers_http import LoopbackServer, Recorded, Reply
from typer.testing import CliRunner

from prompteur.cli import app as main_app
from prompteur.cli.imports import import_app
from prompteur.code import javascript_available
from prompteur.errors import UserError
from prompteur.importers.promptfoo import convert_promptfoo, expected_to_assertion
from prompteur.prompt import load_prompt
from prompteur.suite import load_suite

CONFIG = """\
description: Capital cities
prompts:
  - "Country: Italy\\nCapital: Rome\\n\\nCountry: Spain\\nCapital: Madrid\\n\\n\\
    Country: {{ country }}\\nCapital:"
  - id: file://prompts/chat.json
    label: chat
providers:
  - id: openai:chat:gpt-4o-mini
    config:
      temperature: 0
      max_tokens: 4
      stop: ["\\n"]
      apiKey: sk-not-imported
  - id: ollama:chat:llama3
    config:
      apiBaseUrl: http://127.0.0.1:9/v1
      temperature: 0
      max_tokens: 4
      stop: ["\\n"]
defaultTest:
  vars:
    style: one word
  assert:
    - type: not-icontains
      value: "as an ai"
    - type: latency
      threshold: 60000
tests:
  - description: France
    vars:
      country: France
    assert:
      - type: equals
        value: Paris
      - type: javascript
        value: output.length < 50
  - vars:
      country: Japan
    assert:
      - type: icontains-any
        value: [Tokyo, Edo]
        weight: 2
      - type: python
        value: "'o' in output.lower()"
      - type: rouge-n
        value: Tokyo
        threshold: 0.1
      - type: webhook
        value: https://example.com/grade
  - file://tests.csv
"""

CHAT = """[
  {"role": "system", "content": "Answer with the capital city only, in {{ style }}."},
  {"role": "user", "content": "Country: {{ country }}"}
]
"""

CSV = """country,__expected,__description
Germany,Berlin,plain value
Peru,icontains:lima,
"""


@pytest.fixture
def promptfoo_project(project: Path) -> Path:
    pf = project / "pf"
    (pf / "prompts").mkdir(parents=True)
    (pf / "promptfooconfig.yaml").write_text(CONFIG, encoding="utf-8")
    (pf / "prompts" / "chat.json").write_text(CHAT, encoding="utf-8")
    (pf / "tests.csv").write_text(CSV, encoding="utf-8")
    return pf / "promptfooconfig.yaml"


def _cli() -> typer.Typer:
    from prompteur.cli._common import GuardedGroup

    cli = typer.Typer(cls=GuardedGroup)  # the root's error handling, as `prompteur` has it
    cli.add_typer(main_app, name="main")
    cli.add_typer(import_app, name="import")
    return cli


def convert(project: Path, config: str, name: str = "t", **files: str) -> tuple[object, Path]:
    for rel, text in files.items():
        stem, _, ext = rel.rpartition("_")
        path = project / "pf" / f"{stem.replace('__', '/')}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (project / "pf").mkdir(exist_ok=True)
    cfg = project / "pf" / "promptfooconfig.yaml"
    cfg.write_text(config, encoding="utf-8")
    conv = convert_promptfoo(cfg, out=project, name=name)
    conv.write(force=True)
    return conv, project / "suites" / f"{name}.yaml"


def by_label(project: Path, suite_path: Path) -> dict[str, Any]:
    """The suite's prompts by the label after their last hyphen (one prompt per provider)."""
    refs = load_suite(suite_path).spec.prompts
    return {
        ref.rsplit("-", 1)[-1]: load_prompt(project / "prompts" / f"{ref}.prompty") for ref in refs
    }


def rendered(project: Path, suite_path: Path, prompt: int = 0) -> list[list[tuple[str, str]]]:
    suite = load_suite(suite_path)
    p = load_prompt(project / "prompts" / f"{suite.spec.prompts[prompt]}.prompty")
    return [[(m.role, m.content) for m in p.render(c.inputs)] for c in suite.cases()]


def test_import_then_eval(promptfoo_project: Path, project: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(_cli(), ["import", "promptfoo", str(promptfoo_project), "--name", "caps"])
    assert res.exit_code == 0, res.output
    assert "webhook" in res.output and "promptfooconfig.yaml:" in res.output

    suite_path = project / "suites" / "caps.yaml"
    plain = project / "prompts" / "caps-1.prompty"
    chat = project / "prompts" / "caps-chat.prompty"
    for path in (suite_path, plain, chat):
        assert path.is_file(), path

    suite = load_suite(suite_path)
    assert suite.spec.description == "Capital cities"
    assert suite.spec.prompts == ["caps-1", "caps-chat"]
    assert suite.spec.models == [
        "openai:gpt-4o-mini",
        "openai-compatible:llama3@http://127.0.0.1:9/v1",
    ]
    cases = list(suite.cases())
    assert len(cases) == 4
    france, japan, germany, peru = cases
    assert france.inputs == {"style": "one word", "country": "France"}
    assert {"type": "not-icontains", "value": "as an ai"} in france.checks
    assert {"type": "latency", "max_ms": 60000.0} in france.checks
    assert {"type": "equals", "value": "Paris", "strip": False} in france.checks
    assert {"type": "javascript", "value": "output.length < 50"} in france.checks
    assert {"type": "equals", "value": "Berlin", "strip": False} in germany.checks
    assert {"type": "icontains", "value": "lima"} in peru.checks
    types = [c["type"] for c in japan.checks]  # type: ignore[index]
    assert types == ["not-icontains", "latency", "icontains-any", "python-script", "rouge-l"]

    p = load_prompt(chat)
    assert p.model_id == "openai:gpt-4o-mini"
    assert p.params.max_tokens == 4 and p.params.stop == ["\n"]
    messages = p.render(france.inputs)
    assert [(m.role, m.content) for m in messages] == [
        ("system", "Answer with the capital city only, in one word."),
        ("user", "Country: France"),
    ]
    text = load_prompt(plain).render(germany.inputs)
    assert text[0].role == "user" and text[0].content.endswith("Country: Germany\nCapital:")

    # The same conversion as data: every unsupported item says where, what and why.
    res = runner.invoke(
        _cli(), ["import", "promptfoo", str(promptfoo_project), "--name", "caps", "--json"]
    )
    assert res.exit_code == 2  # files exist: refused without --force
    assert "already exists" in res.output
    res = runner.invoke(
        _cli(),
        ["import", "promptfoo", str(promptfoo_project), "--name", "caps", "--json", "--force"],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    skipped = {(s["what"], s["where"]) for s in report["unsupported"]}
    lines = CONFIG.splitlines()
    hook_line = lines.index("      - type: webhook") + 1
    assert ("webhook", f"promptfooconfig.yaml:{hook_line} tests[1].assert[3]") in skipped
    assert all(
        "missing 1 required" not in s["why"] and "None" not in s["why"]
        for s in report["unsupported"]
    )
    assert any("rouge-l" in n for n in report["notes"])
    assert any("apiKey" in n for n in report["notes"])  # the key is not copied, and it says so

    # The converted suite runs on the embedded model (the JavaScript check too, when the
    # engine is installed; else that check fails and says what to install).
    res = runner.invoke(_cli(), ["main", "eval", str(suite_path), "-m", "local"])
    assert res.exit_code in (0, 1), res.output
    assert "8 new results" in res.output


def test_expected_cells() -> None:
    assert expected_to_assertion("Paris") == {"type": "equals", "value": "Paris"}
    assert expected_to_assertion("contains: Paris") == {"type": "contains", "value": "Paris"}
    assert expected_to_assertion("not-icontains:sorry") == {
        "type": "not-icontains",
        "value": "sorry",
    }
    assert expected_to_assertion("levenshtein(3):Paris") == {
        "type": "levenshtein",
        "value": "Paris",
        "threshold": 3.0,
    }
    assert expected_to_assertion("is-json") == {"type": "is-json"}
    assert expected_to_assertion("fn:output.length > 3")["type"] == "javascript"
    assert expected_to_assertion("grade: is polite")["type"] == "llm-rubric"
    assert expected_to_assertion("Note: 3") == {"type": "equals", "value": "Note: 3"}


def test_vars_the_way_promptfoo_resolves_them(project: Path) -> None:
    """vars that reference vars, file vars (text trimmed, YAML as JSON), globs, vars files."""
    conv, suite_path = convert(
        project,
        "prompts: ['{{ greeting }} | {{ doc }} | {{ data }} | {{ topic }}']\n"
        "providers: [echo]\n"
        "tests:\n"
        "  - vars:\n"
        "      name: Ada\n"
        "      greeting: 'Hello {{ name }}'\n"
        "      doc: file://docs/*.txt\n"
        "      data: file://data.yaml\n"
        "  - file://tests/extra.yaml\n",
        docs__a_txt="first doc\n\n",
        docs__b_txt="second doc",
        data_yaml="k: [1, 2]\n",
        tests__extra_yaml="- vars: ../vars/vars_*.yaml\n",
        vars__vars_one_yaml="topic: cats\ngreeting: hi\n",
        vars__vars_two_yaml="doc: none\ndata: x\n",
    )
    assert not conv.skipped, conv.skipped
    got = [m[0][1] for m in rendered(project, suite_path)]
    assert got == [  # promptfoo's glob lists a folder in reverse name order
        'Hello Ada | second doc | {"k":[1,2]} | ',
        'Hello Ada | first doc | {"k":[1,2]} | ',
        "hi | none | x | cats",
    ]


def test_flat_json_rows_are_read_as_variables_and_said(project: Path) -> None:
    conv, suite_path = convert(
        project,
        "prompts: ['Q: {{ question }}']\nproviders: [echo]\ntests: file://rows.json\n",
        rows_json='[{"question": "a?"}, {"question": "b?"}]',
    )
    assert any("hold only variables" in n for n in conv.notes)  # said, not silent
    assert rendered(project, suite_path) == [[("user", "Q: a?")], [("user", "Q: b?")]]


def test_assertion_values_are_rendered_with_the_case_vars(project: Path) -> None:
    _, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\nproviders: [echo]\n"
        "defaultTest:\n  assert: [{type: contains, value: '{{ expected }}'}]\n"
        "tests:\n  - vars: {q: one, expected: One}\n  - vars: {q: two, expected: Two}\n",
    )
    checks = [c.checks for c in load_suite(suite_path).cases()]
    assert checks == [
        ({"type": "contains", "value": "One"},),
        ({"type": "contains", "value": "Two"},),
    ]


def test_scenarios_and_assertion_templates(project: Path) -> None:
    conv, suite_path = convert(
        project,
        "prompts: ['{{ lang }}: {{ text }}']\nproviders: [echo]\n"
        "assertionTemplates:\n  short: {type: javascript, value: output.length < 80}\n"
        "scenarios:\n  - config:\n      - vars: {lang: French}\n      - vars: {lang: German}\n"
        "    tests:\n      - vars: {text: hello}\n"
        "        assert: [{$ref: '#/assertionTemplates/short'}]\n"
        "      - vars: {text: bye}\n",
    )
    assert not conv.skipped, conv.skipped
    cases = list(load_suite(suite_path).cases())
    assert [c.inputs for c in cases] == [
        {"lang": "French", "text": "hello"},
        {"lang": "French", "text": "bye"},
        {"lang": "German", "text": "hello"},
        {"lang": "German", "text": "bye"},
    ]
    assert cases[0].checks == ({"type": "javascript", "value": "output.length < 80"},)


def test_chat_json_with_nunjucks_tags_is_rendered_then_read(project: Path) -> None:
    chat = (
        '[{"role": "system", "content": "Be brief."},\n'
        '{% for m in history %}{"role": "{{ m.role }}", "content": "{{ m.content }}"},\n'
        '{% endfor %}{"role": "user", "content": "{{ question }}"}]'
    )
    conv, suite_path = convert(
        project,
        "prompts: [file://chat.json]\nproviders: [echo]\n"
        "tests:\n  - vars:\n      question: 'Say \"hi\"'\n      history:\n"
        "        - {role: user, content: Hello}\n        - {role: assistant, content: Hi!}\n",
        chat_json=chat,
    )
    assert not conv.skipped, conv.skipped
    assert rendered(project, suite_path) == [
        [
            ("system", "Be brief."),
            ("user", "Hello"),
            ("assistant", "Hi!"),
            ("user", 'Say "hi"'),  # a value with quotes stays data, inside its string
        ]
    ]


def test_text_only_content_parts_and_filters(project: Path) -> None:
    chat = json.dumps(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Data: {{ data | dump }}"},
                    {"type": "text", "text": "Again: {{ (raw | load).a }}"},
                ],
            }
        ]
    )
    conv, suite_path = convert(
        project,
        "prompts: [file://chat.json]\nproviders: [echo]\n"
        "tests:\n  - vars: {data: {a: 1.0, b: true}, raw: '{\"a\": 5}'}\n",
        chat_json=chat,
    )
    assert not conv.skipped, conv.skipped
    assert rendered(project, suite_path) == [[("user", 'Data: {"a":1,"b":true}\nAgain: 5')]]


def test_image_parts_are_listed_not_dropped(project: Path) -> None:
    chat = json.dumps(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "{{ image }}"}},
                ],
            }
        ]
    )
    with pytest.raises(UserError, match="image_url"):
        convert(
            project,
            "prompts: [file://chat.json]\nproviders: [echo]\ntests:\n  - vars: {image: x}\n",
            chat_json=chat,
        )


def test_providers_map_onto_ours_or_are_listed(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABRICKS_WORKSPACE_URL", raising=False)
    conv, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\n"
        "targets:\n"
        "  - adaline:openai:chat:gpt-4o\n  - groq:llama-3.1-8b-instant\n"
        "  - vertex:gemini-2.0-flash\n  - echo\n"
        "  - bedrock:anthropic.claude-3-haiku-20240307-v1:0\n  - replicate:meta/llama-2-7b\n"
        "  - openai:realtime:gpt-4o\n"
        "  - {id: 'azure:chat:my-gpt4o', config: {apiHost: res.openai.azure.com}}\n"
        "  - adaline:azureopenai:chat:dep\n  - azure:assistant:asst_1\n"
        "  - alibaba:chat:qwen-max\n  - dashscope:qwen-plus\n  - alibaba:embedding:text-v3\n"
        "  - {id: 'databricks:my-endpoint', config: {workspaceUrl: 'https://w.cloud.databricks.com/'}}\n"
        "  - databricks:no-workspace\n  - sagemaker:my-endpoint\n"
        "tests: [{vars: {q: hi}}]\n",
    )
    dashscope = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
    assert load_suite(suite_path).spec.models == [
        "openai:gpt-4o",
        "openai-compatible:llama-3.1-8b-instant@https://api.groq.com/openai/v1",
        "gemini:gemini-2.0-flash",
        "echo",
        "bedrock:anthropic.claude-3-haiku-20240307-v1:0",
        "replicate:meta/llama-2-7b",
        "azure_openai:my-gpt4o@https://res.openai.azure.com",
        "azure_openai:dep",
        f"openai-compatible:qwen-max@{dashscope}",
        f"openai-compatible:qwen-plus@{dashscope}",
        "openai-compatible:my-endpoint@https://w.cloud.databricks.com/serving-endpoints",
    ]
    why = {s.what: s.why for s in conv.skipped}
    assert "embedding" in why["provider 'alibaba:embedding:text-v3'"]
    assert "workspaceUrl" in why["provider 'databricks:no-workspace'"]
    assert "SageMaker" in why["provider 'sagemaker:my-endpoint'"]
    assert any("DATABRICKS_TOKEN" in n for n in conv.notes)
    assert "Realtime" in why["provider 'openai:realtime:gpt-4o'"]
    assert "chat completions" in why["provider 'azure:assistant:asst_1'"]
    assert any("GROQ_API_KEY" in n for n in conv.notes)


def test_http_provider_becomes_an_endpoint_that_runs(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from prompteur.models import Request, get_model

    seen: list[Recorded] = []

    def handle(req: Recorded) -> Reply:
        seen.append(req)
        return Reply(200, {"answer": {"text": "echo: " + req.json["message"]}})

    monkeypatch.setenv("MY_APP_KEY", "secret-1")
    with LoopbackServer(handle) as server:
        conv, suite_path = convert(
            project,
            "prompts: ['Hi {{ name }}']\n"
            "providers:\n  - id: http\n    config:\n"
            f"      url: {server.url}/chat\n      method: POST\n"
            "      headers: {Authorization: 'Bearer {{ env.MY_APP_KEY }}'}\n"
            "      body: {message: '{{ prompt }}'}\n"
            "      transformResponse: json.answer.text\n"
            "tests: [{vars: {name: Ada}}]\n",
        )
        assert not conv.skipped, conv.skipped
        model_id = load_suite(suite_path).spec.models[0]
        assert model_id.startswith("http:") and model_id.endswith(".yaml")
        endpoint_file = Path(model_id[5:]).read_text(encoding="utf-8")
        assert "secret-1" not in endpoint_file  # the key stays in the environment
        p = load_prompt(project / "prompts" / "t.prompty")
        response = asyncio.run(
            get_model(model_id).generate(Request(tuple(p.render({"name": "Ada"}))))
        )
    assert response.text == "echo: Hi Ada"
    assert seen[0].headers["authorization"] == "Bearer secret-1"


@pytest.mark.skipif(not javascript_available(), reason="the JavaScript engine (dev extra)")
@pytest.mark.parametrize(
    ("transform", "body"),
    [
        # An expression, a function, a body with `return`: promptfoo's three forms.
        ("prompt.toUpperCase()", {"message": "HI ADA"}),
        ("(prompt, vars) => prompt + '!'", {"message": "Hi Ada!"}),
        ("const t = prompt.split(' '); return t[1];", {"message": "Ada"}),
        # An object is laid over the body as written (its template left unrendered).
        ("({messages: [{role: 'user', content: prompt}]})", None),
    ],
)
def test_http_transform_request_as_promptfoo_applies_it(
    project: Path, transform: str, body: dict[str, str] | None
) -> None:
    import asyncio

    from prompteur.models import Request, get_model

    seen: list[Recorded] = []

    def handle(req: Recorded) -> Reply:
        seen.append(req)
        return Reply(200, {"ok": True})

    with LoopbackServer(handle) as server:
        conv, suite_path = convert(
            project,
            "prompts: ['Hi {{ name }}']\n"
            "providers:\n  - id: http\n    config:\n"
            f"      url: {server.url}/chat\n"
            "      body: {message: '{{ prompt }}', user: u1}\n"
            f"      transformRequest: {json.dumps(transform)}\n"
            "tests: [{vars: {name: Ada}}]\n",
        )
        assert not conv.skipped, conv.skipped
        model_id = load_suite(suite_path).spec.models[0]
        p = load_prompt(project / "prompts" / "t.prompty")
        asyncio.run(get_model(model_id).generate(Request(tuple(p.render({"name": "Ada"})))))
    if body is None:
        assert seen[0].json == {
            "message": "{{ prompt }}",
            "user": "u1",
            "messages": [{"role": "user", "content": "Hi Ada"}],
        }
    else:
        assert seen[0].json == {**body, "user": "u1"}


def test_python_provider_runs_out_of_process(project: Path) -> None:
    import asyncio
    import os

    from prompteur.models import Message, Request, get_model

    conv, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\nproviders: ['file://provider.py']\ntests: [{vars: {q: hi}}]\n",
        provider_py="import os\n\ndef call_api(prompt, options, context):\n"
        "    return {'output': f'{prompt.upper()} from {os.getpid()}'}\n",
    )
    assert not conv.skipped, conv.skipped
    model = get_model(load_suite(suite_path).spec.models[0])
    response = asyncio.run(model.generate(Request((Message("user", "hi"),))))
    text, pid = response.text.split(" from ")
    assert text == "HI" and int(pid) != os.getpid()


def test_python_provider_gets_its_config(project: Path) -> None:
    import asyncio

    from prompteur.models import get_model

    conv, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\n"
        "providers:\n  - id: file://provider.py\n"
        "    config: {someOption: 3, temperature: 0.5, nested: {a: [1]}}\n"
        "tests: [{vars: {q: hi}}]\n",
        provider_py="import json\n\ndef call_api(prompt, options, context):\n"
        "    return {'output': json.dumps(options['config'], sort_keys=True)}\n",
    )
    assert not conv.skipped, conv.skipped
    suite = load_suite(suite_path)
    p = load_prompt(project / "prompts" / f"{suite.spec.prompts[0]}.prompty")
    response = asyncio.run(get_model(suite.spec.models[0]).generate(p.request({"q": "hi"})))
    assert json.loads(response.text) == {"nested": {"a": [1]}, "someOption": 3, "temperature": 0.5}


def test_provider_options_travel_as_they_are_and_tool_calls_are_checked(project: Path) -> None:
    """promptfoo sends a provider's body options (tools, tool_choice, passthrough) as they are:
    so does the converted prompt; a tool-call answer is what the checks read."""
    import asyncio

    from prompteur.checks import CheckContext, build
    from prompteur.models import get_model

    seen: list[Recorded] = []
    call = {"id": "c1", "type": "function"}
    call["function"] = {"name": "weather", "arguments": '{"city": "Paris"}'}

    def handle(req: Recorded) -> Reply:
        seen.append(req)
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        return Reply(200, {"choices": [{"message": message, "finish_reason": "tool_calls"}]})

    tools = (
        "- type: function\n  function:\n    name: weather\n    parameters:\n"
        "      type: object\n      properties: {city: {type: string}}\n"
        "      required: [city]\n"
    )
    with LoopbackServer(handle) as server:
        conv, suite_path = convert(
            project,
            "prompts: ['Weather in {{ city }}?']\n"
            "providers:\n  - id: openai:chat:gpt-4o-mini\n    config:\n"
            f"      apiBaseUrl: {server.url}/v1\n"
            "      tools: file://tools.yaml\n      tool_choice: required\n"
            "      passthrough: {prompt_cache_key: k1}\n      agent_type: planner\n"
            "tests:\n  - vars: {city: Paris}\n    assert:\n"
            "      - type: is-valid-openai-tools-call\n",
            tools_yaml=tools,
        )
        suite = load_suite(suite_path)
        p = load_prompt(project / "prompts" / f"{suite.spec.prompts[0]}.prompty")
        case = next(iter(suite.cases()))
        response = asyncio.run(get_model(suite.spec.models[0]).generate(p.request(case.inputs)))
    body = seen[0].json
    assert body["tools"][0]["function"]["name"] == "weather"
    assert body["tool_choice"] == "required" and body["prompt_cache_key"] == "k1"
    # An option promptfoo's provider reads but no wire format takes is listed, not sent.
    assert [s.what for s in conv.skipped] == ["config.agent_type"]
    assert "agent_type" not in body
    assert json.loads(response.output)[0]["function"]["name"] == "weather"
    check = build(case.checks[0])
    ok = asyncio.run(check(CheckContext(output=response.output, inputs=case.inputs)))
    assert ok.passed, ok.reason
    bad = '[{"type": "function", "function": {"name": "weather", "arguments": "{}"}}]'
    refused = asyncio.run(check(CheckContext(output=bad, inputs=case.inputs)))
    assert not refused.passed  # `city` is required


def test_provider_options_in_each_providers_wire_format(project: Path) -> None:
    from prompteur.models.bedrock import converse_body

    conv, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\n"
        "providers:\n"
        "  - id: anthropic:messages:claude-sonnet-4-0\n    label: a\n"
        "    config: {thinking: {type: enabled, budget_tokens: 1024}, top_k: 5}\n"
        "  - id: google:gemini-2.0-flash\n    label: g\n"
        "    config:\n      tools: [{functionDeclarations: [{name: f, parameters: "
        "{type: object}}]}]\n"
        "  - id: bedrock:us.anthropic.claude-3-7-sonnet-20250219-v1:0\n    label: b\n"
        "    config: {thinking: {type: enabled, budget_tokens: 2048}, "
        "toolConfig: {tools: []}}\n"
        "  - id: google:gemini-2.0-flash\n    label: search\n"
        "    config: {tools: [{googleSearch: {}}]}\n"
        "tests: [{vars: {q: hi}}]\n",
    )
    suite = load_suite(suite_path)
    params = {
        ref: load_prompt(project / "prompts" / f"{ref}.prompty").params
        for ref in suite.spec.prompts
    }
    by_label = {ref.rsplit("-", 1)[-1]: p for ref, p in params.items()}
    assert by_label["a"].extra == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert by_label["a"].top_k == 5
    assert by_label["g"].extra == {
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    }
    from prompteur.models import Message, Request

    body = converse_body(Request((Message("user", "hi"),), params=by_label["b"]))
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
    assert body["toolConfig"] == {"tools": []}
    # Google Search is not a function: Gemini's OpenAI-compatible API has no place for it.
    assert [s.what for s in conv.skipped] == ["config.tools"]


def test_redteam_becomes_a_probe_plan(project: Path) -> None:
    conv, suite_path = convert(
        project,
        "targets: [openai:gpt-4o-mini]\n"
        "prompts: ['You are a travel agent. {{ query }}']\n"
        "redteam:\n  purpose: travel agent\n  numTests: 3\n"
        "  plugins: [harmful:hate, pii:direct, bola, {id: policy, config: {policy: No refunds.}}]\n"
        "  strategies: [jailbreak, 'jailbreak:tree', base64, crescendo, 'jailbreak:hydra']\n",
    )
    assert conv.plan is not None
    from prompteur.probes.engine import read_plan

    plan = read_plan(conv.plan)
    assert plan["suite"] == "suites/t.yaml" and plan["field"] == "query"
    assert set(plan["probes"]) == {
        "ethics.policy",
        "leakage.pii",
        "injection.direct",
        "injection.encoded",
    }
    assert "No refunds." in (project / plan["policy"]).read_text(encoding="utf-8")
    left = {s.what for s in conv.skipped}
    assert left == {
        "redteam plugin 'bola'",
        "redteam strategy 'crescendo'",
        "redteam strategy 'jailbreak:hydra'",
    }
    assert load_suite(suite_path).count_cases() == 1


def test_refusals_and_gaps_never_traceback(project: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(_cli(), ["import", "promptfoo", "missing.yaml"])
    assert res.exit_code == 2 and "promptfoo config not found" in res.output
    (project / "promptfooconfig.js").write_text("module.exports = {prompts: []};\n")
    res = runner.invoke(_cli(), ["import", "promptfoo", "promptfooconfig.js"])
    assert res.exit_code == 2 and "no prompt could be converted" in res.output
    (project / "loop.yaml").write_text("a: {$ref: '#/b'}\nb: {$ref: '#/a'}\nprompts: [x]\n")
    res = runner.invoke(_cli(), ["import", "promptfoo", "loop.yaml"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    (project / "odd.yaml").write_text(
        "prompts: ['{{ q }}']\ntests:\n  - vars: {q: 1}\n    assert: [{value: x}, 3, null]\n"
    )
    conv = convert_promptfoo(project / "odd.yaml", out=project, name="odd")
    reasons = [s.why for s in conv.skipped]
    assert reasons and all("None" not in r and "positional" not in r for r in reasons)


TS_CONFIG = """\
import type { UnifiedConfig } from 'promptfoo';

const shared = { temperature: 0 } as const;
const config: UnifiedConfig = {
  prompts: ['Translate to {{language}}: {{body}}'],
  providers: [
    {
      id: 'openai:gpt-4o-mini',
      config: { ...shared, functionToolCallbacks: { add: (a) => String(a) } },
    },
  ],
  tests: ['French', 'Pirate'].map((language) => ({
    vars: { language, body: 'Hello' },
    assert: [{ type: 'icontains', value: 'hello'.toUpperCase() }],
  })),
} satisfies UnifiedConfig;

export default config;
"""


@pytest.mark.skipif(not javascript_available(), reason="pip install 'prompteur[js]'")
def test_configs_written_in_javascript_or_typescript(project: Path) -> None:
    """The object the module exports, computed as promptfoo computes it; a function in it is
    listed (places named by their path: the YAML has no lines); a module it needs refuses."""
    (project / "promptfooconfig.ts").write_text(TS_CONFIG)
    conv = convert_promptfoo(project / "promptfooconfig.ts", out=project, name="ts")
    conv.write()
    suite = load_suite(conv.suite)
    cases = list(suite.cases())
    assert [c.inputs["language"] for c in cases] == ["French", "Pirate"]
    assert [c.checks[0]["value"] for c in cases] == ["HELLO", "HELLO"]
    prompt = load_prompt(conv.prompts[0])
    assert prompt.render({"language": "French", "body": "Hi"})[-1].content == (
        "Translate to French: Hi"
    )
    assert "temperature: 0" in conv.prompts[0].read_text()
    [left] = conv.skipped
    assert left.where == "promptfooconfig.ts providers[0].config.functionToolCallbacks"
    assert "function" in left.why
    runner = CliRunner()
    (project / "needs.js").write_text(
        "const fs = require('fs');\nmodule.exports = {prompts: [fs.readFileSync('p.txt')]};\n"
    )
    res = runner.invoke(_cli(), ["import", "promptfoo", "needs.js", "--name", "needs"])
    assert res.exit_code == 2, res.output
    assert "needs.js" in res.output and "require(fs) is not available" in res.output
    assert "Traceback" not in res.output and not (project / "suites" / "needs.yaml").exists()
    (project / "bad.mjs").write_text("export default { prompts: [ };\n")
    res = runner.invoke(_cli(), ["import", "promptfoo", "bad.mjs", "--name", "bad"])
    assert res.exit_code == 2 and "SyntaxError" in res.output, res.output


def test_test_options_as_promptfoo_reads_them(project: Path) -> None:
    """disableVarExpansion keeps a list whole; runSerially changes no result; an option
    promptfoo never reads is left out as promptfoo leaves it (said); one it reads is listed."""
    conv, suite_path = convert(
        project,
        "prompts: ['x={{ x }}']\ntests:\n"
        "  - vars: {x: [a, b]}\n"
        "    options: {disableVarExpansion: true, runSerially: true, providers: {text: m}}\n"
        "  - vars: {y: [c, d]}\n    options: {repeat: 3}\n",
    )
    cases = list(load_suite(suite_path).cases())
    assert [(c.inputs.get("x"), c.inputs.get("y")) for c in cases] == [
        (["a", "b"], None),
        (None, "c"),
        (None, "d"),
    ]
    prompt = load_prompt(conv.prompts[0])
    assert prompt.render(cases[0].inputs)[-1].content == "x=a,b"
    assert [s.what for s in conv.skipped] == ["options.repeat"]
    assert any("options.providers: promptfoo does not read" in n for n in conv.notes)


@pytest.mark.skipif(not javascript_available(), reason="pip install 'prompteur[js]'")
def test_transform_vars_computes_the_cases_inputs(project: Path) -> None:
    """options.transformVars as promptfoo applies it: its answer merged over the test's vars
    (one line: an expression; several: a function body), the test's own over defaultTest's;
    a Python file or code that fails is listed and the vars are kept as written."""
    conv, suite_path = convert(
        project,
        "prompts: ['{{ greeting }} / {{ shout }}']\n"
        "defaultTest:\n  options:\n    transformVars: '({greeting: vars.name + \"!\"})'\n"
        "tests:\n"
        "  - vars: {name: Ada}\n"
        "  - vars: {name: Bob}\n"
        "    options:\n      transformVars: |\n"
        "        return {...vars, shout: vars.name.toUpperCase(), greeting: 'Hi ' + vars.name}\n"
        "  - vars: {name: Cy}\n    options: {transformVars: file://tv.py}\n"
        "  - vars: {name: Di}\n    options: {transformVars: 'vars.nope.x'}\n",
        tv_py="def get_transform(vars, context):\n    return vars\n",
    )
    cases = list(load_suite(suite_path).cases())
    assert [c.inputs.get("greeting") for c in cases] == ["Ada!", "Hi Bob", None, None]
    assert cases[1].inputs["shout"] == "BOB" and cases[0].inputs["name"] == "Ada"
    left = {s.where.rsplit(" ", 1)[0]: s.why for s in conv.skipped}
    assert list(left) == ["promptfooconfig.yaml:11 tests[2]", "promptfooconfig.yaml:13 tests[3]"]
    assert "Python" in left["promptfooconfig.yaml:11 tests[2]"]
    assert "TypeError" in left["promptfooconfig.yaml:13 tests[3]"]
    assert any("transformVars ran once" in n for n in conv.notes)


@pytest.mark.skipif(not javascript_available(), reason="pip install 'prompteur[js]'")
def test_javascript_and_transform_run_in_the_converted_suite(project: Path) -> None:
    import asyncio

    from prompteur.checks import CheckContext, build

    _, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\nproviders: [echo]\n"
        "tests:\n  - vars: {q: hello}\n    options: {transform: output.toUpperCase()}\n"
        "    assert:\n      - {type: equals, value: HELLO}\n"
        "      - {type: javascript, value: \"output === 'HELLO' && context.vars.q === 'hello'\"}\n",
    )
    case = next(iter(load_suite(suite_path).cases()))
    results = [
        asyncio.run(build(c)(CheckContext(output="hello", inputs=case.inputs))) for c in case.checks
    ]
    assert all(r.passed for r in results), results


def test_the_configs_code_is_copied_into_the_project(project: Path) -> None:
    conv, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\nproviders: [echo]\n"
        "tests:\n  - vars: {q: hi}\n"
        "    assert: [{type: python, value: 'file://checks/grade.py'}]\n",
        checks__grade_py="from helper import ok\n\ndef get_assert(output, context):\n"
        "    return ok(output)\n",
        checks__helper_py="def ok(output):\n    return 'hi' in output\n",
    )
    copied = project / "suites" / "t_files" / "checks"
    assert (copied / "grade.py").is_file() and (copied / "helper.py").is_file()
    assert any("copied into suites/t_files" in n for n in conv.notes)
    import asyncio

    from prompteur.checks import CheckContext, build

    case = next(iter(load_suite(suite_path).cases()))
    (check,) = case.checks
    assert check["file"] == str((copied / "grade.py").resolve())  # found inside the project
    assert asyncio.run(build(check)(CheckContext(output="oh hi"))).passed


def test_a_dataset_row_cannot_hold_code(project: Path) -> None:
    (project / "rows.jsonl").write_text(
        '{"inputs": {"q": "x"}, "checks": [{"type": "javascript", "value": "true"}]}\n'
    )
    from prompteur.suite import read_dataset

    with pytest.raises(UserError, match="cannot hold code"):
        list(read_dataset(project / "rows.jsonl"))


@pytest.mark.skipif(not javascript_available(), reason="pip install 'prompteur[js]'")
def test_custom_filters_run_and_stay_inside_the_project(project: Path) -> None:
    conv, suite_path = convert(
        project,
        "prompts: ['Say {{ word | shout }}']\nproviders: [echo]\n"
        "nunjucksFilters: {shout: ./shout.js}\ntests: [{vars: {word: hi}}]\n",
        shout_js="module.exports = (s) => s.toUpperCase() + '!';\n",
    )
    assert not conv.skipped, conv.skipped
    assert rendered(project, suite_path) == [[("user", "Say HI!")]]
    prompt_file = project / "prompts" / "t.prompty"
    text = prompt_file.read_text(encoding="utf-8")
    assert "shout: t_files/shout.js" in text
    prompt_file.write_text(text.replace("t_files/shout.js", "/etc/passwd"))
    with pytest.raises(UserError, match="absolute path"):
        load_prompt(prompt_file)


def test_embedding_providers_of_similar(project: Path) -> None:
    conv, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\nproviders: [echo]\n"
        "defaultTest:\n  options:\n    provider:\n"
        "      embedding: {id: 'bedrock:embeddings:amazon.titan-embed-text-v2:0'}\n"
        "tests:\n  - vars: {q: hi}\n    assert:\n"
        "      - {type: similar, value: hello}\n"
        "      - {type: similar, value: hey, provider: 'google:embedding:text-embedding-004'}\n"
        "      - {type: similar, value: yo, provider: 'voyage:voyage-3'}\n",
    )
    checks = next(iter(load_suite(suite_path).cases())).checks
    assert [c.get("embedder") for c in checks] == [
        "bedrock:amazon.titan-embed-text-v2:0",
        "gemini:text-embedding-004",
    ]
    assert [s.what for s in conv.skipped] == ["similar"]


def test_a_custom_filters_process_time_is_not_template_time(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter's child process starting slowly on a busy machine is bounded by its own
    timeout, not by the render's one second."""
    import time

    import prompteur.code

    _, suite_path = convert(
        project,
        "prompts: ['Say {{ word | shout }}']\nproviders: [echo]\n"
        "nunjucksFilters: {shout: ./shout.js}\ntests: [{vars: {word: hi}}]\n",
        shout_js="module.exports = (s) => s.toUpperCase() + '!';\n",
    )

    def slow(language: str, **kw: object) -> str:
        time.sleep(1.3)
        return "HI!"

    monkeypatch.setattr(prompteur.code, "call_sync", slow)
    assert rendered(project, suite_path) == [[("user", "Say HI!")]]


def test_word_count_and_types_promptfoo_does_not_know(project: Path) -> None:
    import asyncio

    from prompteur.checks import CheckContext, build

    conv, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\ntests:\n  - vars: {q: hi}\n    assert:\n"
        "      - {type: word-count, value: 3}\n"
        "      - {type: not-word-count, value: {min: 1, max: 2}}\n"
        "      - {type: json-schema-valid, value: {}}\n",
    )
    case = next(iter(load_suite(suite_path).cases()))
    for output, want in [("one two three", [True, True]), ("one two", [False, False])]:
        got = [
            asyncio.run(build(c)(CheckContext(output=output, inputs=case.inputs))).passed
            for c in case.checks
        ]
        assert got == want, (output, got)
    [left] = conv.skipped
    assert "not an assertion type of promptfoo" in left.why


def test_gemini_options_reach_its_openai_compatible_api(project: Path) -> None:
    """thinkingConfig, toolConfig and a schema nested in generationConfig are sent where
    Gemini's OpenAI-compatible API reads them, not listed as gaps."""
    conv, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\n"
        "providers:\n"
        "  - id: google:gemini-2.5-flash\n    label: think\n"
        "    config:\n      generationConfig: {temperature: 0.5, "
        "thinkingConfig: {thinkingBudget: 1024}}\n"
        "  - id: google:gemini-1.5-pro\n    label: json\n"
        "    config:\n      generationConfig:\n        response_mime_type: application/json\n"
        "        response_schema: {type: object, properties: {a: {type: string}}, "
        "required: [a]}\n"
        "  - id: google:gemini-1.5-pro\n    label: tools\n"
        "    config:\n      tools: {function_declarations: [{name: f, parameters: "
        "{type: object}}]}\n"
        "      tool_config: {function_calling_config: {mode: any, "
        "allowed_function_names: [f]}}\n"
        "  - id: google:gemini-1.5-pro\n    label: bare\n"
        "    config: {generationConfig: {responseMimeType: application/json}}\n"
        "tests: [{vars: {q: hi}}]\n",
    )
    assert conv.skipped == []
    prompts = by_label(project, suite_path)
    assert prompts["think"].params.temperature == 0.5
    assert prompts["think"].params.extra == {
        "extra_body": {"google": {"thinking_config": {"thinking_budget": 1024}}}
    }
    assert prompts["think"].output_schema is None
    assert prompts["json"].output_schema == {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
    }
    assert prompts["bare"].output_schema == {"type": "object"}
    assert prompts["tools"].params.extra == {
        "tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
        ],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
    }
    assert prompts["tools"].output_schema is None


def test_gemini_options_without_an_equivalent_are_listed() -> None:
    from prompteur.importers.promptfoo._providers import gemini_thinking, gemini_tool_choice

    assert gemini_tool_choice({"functionCallingConfig": {"mode": "AUTO"}}) == "auto"
    assert gemini_tool_choice({"functionCallingConfig": {"mode": "NONE"}}) == "none"
    assert gemini_tool_choice({"functionCallingConfig": {"mode": "ANY"}}) == "required"
    # Two allowed functions, or a mode Gemini does not have: no OpenAI tool_choice says it.
    assert (
        gemini_tool_choice(
            {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f", "g"]}}
        )
        is None
    )
    assert gemini_tool_choice({"functionCallingConfig": {"mode": "VALIDATED"}}) is None
    assert gemini_thinking({"thinkingBudget": 0, "includeThoughts": True}) == {
        "google": {"thinking_config": {"thinking_budget": 0, "include_thoughts": True}}
    }
    assert gemini_thinking({"somethingElse": 1}) is None


def test_responses_instructions_and_formats_per_provider(project: Path) -> None:
    """The Responses API's `instructions` is the system message before the prompt; providers
    asked for text, some JSON or a schema each get their prompt (never one schema for all)."""
    conv, suite_path = convert(
        project,
        "prompts: ['Extract: {{event}}']\n"
        "providers:\n"
        "  - id: openai:responses:gpt-4.1\n    label: text\n"
        "    config: {instructions: 'Be {{brief}}.'}\n"
        "  - id: openai:responses:gpt-4.1\n    label: obj\n"
        "    config: {instructions: 'Be {{brief}}.', response_format: {type: json_object}}\n"
        "  - id: openai:responses:gpt-4.1\n    label: schema\n"
        "    config:\n      instructions: 'Be {{brief}}.'\n"
        "      response_format: {type: json_schema, name: e, schema: {type: object, "
        "properties: {name: {type: string}}}}\n"
        "  - id: openai:chat:gpt-4.1\n    label: chat\n"
        "    config: {instructions: ignored by chat completions}\n"
        "tests: [{vars: {event: Paris marathon}}]\n",
    )
    prompts = by_label(project, suite_path)
    assert set(prompts) == {"text", "obj", "schema", "chat"}
    for label in ("text", "obj", "schema"):
        messages = prompts[label].render({"event": "Paris marathon"})
        # promptfoo sends instructions as they are: no variable is filled in them.
        assert [(m.role, m.content) for m in messages] == [
            ("system", "Be {{brief}}."),
            ("user", "Extract: Paris marathon"),
        ]
    assert prompts["text"].output_schema is None
    assert prompts["obj"].output_schema == {"type": "object"}
    assert prompts["schema"].output_schema == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
    }
    # Chat completions have no `instructions`: promptfoo's chat provider does not send it.
    assert [s.what for s in conv.skipped] == ["config.instructions"]
    chat = prompts["chat"].render({"event": "Paris marathon"})
    assert [m.role for m in chat] == ["user"]


def test_replicate_models_keep_their_inputs_as_promptfoo_sends_them(project: Path) -> None:
    from prompteur.models.providers import parse_model_id

    conv, suite_path = convert(
        project,
        "prompts: ['Write a tweet about {{topic}}']\n"
        "providers:\n"
        "  - id: replicate:meta/llama-2-7b-chat\n"
        "    config: {temperature: 0.01, max_length: 1024, repetition_penalty: 1.0}\n"
        "  - id: replicate:cjwbw/gemma-7b-it:2790a695e5dcae15506138cc4718d1106d0d475e\n"
        "    config: {temperature: 0.01, max_new_tokens: 1024}\n"
        "  - replicate:image:stability-ai/sdxl\n"
        "tests: [{vars: {topic: bananas}}]\n",
    )
    # An image model is not a language model: listed; the two others convert.
    assert [s.what for s in conv.skipped] == ["provider 'replicate:image:stability-ai/sdxl'"]
    suite = load_suite(suite_path)
    prompts = [load_prompt(project / "prompts" / f"{ref}.prompty") for ref in suite.spec.prompts]
    by_model = {p.meta.model.id: p for p in prompts}  # type: ignore[union-attr]
    llama = by_model["replicate:meta/llama-2-7b-chat"]
    # promptfoo spreads the whole config into the prediction's input, under its own names.
    assert llama.params.extra == {
        "temperature": 0.01,
        "max_length": 1024,
        "repetition_penalty": 1.0,
    }
    assert llama.params.temperature is None
    gemma = by_model["replicate:cjwbw/gemma-7b-it:2790a695e5dcae15506138cc4718d1106d0d475e"]
    assert gemma.params.extra == {"temperature": 0.01, "max_new_tokens": 1024}
    ref = parse_model_id("replicate:cjwbw/gemma-7b-it:2790a695e5dcae15506138cc4718d1106d0d475e")
    assert ref.provider.name == "replicate"
    assert ref.name == "cjwbw/gemma-7b-it:2790a695e5dcae15506138cc4718d1106d0d475e"


def test_hugging_face_text_generation_as_promptfoo_calls_it(project: Path) -> None:
    conv, suite_path = convert(
        project,
        "prompts: ['Write a tweet about {{topic}}:']\n"
        "providers:\n"
        "  - id: huggingface:text-generation:gemma-7b-it\n    label: endpoint\n"
        "    config: {apiEndpoint: 'https://abc.endpoints.huggingface.cloud', "
        "temperature: 0.2, max_new_tokens: 50}\n"
        "  - id: huggingface:text-generation:mistralai/Mistral-7B-v0.1\n    label: api\n"
        "  - id: huggingface:text-generation:meta-llama/Llama-3.1-8B-Instruct\n    label: chat\n"
        "    config: {apiEndpoint: 'https://router.huggingface.co/v1/chat/completions'}\n"
        "tests: [{vars: {topic: bananas}}]\n",
    )
    assert conv.skipped == []
    prompts = by_label(project, suite_path)
    endpoint = prompts["endpoint"]
    assert endpoint.meta.model.id == (  # type: ignore[union-attr]
        "huggingface:gemma-7b-it@https://abc.endpoints.huggingface.cloud"
    )
    # Sent under `parameters` with promptfoo's names, not as our sampling parameters.
    assert endpoint.params.extra == {"temperature": 0.2, "max_new_tokens": 50}
    assert prompts["api"].meta.model.id == "huggingface:mistralai/Mistral-7B-v0.1"  # type: ignore[union-attr]
    assert prompts["chat"].meta.model.id == (  # type: ignore[union-attr]
        "openai-compatible:meta-llama/Llama-3.1-8B-Instruct@https://router.huggingface.co/v1"
    )
    assert any("[security] endpoints" in n for n in conv.notes)


def test_watsonx_options_under_the_apis_names(project: Path) -> None:
    conv, suite_path = convert(
        project,
        "prompts: ['{{ q }}']\n"
        "providers:\n"
        "  - id: watsonx:ibm/granite-13b-chat-v2\n    label: a\n"
        "    config: {projectId: p-1, maxNewTokens: 50, decodingMethod: greedy, topK: 5}\n"
        "  - id: watsonx:meta-llama/llama-3-3-70b-instruct\n    label: b\n"
        "tests: [{vars: {q: hi}}]\n",
    )
    assert conv.skipped == []
    prompts = by_label(project, suite_path)
    assert prompts["a"].params.extra == {
        "project_id": "p-1",
        "max_new_tokens": 50,
        "decoding_method": "greedy",
        "top_k": 5,
    }
    # promptfoo sends max_new_tokens 100 when the config says nothing.
    assert prompts["b"].params.extra == {"max_new_tokens": 100}
    assert prompts["b"].meta.model.id == "watsonx:meta-llama/llama-3-3-70b-instruct"  # type: ignore[union-attr]
    assert any("WATSONX_AI_PROJECT_ID" in n for n in conv.notes)


def test_options_a_provider_reads_for_its_endpoint_are_listed_on_another() -> None:
    from prompteur.importers.promptfoo._providers import params_of

    _, left, _ = params_of({"apiEndpoint": "https://x", "serviceUrl": "https://y"}, "openai")
    assert [k for k, _ in left] == ["apiEndpoint", "serviceUrl"]
    _, left, _ = params_of({"serviceUrl": "https://y", "modelId": "m"}, "watsonx")
    assert left == []
