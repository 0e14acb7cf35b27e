"""Every route and page, walked with no key and a key of each scope (read, review, feedback,
write, admin),
against an explicit table. The routes come from the app itself: a route without its row in
TABLE fails the test (a new route or page must say who may call it), and so does a row
whose route is gone. Forms that change something refuse cross-site posts (403) whatever the
key."""

from __future__ import annotations

import httpx
import pytest

from ._support import app_routes, bearer, concrete
from .conftest import Site

PUBLIC, READ, WRITE, ADMIN = "public", "read", "write", "admin"
REVIEW, FEEDBACK = "review", "feedback"

TABLE: dict[tuple[str, str], str] = {
    # the API
    ("GET", "/v1/prompts"): READ,
    ("GET", "/v1/prompts/{name}"): READ,
    ("GET", "/v1/prompts/{name}/versions/{ref}"): READ,
    ("POST", "/v1/prompts/{name}/render"): READ,
    ("GET", "/v1/prompts/{name}/labels"): READ,
    ("GET", "/v1/prompts/{name}/labels/{label}"): READ,
    ("PUT", "/v1/prompts/{name}/labels/{label}"): WRITE,
    ("POST", "/v1/prompts/{name}/labels/{label}/rollback"): WRITE,
    ("GET", "/v1/audit"): READ,
    ("POST", "/v1/prompts/{name}/complete"): WRITE,
    ("GET", "/v1/runs"): READ,
    ("GET", "/v1/runs/{run_id}"): READ,
    ("GET", "/v1/runs/{run_id}/results"): READ,
    ("POST", "/v1/traces"): WRITE,
    ("POST", "/otlp/v1/traces"): WRITE,
    ("GET", "/v1/traces"): READ,
    ("GET", "/v1/traces/{ref}"): READ,
    ("POST", "/v1/traces/{trace}/flag"): WRITE,
    ("GET", "/v1/monitor"): READ,
    ("GET", "/v1/monitor/{name}"): READ,
    ("GET", "/v1/review/scores"): READ,
    ("GET", "/v1/review/queues"): READ,
    ("POST", "/v1/review/queues"): WRITE,
    ("GET", "/v1/review/queues/{queue}"): READ,
    ("GET", "/v1/review/queues/{queue}/items"): READ,
    ("GET", "/v1/review/queues/{queue}/items/{position}"): READ,
    ("PUT", "/v1/review/queues/{queue}/items/{position}/label"): REVIEW,
    ("GET", "/v1/review/queues/{queue}/labels"): READ,
    ("GET", "/v1/review/queues/{queue}/disagreements"): READ,
    ("POST", "/v1/feedback"): FEEDBACK,
    # its documentation
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    # the pages
    ("GET", "/ui/"): READ,
    ("GET", "/ui/library"): READ,
    ("GET", "/ui/library/{name}"): READ,
    ("POST", "/ui/library/{name}/promote"): WRITE,
    ("GET", "/ui/runs"): READ,
    ("GET", "/ui/runs/{run_id}"): READ,
    ("GET", "/ui/runs/{run_id}/compare"): READ,
    ("GET", "/ui/optimize"): READ,
    ("GET", "/ui/optimize/{run_id}"): READ,
    ("GET", "/ui/probes"): READ,
    ("GET", "/ui/probes/{run_id}"): READ,
    ("GET", "/ui/monitor"): READ,
    ("GET", "/ui/playground"): READ,
    ("POST", "/ui/playground"): WRITE,
    ("GET", "/ui/learn"): READ,
    ("GET", "/ui/learn/{lesson}"): READ,
    ("POST", "/ui/learn/{lesson}"): WRITE,
    ("GET", "/ui/review"): READ,
    ("POST", "/ui/review"): WRITE,
    ("GET", "/ui/review/{queue}"): READ,
    ("GET", "/ui/review/{queue}/{position}"): READ,
    ("POST", "/ui/review/{queue}/{position}"): REVIEW,
    # writes a suite file of the project: what a review key may not do
    ("POST", "/ui/review/{queue}/cases"): WRITE,
}
# Answered by the pages' middleware before any route: not in app.routes, walked all the same.
MIDDLEWARE: dict[tuple[str, str], str] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/ui/login"): PUBLIC,
    ("POST", "/ui/login"): PUBLIC,
    ("GET", "/ui/logout"): PUBLIC,
    ("GET", "/ui/static/app.css"): PUBLIC,
    ("GET", "/ui/static/app.js"): PUBLIC,
}
# What each key may do: the ordered scopes (read < write < admin) and the two narrow ones
# (review: read and label; feedback: feedback only), which a write key holds too.
HOLDS: dict[str | None, set[str]] = {
    None: set(),
    READ: {READ},
    REVIEW: {READ, REVIEW},
    FEEDBACK: {FEEDBACK},
    WRITE: {READ, REVIEW, FEEDBACK, WRITE},
    ADMIN: {READ, REVIEW, FEEDBACK, WRITE, ADMIN},
}


