"""schemathesis fuzzes every operation of the OpenAPI document (TRACES' included) with an
admin key, on SQLite and PostgreSQL: no input gives a 500. The same cases sent without a key
all get 401. Bounded: a few examples per operation, so it stays well under a minute."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_server import key, save_prompts, served
from hypothesis import HealthCheck, Phase, given, settings

from prompteur import registry
from prompteur.app import create_app

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = 12


def test_no_input_gives_a_server_error(
    project: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTEUR_DATABASE_URL", store_url)
    app = create_app([project])
    p = served(app)
    save_prompts(p)
    version = registry.resolve(p.store, "sentiment", None).version
    registry.move_label(
        p.store, "sentiment", "production", version, actor="t", reason=None, evidence=None
    )
    admin = key(app, "admin")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[tuple[str, int, str]] = []
    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            # No shrinking: a failure is reported as found, in seconds rather than minutes.
            phases=[Phase.explicit, Phase.generate],
        )
        def check(case: schemathesis.Case) -> None:
            where = f"{case.operation.method.upper()} {case.operation.path}"
            response = case.call(headers=admin)
            if response.status_code >= 500:
                failures.append((where, response.status_code, response.text[:300]))
            anonymous = case.call(headers={"Authorization": ""})
            assert anonymous.status_code == 401, (where, anonymous.text)

        check()
    assert not failures, failures
