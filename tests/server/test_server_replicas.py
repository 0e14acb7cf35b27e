"""Scale-out: two real `prompteur serve` processes on two loopback ports over one PostgreSQL
store. A label moved through A is read through B, a trace sent to A is listed by B, and a key
revoked once is refused by both."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from helpers_http import free_port

from prompteur.library import Library
from prompteur.server.deps import KEY_CACHE_SECONDS
from prompteur.server.keys import create_key, revoke_key
from prompteur.store import Store

pytestmark = pytest.mark.postgres


def _start(project: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from prompteur.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--project",
            str(project),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(url: str, headers: dict[str, str], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(url + "/v1/prompts", headers=headers, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within 60 s")


def test_two_replicas_share_one_store(project: Path, fresh_postgres: str) -> None:
    env = {**os.environ, "PROMPTEUR_DATABASE_URL": fresh_postgres}
    store = Store(fresh_postgres)
    try:
        library = Library(project / "prompts")
        for prompt in library.prompts():
            library.save(store, prompt)
        version = library.get("sentiment").version
        admin = create_key(store, "proj", ("admin",), "replicas")
    finally:
        store.close()
    headers = {"Authorization": f"Bearer {admin.secret}"}
    port_a, port_b = free_port(), free_port()
    procs = [_start(project, port_a, env), _start(project, port_b, env)]
    try:
        a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        for url, proc in zip((a, b), procs, strict=True):
            _wait(url, headers, proc)
        with httpx.Client(headers=headers, timeout=30) as http:
            assert http.get(b + "/v1/prompts/sentiment/labels").json()["labels"] == {}
            r = http.put(
                a + "/v1/prompts/sentiment/labels/production",
                json={"version": version[:12], "force": True, "reason": "replica test"},
            )
            assert r.status_code == 200, r.text
            seen = http.get(b + "/v1/prompts/sentiment/versions/production").json()
            assert seen["version"] == version and seen["labels"] == ["production"]
            assert [e["reason"] for e in http.get(b + "/v1/audit").json()] == ["replica test"]

            trace_id = uuid.uuid4().hex
            r = http.post(
                a + "/v1/traces",
                json={
                    "traces": [
                        {
                            "prompt": "sentiment",
                            "version": version,
                            "inputs": {"review": "ok"},
                            "output": "positive",
                            "trace_id": trace_id,
                        }
                    ]
                },
            )
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
            listed = http.get(b + "/v1/traces", params={"prompt": "sentiment"}).json()
            assert trace_id in {t["trace_id"] for t in listed["traces"]}

        store = Store(fresh_postgres)
        try:
            revoke_key(store, admin.info.id)
        finally:
            store.close()
        time.sleep(KEY_CACHE_SECONDS + 0.05)  # what a server may still trust a checked key
        for url in (a, b):
            assert httpx.get(url + "/v1/prompts", headers=headers).status_code == 401
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
