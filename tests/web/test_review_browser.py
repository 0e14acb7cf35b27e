"""The review pages in a real browser (Playwright driving Debian's Chromium headless against
a real uvicorn server on loopback, a SQLite store): a queue made from a run's page is reviewed
with the keyboard only — ten items, half in English and half in French, a comment, a
correction, moving back — then its failures become suite cases in one click; a blind A/B
queue made from the run page is chosen blind; and the labels stored, the agreement between
two reviewers and the preference sentence (on the queue's page and on the run's page) are what
the pages say, in English and in French."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers_review import V1, V2, simple_run, two_variant_run

from prompteur import review
from prompteur.config import load_config
from prompteur.scaffold import init_project
from prompteur.server.keys import create_key
from prompteur.server.projects import project_name
from prompteur.store import Store

CHROMIUM = os.environ.get("PROMPTEUR_CHROMIUM", "/usr/bin/chromium")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (it is in the dev extra)"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


if _missing():
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {_missing()}", pytrace=False)
    pytest.skip(_missing() or "", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from test_web import serve  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("review") / "proj"
    init_project(root)
    config = load_config(root)
    store = Store(config.database_url)
    try:
        keys = {
            who: create_key(store, project_name(config), (scope,), who).secret
            for who, scope in (("lead", "write"), ("ann", "review"), ("bob", "review"))
        }
        runs = {"one": simple_run(store, 12), "two": two_variant_run(store, 6)}
    finally:
        store.close()
    (root / "suites" / "greet-review.yaml").write_text(
        "prompts: [greet]\n# cases people found wrong\ncases:\n"
        "  - inputs: {name: first}\n    expected: Hello first\n",
        encoding="utf-8",
    )
    with serve(root, dev=False) as url:
        yield {"url": url, "root": root, "keys": keys, "runs": runs}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def _page(browser: Browser, site: dict[str, Any], who: str) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors  # type: ignore[attr-defined]
    pg.goto(site["url"] + "/ui/review")  # the login page, which comes back here
    pg.fill("#key", site["keys"][who])
    with pg.expect_navigation():
        pg.keyboard.press("Enter")
    expect(pg.locator("h1")).to_have_text("Review queues")
    errors.clear()  # the login page itself answers 401, which the console reports
    return pg


def _store(site: dict[str, Any]) -> Store:
    return Store(load_config(site["root"]).database_url)


def _press(pg: Page, key: str, *, wait: bool = True) -> None:
    """A key that saves or moves: wait for the next page."""
    if wait:
        with pg.expect_navigation():
            pg.keyboard.press(key)
    else:
        pg.keyboard.press(key)


def _run_page(browser: Browser, site: dict[str, Any], run: str) -> Page:
    """The lead (a write key) on the run's page, its "Review this run" panel open."""
    pg = _page(browser, site, "lead")
    pg.goto(site["url"] + f"/ui/runs/{run}?lang=en")
    pg.locator("#review-this-run summary").click()
    return pg


