"""The resolver (names are never paths) and the endpoint policy (keys go only where the
project says), at the level of the functions every shell calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_http import LoopbackServer, Recorded, Reply

from prompteur.config import load_config
from prompteur.errors import UserError
from prompteur.library import Library
from prompteur.models.providers import check_endpoint, get_model, key_allowed, parse_model_id

OUTSIDE = "---\nname: outside\n---\nuser:\nSECRET-OUTSIDE\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "outside.prompty"
    path.parent.mkdir()
    path.write_text(OUTSIDE)
    return path


@pytest.mark.parametrize(
    "ref",
    [
        "{outside}",
        "../elsewhere/outside.prompty",
        "../../elsewhere/outside.prompty",
        "prompts/../../elsewhere/outside.prompty",
        "outside.prompty",
        "x" * 2000,
        "sentiment\x00",
        "..%2F..%2Felsewhere%2Foutside.prompty",
    ],
)
def test_a_name_never_reaches_a_file(project: Path, outside: Path, ref: str) -> None:
    library = Library.from_config(load_config(project))
    with pytest.raises(UserError):
        library.get(ref.format(outside=outside))


def test_a_link_out_of_the_project_is_not_a_prompt(project: Path, outside: Path) -> None:
    link = project / "prompts" / "linked.prompty"
    link.symlink_to(outside)
    library = Library.from_config(load_config(project))
    prompts, broken = library.scan()
    assert "outside" not in {p.name for p in prompts}
    assert any(b.path == link and "out of the project" in b.error.message for b in broken)
    with pytest.raises(UserError):
        library.get("outside")
    with pytest.raises(UserError):
        library.get("linked")


def test_a_link_inside_the_project_is_a_prompt(project: Path) -> None:
    shared = project / "shared"
    shared.mkdir()
    (shared / "kept.prompty").write_text("---\nname: kept\n---\nuser:\nhi\n")
    (project / "prompts" / "kept.prompty").symlink_to(shared / "kept.prompty")
    assert Library.from_config(load_config(project)).get("kept").name == "kept"


def test_the_local_user_may_name_a_file(project: Path, outside: Path) -> None:
    library = Library.from_config(load_config(project))
    assert library.get_local(str(outside)).name == "outside"
    assert library.get_local("sentiment").name == "sentiment"


def test_writes_go_only_to_the_library_file(project: Path, outside: Path) -> None:
    library = Library.from_config(load_config(project))
    before = outside.read_text()
    target = library.write("sentiment", "---\nname: sentiment\n---\nuser:\nnew\n")
    assert target == project / "prompts" / "sentiment.prompty"
    assert "new" in target.read_text()
    for name in (str(outside), "../elsewhere/outside.prompty", "outside"):
        with pytest.raises(UserError):
            library.write(name, "pwned")
    assert outside.read_text() == before


@pytest.mark.parametrize(
    "ref", ["/etc/passwd", "../../outside.jsonl", "data/../../../x.jsonl", "\x00"]
)
def test_a_path_in_a_project_file_stays_in_the_project(project: Path, ref: str) -> None:
    library = Library.from_config(load_config(project))
    with pytest.raises(UserError):
        library.in_project(ref, project / "suites", what="dataset")
    assert library.in_project("data/reviews.jsonl", project / "suites").is_file()


def test_a_suite_cannot_name_a_dataset_or_schema_outside(project: Path, outside: Path) -> None:
    from prompteur.suite import load_suite

    suite = project / "suites" / "escape.yaml"
    suite.write_text(f"prompts: [sentiment]\ndataset: {outside}\n")
    with pytest.raises(UserError) as caught:
        list(load_suite(suite).cases())
    assert caught.value.line == 2 and caught.value.field == "dataset[0]"
    suite.write_text(
        "prompts: [sentiment]\ncases: [{inputs: {review: x}}]\n"
        "checks: [{type: json-schema, value: ../../elsewhere/schema.json}]\n"
    )
    with pytest.raises(UserError) as caught:
        load_suite(suite)
    assert caught.value.line == 3


def test_a_python_check_cannot_reach_python_itself(project: Path) -> None:
    from prompteur.suite import load_suite

    suite = project / "suites" / "code.yaml"
    suite.write_text(
        "prompts: [sentiment]\ncases: [{inputs: {review: x}}]\n"
        "checks: [{type: python, value: 'os:system'}]\n"
    )
    with pytest.raises(UserError) as caught:
        load_suite(suite)
    assert "module of Python itself" in caught.value.message


# ---- endpoints -----------------------------------------------------------------------------


def _config(project: Path, toml: str = "", *, served: bool = False):
    (project / "prompteur.toml").write_text(
        (project / "prompteur.toml").read_text() + "\n" + toml, encoding="utf-8"
    )
    config = load_config(project)
    config.served = served
    return config


EVIL = "openai-compatible:x@http://evil.example:9999/v1"


def test_a_server_refuses_an_endpoint_its_project_does_not_name(project: Path) -> None:
    config = _config(project, served=True)
    with pytest.raises(UserError) as caught:
        check_endpoint(EVIL, config)
    assert "endpoint" in caught.value.message
    with pytest.raises(UserError):
        check_endpoint("local:/etc/passwd", config)
    check_endpoint("local", config)  # the embedded model names no endpoint


def test_a_server_calls_configured_and_project_endpoints(project: Path) -> None:
    config = _config(
        project,
        '[providers.openai-compatible]\nbase_url = "http://gpu:8000/v1/"\n'
        '[security]\nendpoints = ["http://LOCALHOST:8080/v1"]\n',
        served=True,
    )
    check_endpoint("openai-compatible:m@http://gpu:8000/v1", config)
    check_endpoint("openai-compatible:m@http://localhost:8080/v1/", config)
    config.project_endpoints.add("http://files:1/v1")
    check_endpoint("openai-compatible:m@http://files:1/v1", config)
    with pytest.raises(UserError):
        check_endpoint("openai-compatible:m@http://gpu:8001/v1", config)


def test_a_key_goes_only_to_a_configured_or_typed_endpoint(project: Path) -> None:
    config = _config(project, '[providers.openai-compatible]\nbase_url = "http://gpu:8000/v1"\n')
    assert key_allowed(parse_model_id("openai-compatible:m@http://gpu:8000/v1", config), config)
    assert not key_allowed(parse_model_id(EVIL, config), config)
    assert key_allowed(parse_model_id("openai:gpt-4o-mini", config), config)
    config.typed_endpoints.add("http://evil.example:9999/v1")
    assert key_allowed(parse_model_id(EVIL, config), config)


def _openai_reply(record: Recorded) -> Reply:
    return Reply(
        200,
        {
            "id": "x",
            "object": "chat.completion",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "ok"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
    )


@pytest.mark.parametrize("configured", [False, True], ids=["named-by-a-file", "configured"])
def test_the_key_reaches_an_endpoint_only_when_configured(
    project: Path, monkeypatch: pytest.MonkeyPatch, configured: bool
) -> None:
    import asyncio

    from prompteur.models.base import Message, Request

    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-marker-0123")
    with LoopbackServer(_openai_reply) as server:
        url = f"{server.url}/v1"
        toml = f'[providers.openai-compatible]\nbase_url = "{url}"\n' if configured else ""
        config = _config(project, toml)
        model = get_model(f"openai-compatible:m@{url}", config)

        async def call() -> None:
            try:
                await model.generate(Request(messages=(Message("user", "hi"),)))
            finally:
                await model.aclose()

        asyncio.run(call())
        (sent,) = server.requests
    auth = sent.headers.get("authorization", "")
    assert ("sk-marker-0123" in auth) is configured
