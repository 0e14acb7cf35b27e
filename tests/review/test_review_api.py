"""Review over HTTP: queues, labels under the `review` scope (which cannot promote), blind
items, the preference verdict, end-user feedback (a `feedback` key, the SDK both on a real
server on loopback and on the local project), and `judge calibrate --from-queue`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_review import V1, V2, make_run, record, simple_run, two_variant_run
from helpers_sdk import Loopback
from helpers_server import save_prompts, served
from starlette.testclient import TestClient

from prompteur import review
from prompteur.app import create_app
from prompteur.sdk import Client
from prompteur.server.keys import create_key


@pytest.fixture
def app(project: Path) -> Iterator[TestClient]:
    application = create_app([project])
    save_prompts(served(application))
    with TestClient(application) as client:
        yield client


def _key(app: TestClient, scope: str, name: str) -> dict[str, str]:
    p = served(app.app)
    return {"Authorization": f"Bearer {create_key(p.store, p.name, (scope,), name).secret}"}


def test_a_review_key_labels_but_cannot_promote_nor_make_queues(app: TestClient) -> None:
    store = served(app.app).store
    run = simple_run(store, 4)
    write, reader = _key(app, "write", "lead"), _key(app, "read", "viewer")
    alice, bob = _key(app, "review", "alice"), _key(app, "review", "bob")
    made = app.post(
        "/v1/review/queues",
        json={"name": "tone check", "run": run, "select": "failures", "reviewers": 2},
        headers=write,
    )
    assert made.status_code == 201, made.text
    assert made.json()["progress"]["items"] == 2 and made.json()["created_by"] == "lead"
    base = "/v1/review/queues/tone%20check"
    assert (
        app.post("/v1/review/queues", json={"name": "x", "run": run}, headers=alice).status_code
        == 403
    )
    assert (
        app.put(f"{base}/items/1/label", json={"value": "pass"}, headers=reader).status_code == 403
    )
    promote = app.put("/v1/prompts/sentiment/labels/production", json={}, headers=alice)
    assert promote.status_code == 403
    for who, values in ((alice, ("pass", "fail")), (bob, ("pass", "pass"))):
        for position, value in enumerate(values, start=1):
            r = app.put(f"{base}/items/{position}/label", json={"value": value}, headers=who)
            assert r.status_code == 200, r.text
    bad = app.put(f"{base}/items/1/label", json={"value": "maybe"}, headers=alice)
    assert bad.status_code == 400 and bad.json()["field"] == "value"
    assert (
        app.put(f"{base}/items/9/label", json={"value": "pass"}, headers=alice).status_code == 400
    )
    mine = app.get(f"{base}/items/2", headers=alice).json()
    assert mine["label"]["value"] is False and mine["verdict"]["passed"] is False
    summary = app.get(base, headers=reader).json()
    assert summary["progress"]["done"] == 2
    assert set(summary["progress"]["reviewers"]) == {"alice", "bob"}
    assert summary["agreement"]["method"] == "cohen_kappa"
    assert summary["agreement"]["items"] == 2
    labels = app.get(f"{base}/labels", headers=reader).json()
    assert [(x["position"], x["reviewer"], x["value"]) for x in labels] == [
        (1, "alice", True),
        (1, "bob", True),
        (2, "alice", False),
        (2, "bob", True),
    ]
    assert [d["position"] for d in app.get(f"{base}/disagreements", headers=reader).json()] == [2]
    assert app.get("/v1/review/queues/nope", headers=reader).status_code == 404


def test_blind_items_hide_the_verdict_and_preference_items_hide_the_variants(
    app: TestClient,
) -> None:
    store = served(app.app).store
    run = two_variant_run(store, 6)
    write = _key(app, "write", "lead")
    blind = {"name": "blind", "run": run, "blind": True}
    assert app.post("/v1/review/queues", json=blind, headers=write).status_code == 201
    item = app.get("/v1/review/queues/blind/items/1", headers=write).json()
    assert "verdict" not in item and "version" not in item and item["output"]
    pair = {"name": "ab", "kind": "preference", "run": run, "a": V1[:8], "b": V2[:8], "seed": 1}
    made = app.post("/v1/review/queues", json=pair, headers=write)
    assert made.status_code == 201, made.text
    items = app.get("/v1/review/queues/ab/items", headers=write).json()
    assert len(items) == 6
    assert all("sides" not in i and "model" not in i and i["second"] for i in items)
    sides = {i["position"]: i["sides"] for i in store.reviews.items(made.json()["id"])}
    for position, shown in sides.items():  # always the variant b's output
        value = "a" if shown[0] == "b" else "b"
        r = app.put(
            f"/v1/review/queues/ab/items/{position}/label", json={"value": value}, headers=write
        )
        assert r.status_code == 200
    pref = app.get("/v1/review/queues/ab?lang=fr", headers=write).json()["preference"]
    assert (pref["a_wins"], pref["b_wins"], pref["ties"]) == (0, 6, 0)
    assert pref["sentence"].startswith("greet@22222222 · local is preferred in 100% of cases [")
    assert pref["words"].startswith("greet@22222222 · local est préféré dans 100\u202f% des cas")
    assert pref["p"] == pytest.approx(2 / 64)


def test_feedback_needs_a_feedback_or_write_key(app: TestClient) -> None:
    store = served(app.app).store
    body = {"trace_id": "0af7651916cd43dd8448eb211c80319c", "score": False, "comment": "wrong"}
    assert app.post("/v1/feedback", json=body, headers=_key(app, "read", "r")).status_code == 403
    assert app.post("/v1/feedback", json=body, headers=_key(app, "review", "v")).status_code == 403
    shipped = _key(app, "feedback", "mobile-app")
    r = app.post("/v1/feedback", json=body, headers=shipped)
    assert r.status_code == 201, r.text
    assert app.get("/v1/review/queues", headers=shipped).status_code == 403
    assert (
        app.post(
            "/v1/feedback", json={**body, "score": 0.7}, headers=_key(app, "write", "w")
        ).status_code
        == 201
    )
    assert app.post("/v1/feedback", json={**body, "score": 3}, headers=shipped).status_code == 400
    assert (
        app.post("/v1/feedback", json={**body, "trace_id": "../x"}, headers=shipped).status_code
        == 422
    )
    rows = store.reviews.feedback(trace_id=body["trace_id"])
    assert [(f["score"], f["source"]) for f in rows] == [(0.7, "w"), (0.0, "mobile-app")]


def test_sdk_feedback_over_http_and_on_the_local_project(project: Path) -> None:
    application = create_app([project])
    p = served(application)
    secret = create_key(p.store, p.name, ("feedback",), "web-shop").secret
    with Loopback(application) as server:
        client = Client(url=server.url, api_key=secret, spool=False)
        try:
            client.feedback("abc123", True, comment="spot on")
            client.feedback("abc123", 0.0)
            with pytest.raises(Exception, match="score"):
                client.feedback("abc123", 2)
        finally:
            client.close()
    assert [(f["score"], f["comment"]) for f in p.store.reviews.feedback(trace_id="abc123")] == [
        (0.0, None),
        (1.0, "spot on"),
    ]
    local = Client(project=project, spool=False)
    try:
        local.feedback("def456", False, "no")
    finally:
        local.close()
    assert len(p.store.reviews.feedback(trace_id="def456")) == 1


def test_the_run_pages_ab_form_selects_variants_by_version_or_by_model(app: TestClient) -> None:
    """Two variants that differ by their model only are told apart by the model; a variant
    that differs from the others by neither alone is refused with a hint, nothing made."""
    store = served(app.app).store
    by_model = make_run(store, [record(i, model=m) for i in range(3) for m in ("local", "m2")])
    grid = make_run(
        store,
        [
            record(i, version=v, model=m)
            for i in range(3)
            for v in (V1, V2)
            for m in ("local", "m2")
        ],
    )
    write = {**_key(app, "write", "lead"), "Origin": "http://testserver"}

    def post(run: str, name: str, a: str, b: str) -> Any:
        form = {"run": run, "name": name, "kind": "preference", "a": a, "b": b}
        return app.post("/ui/review", data=form, headers=write, follow_redirects=False)

    known = store.pages.variants(by_model)
    made = post(by_model, "models", "0", "1")
    assert made.status_code == 303 and made.headers["location"].endswith("/review/models")
    variants = review.queue(store, "models")["spec"]["variants"]
    assert [variants["a"], variants["b"]] == [f"greet@{V1[:8]} · {m}" for _, _, m in known]
    refused = post(grid, "grid", "0", "1")
    assert refused.status_code == 400 and "neither its version nor its model" in refused.text
    assert store.reviews.queue("grid") is None
    assert post(by_model, "", "0", "1").status_code == 400  # a name is needed
    assert post(by_model, "same", "0", "0").status_code == 400  # two different variants
    reader = {**_key(app, "review", "ann"), "Origin": "http://testserver"}
    form = {"run": by_model, "name": "x", "kind": "preference", "a": "0", "b": "1"}
    assert app.post("/ui/review", data=form, headers=reader).status_code == 403
