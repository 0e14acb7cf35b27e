"""The playground runs a prompt on inputs typed in the page, with no suite: the embedded
model answers, the run is stored like any other, and a template fault is a 400 with no run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_web import serve

from prompteur.config import load_config
from prompteur.scaffold import init_project
from prompteur.store import Store

NO_SUITE = """---
name: shout
model: {id: local, parameters: {temperature: 0, max_tokens: 4, stop: ["\\n"]}}
inputs:
  word: {kind: string}
sample:
  word: bonjour
---
Word: cat
Upper case: CAT

Word: {{ word }}
Upper case:"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("typed") / "proj"
    init_project(root)
    (root / "prompts" / "shout.prompty").write_text(NO_SUITE, encoding="utf-8")
    with serve(root, dev=True) as url:
        yield {"url": url, "root": Path(root)}


def test_the_page_offers_a_field_per_input_with_the_sample(site: dict[str, Any]) -> None:
    r = httpx.get(f"{site['url']}/ui/playground", params={"prompt": "shout"}, timeout=30)
    assert r.status_code == 200
    assert 'name="input.word"' in r.text and ">bonjour</textarea>" in r.text


def test_a_prompt_without_a_suite_runs_on_typed_inputs(site: dict[str, Any]) -> None:
    form = {"name": "shout", "text": NO_SUITE, "action": "typed", "input.word": "dog"}
    r = httpx.post(f"{site['url']}/ui/playground", data=form, timeout=300)
    assert r.status_code == 200, r.text[:2000]
    assert 'id="playground-results"' in r.text and "word: dog" in r.text
    store = Store(load_config(site["root"]).database_url)
    try:
        (run,) = [x for x in store.runs(10) if x.kind == "playground"]
        (result,) = store.results(run.id)
    finally:
        store.close()
    assert result.inputs == {"word": "dog"} and result.output and result.passed is None
    assert run.status == "done"
    # Without the typed inputs, the suite-less prompt still says it has no suite.
    r = httpx.post(f"{site['url']}/ui/playground", data={**form, "action": "run"}, timeout=60)
    assert r.status_code == 400


def test_a_template_fault_on_typed_inputs_is_a_400_without_a_run(site: dict[str, Any]) -> None:
    broken = NO_SUITE.replace("{{ word }}", "{{ word.missing.deeper }}")
    form = {"name": "shout", "text": broken, "action": "typed", "input.word": "x" * 30_000}
    r = httpx.post(f"{site['url']}/ui/playground", data=form, timeout=60)
    assert r.status_code == 400 and "at most 20,000" in r.text
    form["input.word"] = "dog"
    before = len(_runs(site))
    r = httpx.post(f"{site['url']}/ui/playground", data=form, timeout=60)
    assert r.status_code == 400 and len(_runs(site)) == before


def _runs(site: dict[str, Any]) -> list[Any]:
    store = Store(load_config(site["root"]).database_url)
    try:
        return store.runs(100)
    finally:
        store.close()
