"""The real CLI against benchmarks/stub_server.py on loopback, with 20% faulty requests:
429 with Retry-After, 500s, hangs past the client timeout and dropped connections. Every
result must be stored exactly once, and the retries counted."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_http import stub_server

CASES = 300


@pytest.fixture
def stub_url() -> Iterator[str]:
    faults = ("--faults", "0.2", "--retry-after", "0.05", "--hang", "10", "--seed", "7")
    with stub_server("--delay", "0.005", *faults) as url:
        yield url


@pytest.mark.timeout(60)
def test_faulty_endpoint_every_result_stored_once(project: Path, stub_url: str) -> None:
    data = project / "suites" / "data"
    data.mkdir(parents=True, exist_ok=True)
    with (data / "cases.jsonl").open("w") as f:
        for i in range(CASES):
            f.write(json.dumps({"review": f"review {i}", "expected": "positive"}) + "\n")
    (project / "suites" / "stub.yaml").write_text(
        "prompts: [sentiment]\n"
        "checks:\n  - {type: contains, value: positive}\n"
        "dataset: data/cases.jsonl\n"
    )
    with (project / "prompteur.toml").open("a") as f:
        f.write("\n[providers.openai-compatible]\ntimeout = 0.5\n")

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "prompteur.cli",
            "eval",
            "suites/stub.yaml",
            "-m",
            f"openai-compatible:stub@{stub_url}/v1",
            "--concurrency",
            "20",
            "--no-cache",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env={"NO_COLOR": "1", "COLUMNS": "100", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]

    m = re.search(r"(\d+) retries \((\d+) rate-limited\) · (\d+) errors", proc.stderr)
    assert m, proc.stderr[-2000:]
    retries, rate_limited, errors = map(int, m.groups())
    with urllib.request.urlopen(stub_url + "/stats", timeout=5) as r:
        stats = json.loads(r.read())
    faulty = sum(stats.get(k, 0) for k in ("429", "500", "hang", "drop"))
    assert faulty > 0 and stats.get("429", 0) > 0, stats
    assert errors == 0
    assert retries == faulty
    assert rate_limited == stats["429"]
    assert stats["ok"] == CASES

    db = sqlite3.connect(project / ".prompteur" / "prompteur.db")
    try:
        rows = db.execute("SELECT case_id, count(*), max(passed) FROM results GROUP BY case_id")
        per_case = {case: (n, passed) for case, n, passed in rows}
    finally:
        db.close()
    assert len(per_case) == CASES
    assert all(n == 1 and passed == 1 for n, passed in per_case.values())
