"""One server, two projects, two judges: a model-graded check in each project's playground run
is graded by that project's own default model (its endpoint, from its own prompteur.toml),
never by the other project's nor by the configuration of the folder the server started in."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers_http import LoopbackServer, Recorded, Reply, chat_reply, free_port

from prompteur.config import load_config
from prompteur.scaffold import init_project
from prompteur.server.keys import create_key
from prompteur.store import Store

SUITE = """prompts: [sentiment]
models: ["openai-compatible:task@{task}/v1"]
checks:
  - {{type: rubric, value: "The answer names the review's sentiment."}}
cases:
  - {{inputs: {{review: "Works great"}}, expected: positive}}
  - {{inputs: {{review: "Broke in a day"}}, expected: negative}}
"""


def chat(text: str) -> Reply:
    return chat_reply(text, tokens=(5, 2))


def judge_reply(_req: Recorded) -> Reply:
    return chat('{"reason": "it names the sentiment", "score": 1}')


@pytest.fixture
def servers() -> Iterator[dict[str, LoopbackServer]]:
    made = {
        "task": LoopbackServer(lambda _r: chat("positive")),
        "a": LoopbackServer(judge_reply),
        "b": LoopbackServer(judge_reply),
    }
    for s in made.values():
        s.__enter__()
    yield made
    for s in made.values():
        s.close()


def project(base: Path, name: str, judge: str, task: str) -> Path:
    root = base / name
    init_project(root)
    toml = root / "prompteur.toml"
    text = toml.read_text().replace(
        'default_model = "local"', f'default_model = "openai-compatible:judge-{name}@{judge}/v1"'
    )
    assert text != toml.read_text(), "the starter's default_model line moved"
    toml.write_text(text + f'\n[security]\nendpoints = ["{judge}/v1", "{task}/v1"]\n')
    (root / "suites" / "sentiment.yaml").write_text(SUITE.format(task=task))
    return root


def write_key(root: Path, name: str) -> str:
    store = Store(load_config(root).database_url)
    try:
        return create_key(store, name, ("write",), "test").secret
    finally:
        store.close()


@pytest.fixture
def served(tmp_path: Path, servers: dict[str, LoopbackServer]) -> Iterator[tuple[str, dict]]:
    import uvicorn

    from prompteur.app import create_app

    task = servers["task"].url
    roots = {n: project(tmp_path, n, servers[n].url, task) for n in ("a", "b")}
    keys = {n: write_key(root, n) for n, root in roots.items()}
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(list(roots.values())), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", keys
    finally:
        server.should_exit = True
        thread.join(10)


def test_each_project_is_judged_by_its_own_default_model(
    served: tuple[str, dict[str, str]], servers: dict[str, LoopbackServer], tmp_path: Path
) -> None:
    url, keys = served
    prompt = (tmp_path / "a" / "prompts" / "sentiment.prompty").read_text()
    for name, other in (("a", "b"), ("b", "a")):
        before = len(servers[other].requests)
        r = httpx.post(
            url + "/ui/playground",
            data={"name": "sentiment", "text": prompt, "action": "run", "cases": "2"},
            headers={"Authorization": f"Bearer {keys[name]}"},
            timeout=120,
        )
        assert r.status_code == 200, r.text[:3000]
        judged = [q for q in servers[name].requests if q.path == "/v1/chat/completions"]
        assert len(judged) >= 2, f"project {name}'s judge graded nothing"
        assert all(q.json["model"] == f"judge-{name}" for q in judged)
        assert len(servers[other].requests) == before, f"{other}'s judge graded {name}'s run"
