"""Reviewed items become suite cases from the web (`POST /ui/review/{queue}/cases`, the queue
page's button). It writes a project file, so it needs a `write` key (a `review` key labels,
a `read` key reads); the suite is chosen by name among the project's suites folder, never
taken as a path; a hostile comment cannot break out of the line it is written on; nothing
is written when the request is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prompteur.suite import load_suite

from .conftest import Site

SUITE = "suites/sec-from-review.yaml"
START = (
    "prompts: [sentiment]\n# written by hand\nchecks:\n  - type: equals\ncases:\n"
    "  - inputs: {review: lovely}\n    expected: positive\n"
)


@pytest.fixture
def target(site: Site) -> Iterator[Path]:
    path = site.root / SUITE
    path.write_text(START, encoding="utf-8")
    yield path
    path.unlink(missing_ok=True)


def _files(root: Path) -> dict[Path, bytes]:
    return {
        p: p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".prompteur" not in p.parts
    }


def test_only_a_write_key_adds_cases_and_only_to_a_listed_suite(site: Site, target: Path) -> None:
    url = f"/ui/review/{site.queue}/cases"
    with site.server.client(site.keys["write"]) as c:
        r = c.put(
            f"/v1/review/queues/{site.queue}/items/1/label",
            json={"value": "fail", "correction": "negative", "comment": "rude\rcases: []\n- x"},
        )
        assert r.status_code == 200, r.text
        page = c.get(f"/ui/review/{site.queue}").text
        assert f'<option value="{SUITE}"' in page and 'id="to-cases-button"' in page
    before = _files(site.root)
    form = {"suite": SUITE, "only": "failures"}
    for scope in ("read", "review"):
        with site.server.client(site.keys[scope]) as c:
            r = c.post(url, data=form, headers=site.server.same_origin())
            assert r.status_code == 403, (scope, r.status_code)
            assert 'id="to-cases-button"' not in c.get(f"/ui/review/{site.queue}").text
    hostile = [
        "../prompteur.toml",
        "prompteur.toml",
        "suites/../prompteur.toml",
        str(target),
        "/etc/passwd",
        "suites\\sec-from-review.yaml",
        "suites/sec-from-review.yaml\x00",
        "suites/tiny",
        "x" * 100_000,
    ]
    with site.server.client(site.keys["write"]) as c:
        for name in hostile:
            r = c.post(url, data={**form, "suite": name}, headers=site.server.same_origin())
            assert r.status_code == 400, (name[:40], r.status_code)
            assert "Traceback" not in r.text and "no suite" in r.text
        for position in ("0", "-1", "abc", "99999999999999999999"):
            r = c.post(url, data={**form, "position": position}, headers=site.server.same_origin())
            assert r.status_code == 400, position
        r = c.post(url, data={**form, "only": "all"}, headers=site.server.same_origin())
        assert r.status_code == 400
        assert _files(site.root) == before  # every refusal wrote nothing

        r = c.post(url, data=form, headers=site.server.same_origin())
        assert r.status_code == 303, r.text
        assert "added=1" in r.headers["location"] and "already=0" in r.headers["location"]
        shown = c.get(r.headers["location"]).text
        assert 'id="cases-added"' in shown
        again = c.post(url, data=form, headers=site.server.same_origin())
        assert "added=0" in again.headers["location"] and "already=1" in again.headers["location"]
    text = target.read_text(encoding="utf-8")
    assert text.startswith(START.split("cases:")[0]) and "# written by hand" in text
    cases = list(load_suite(target).cases())
    assert len(cases) == 2 and cases[1].expected == "negative"  # the correction
    assert cases[1].id.startswith("review-")
    changed = {p for p, b in _files(site.root).items() if before.get(p) != b}
    assert changed == {target}
