"""The main flows in a real browser: Playwright driving Debian's Chromium headless against a
real uvicorn server on loopback, the embedded model and a SQLite store.

Open a run, filter its failures, compare two variants, promote a version, edit a prompt and
run it again in the playground. Chromium comes from `apt-get install chromium` (scripts/
setup.sh does it as root); never from `playwright install`.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prompteur.scaffold import init_project

CHROMIUM = os.environ.get("PROMPTEUR_CHROMIUM", "/usr/bin/chromium")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; it is in the dev extra)"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


if _missing():
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {_missing()}", pytrace=False)
    pytest.skip(_missing() or "", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from test_web import serve  # noqa: E402

CASES = """\
cases:
  - inputs: {review: "Arrived quickly and works exactly as described."}
    expected: positive
  - inputs: {review: "Stopped charging after three days. Very disappointed."}
    expected: negative
  - inputs: {review: "My kids love it, best purchase this year."}
    expected: positive
  - inputs: {review: "It smells of burnt plastic when it runs."}
    expected: negative
"""


def _project(root: Path) -> Path:
    """The starter project, with a second variant (no demonstrations) judged by one small
    suite, so that the two variants can disagree."""
    init_project(root)
    prompts = root / "prompts"
    text = (prompts / "sentiment.prompty").read_text(encoding="utf-8")
    bare = text.replace("name: sentiment\n", "name: sentiment-bare\n")
    bare = re.sub(r"{% for ex in examples -%}.*?{% endfor -%}\n", "", bare, flags=re.S)
    (prompts / "sentiment-bare.prompty").write_text(bare, encoding="utf-8")
    for old in (root / "suites").glob("*.yaml"):
        old.unlink()
    (root / "suites" / "sentiment.yaml").write_text(
        "prompts: [sentiment, sentiment-bare]\nchecks:\n  - type: equals\n" + CASES,
        encoding="utf-8",
    )
    return root


def _eval(root: Path) -> str:
    from prompteur.config import load_config
    from prompteur.evaluation import evaluate_plan, make_plan
    from prompteur.store import Store

    config = load_config(root)
    store = Store(config.database_url)
    try:
        plan = make_plan(config, store, str(root / "suites" / "sentiment.yaml"))
        return asyncio.run(evaluate_plan(config, store, plan)).run_id
    finally:
        store.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = _project(tmp_path_factory.mktemp("browser") / "proj")
    run_id = _eval(root)
    with serve(root, dev=True) as url:
        yield {"url": url, "root": root, "run": run_id}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    assert not errors, errors  # no script error, no CSP violation, no missing asset


def _store(site: dict[str, Any]) -> Any:
    from prompteur.config import load_config
    from prompteur.store import Store

    return Store(load_config(site["root"]).database_url)


def _states(site: dict[str, Any]) -> dict[str, set[str]]:
    store = _store(site)
    try:
        by_case: dict[str, set[str]] = {}
        for r in store.results(site["run"]):
            state = "error" if r.error else ("pass" if r.passed else "fail")
            by_case.setdefault(r.case_id, set()).add(state)
        return by_case
    finally:
        store.close()


def test_open_a_run_and_filter_failures(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/ui/library")
    page.get_by_role("link", name="Runs", exact=True).click()
    page.get_by_role("link", name=site["run"]).click()
    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    rows = page.locator("#matrix-table tbody tr")
    expect(rows).to_have_count(4)
    page.get_by_label("failures").check()
    page.get_by_role("button", name="Apply").click()
    failing = sorted(c for c, s in _states(site).items() if s - {"pass"})
    if failing:
        expect(rows).to_have_count(len(failing))
        shown = sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.case)"))
        assert shown == failing
        # Every row shown has a cell that did not pass, and says why.
        for row in rows.all():
            assert row.locator('td[data-state="fail"], td[data-state="error"]').count() >= 1
            assert row.locator("ul.checks li.ko").count() >= 1
    else:
        expect(page.get_by_text("No row matches these filters.")).to_be_visible()
    assert "show=failures" in page.url


def test_compare_two_variants(site: dict[str, Any], page: Page) -> None:
    from prompteur import report

    page.goto(f"{site['url']}/ui/runs/{site['run']}")
    page.get_by_label("Variant A (baseline)").select_option(index=1)
    page.get_by_label("Variant B").select_option(index=0)
    page.get_by_role("button", name="Compare", exact=True).first.click()
    expect(page.get_by_role("heading", name="Paired comparison")).to_be_visible()
    words = page.locator("#comparison p.words").inner_text()
    store = _store(site)
    try:
        records = list(store.results(site["run"]))
    finally:
        store.close()
    bare = [r for r in records if r.prompt == "sentiment-bare"]
    full = [r for r in records if r.prompt == "sentiment"]
    from prompteur.web.runs_query import graded, pass_fail_only

    both = bare + full  # the baseline first, as chosen in the form
    # Scores that only repeat pass/fail are left to McNemar (see runs_query.pass_fail_only).
    (cmp,) = report.paired(both if graded(both) else pass_fail_only(both))
    assert cmp.words() in words
    # The same comparison in French.
    page.get_by_role("link", name="FR").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#comparison")).to_contain_text("McNemar exact p =")


def test_promote_a_version_with_the_gates_evidence(site: dict[str, Any], page: Page) -> None:
    from prompteur import registry
    from prompteur.library import Library

    page.goto(site["url"] + "/ui/library/sentiment")
    page.get_by_label("Label", exact=True).fill("staging")
    page.get_by_label(re.compile("^Threshold")).fill("0")
    page.get_by_role("button", name="Promote").click()
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", "promoted", timeout=60_000)
    expect(page.get_by_role("heading", name="The gate's evidence")).to_be_visible()
    working = Library(site["root"] / "prompts").get("sentiment")
    store = _store(site)
    try:
        assert registry.labels_of(store, "sentiment")["staging"] == working.version
        (move,) = registry.audit_log(store, "sentiment", "staging")
        assert move.actor == "dev:anonymous" and move.evidence["verdict"] == "passed"
    finally:
        store.close()
    # The evidence on the page is the audit log's: the candidate's cases and the run.
    expect(page.locator("table")).to_contain_text(f"{move.evidence['candidate']['cases']}")
    page.get_by_role("link", name=move.evidence["run"]).click()
    expect(page.get_by_role("heading", name="Matrix")).to_be_visible()


def test_edit_and_rerun_in_the_playground(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/ui/library/sentiment-bare")
    page.get_by_role("link", name="Playground").last.click()
    editor = page.get_by_label("Prompt file (front matter and body)")
    text = editor.input_value()
    assert "name: sentiment-bare" in text
    edited = text.replace(
        "Classify the sentiment of each product review as positive or negative.",
        "Answer with one word, positive or negative, for the sentiment of the review.",
    )
    assert edited != text
    editor.fill(edited)
    page.get_by_label("Cases").select_option("3")
    page.get_by_role("button", name="Run it").click()
    expect(page.locator("#playground-results tbody tr")).to_have_count(3, timeout=60_000)
    expect(page.get_by_label("Prompt file (front matter and body)")).to_have_value(
        re.compile("Answer with one word")
    )
    link = page.get_by_role("link", name=re.compile("^Open the run"))
    run_id = link.inner_text().split()[-1]
    page.get_by_role("button", name="Save as a version").click()
    expect(page.locator("#saved")).to_be_visible()
    from prompteur.prompt import parse_prompt

    version = parse_prompt(edited, name="sentiment-bare").version
    store = _store(site)
    try:
        assert version in {v.version for v in store.versions("sentiment-bare")}
        info = store.get_run(run_id)
        assert info.done == 3 and info.plan["kind"] == "playground"
    finally:
        store.close()
    # The file itself was not written (the box was not ticked).
    assert "Answer with one word" not in (
        site["root"] / "prompts" / "sentiment-bare.prompty"
    ).read_text(encoding="utf-8")


def test_keyboard_and_labels(site: dict[str, Any], page: Page) -> None:
    for path in ("/ui/library", f"/ui/runs/{site['run']}", "/ui/playground", "/ui/monitor"):
        page.goto(site["url"] + path)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter(e => e.type !== 'hidden' && e.labels.length === 0)
                .map(e => e.name)"""
        )
        assert unlabelled == [], (path, unlabelled)
        assert page.locator("main#main").count() == 1 and page.locator("header nav").count() == 1
    page.goto(site["url"] + "/ui/library")
    page.keyboard.press("Tab")  # the first stop is the skip link
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("/")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type("Classer un message")
    page.keyboard.press("Enter")
    expect(page.locator("#prompts tbody tr")).to_have_count(1)
    expect(page.locator("#prompts")).to_contain_text("tri-tickets")
