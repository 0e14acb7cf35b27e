"""Keys go only where the project says: a write key cannot make the server call an endpoint
(or open a model file) named in request text or in a version stored through the web.

The server runs with OPENAI_API_KEY and OPENAI_COMPATIBLE_API_KEY set to markers. An "evil"
listener on loopback records every request: it must receive none. The counter-tests prove
the set-up would catch a leak: the endpoint configured in prompteur.toml does get calls,
with the key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ._support import STATUS_4XX, assert_refused, base_env, cli, listener, marker
from .conftest import Site


@pytest.fixture
def evil() -> Iterator[Any]:
    with listener() as server:
        yield server


def _assert_not_called(evil: Any, site: Site) -> None:
    keys = list(site.project.keys_env.values())
    leaked = [
        (r.method, r.path, name)
        for r in evil.requests
        for name, value in r.headers.items()
        if any(k in value for k in keys)
    ]
    assert not leaked, f"the server sent its provider key to a URL from a request: {leaked}"
    assert not evil.requests, (
        f"the server called a URL named in a request: {[(r.method, r.path) for r in evil.requests]}"
    )


def _prompt(model_line: str, body: str = "Sentiment of: {{ review }}") -> str:
    inputs = "inputs:\n  review:\n    kind: string"
    return f"---\nname: sentiment\n{model_line}\n{inputs}\n---\nuser:\n{body}\n"


def _play(site: Site, text: str, *, name: str = "sentiment", action: str = "run") -> httpx.Response:
    with site.server.client(site.keys["write"], timeout=60) as c:
        return c.post(
            "/ui/playground",
            data={"name": name, "text": text, "action": action, "cases": "3"},
            headers=site.server.same_origin(),
        )


# ---- counter-tests: the project's own endpoint is called, with its key ----------------------


def _assert_called_with(site: Site, seen: int, env: str) -> None:
    calls = site.project.trusted.requests[seen:]
    assert calls, "the project's configured endpoint was not called"
    key = site.project.keys_env[env]
    assert all(c.headers.get("authorization") == f"Bearer {key}" for c in calls)


def test_counter_the_configured_openai_endpoint_gets_the_key(site: Site) -> None:
    trusted = site.project.trusted
    seen = len(trusted.requests)
    unique = marker("fresh")  # a new request text: no cached answer
    r = _play(site, _prompt("model: openai:gpt-4o-mini", f"{unique} {{{{ review }}}}"))
    assert r.status_code == 200, r.text[:500]
    _assert_called_with(site, seen, "OPENAI_API_KEY")


def test_counter_the_configured_compatible_endpoint_gets_the_key(site: Site) -> None:
    """The project's own prompt file names the openai-compatible base URL of prompteur.toml:
    the playground runs it, and the call carries OPENAI_COMPATIBLE_API_KEY."""
    trusted = site.project.trusted
    seen = len(trusted.requests)
    text = (site.root / "prompts" / "compat-ok.prompty").read_text(encoding="utf-8")
    r = _play(site, text, name="compat-ok")
    assert r.status_code == 200, r.text[:500]
    _assert_called_with(site, seen, "OPENAI_COMPATIBLE_API_KEY")


def test_counter_the_cli_sends_the_compatible_key_to_the_configured_url(site: Site) -> None:
    trusted = site.project.trusted
    seen = len(trusted.requests)
    o = cli(
        "eval",
        "suites/compat-ok.yaml",
        "--no-cache",
        cwd=site.root,
        env=base_env(**site.project.keys_env),
    )
    assert o.returncode == 0, str(o)
    key = site.project.keys_env["OPENAI_COMPATIBLE_API_KEY"]
    calls = trusted.requests[seen:]
    assert len(calls) == 2 and all(c.headers.get("authorization") == f"Bearer {key}" for c in calls)


# ---- attacks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        "model: openai-compatible:x@{url}/v1",
        "model:\n  id: openai-compatible:x@{url}/v1",
        "model: openai-compatible:served@{url}/v1\nmetadata: {{note: compat-ok look-alike}}",
    ],
)
def test_playground_text_cannot_name_an_endpoint(site: Site, evil: Any, form: str) -> None:
    r = _play(site, _prompt(form.format(url=evil.url), marker("u") + " {{ review }}"))
    assert_refused(r, site.project)
    _assert_not_called(evil, site)


def _save_through_the_web(site: Site, text: str) -> str | None:
    """Save `text` as a version of sentiment through the playground; its version, or None
    when the server refused to store it (a refusal is a fine answer too)."""
    r = _play(site, text, action="save")
    if r.status_code in STATUS_4XX:
        return None
    assert r.status_code == 200, r.text[:500]
    with site.server.client(site.keys["read"]) as c:
        versions = c.get("/v1/prompts/sentiment").json()["versions"]
        for v in versions:
            content = c.get(f"/v1/prompts/sentiment/versions/{v['version']}").json()["content"]
            if content == text:
                return str(v["version"])
    raise AssertionError("the saved version is not in the store")


def test_a_version_stored_through_the_web_cannot_name_an_endpoint(site: Site, evil: Any) -> None:
    """Saved by a write key through the playground, then used by the gateway (by version
    and by a label an admin moved), and by the promotion gate (API and page)."""
    text = _prompt(f"model: openai-compatible:x@{evil.url}/v1", marker("v") + " {{ review }}")
    version = _save_through_the_web(site, text)
    if version is None:
        _assert_not_called(evil, site)
        return
    label = marker("lbl").lower()
    admin, write = site.keys["admin"], site.keys["write"]
    with site.server.client(write, timeout=60) as c:
        answers = [
            c.post(
                "/v1/prompts/sentiment/complete",
                json={"version": version, "inputs": {"review": "fine"}},
            ),
            c.put(f"/v1/prompts/sentiment/labels/{label}-gate", json={"version": version}),
            c.post(
                "/ui/library/sentiment/promote",
                data={"version": version, "label": f"{label}-page"},
                headers=site.server.same_origin(),
            ),
        ]
        forced = c.put(
            f"/v1/prompts/sentiment/labels/{label}",
            json={"version": version, "force": True, "reason": "attack test"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        if forced.status_code == 200:
            answers.append(
                c.post(
                    "/v1/prompts/sentiment/complete",
                    json={"label": label, "inputs": {"review": "fine"}},
                )
            )
    for r in answers:
        assert_refused(r, site.project)
    _assert_not_called(evil, site)


@pytest.mark.parametrize(
    "model", ["openai-compatible:x@{url}/v1", "local:{canary}", "local:/etc/passwd"]
)
def test_gateway_body_cannot_name_an_endpoint_or_a_file(site: Site, evil: Any, model: str) -> None:
    chosen = model.format(url=evil.url, canary=site.project.canary.text)
    with site.server.client(site.keys["write"]) as c:
        stored = c.get("/v1/prompts/compat-ok").json()["file_version"]
        r = c.post(
            "/v1/prompts/compat-ok/complete",
            json={"version": stored, "model": chosen, "inputs": {"review": "x"}},
        )
    assert r.status_code != 404, f"the stored version was not found: {r.text[:300]}"
    assert_refused(r, site.project)
    _assert_not_called(evil, site)


@pytest.mark.parametrize("path", ["{canary}", "../outside/canary.txt", "/etc/passwd"])
def test_playground_text_cannot_name_a_model_file(site: Site, path: str) -> None:
    """`local:/some/file` opens a file on the server as a model."""
    chosen = path.format(canary=site.project.canary.text)
    r = _play(site, _prompt(f"model: local:{chosen}", marker("f") + " {{ review }}"))
    assert_refused(r, site.project)
    site.project.canary.assert_untouched()


def test_lesson_text_cannot_name_an_endpoint(site: Site, evil: Any) -> None:
    """The lessons grade posted prompt text too: same rule."""
    with site.server.client(site.keys["write"], timeout=60) as c:
        text = _prompt(f"model: openai-compatible:x@{evil.url}/v1")
        r = c.post("/ui/learn/1", data={"text": text}, headers=site.server.same_origin())
    assert r.status_code < 500, r.text[:300]
    _assert_not_called(evil, site)
