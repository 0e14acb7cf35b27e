"""Names are never paths: every route and page that takes a prompt name, a version, a run
id, a label or a file-ish parameter gets names that are paths (absolute, `..`, encoded once
and twice, backslashes, NUL, look-alikes, 2 kB). The answer is a 4xx, never the file's
content, never a 500; no file outside the library is ever written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from ._support import (
    Server,
    assert_clean,
    assert_refused,
    encodings,
    expect,
    listening_project,
    marker,
    path_names,
    send,
)
from .conftest import Site

# Routes that look a name up: the answer to a path is a 4xx. `{}` is where the name goes;
# `{run}` is a real run of the store.
LOOKUPS = [
    "/ui/playground?prompt={}",
    "/ui/library/{}",
    "/ui/library/sentiment?a=file&b={}",
    "/ui/library/sentiment?a={}&b=file",
    "/ui/runs/{}",
    "/ui/runs/{}/compare?a=0&b=1",
    "/ui/runs/{run}/compare?other={}",
    "/ui/optimize/{}",
    "/ui/probes/{}",
    "/ui/learn/{}",
    "/v1/prompts/{}",
    "/v1/prompts/{}/versions/latest",
    "/v1/prompts/sentiment/versions/{}",
    "/v1/prompts/sentiment/labels/{}",
    "/v1/runs/{}",
    "/v1/runs/{}/results",
    "/v1/traces/{}",
]
# Routes where the name filters a list: an empty 200 is fine, the file's content is not.
FILTERS = [
    "/ui/library?q={}",
    "/ui/library?tag={}&domain={}&model={}",
    "/ui/monitor?prompt={}",
    "/ui/runs/{run}?q={}",
    "/ui/runs/{run}?v={}",
    "/v1/prompts/{}/labels",
    "/v1/monitor/{}",
    "/v1/audit?name={}&label={}",
    "/v1/traces?prompt={}&label={}&model={}",
]


def _urls(template: str, name: str, run_id: str) -> list[str]:
    """The URL with `name` encoded once (what a browser sends) and twice; a name in a
    path segment can only travel encoded."""
    template = template.replace("{run}", run_id)
    return [template.replace("{}", e) for e in encodings(name)]


def _walk(site: Site, templates: list[str], secret: str, *, lookup: bool) -> list[str]:
    failures: list[str] = []

    def check(r: httpx.Response) -> None:
        (assert_refused if lookup else assert_clean)(r, site.project)

    with site.server.client(site.keys[secret]) as c:
        for template in templates:
            for name in path_names(site.project):
                for url in _urls(template, name, site.run_id):
                    expect(failures, send(c, "GET", url), check)
    site.project.canary.assert_untouched()
    return failures


@pytest.mark.parametrize("template", LOOKUPS)
def test_a_path_as_a_name_is_refused(site: Site, template: str) -> None:
    failures = _walk(site, [template], "read", lookup=True)
    assert not failures, f"{len(failures)} answers:\n" + "\n".join(failures[:12])


def test_a_path_as_a_filter_finds_nothing_and_shows_nothing(site: Site) -> None:
    failures = _walk(site, FILTERS, "read", lookup=False)
    assert not failures, f"{len(failures)} answers:\n" + "\n".join(failures[:12])


def test_the_issue_examples(site: Site) -> None:
    """As reported: a read key read /etc/passwd and prompteur.toml through the pages."""
    with site.server.client(site.keys["read"]) as c:
        for url in (
            "/ui/playground?prompt=/etc/passwd",
            f"/ui/playground?prompt={quote(str(site.project.canary.prompt))}",
            "/ui/library/prompteur.toml",
        ):
            r = c.get(url)
            assert "root:x:0:0" not in r.text, url
            assert_refused(r, site.project)


def test_render_api_takes_no_path(site: Site) -> None:
    failures: list[str] = []

    def refused(r: httpx.Response) -> None:
        assert_refused(r, site.project)

    with site.server.client(site.keys["read"]) as c:
        for name in path_names(site.project):
            for seg in encodings(name):
                r = send(c, "POST", f"/v1/prompts/{seg}/render", json={"inputs": {}})
                expect(failures, r, refused)
            r = send(c, "POST", "/v1/prompts/sentiment/render", json={"ref": name, "inputs": {}})
            expect(failures, r, refused)
    assert not failures, "\n".join(failures[:12])


def test_write_routes_take_no_path(site: Site) -> None:
    """Gateway, labels, rollback, promotion and lessons with a write key: a 4xx each."""
    failures = []
    with site.server.client(site.keys["write"]) as c:
        for name in path_names(site.project, for_writes=True):
            for seg in encodings(name)[:1]:
                calls = [
                    ("POST", f"/v1/prompts/{seg}/complete", {"json": {"inputs": {}}}),
                    ("POST", "/v1/prompts/sentiment/complete", {"json": {"version": name}}),
                    ("POST", "/v1/prompts/sentiment/complete", {"json": {"label": name}}),
                    ("PUT", f"/v1/prompts/{seg}/labels/staging", {"json": {"version": "x"}}),
                    ("PUT", f"/v1/prompts/sentiment/labels/{seg}", {"json": {"version": name}}),
                    ("PUT", "/v1/prompts/sentiment/labels/staging", {"json": {"version": name}}),
                    ("POST", f"/v1/prompts/{seg}/labels/staging/rollback", {"json": {}}),
                    (
                        "POST",
                        f"/ui/library/{seg}/promote",
                        {"data": {"label": "staging"}, "headers": site.server.same_origin()},
                    ),
                    (
                        "POST",
                        "/ui/library/sentiment/promote",
                        {
                            "data": {"label": "staging", "version": name},
                            "headers": site.server.same_origin(),
                        },
                    ),
                    (
                        "POST",
                        f"/ui/learn/{seg}",
                        {"data": {"text": "user:\nhi\n"}, "headers": site.server.same_origin()},
                    ),
                ]
                for method, url, kw in calls:
                    r = send(c, method, url, **kw)
                    expect(failures, r, lambda r: assert_refused(r, site.project))
    site.project.canary.assert_untouched()
    assert not failures, f"{len(failures)} answers:\n" + "\n".join(failures[:12])


@pytest.mark.parametrize("action", ["run", "save"])
def test_playground_neither_reads_nor_writes_a_path(site: Site, action: str) -> None:
    """POST /ui/playground with a path as the name: with action=save and write_file=on it
    overwrote any file that parses as a prompt (issue 15: /tmp/victim.py)."""
    pwned = marker("PWNED")
    failures = []
    with site.server.client(site.keys["write"]) as c:
        for name in path_names(site.project, for_writes=True):
            form = {
                "name": name,
                "text": f"user:\nSay {pwned}\n",
                "action": action,
                "cases": "3",
            }
            if action == "save":
                form["write_file"] = "on"
            r = send(c, "POST", "/ui/playground", data=form, headers=site.server.same_origin())
            expect(failures, r, lambda r: assert_refused(r, site.project))
    site.project.canary.assert_untouched()
    written = [
        str(p)
        for p in [*site.project.outside.rglob("*"), *site.root.rglob("*")]
        if p.is_file() and p.suffix != ".db" and pwned in p.read_text("utf-8", "replace")
    ]
    assert not written, f"the request's text was written to {written}"
    assert not failures, f"{len(failures)} answers:\n" + "\n".join(failures[:12])


def test_playground_suite_named_in_the_text_stays_in_the_project(site: Site) -> None:
    """`metadata.suite` in posted text names a suite file: one outside the project (whose
    cases carry the canary) is not run, and its content is not shown."""
    canary = site.project.canary
    with site.server.client(site.keys["write"]) as c:
        for ref in (str(canary.suite), "../outside/canary-suite.yaml", str(canary.text)):
            text = (
                f"---\nname: sentiment\nmetadata:\n  suite: {ref}\n---\nuser:\n{{{{ review }}}}\n"
            )
            r = c.post(
                "/ui/playground",
                data={"name": "sentiment", "text": text, "action": "run", "cases": "3"},
                headers=site.server.same_origin(),
            )
            assert_refused(r, site.project, where=f"metadata.suite={ref}")
    canary.assert_untouched()


# ---- symlinks in prompts/ -------------------------------------------------------------------


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, str]]:
    """A project whose prompts/ holds a symlink to a prompt file outside the project, and
    a symlink to a folder outside it."""
    tmp = tmp_path_factory.mktemp("symlinks")
    secret = marker("LINKED")
    elsewhere = tmp / "elsewhere"
    (elsewhere / "folder").mkdir(parents=True)
    target = elsewhere / "linked.prompty"
    target.write_text(
        f"---\nname: escape\ndescription: {secret}\n---\nuser:\n{secret}\n", encoding="utf-8"
    )
    (elsewhere / "folder" / "deep.prompty").write_text(
        f"---\nname: deep\ndescription: {secret}\n---\nuser:\n{secret}\n", encoding="utf-8"
    )
    with listening_project(tmp) as project:
        (project.root / "prompts" / "escape.prompty").symlink_to(target)
        (project.root / "prompts" / "folder").symlink_to(elsewhere / "folder")
        with Server(project.root, dev=True) as server:
            yield server, target, secret


def test_a_symlink_out_of_prompts_is_not_served(linked: tuple[Server, Path, str]) -> None:
    server, target, secret = linked
    before = (target.read_bytes(), target.stat().st_mtime_ns)
    with httpx.Client(base_url=server.url, timeout=30) as c:
        for url in (
            "/ui/library",
            "/ui/library?q=escape",  # not the secret itself: the page echoes its query
            "/ui/playground",
            "/v1/prompts",
        ):
            r = c.get(url)
            assert r.status_code == 200, (url, r.status_code)
            assert secret not in r.text, f"{url} shows a file outside the project"
        for url in (
            "/ui/library/escape",
            "/ui/library/deep",
            "/ui/playground?prompt=escape",
            "/ui/playground?prompt=deep",
            "/v1/prompts/escape",
            "/v1/prompts/deep",
        ):
            r = c.get(url)
            assert secret not in r.text, f"{url} shows a file outside the project"
            assert r.status_code in (400, 404, 422), (url, r.status_code)
        r = c.post(
            "/ui/playground",
            data={
                "name": "escape",
                "text": "---\nname: escape\n---\nuser:\noverwritten\n",
                "action": "save",
                "write_file": "on",
            },
            headers=server.same_origin(),
        )
        assert r.status_code < 500, r.text[:300]
    assert (target.read_bytes(), target.stat().st_mtime_ns) == before, (
        "a file outside the project was written through a symlink in prompts/"
    )
