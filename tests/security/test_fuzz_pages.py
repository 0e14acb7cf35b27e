"""Property-based fuzzing of the pages' forms and query parameters (schemathesis already
covers the JSON API, tests/server/test_server_fuzz.py): paths, unicode, huge numbers and control
characters in every field. Never a 500, never a traceback, never the canary's content; the
canary files are never written. Bounded: a few dozen examples per page, no shrinking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ._support import (
    Project,
    Server,
    assert_clean,
    listening_project,
    path_names,
)

EXAMPLES = 30
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, Server]]:
    """Its own project (a fuzzed save may rewrite its prompts), served in dev mode."""
    with (
        listening_project(tmp_path_factory.mktemp("fuzz")) as project,
        Server(project.root, dev=True, env=project.keys_env) as server,
    ):
        yield project, server


# A module-level stand-in, filled by the fixture: strategies are built at import.
# No path to a file of the machine: on an unfixed server a fuzzed save would overwrite it.
# No template bomb either: test_template_bombs.py has them, and a stuck render here would
# turn every later example into a timeout.
_ATTACKS = [
    "..%2F..%2Fprompteur.toml",
    "%2e%2e%2f%2e%2e%2f",
    "..\\..\\prompteur.toml",
    "prompteur.toml",
    "../prompteur.toml",
    "\x00",
    "sentiment\x00",
    "99999999999999999999",
    "-99999999999999999999",
    "1e309",
    "NaN",
    "{{ 7 * 7 }}",
    "<script>alert(1)</script>",
    "\ufffe\uffff\x1b[31m\x0b",
    "a" * 2048,
    "sentiment",
    "production",
    "file",
    "latest",
    "all",
    "on",
]
ANY = st.one_of(
    st.text(max_size=60),
    st.sampled_from(_ATTACKS),
    st.integers().map(str),
    # At most three levels up: still inside the test session's temporary folder.
    st.from_regex(r"(\.\./){1,3}[a-z]{1,12}(\.[a-z]{1,8})?", fullmatch=True),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


def _check(r: httpx.Response, project: Project) -> None:
    sent = r.request.content.decode("utf-8", "replace")
    assert_clean(r, project, where=f"body {sent[:200]!r}" if sent else "")
    project.canary.assert_untouched()


def _seg(value: str) -> str:
    return quote(value, safe="") or "x"


def _get(server: Server, path: str, params: dict[str, Any]) -> httpx.Response:
    return httpx.get(server.url + path, params=params, timeout=30)


def _post(server: Server, path: str, form: dict[str, str]) -> httpx.Response:
    return httpx.post(server.url + path, data=form, headers=server.same_origin(), timeout=30)


def test_fuzz_library_pages(target: tuple[Project, Server]) -> None:
    project, server = target
    names = path_names(project, for_writes=True)

    @FUZZ
    @given(
        name=st.one_of(ANY, st.sampled_from(names)),
        q=ANY,
        tag=ANY,
        domain=ANY,
        model=ANY,
        a=ANY,
        b=ANY,
    )
    def check(name: str, q: str, tag: str, domain: str, model: str, a: str, b: str) -> None:
        _check(
            _get(server, "/ui/library", {"q": q, "tag": tag, "domain": domain, "model": model}),
            project,
        )
        _check(_get(server, f"/ui/library/{_seg(name)}", {"a": a, "b": b}), project)

    check()


def test_fuzz_playground_page(target: tuple[Project, Server]) -> None:
    project, server = target
    names = path_names(project, for_writes=True)

    @FUZZ
    @given(prompt=st.one_of(ANY, st.sampled_from(names)))
    def check(prompt: str) -> None:
        _check(_get(server, "/ui/playground", {"prompt": prompt}), project)

    check()


def test_fuzz_playground_form(target: tuple[Project, Server]) -> None:
    project, server = target
    names = path_names(project, for_writes=True)

    @FUZZ
    @given(
        name=st.one_of(ANY, st.sampled_from(names)),
        text=st.one_of(
            ANY,
            st.builds(
                lambda front, body: f"---\n{front}\n---\nuser:\n{body}\n",
                st.sampled_from(
                    [
                        "name: fuzz",
                        f"name: fuzz\nmetadata:\n  suite: {project.canary.suite}",
                        "model: local:/etc/passwd",
                        "a: &a [1, 1, 1]\nb: [*a, *a, *a]",
                        "name: [unclosed",
                    ]
                ),
                ANY,
            ),
        ),
        cases=ANY,
        action=st.one_of(st.sampled_from(["run", "save"]), ANY),
        write_file=st.one_of(st.just("on"), ANY),
    )
    def check(**form: str) -> None:
        _check(_post(server, "/ui/playground", form), project)

    check()


def test_fuzz_promotion_form(target: tuple[Project, Server]) -> None:
    project, server = target

    @FUZZ
    @given(
        name=ANY,
        version=ANY,
        label=ANY,
        force=st.one_of(st.just("on"), ANY),
        reason=ANY,
        threshold=ANY,
    )
    def check(name: str, **form: str) -> None:
        _check(_post(server, f"/ui/library/{_seg(name)}/promote", form), project)

    check()


def test_fuzz_run_pages(target: tuple[Project, Server]) -> None:
    project, server = target

    @FUZZ
    @given(
        run_id=ANY,
        show=ANY,
        q=ANY,
        page=ANY,
        per=ANY,
        v=st.lists(ANY, max_size=3),
        a=ANY,
        b=ANY,
        other=ANY,
    )
    def check(
        run_id: str,
        show: str,
        q: str,
        page: str,
        per: str,
        v: list[str],
        a: str,
        b: str,
        other: str,
    ) -> None:
        params = {"show": show, "q": q, "page": page, "per": per, "v": v}
        _check(_get(server, f"/ui/runs/{_seg(run_id)}", params), project)
        _check(
            _get(server, f"/ui/runs/{_seg(run_id)}/compare", {"a": a, "b": b, "other": other}),
            project,
        )
        _check(_get(server, f"/ui/optimize/{_seg(run_id)}", {}), project)
        _check(_get(server, f"/ui/probes/{_seg(run_id)}", {}), project)

    check()


def test_fuzz_monitor_learn_and_login(target: tuple[Project, Server]) -> None:
    project, server = target

    @FUZZ
    @given(window=ANY, prompt=ANY, lesson=ANY, text=ANY, key=ANY, next_=ANY, lang=ANY)
    def check(
        window: str, prompt: str, lesson: str, text: str, key: str, next_: str, lang: str
    ) -> None:
        _check(
            _get(server, "/ui/monitor", {"window": window, "prompt": prompt, "lang": lang}), project
        )
        _check(_get(server, f"/ui/learn/{_seg(lesson)}", {"lang": lang}), project)
        if lesson not in {str(n) for n in range(1, 30)}:  # grading a real lesson calls a model
            _check(_post(server, f"/ui/learn/{_seg(lesson)}", {"text": text}), project)
        r = _post(server, "/ui/login", {"key": key, "next": next_})
        _check(r, project)
        location = r.headers.get("location", "")
        assert not location or location.startswith("/ui"), f"open redirect to {location!r}"
        _check(_get(server, "/ui/login", {"next": next_}), project)

    check()


def test_fuzz_review_pages(target: tuple[Project, Server]) -> None:
    from helpers_review import simple_run

    from prompteur import review
    from prompteur.config import load_config
    from prompteur.store import Store

    project, server = target
    store = Store(load_config(project.root).database_url)
    try:
        if store.reviews.queue("fuzzed") is None:
            review.from_run(store, "fuzzed", simple_run(store, 3), score=review.DEFAULT)
    finally:
        store.close()

    @FUZZ
    @given(queue=ANY, position=ANY, value=ANY, comment=ANY, correction=ANY, skip=ANY, lang=ANY)
    def check(
        queue: str, position: str, value: str, comment: str, correction: str, skip: str, lang: str
    ) -> None:
        _check(_get(server, f"/ui/review/{_seg(queue)}", {"lang": lang}), project)
        _check(_get(server, f"/ui/review/{_seg(queue)}/{_seg(position)}", {}), project)
        _check(_get(server, f"/ui/review/fuzzed/{_seg(position)}", {"lang": lang}), project)
        form = {"value": value, "comment": comment, "correction": correction, "skip": skip}
        _check(_post(server, "/ui/review/fuzzed/1", form), project)
        _check(_post(server, f"/ui/review/{_seg(queue)}/{_seg(position)}", form), project)

    check()


def test_fuzz_review_forms_that_make_queues_and_cases(target: tuple[Project, Server]) -> None:
    """The run page's queue forms and the queue page's "To cases" form: any suite name (paths
    among them) on a queue without failures, so that nothing may be written anywhere."""
    from helpers_review import two_variant_run

    from prompteur import review
    from prompteur.config import load_config
    from prompteur.store import Store

    project, server = target
    store = Store(load_config(project.root).database_url)
    try:
        run = two_variant_run(store, 3)
        if store.reviews.queue("fuzzed-cases") is None:
            review.from_run(store, "fuzzed-cases", run, score=review.DEFAULT)
    finally:
        store.close()
    suites = [*path_names(project, for_writes=True), "suites/sentiment.yaml"]
    folder = project.root / "suites"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    @FUZZ
    @given(
        queue=st.one_of(ANY, st.just("fuzzed-cases")),
        suite=st.one_of(ANY, st.sampled_from(suites)),
        only=ANY,
        position=ANY,
        run_id=st.one_of(ANY, st.just(run)),
        name=ANY,
        kind=st.one_of(ANY, st.just("preference")),
        select=ANY,
        size=ANY,
        a=ANY,
        b=ANY,
    )
    def check(queue: str, suite: str, only: str, position: str, **made: str) -> None:
        form = {"suite": suite, "only": only, "position": position}
        _check(_post(server, f"/ui/review/{_seg(queue)}/cases", form), project)
        _check(_post(server, "/ui/review/fuzzed-cases/cases", form), project)
        made["run"] = made.pop("run_id")
        _check(_post(server, "/ui/review", made), project)

    check()
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
