"""YAML alias bombs (billion laughs, nested mappings, merge keys) in a prompt's front matter
and in a suite: the CLI says so in one line, exit 2 (or `library list` lists the file as
skipped), within BOMB_SECONDS and BOMB_MB of a harmless run of the same command; the server
answers a 4xx quickly, and keeps answering others while bombs are in flight."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ._support import (
    BOMB_SECONDS,
    Outcome,
    Server,
    assert_bounded,
    assert_refused,
    assert_user_error,
    cli,
    init_project,
    late,
)

LEVELS = 9  # 9 ** 9 = 387,420,489 leaves once expanded


def laughs(indent: str = "  ") -> str:
    """The billion laughs: each level a list of nine aliases of the level below."""
    lines = [f'{indent}l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, LEVELS):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"{indent}l{i}: &l{i} [{refs}]")
    return "\n".join(lines)


def _mappings(letter: str, *, merge: bool, indent: str = "  ") -> str:
    """Each level a mapping of nine aliases of the level below; with `merge`, it also merges
    the level below through a merge key `<<`."""
    lines = [f"{indent}{letter}0: &{letter}0 {{a: lol, b: lol, c: lol, d: lol, e: lol, f: lol}}"]
    for i in range(1, LEVELS):
        refs = ", ".join(f"k{j}: *{letter}{i - 1}" for j in range(9))
        if merge:
            refs = f"<<: *{letter}{i - 1}, {refs}"
        lines.append(f"{indent}{letter}{i}: &{letter}{i} {{{refs}}}")
    return "\n".join(lines)


def mappings() -> str:
    return _mappings("m", merge=False)


def merges() -> str:
    return _mappings("g", merge=True)


def nested_sequences(indent: str = "  ") -> str:
    """Sequences of sequences of aliases, written in block style."""
    lines = [f"{indent}s0: &s0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, LEVELS):
        lines.append(f"{indent}s{i}: &s{i}")
        lines += [f"{indent}  - [*s{i - 1}, *s{i - 1}, *s{i - 1}]"] * 3
    return "\n".join(lines)


BOMBS = {
    "billion-laughs": laughs,
    "mappings": mappings,
    "merge-keys": merges,
    "nested-sequences": nested_sequences,
}


def bomb_prompt(kind: str) -> str:
    return (
        f"---\nname: bomb\nmetadata:\n{BOMBS[kind]()}\ninputs:\n  review:\n    kind: string\n"
        "---\nuser:\n{{ review }}\n"
    )


def bomb_suite(kind: str) -> str:
    return (
        f"prompts: [sentiment]\ncases:\n  - inputs:\n      review: fine\n    expected: positive\n"
        f"anchors:\n{BOMBS[kind]()}\n"
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("yaml") / "proj"
    init_project(root)
    return root


@pytest.fixture
def bomb_file(root: Path) -> Iterator[Path]:
    path = root / "prompts" / "bomb.prompty"
    yield path
    path.unlink(missing_ok=True)


def _baseline(root: Path, *args: str) -> Outcome:
    o = cli(*args, cwd=root)
    assert o.killed is None and "Traceback" not in o.output, str(o)
    return o


@pytest.mark.parametrize("kind", BOMBS)
def test_library_list_skips_a_bomb(root: Path, bomb_file: Path, kind: str) -> None:
    baseline = _baseline(root, "library", "list")
    bomb_file.write_text(bomb_prompt(kind), encoding="utf-8")
    o = cli("library", "list", cwd=root, timeout=late(baseline))
    assert_bounded(o, baseline)
    assert "Traceback" not in o.output, str(o)
    if o.returncode == 0:
        assert "skipped" in o.stderr and "bomb.prompty" in o.stderr, str(o)
        assert "sentiment" in o.stdout, "the other prompts are still listed"
    else:
        assert_user_error(o)


@pytest.mark.parametrize("kind", BOMBS)
def test_render_refuses_a_bomb(root: Path, bomb_file: Path, kind: str) -> None:
    baseline = _baseline(root, "render", "sentiment", "-i", "review=fine")
    bomb_file.write_text(bomb_prompt(kind), encoding="utf-8")
    o = cli("render", "bomb", "-i", "review=fine", cwd=root, timeout=late(baseline))
    assert_bounded(o, baseline)
    assert_user_error(o)
    assert "bomb.prompty" in o.stderr, str(o)


@pytest.mark.parametrize("kind", BOMBS)
def test_eval_refuses_a_bomb_suite(root: Path, kind: str) -> None:
    typo = root / "suites" / "typo.yaml"
    typo.write_text(bomb_suite(kind).split("anchors:")[0] + "anchorz: 1\n", encoding="utf-8")
    baseline = _baseline(root, "eval", "suites/typo.yaml")
    assert baseline.returncode == 2, str(baseline)
    path = root / "suites" / f"bomb-{kind}.yaml"
    path.write_text(bomb_suite(kind), encoding="utf-8")
    o = cli("eval", f"suites/bomb-{kind}.yaml", cwd=root, timeout=late(baseline))
    assert_bounded(o, baseline)
    assert_user_error(o)
    assert f"bomb-{kind}.yaml" in o.stderr, str(o)


def test_render_refuses_examples_that_expand_in_the_template(root: Path) -> None:
    """The aliases parse small but a loop over them runs 9 ** 8 times: the render's
    bounds catch what the parser let through."""
    baseline = _baseline(root, "render", "sentiment", "-i", "review=fine")
    path = root / "prompts" / "examples-bomb.prompty"
    refs = "\n".join(f"  - &e{i} [{', '.join([f'*e{i - 1}'] * 9)}]" for i in range(1, 8))
    path.write_text(
        "---\nname: examples-bomb\nexamples:\n"
        "  - &e0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        f"{refs}\n---\nuser:\n"
        "{% for a in examples[7] %}{% for b in a %}{% for c in b %}{% for d in c %}"
        "{% for e in d %}{% for f in e %}{% for g in f %}{% for h in g %}{{ h }}"
        "{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}"
        "{% endfor %}\n",
        encoding="utf-8",
    )
    try:
        o = cli("render", "examples-bomb", cwd=root, timeout=late(baseline))
        assert_bounded(o, baseline)
        assert_user_error(o)
    finally:
        path.unlink()


# ---- through the server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[Server]:
    with Server(root, dev=True) as s:
        yield s


def _post(server: Server, text: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(
        server.url + "/ui/playground",
        data={"name": "bomb", "text": text, "action": "run", "cases": "3"},
        headers=server.same_origin(),
        timeout=timeout,
    )


HARMLESS = "---\nname: bomb\nmetadata:\n  a: &a [1, 2]\n  b: *a\n---\nuser:\n{{ review }}\n"


def _seconds(call: Callable[[], object]) -> float:
    start = time.monotonic()
    call()
    return time.monotonic() - start


@pytest.mark.parametrize("kind", BOMBS)
def test_playground_refuses_a_bomb_quickly(server: Server, kind: str) -> None:
    if not server.alive():
        pytest.fail(f"the server died earlier ({server.killed_for}): {server.log()[-500:]}")
    baseline = _seconds(lambda: _post(server, HARMLESS))
    start = time.monotonic()
    try:
        r = _post(server, bomb_prompt(kind), timeout=baseline + BOMB_SECONDS + 5)
    except httpx.HTTPError as exc:
        pytest.fail(f"no answer: {exc!r}; server killed for {server.killed_for}")
    elapsed = time.monotonic() - start
    assert_refused(r)
    # The machine's noise falls on the harmless calls too: the slower of the two, before
    # and after, is the baseline the bomb is compared with.
    baseline = max(baseline, _seconds(lambda: _post(server, HARMLESS)))
    assert elapsed - baseline <= BOMB_SECONDS, f"{elapsed:.2f} s vs {baseline:.2f} s harmless"


def test_bombs_in_flight_do_not_freeze_the_server(server: Server) -> None:
    """Parsing runs off the event loop and is bounded: while two bombs are posted, a page
    is still served within a second of its usual time."""
    if not server.alive():
        pytest.fail(f"the server died earlier ({server.killed_for})")
    usual = max(
        _seconds(lambda: httpx.get(server.url + "/ui/library", timeout=30)) for _ in range(3)
    )
    threads = [threading.Thread(target=lambda: _swallow(server), daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    slowest = 0.0
    for _ in range(3):
        start = time.monotonic()
        try:
            r = httpx.get(server.url + "/ui/library", timeout=usual + 10)
        except httpx.HTTPError as exc:
            pytest.fail(f"the server stopped answering: {exc!r} ({server.killed_for})")
        slowest = max(slowest, time.monotonic() - start)
        assert r.status_code == 200
    for t in threads:
        t.join(30)
    assert slowest - usual <= 1.0, (
        f"GET /ui/library took {slowest:.2f} s with two bombs in flight, {usual:.2f} s without"
    )
    assert server.alive(), server.killed_for


def _swallow(server: Server) -> None:
    with contextlib.suppress(httpx.HTTPError):
        _post(server, bomb_prompt("billion-laughs"), timeout=30)
