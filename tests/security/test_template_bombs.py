"""Template bombs: loops, doubling, paddings, growth filters, recursion and deep nesting in
a prompt's body. Through `prompteur render`, the playground and the render API: a clear
user error within BOMB_SECONDS and BOMB_MB (exit 2 and no traceback on the CLI, a 4xx and
never a 500 on the server)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ._support import (
    BOMB_MB,
    BOMB_SECONDS,
    Project,
    Server,
    assert_bounded,
    assert_refused,
    assert_user_error,
    cli,
    late,
    listening_project,
)

HARMLESS = "{% for a in range(3) %}{{ a }}{% endfor %}"
BOMBS = {
    "nested-loops": "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}"
    "{% endfor %}",
    "triple-loops": "{% for a in range(100000) %}{% for b in range(100000) %}"
    "{% for c in range(100000) %}{% endfor %}{% endfor %}{% endfor %}done",
    "tilde-doubling": "{% set s = namespace(v='x') %}{% for i in range(64) %}"
    "{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v|length }}",
    "macro-doubling": "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}"
    "{{ s|length }}{% endif %}{% endmacro %}{{ d('x', 60) }}",
    "percent-format": "{{ '%1000000000s'|format(1) }}",
    "str-format": "{{ '{:>1000000000}'.format(1) }}",
    "ljust": "{{ 'x'.ljust(10**9) }}",
    "center": "{{ 'x'|center(1000000000) }}",
    "indent": "{{ 'a\\nb'|indent(1000000000) }}",
    "wordwrap": "{{ ('x ' * 400000)|wordwrap(1, wrapstring='y' * 1000000) }}",
    "replace": "{{ ('x' * 1000000)|replace('x', 'y' * 1000000) }}",
    "join": "{{ range(100000)|join('z' * 1000000) }}",
    "map-center": "{{ range(100000)|map('string')|map('center', 1000000)|join }}",
    "batch-join": "{{ range(100000)|batch(3, 'w' * 1000000)|map('join')|join }}",
    "recursive-macro": "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}",
    "deep-parentheses": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "long-sum": "{{ 1" + " + 1" * 50000 + " }}",
    "deep-blocks": "{% if true %}" * 3000 + "x" + "{% endif %}" * 3000,
}


def bomb_text(kind: str, name: str) -> str:
    body = HARMLESS if kind == "harmless" else BOMBS[kind]
    return (
        f"---\nname: {name}\nmodel: openai:gpt-4o-mini\ninputs:\n  review:\n    kind: string\n"
        f"---\nuser:\n{{{{ review }}}} {body}\n"
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """The model is the project's listener: a render that goes through is answered fast."""
    with listening_project(tmp_path_factory.mktemp("templates")) as project:
        yield project


@pytest.fixture(scope="module")
def root(project: Project) -> Path:
    return project.root


@pytest.mark.parametrize("kind", BOMBS)
def test_cli_render_stops_a_bomb(root: Path, kind: str) -> None:
    baseline = cli("render", "sentiment", "-i", "review=fine", cwd=root)
    assert baseline.returncode == 0, str(baseline)
    # One bomb in the library at a time: on an unbounded parser a bomb file breaks every
    # command that scans the library, the baseline included.
    path = root / "prompts" / f"tb-{kind}.prompty"
    path.write_text(bomb_text(kind, f"tb-{kind}"), encoding="utf-8")
    try:
        o = cli("render", f"tb-{kind}", "-i", "review=fine", cwd=root, timeout=late(baseline))
    finally:
        path.unlink()
    assert_bounded(o, baseline)
    assert_user_error(o)
    assert f"tb-{kind}" in o.stderr, f"the error names the file\n{o}"


# ---- through the server ----------------------------------------------------------------------


class Respawn:
    """A dev server restarted when a test left it dead or stuck in a render."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.server = Server(root, dev=True, env=env).start()

    def get(self) -> Server:
        if not self.server.alive():
            self.restart()
        return self.server

    def restart(self) -> None:
        self.server.stop()
        self.server = Server(self.root, dev=True, env=self.env).start()


def hwm_mb(server: Server) -> float:
    assert server.proc is not None
    with open(f"/proc/{server.proc.pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module")
def respawn(root: Path, project: Project) -> Iterator[Respawn]:
    r = Respawn(root, project.keys_env)
    yield r
    r.server.stop()


Send = Callable[[Server, str, float], Any]


def _timed(server: Server, send: Send, kind: str, timeout: float) -> tuple[Any, float]:
    start = time.monotonic()
    r = send(server, kind, timeout)
    return r, time.monotonic() - start


def _bounded_call(respawn: Respawn, send: Send, kind: str) -> Any:
    """`send(server, kind)` of a bomb, against the same call with a harmless body just
    before: within BOMB_SECONDS more wall time and BOMB_MB more peak memory."""
    server = respawn.get()
    harmless, baseline = _timed(server, send, "harmless", 60)
    assert harmless.status_code < 500, harmless.text[:300]
    before = hwm_mb(server)
    try:
        # Past this the answer is late anyway: no need to wait out a render of hours.
        r, elapsed = _timed(server, send, kind, baseline + BOMB_SECONDS + 5)
    except httpx.HTTPError as exc:
        respawn.restart()  # stuck in the render: the next test needs a fresh one
        pytest.fail(f"no answer within {baseline + BOMB_SECONDS + 5:.1f} s: {exc!r}")
    if not server.alive():
        pytest.fail(f"the server died: {server.killed_for}")
    grown = hwm_mb(server) - before
    # The machine's noise falls on the harmless call too: the slower of before and after.
    baseline = max(baseline, _timed(server, send, "harmless", 60)[1])
    assert elapsed - baseline <= BOMB_SECONDS, f"{elapsed:.2f} s vs {baseline:.2f} s harmless"
    assert grown <= BOMB_MB, f"the server's peak memory grew by {grown:.0f} MB"
    return r


@pytest.mark.parametrize("kind", BOMBS)
def test_playground_stops_a_bomb(respawn: Respawn, kind: str) -> None:
    """Run in the playground as `sentiment` (so its suite's cases render the body)."""

    def send(server: Server, kind: str, timeout: float) -> httpx.Response:
        return httpx.post(
            server.url + "/ui/playground",
            data={
                "name": "sentiment",
                "text": bomb_text(kind, "sentiment"),
                "action": "run",
                "cases": "3",
            },
            headers=server.same_origin(),
            timeout=timeout,
        )

    assert_refused(_bounded_call(respawn, send, kind))


@pytest.mark.parametrize("kind", BOMBS)
def test_render_api_stops_a_bomb(respawn: Respawn, kind: str) -> None:
    """A version saved through the playground, rendered by POST /v1/prompts/NAME/render."""
    server = respawn.get()
    for each in ("harmless", kind):
        saved = httpx.post(
            server.url + "/ui/playground",
            data={"name": f"tb-{each}", "text": bomb_text(each, f"tb-{each}"), "action": "save"},
            headers=server.same_origin(),
            timeout=30,
        )
        if each == kind and 400 <= saved.status_code < 500:
            return  # refused when saved: nothing to render
        assert saved.status_code == 200, saved.text[:300]

    def send(server: Server, kind: str, timeout: float) -> httpx.Response:
        return httpx.post(
            server.url + f"/v1/prompts/tb-{kind}/render",
            json={"inputs": {"review": "fine"}},
            timeout=timeout,
        )

    assert_refused(_bounded_call(respawn, send, kind))
