"""What the runner needs from the store, on SQLite and PostgreSQL: the response cache read and
written in batches, results streamed back for reports, and the cheap "already migrated" check
that spares every command importing alembic."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from test_runner import PROMPT, Scripted, Sink, cases, runner

from prompteur.store import Store
from prompteur.store import db as store_db


def test_cache_batches_first_answer_wins(store: Store) -> None:
    cache = store.cache
    entries = [(f"k{i}", {"text": f"t{i}"}) for i in range(1200)]  # more than one query's worth
    cache.put_many(entries)
    cache.put_many([("k1", {"text": "second answer"}), ("k1200", {"text": "new"})])
    keys = ["k5", "missing", "k1", "k1199", "k5", "k1200"]
    assert cache.get_many(keys) == [
        {"text": "t5"},
        None,
        {"text": "t1"},  # a key keeps its first answer
        {"text": "t1199"},
        {"text": "t5"},
        {"text": "new"},
    ]
    assert len([v for v in cache.get_many([k for k, _ in entries]) if v]) == 1200
    assert cache.get("k7") == {"text": "t7"} and cache.get("nope") is None
    cache.put("single", {"text": "x"})
    assert cache.get("single") == {"text": "x"}


class CountingCache:
    """A store cache that counts how it is called."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = {"get": 0, "get_many": 0, "put": 0, "put_many": 0}

    def get(self, key: str) -> Any:
        self.calls["get"] += 1
        return self.inner.get(key)

    def put(self, key: str, value: Any) -> None:
        self.calls["put"] += 1
        self.inner.put(key, value)

    def get_many(self, keys: list[str]) -> Any:
        self.calls["get_many"] += 1
        return self.inner.get_many(keys)

    def put_many(self, entries: list[tuple[str, Any]]) -> None:
        self.calls["put_many"] += 1
        self.inner.put_many(entries)


def test_runner_reads_and_writes_the_cache_in_batches(store: Store) -> None:
    import asyncio

    from prompteur.runner import CHUNK, plan

    n = 300
    items = list(plan([PROMPT], {PROMPT.version: ["fake"]}, lambda: cases(n), repeat=1))
    first = CountingCache(store.cache)
    model = Scripted()
    asyncio.run(runner(model, cache=first, concurrency={"fake": 50}).run(items, Sink()))
    assert model.calls == n
    assert first.calls["get"] == first.calls["put"] == 0
    assert first.calls["get_many"] == math.ceil(n / CHUNK)
    assert 1 <= first.calls["put_many"] < n  # with the result batches

    again = CountingCache(store.cache)
    sink = Sink()
    stats = asyncio.run(runner(model, cache=again).run(items, sink))
    assert model.calls == n and stats.cached == n and stats.calls == 0
    assert again.calls["get_many"] == math.ceil(n / CHUNK) and again.calls["put_many"] == 0
    assert sorted(r.case_id for r in sink.records) == sorted(f"c{i}" for i in range(n))


def test_results_are_streamed_each_time_they_are_read(store: Store) -> None:
    import asyncio

    from prompteur.runner import plan

    runs = [store.new_run("s", {}, 0) for _ in range(2)]
    for run_id, n in zip(runs, (2500, 3), strict=True):
        items = list(plan([PROMPT], {PROMPT.version: ["fake"]}, lambda n=n: cases(n), repeat=1))
        sink = Sink()
        asyncio.run(runner(Scripted()).run(items, sink))
        store.write_results(run_id, sink.records)
    rows = store.results(runs[0])
    assert len(rows) == 2500
    first_pass = [r.key for r in rows]
    assert first_pass == [r.key for r in rows]  # read again, same order
    assert len(set(first_pass)) == 2500
    assert rows[0].key == first_pass[0] and rows[-1].key == first_pass[-1]
    assert [r.key for r in rows[10:13]] == first_pass[10:13]
    with pytest.raises(IndexError):
        rows[2500]
    record = rows[0]
    assert record.inputs and record.checks and record.output
    assert len(store.results(runs[1])) == 3 and list(store.results("nothing")) == []


def test_up_to_date_check_agrees_with_alembic(tmp_path: Path) -> None:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(store_db.MIGRATIONS))
    assert store_db._head_from_files() == ScriptDirectory.from_config(cfg).get_current_head()
    engine = store_db.make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    assert not store_db._up_to_date(engine)  # empty: no alembic_version table
    store_db.migrate(engine)
    assert store_db._up_to_date(engine)
    engine.dispose()