def test_every_route_has_its_row(site: Site) -> None:
    routes = app_routes(site.root)
    assert len(routes) >= 30, sorted(routes)
    missing = sorted(routes - set(TABLE))
    assert not missing, f"routes without a row in the scope table: {missing}"
    stale = sorted(set(TABLE) - routes)
    assert not stale, f"rows whose route is gone: {stale}"


def _values(site: Site) -> dict[str, str]:
    return {
        "name": "sentiment",
        "ref": "latest",
        "label": "production",
        "run_id": site.run_id,
        "trace": "1",
        "lesson": "1",
        "queue": site.queue,
        "position": "1",
    }


def _call(c: httpx.Client, site: Site, method: str, path: str, headers: dict[str, str]) -> int:
    url = concrete(path, _values(site))
    if path.startswith("/ui/") and method == "POST":
        r = c.request(method, url, data={}, headers={**site.server.same_origin(), **headers})
    elif method in {"POST", "PUT", "PATCH"}:
        r = c.request(method, url, json={}, headers=headers)
    else:
        r = c.request(method, url, headers=headers)
    assert r.status_code < 500, (method, url, r.status_code, r.text[:300])
    assert "Traceback" not in r.text, (method, url)
    return r.status_code


@pytest.mark.parametrize(
    "held",
    [None, READ, REVIEW, FEEDBACK, WRITE, ADMIN],
    ids=["no-key", READ, REVIEW, FEEDBACK, WRITE, ADMIN],
)
def test_each_scope_gets_what_the_table_says(site: Site, held: str | None) -> None:
    headers = bearer(site.keys[held]) if held else {}
    wrong = []
    with site.server.client(timeout=60) as c:
        for (method, path), needed in sorted({**TABLE, **MIDDLEWARE}.items()):
            status = _call(c, site, method, path, headers)
            if needed == PUBLIC:
                ok = status < 400 or (path == "/ui/login" and method == "POST" and status == 401)
            elif held is None:
                ok = status == 401
            elif needed not in HOLDS[held]:
                ok = status == 403
            else:
                ok = status not in (401, 403)
            if not ok:
                wrong.append(f"{method} {path} with {held or 'no key'} → {status} (needs {needed})")
    assert not wrong, "\n".join(wrong)


def test_forms_refuse_cross_site_posts_whatever_the_key(site: Site) -> None:
    forms = sorted(
        (m, p) for (m, p) in {**TABLE, **MIDDLEWARE} if m == "POST" and p.startswith("/ui/")
    )
    assert len(forms) >= 4, forms
    wrong = []
    with site.server.client(timeout=60) as c:
        for held in (None, READ, REVIEW, FEEDBACK, WRITE, ADMIN):
            for _method, path in forms:
                url = concrete(path, _values(site))
                for hostile in (
                    {"Origin": "http://evil.example"},
                    {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": f"{site.server.url}.evil.example"},
                    {"Origin": site.server.url.replace("127.0.0.1", "localhost")},
                ):
                    h = {**hostile, **(bearer(site.keys[held]) if held else {})}
                    r = c.post(url, data={"label": "x", "key": "x"}, headers=h)
                    if r.status_code != 403:
                        wrong.append(f"{path} {held} {hostile} → {r.status_code}")
    assert not wrong, "\n".join(wrong)
