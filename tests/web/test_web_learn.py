"""The lessons pages over plain HTTP: a real uvicorn server on loopback (with API keys, so
scopes are enforced), httpx as the client, the embedded model for grading, the project's
real progress file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from markupsafe import escape
from test_web import serve

from prompteur.config import load_config
from prompteur.learn import get_lesson, lessons
from prompteur.scaffold import init_project
from prompteur.server.keys import create_key
from prompteur.stats import wilson
from prompteur.store import Store
from prompteur.web.i18n import interval

# The quickest lesson to grade on the embedded model (about 7 s for solution + starter).
FAST = "delimiters"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("web-learn") / "proj"
    init_project(root)
    store = Store(load_config(root).database_url)
    try:
        reader = create_key(store, "proj", frozenset({"read"}), "reader").secret
        writer = create_key(store, "proj", frozenset({"write"}), "writer").secret
    finally:
        store.close()
    with serve(root, dev=False) as url:
        yield {"url": url, "root": root, "reader": reader, "writer": writer}


def call(
    site: dict[str, Any], method: str, path: str, key: str = "writer", **kw: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {site[key]}"}
    return httpx.request(method, site["url"] + path, headers=headers, timeout=120, **kw)


def progress(site: dict[str, Any]) -> dict[str, Any]:
    path = site["root"] / ".prompteur" / "learn.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def passed_on_list(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-lesson="([^"]+)" data-passed="(yes|no)"', html))


def test_list_in_english_and_french(site: dict[str, Any]) -> None:
    r = call(site, "GET", "/ui/learn", key="reader")
    assert r.status_code == 200, r.text[:500]
    assert passed_on_list(r.text) == {les.id: "no" for les in lessons()}
    for les in lessons():
        assert str(escape(les.text("title", "en"))) in r.text
        assert str(escape(les.text("summary", "en"))) in r.text
        assert f'href="/ui/learn/{les.id}"' in r.text
    # The header navigation links here, marked as the current section.
    assert '<a href="/ui/learn" aria-current="page">Lessons</a>' in r.text
    fr = call(site, "GET", "/ui/learn?lang=fr", key="reader")
    assert '<html lang="fr">' in fr.text and ">Leçons<" in fr.text and "à faire" in fr.text
    for les in lessons():
        assert str(escape(les.text("title", "fr"))) in fr.text
        assert str(escape(les.text("title", "en"))) not in fr.text


def test_lesson_page_in_english_and_french(site: dict[str, Any]) -> None:
    les = get_lesson(FAST)
    for lang, other in (("en", "fr"), ("fr", "en")):
        r = call(site, "GET", f"/ui/learn/{FAST}?lang={lang}", key="reader")
        assert r.status_code == 200, r.text[:500]
        first_words = les.text("explanation", lang).split("\n")[0]
        assert str(escape(first_words)) in r.text
        assert str(escape(les.text("exercise", lang).split("\n")[0])) in r.text
        assert str(escape(les.text("explanation", other).split("\n")[0])) not in r.text
        # The textarea holds the starter, as the CLI's exercise file does.
        area = re.search(r'<textarea id="text" name="text"[^>]*>(.*?)</textarea>', r.text, re.S)
        assert area and area.group(1) == str(escape(les.starter))
        assert f'action="/ui/learn/{FAST}"' in r.text
    assert ">Noter</button>" in r.text and "Exercice" in r.text
    # A lesson by number is the same lesson.
    assert str(escape(les.text("title", "en"))) in call(site, "GET", f"/ui/learn/{les.order}").text


def test_unknown_lesson_is_a_404_page(site: dict[str, Any]) -> None:
    r = call(site, "GET", "/ui/learn/no-such-lesson")
    assert r.status_code == 404 and "no-such-lesson" in r.text and "Traceback" not in r.text
    assert "few-shot" in r.text  # the error names the lessons there are
    r = call(site, "POST", "/ui/learn/no-such-lesson", data={"text": "x"})
    assert r.status_code == 404


def test_a_read_key_can_view_but_not_grade(site: dict[str, Any]) -> None:
    les = get_lesson(FAST)
    assert call(site, "GET", f"/ui/learn/{FAST}", key="reader").status_code == 200
    r = call(site, "POST", f"/ui/learn/{FAST}", key="reader", data={"text": les.solution})
    assert r.status_code == 403
    assert FAST not in progress(site)
    # Without any key: 401 and the sign-in form.
    assert httpx.get(site["url"] + "/ui/learn", timeout=30).status_code == 401


def test_a_broken_attempt_names_its_line(site: dict[str, Any]) -> None:
    les = get_lesson(FAST)
    text = "---\nname: x\nmodel: [unclosed\n---\nuser:\nhi\n"
    r = call(site, "POST", f"/ui/learn/{FAST}", data={"text": text})
    assert r.status_code == 400
    assert re.search(re.escape(les.file) + r":\d+", r.text), r.text[:2000]
    assert "[unclosed" in r.text  # the attempt is kept in the form
    assert FAST not in progress(site)  # nothing was graded, nothing counted


def test_grading_the_starter_fails_and_the_solution_passes(site: dict[str, Any]) -> None:
    les = get_lesson(FAST)
    r = call(site, "POST", f"/ui/learn/{FAST}?lang=fr", data={"text": les.starter})
    assert r.status_code == 200, r.text[:2000]
    assert 'id="verdict" data-passed="no"' in r.text and "Pas encore" in r.text
    # The pass rate with its Wilson interval, as the grading counted it.
    counts = re.search(r"Suite cachée: (\d+)/(\d+)", r.text)
    assert counts, r.text[:2000]
    p, n = map(int, counts.groups())
    assert n > 0 and p / n < les.pass_rate
    assert interval(wilson(p, n), "fr") in r.text
    # Which checks failed, with the lesson's hint, and the failing outputs.
    assert "le contrôle" in r.text and "a échoué sur" in r.text
    failing = re.findall(r'<td class="cell" data-state="(?:fail|error)">', r.text)
    assert len(failing) == n - p
    entry = progress(site)[FAST]
    assert entry["attempts"] == 1 and entry["passed"] is False

    r = call(site, "POST", f"/ui/learn/{FAST}", data={"text": les.solution})
    assert r.status_code == 200, r.text[:2000]
    assert 'id="verdict" data-passed="yes"' in r.text
    counts = re.search(r"Hidden suite: (\d+)/(\d+)", r.text)
    assert counts, r.text[:2000]
    p, n = map(int, counts.groups())
    assert p / n >= les.pass_rate
    assert f"{p}/{n} hidden cases pass" in r.text
    entry = progress(site)[FAST]
    assert entry["attempts"] == 2 and entry["passed"] is True and entry["best"] == p / n
    assert passed_on_list(call(site, "GET", "/ui/learn").text)[FAST] == "yes"

    # A later failing attempt is counted, and the lesson stays passed (as in the CLI).
    r = call(site, "POST", f"/ui/learn/{FAST}", data={"text": les.starter})
    assert 'id="verdict" data-passed="no"' in r.text
    entry = progress(site)[FAST]
    assert entry["attempts"] == 3 and entry["passed"] is True