def test_ten_items_reviewed_with_the_keyboard_only(browser: Browser, site: dict[str, Any]) -> None:
    lead = _run_page(browser, site, site["runs"]["one"])
    lead.fill("#rq-name", "ten")
    lead.fill("#rq-size", "10")
    with lead.expect_navigation():
        lead.locator("#rq-create").click()
    expect(lead.locator("#queue-name")).to_have_text("ten")
    expect(lead.locator("#progress")).to_have_text("0/10")
    pg = _page(browser, site, "ann")
    pg.goto(site["url"] + "/ui/review")
    expect(pg.locator("tr[data-queue=ten] .progress-text")).to_have_text("0/10")
    pg.goto(site["url"] + "/ui/review/ten")
    with pg.expect_navigation():
        pg.keyboard.press("Tab")  # keyboard only from here: the skip link, the nav, …
        pg.locator("#start").focus()
        pg.keyboard.press("Enter")
    expect(pg.locator("#position")).to_contain_text("1")
    plan = ["1", "2", "1", "1", "2", "1", "2", "2", "1", "1"]
    for n, key in enumerate(plan, start=1):
        if n == 6:  # the second half in French (remembered in a cookie from here)
            pg.goto(pg.url + "?lang=fr")
            expect(pg.locator("#keys")).to_contain_text("Touches")
        shown = f"Item {n} of 10" if n < 6 else f"Élément {n} sur 10"
        expect(pg.locator("#position")).to_have_text(shown)
        if n == 3:  # a comment: c, type, Escape, then the label
            pg.keyboard.press("c")
            pg.keyboard.type("too short")
            pg.keyboard.press("Escape")
        if n == 5:  # a correction: e opens it with the output to edit
            pg.keyboard.press("e")
            pg.keyboard.press("Control+A")
            pg.keyboard.type("Hello there")
            pg.keyboard.press("Escape")
        _press(pg, key)
    expect(pg.locator("#all-done")).to_have_text(
        "Chaque élément de cette file porte votre étiquette."
    )
    # Back to item 2 with the keyboard and change its label.
    pg.goto(site["url"] + "/ui/review/ten/1?lang=en")
    _press(pg, "j")
    expect(pg.locator("#position")).to_have_text("Item 2 of 10")
    _press(pg, "k")
    expect(pg.locator("#position")).to_have_text("Item 1 of 10")
    _press(pg, "n")
    _press(pg, "1")  # item 2: fail → pass; the page goes on to the queue (all labelled)
    store = _store(site)
    try:
        q = review.queue(store, "ten")
        rows = {r["position"]: r for r in store.reviews.labels(q["id"])}
    finally:
        store.close()
    expected = [v == "1" for v in plan]
    expected[1] = True
    assert [rows[p]["value"] for p in range(1, 11)] == expected
    assert {r["reviewer"] for r in rows.values()} == {"ann"}
    assert rows[3]["comment"] == "too short" and rows[5]["correction"] == "Hello there"
    assert pg.errors == []  # type: ignore[attr-defined]

    # A second reviewer, through the API; the agreement the page shows is the stored one.
    bob = {"Authorization": f"Bearer {site['keys']['bob']}"}
    for p in range(1, 11):
        value = "pass" if (expected[p - 1] if p not in (3, 4) else not expected[p - 1]) else "fail"
        r = httpx.put(
            f"{site['url']}/v1/review/queues/ten/items/{p}/label",
            json={"value": value},
            headers=bob,
            timeout=30,
        )
        assert r.status_code == 200, r.text
    store = _store(site)
    try:
        figure = review.agreement_of(store, review.queue(store, "ten"))
    finally:
        store.close()
    assert figure.method == "cohen_kappa" and figure.items == 10
    pg.goto(site["url"] + "/ui/review/ten?lang=en")
    expect(pg.locator("#agreement")).to_have_text(figure.words("en"))
    expect(pg.locator("#disagreements tbody tr")).to_have_count(2)
    pg.goto(site["url"] + "/ui/review/ten?lang=fr")
    expect(pg.locator("#agreement")).to_have_text(figure.words("fr"))
    expect(pg.locator("h1")).to_contain_text("File de relecture")
    assert pg.locator("#to-cases-button").count() == 0  # a review key labels, it adds no case
    pg.context.close()

    # The failures and the correction become cases of a suite in one click (a write key).
    suite = site["root"] / "suites" / "greet-review.yaml"
    lead.goto(site["url"] + "/ui/review/ten?lang=en")
    lead.select_option("#cases-suite", "suites/greet-review.yaml")
    with lead.expect_navigation():
        lead.locator("#to-cases-button").click()
    store = _store(site)
    try:
        q = review.queue(store, "ten")
        wrong = {
            r["position"]
            for r in store.reviews.labels(q["id"])
            if r["value"] is False or r["correction"]
        }
    finally:
        store.close()
    assert wrong == {3, 4, 5, 7, 8}  # ann failed 5, 7, 8 (5 corrected); bob also 3 and 4
    expect(lead.locator("#cases-added")).to_have_text(
        "Cases added to suites/greet-review.yaml: 5 (already there: 0)."
    )
    from prompteur.suite import load_suite

    cases = list(load_suite(suite).cases())
    assert len(cases) == 6 and "# cases people found wrong" in suite.read_text("utf-8")
    assert "Hello there" in [c.expected for c in cases]
    assert lead.errors == []  # type: ignore[attr-defined]
    lead.context.close()


def test_blind_ab_queue_and_its_verdict(browser: Browser, site: dict[str, Any]) -> None:
    run = site["runs"]["two"]
    lead = _run_page(browser, site, run)
    assert lead.locator("#preference").count() == 0  # no A/B queue of this run yet
    lead.fill("#ab-name", "ab")
    lead.select_option("#ab-a", label=f"greet@{V1[:8]} · local")
    lead.select_option("#ab-b", label=f"greet@{V2[:8]} · local")
    with lead.expect_navigation():
        lead.locator("#ab-create").click()
    expect(lead.locator("#queue-name")).to_have_text("ab")
    pg = _page(browser, site, "ann")
    pg.goto(site["url"] + "/ui/review/ab/1")
    for n in range(1, 7):
        expect(pg.locator("#position")).to_have_text(f"Item {n} of 6")
        assert pg.locator("#verdict").count() == 0  # blind: no verdict, no variant names
        a_text = pg.locator("#output-a").inner_text()
        # Prefer version 2's answer (it says "from 2"), except on the last item: a tie.
        key = "3" if n == 6 else ("1" if a_text.endswith("from 2") else "2")
        _press(pg, key)
    store = _store(site)
    try:
        pref = review.preference_of(store, review.queue(store, "ab"))
    finally:
        store.close()
    assert (pref.a_wins, pref.b_wins, pref.ties) == (0, 5, 1)
    pg.goto(site["url"] + "/ui/review/ab?lang=en")
    expect(pg.locator("#preference")).to_have_text(pref.words("en"))
    assert pref.words("en").startswith("greet@22222222 · local is preferred in 100% of cases")
    pg.goto(site["url"] + "/ui/review/ab?lang=fr")
    expect(pg.locator("#preference")).to_have_text(pref.words("fr"))
    assert pg.errors == []  # type: ignore[attr-defined]
    pg.context.close()
    # The run's page says it too, beside the automatic comparison, in both languages.
    for lang in ("en", "fr"):
        lead.goto(site["url"] + f"/ui/runs/{run}?lang={lang}")
        expect(lead.locator("p.words[data-queue=ab]")).to_have_text(pref.words(lang))
    lead.goto(site["url"] + f"/ui/runs/{site['runs']['one']}?lang=en")
    assert lead.locator("p.words[data-queue=ab]").count() == 0  # another run's page
    assert lead.errors == []  # type: ignore[attr-defined]
    lead.context.close()
