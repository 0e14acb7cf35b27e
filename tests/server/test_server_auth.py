"""Auth: every route of the OpenAPI document (TRACES' included) answers 401 without a valid key
and 403 to a key below its scope; keys are stored hashed; projects are isolated; --dev is
loopback only."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_server import key, save_prompts, served, write_prompt
from sqlalchemy import select, text
from starlette.testclient import TestClient

from prompteur.app import create_app
from prompteur.scaffold import init_project
from prompteur.server.deps import KEY_CACHE_SECONDS
from prompteur.server.keys import (
    ALL_SCOPES,
    create_key,
    effective_scopes,
    list_keys,
    revoke_key,
)
from prompteur.store.tables_auth import ApiKey

SAMPLE = {"name": "sentiment", "label": "production", "ref": "latest", "run_id": "latest"}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def app(project: Path) -> Iterator[TestClient]:
    application = create_app([project])
    save_prompts(served(application))
    with TestClient(application) as client:
        yield client


def _operations(client: TestClient) -> list[tuple[str, str, str | None]]:
    """(method, concrete URL, the scope the operation declares) for every documented route."""
    out = []
    for path, item in client.app.openapi()["paths"].items():
        url = re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m.group(1), "1"), path)
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            scopes = [s for req in op.get("security", []) for s in req.get("apiKey", [])]
            out.append((method, url, scopes[0] if len(scopes) == 1 else None))
    return out


def _call(client: TestClient, method: str, url: str, headers: dict[str, str]) -> int:
    body = {"json": {}} if method in {"post", "put", "patch"} else {}
    return client.request(method.upper(), url, headers=headers, **body).status_code


def test_every_route_needs_a_key_and_its_scope(app: TestClient) -> None:
    ops = _operations(app)
    paths = {url for _, url, _ in ops}
    # TRACES' router is part of the app, so its routes are walked too.
    assert "/v1/traces" in paths, sorted(paths)
    assert len(ops) >= 15
    undeclared = [(m, u) for m, u, s in ops if s not in ALL_SCOPES]
    assert not undeclared, f"routes without a declared scope: {undeclared}"

    revoked = key(app.app, "admin")
    p = served(app.app)
    revoke_key(p.store, list_keys(p.store, p.name)[-1].id)
    keys = {s: key(app.app, s) for s in ALL_SCOPES}
    anonymous: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer ptk_000000000000_not-a-key"},
        {"Authorization": keys["admin"]["Authorization"].replace("Bearer", "Basic")},
        revoked,
    ]
    for method, url, scope in ops:
        for headers in anonymous:
            status = _call(app, method, url, headers)
            assert status == 401, (method, url, headers, status)
        assert scope is not None
        for held in ALL_SCOPES:
            status = _call(app, method, url, keys[held])
            if scope not in effective_scopes((held,)):
                assert status == 403, (method, url, held, status)
            else:
                assert status not in {401, 403}, (method, url, held, status)


def test_401_names_the_scheme_and_hides_everything(app: TestClient) -> None:
    r = app.get("/v1/prompts")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "sentiment" not in r.text
    # A malformed body does not get past the key check either.
    r = app.post(
        "/v1/prompts/sentiment/render",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 401


def test_keys_are_stored_as_sha256_only(app: TestClient) -> None:
    p = served(app.app)
    new = create_key(p.store, p.name, ("read", "write"), "ci")
    assert new.secret.startswith("ptk_") and len(new.secret) > 40
    with p.store.session() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.id == new.info.id)).one()
    assert row.key_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    # The secret appears nowhere in the store's file.
    with p.store.engine.connect() as conn:
        dump = " ".join(str(r) for r in conn.execute(text("SELECT * FROM api_keys")))
    assert new.secret not in dump
    assert new.secret.split("_", 2)[2] not in dump
    assert app.get("/v1/prompts", headers={"Authorization": f"Bearer {new.secret}"}).is_success


def test_revoked_key_is_refused_once_the_key_cache_expires(app: TestClient) -> None:
    headers = key(app.app, "read")
    assert app.get("/v1/prompts", headers=headers).status_code == 200
    p = served(app.app)
    revoke_key(p.store, list_keys(p.store, p.name)[-1].id)
    time.sleep(KEY_CACHE_SECONDS + 0.05)
    assert app.get("/v1/prompts", headers=headers).status_code == 401


def test_projects_are_isolated(tmp_path: Path, project: Path) -> None:
    other = tmp_path / "other"
    init_project(other)
    write_prompt(other, "only-in-other")
    application = create_app([project, other])
    a, b = served(application, "proj"), served(application, "other")
    save_prompts(a)
    save_prompts(b)
    with TestClient(application) as client:
        key_a, key_b = (
            key(application, "admin", project="proj"),
            key(application, "read", project="other"),
        )
        names_a = {p["name"] for p in client.get("/v1/prompts", headers=key_a).json()["prompts"]}
        names_b = {p["name"] for p in client.get("/v1/prompts", headers=key_b).json()["prompts"]}
        assert "only-in-other" in names_b and "only-in-other" not in names_a
        assert client.get("/v1/prompts/only-in-other", headers=key_a).status_code == 404
        assert client.get("/v1/prompts/only-in-other", headers=key_b).status_code == 200
        # A label set with A's key lands in A's store only.
        r = client.put(
            "/v1/prompts/sentiment/labels/staging",
            headers=key_a,
            json={"version": "latest", "force": True, "reason": "isolation test"},
        )
        assert r.status_code == 200, r.text
        assert client.get("/v1/prompts/sentiment/labels", headers=key_b).json()["labels"] == {}
        # A key row of project B copied into A's store is still B's: A's server ignores it.
        forged = create_key(a.store, "other", ("admin",), "forged").secret
        r = client.get("/v1/prompts", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401


def test_two_projects_on_one_store_are_refused(tmp_path: Path, project: Path) -> None:
    from prompteur.errors import UserError

    other = tmp_path / "other"
    init_project(other)
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    for root in (project, other):
        cfg = root / "prompteur.toml"
        before = cfg.read_text(encoding="utf-8")
        after = before.replace('store = "sqlite:///.prompteur/prompteur.db"', f'store = "{shared}"')
        assert after != before
        cfg.write_text(after, encoding="utf-8")
    with pytest.raises(UserError, match="share one store"):
        create_app([project, other])


def test_dev_mode_lets_loopback_in_and_nobody_else(project: Path) -> None:
    application = create_app([project], dev=True)
    loopback = "http://127.0.0.1"
    with TestClient(application, base_url=loopback, client=("127.0.0.1", 40000)) as local:
        assert local.get("/v1/prompts").status_code == 200
        assert local.get("/v1/prompts", headers={"X-Prompteur-Project": "nope"}).status_code == 401
        # DNS rebinding: a page on another site reaches loopback under its own host name.
        for host in ("evil.example", "evil.example:80", "127.0.0.1.evil.example", "localhost:1"):
            r = local.get("/v1/prompts", headers={"Host": host})
            assert r.status_code == 421, host
    with TestClient(application, base_url=loopback, client=("192.0.2.7", 40000)) as remote:
        assert remote.get("/v1/prompts").status_code == 401
    closed = create_app([project])
    with TestClient(closed, base_url=loopback, client=("127.0.0.1", 40000)) as local:
        assert local.get("/v1/prompts").status_code == 401


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from prompteur.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_refuses_dev_off_loopback_and_manages_keys(project: Path) -> None:
    r = _cli("serve", "--dev", "--host", "0.0.0.0", cwd=project)
    assert r.returncode == 2 and "--dev is refused on 0.0.0.0" in r.stderr
    assert "Traceback" not in r.stderr
    r = _cli("keys", "create", "--scopes", "read,write", "--name", "ci", cwd=project)
    assert r.returncode == 0, r.stderr
    secret = r.stdout.strip()
    assert secret.startswith("ptk_") and "shown once" in r.stderr
    r = _cli("keys", "list", "--json", cwd=project)
    assert secret not in r.stdout
    import json

    listed = json.loads(r.stdout)
    assert [k["scopes"] for k in listed] == [["read", "write"]]
    r = _cli("keys", "create", "--scopes", "root", cwd=project)
    assert r.returncode == 2 and "unknown scope 'root'" in r.stderr
    r = _cli("keys", "revoke", listed[0]["id"], cwd=project)
    assert r.returncode == 0, r.stderr
    assert json.loads(_cli("keys", "list", "--json", cwd=project).stdout) == []
