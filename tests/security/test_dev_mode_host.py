"""Dev mode (`prompteur serve --dev`, `prompteur view`) lets anonymous callers in as admins,
so it answers only requests addressed to this machine by name: Host 127.0.0.1:PORT,
localhost:PORT or [::1]:PORT. A page on evil.example that rebinds its name to 127.0.0.1
(DNS rebinding) sends Host: evil.example[:PORT]: every route, pages included, answers 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ._support import Server, app_routes, concrete, init_project


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dev") / "proj"
    init_project(root)
    return root


@pytest.fixture(scope="module", params=["serve --dev", "view"])
def server(request: pytest.FixtureRequest, root: Path) -> Iterator[Server]:
    with Server(root, dev=True, view=request.param == "view") as s:
        yield s


def _rebinding_hosts(port: int) -> list[str]:
    return [
        "evil.example",
        f"evil.example:{port}",
        f"127.0.0.1.evil.example:{port}",
        f"localhost.evil.example:{port}",
        f"127.0.0.1:{port}.evil.example",
        "127.0.0.1",  # no port: not the served address
        f"localhost:{port + 1}",
        f"0.0.0.0:{port}",  # browsers reach loopback through 0.0.0.0 too
    ]


def test_loopback_names_are_answered(server: Server) -> None:
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", f"[::1]:{server.port}"):
        for path in ("/ui/library", "/v1/prompts"):
            r = httpx.get(server.url + path, headers={"Host": host}, timeout=30)
            assert r.status_code == 200, (host, path, r.status_code)


def test_a_rebinding_host_gets_4xx_everywhere(server: Server, root: Path) -> None:
    middleware = [("GET", "/"), ("GET", "/ui/login"), ("GET", "/ui/static/app.css")]
    routes = [*sorted(app_routes(root)), *middleware]
    values = {"name": "sentiment", "ref": "latest", "label": "production", "lesson": "1"}
    wrong = []
    with httpx.Client(base_url=server.url, timeout=30) as c:
        for host in _rebinding_hosts(server.port):
            for method, path in routes:
                url = concrete(path, values)
                # What the rebinding page's script sends: its own origin, same-site to it.
                headers = {
                    "Host": host,
                    "Origin": f"http://{host}",
                    "Sec-Fetch-Site": "same-origin",
                }
                if method == "GET":
                    r = c.get(url, headers=headers)
                elif path.startswith("/ui/"):
                    r = c.request(method, url, data={"label": "x"}, headers=headers)
                else:
                    r = c.request(method, url, json={}, headers=headers)
                if not 400 <= r.status_code < 500:
                    wrong.append(f"{method} {url} Host: {host} → {r.status_code}")
    assert not wrong, f"{len(wrong)} answers:\n" + "\n".join(wrong[:25])
