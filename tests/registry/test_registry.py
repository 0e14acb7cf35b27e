"""Labels, the audit log, rollback and concurrent writers, on SQLite and PostgreSQL (no model
calls here: the gate is in test_registry_gate.py)."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_postgres import fresh_database
from sqlalchemy import inspect

from prompteur.errors import UserError
from prompteur.registry import (
    all_labels,
    audit_log,
    default_actor,
    labels_of,
    move_label,
    remove_label,
    resolve,
    rollback,
)
from prompteur.store import Store

A, B, C = "a1" + "0" * 62, "b2" + "0" * 62, "c3" + "0" * 62


@pytest.fixture(scope="module")
def postgres_db(postgres_url: str) -> Iterator[str]:
    """A database of its own for the module: the tests here downgrade schemas and must not
    disturb the other test files sharing `prompteur_test`."""
    with fresh_database(postgres_url, "reg") as fresh:
        yield fresh


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_db"))


@pytest.fixture
def p() -> str:
    """A prompt name of the test's own: the PostgreSQL database is shared by the module."""
    return f"p-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def store(store_url: str, p: str) -> Iterator[Store]:
    s = Store(store_url)
    for v, text in ((A, "first"), (B, "second"), (C, "third")):
        s.save_version(p, v, text, None)
    yield s
    s.close()


def test_migration_0004_goes_down_and_up(store: Store, p: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from prompteur.store.db import MIGRATIONS

    move_label(store, p, "production", A, actor="t", reason=None, evidence=None)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    tables = set(inspect(store.engine).get_table_names())
    assert not {"prompt_labels", "label_moves"} & tables
    assert "prompt_versions" in tables  # what 0004 did not create is left alone
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert {"prompt_labels", "label_moves"} <= set(inspect(store.engine).get_table_names())
    assert labels_of(store, p) == {}


def test_resolve_by_label_prefix_and_newest(store: Store, p: str) -> None:
    move_label(store, p, "staging", B, actor="t", reason=None, evidence=None)
    assert resolve(store, p, "staging").content == "second"
    assert resolve(store, p, "c3").version == C
    newest = resolve(store, p, None)
    assert newest.version == C and resolve(store, p, "latest").version == C
    with pytest.raises(UserError, match=f"no label or version 'nope' of '{p}'") as exc:
        resolve(store, p, "nope")
    assert "staging" in (exc.value.hint or "")
    with pytest.raises(UserError, match="no stored version of"):
        resolve(store, p + "-other", None)


def test_a_label_wins_over_a_version_prefix(store: Store, p: str) -> None:
    # "b2" is both a version prefix (B) and, here, a label pointing at A.
    move_label(store, p, "b2", A, actor="t", reason=None, evidence=None)
    assert resolve(store, p, "b2").version == A


@pytest.mark.parametrize("bad", ["", "1st", "has space", "latest", "x" * 101, "a@b", "é"])
def test_label_names_are_checked(store: Store, p: str, bad: str) -> None:
    with pytest.raises(UserError, match="not a valid label name"):
        move_label(store, p, bad, A, actor="t", reason=None, evidence=None)
    assert audit_log(store, p) == []


def test_a_label_points_only_at_a_stored_version(store: Store, p: str) -> None:
    with pytest.raises(UserError, match=f"no stored version 'ffff' of '{p}'"):
        move_label(store, p, "staging", "ffff", actor="t", reason=None, evidence=None)
    with pytest.raises(UserError, match="a label move needs an actor"):
        move_label(store, p, "staging", A, actor="  ", reason=None, evidence=None)
    assert labels_of(store, p) == {} and audit_log(store, p) == []


def test_moves_are_logged_in_order_and_a_repeat_is_a_no_op(store: Store, p: str) -> None:
    first = move_label(store, p, "production", "a1", actor="ann", reason="r1", evidence={"k": 1})
    assert first is not None and first.seq == 1 and first.from_version is None
    assert first.to_version == A  # a prefix is stored as the full version
    assert move_label(store, p, "production", A, actor="ann", reason=None, evidence=None) is None
    second = move_label(store, p, "production", B, actor="bob", reason="r2", evidence=None)
    assert second is not None
    assert (second.seq, second.from_version, second.to_version) == (2, A, B)
    log = audit_log(store, p, "production")
    assert [(m.actor, m.reason, m.evidence) for m in log] == [
        ("ann", "r1", {"k": 1}),
        ("bob", "r2", None),
    ]
    assert labels_of(store, p) == {"production": B}
    [info] = [i for i in all_labels(store) if i.name == p]
    assert (info.name, info.label, info.version, info.moved_by, info.seq) == (
        p,
        "production",
        B,
        "bob",
        2,
    )
    assert audit_log(store, p, limit=1) == [log[-1]]


def test_a_conditional_move_refuses_when_the_holder_changed(store: Store, p: str) -> None:
    move_label(store, p, "production", A, actor="t", reason=None, evidence=None)
    move_label(store, p, "production", B, actor="other", reason=None, evidence=None)
    with pytest.raises(UserError, match="moved while you worked") as exc:
        move_label(store, p, "production", C, actor="t", reason=None, evidence=None, expected=A)
    assert "nothing was changed" in (exc.value.hint or "")
    assert labels_of(store, p) == {"production": B}
    assert len(audit_log(store, p)) == 2
    with pytest.raises(UserError, match="it held nothing"):
        move_label(store, p, "production", C, actor="t", reason=None, evidence=None, expected=None)


def test_rollback_walks_back_one_holder_at_a_time(store: Store, p: str) -> None:
    for v in (A, B, C):
        move_label(store, p, "production", v, actor="t", reason=None, evidence=None)
    back = rollback(store, p, "production", actor="ops", reason="C is broken")
    assert (back.action, back.from_version, back.to_version) == ("rollback", C, B)
    assert back.evidence == {"undoes_step": 3}
    assert rollback(store, p, "production", actor="ops").to_version == A
    with pytest.raises(UserError, match="no previous holder"):
        rollback(store, p, "production", actor="ops")
    assert labels_of(store, p) == {"production": A}
    # A new move after rollbacks stacks on what the label holds now.
    move_label(store, p, "production", C, actor="t", reason=None, evidence=None)
    assert rollback(store, p, "production", actor="ops").to_version == A
    assert [m.seq for m in audit_log(store, p, "production")] == [1, 2, 3, 4, 5, 6, 7]
    with pytest.raises(UserError, match="never had a label 'canary'"):
        rollback(store, p, "canary", actor="ops")


def test_remove_then_rollback_puts_the_label_back(store: Store, p: str) -> None:
    move_label(store, p, "staging", B, actor="t", reason=None, evidence=None)
    gone = remove_label(store, p, "staging", actor="t", reason="retired")
    assert (gone.action, gone.from_version, gone.to_version) == ("remove", B, None)
    assert labels_of(store, p) == {}
    with pytest.raises(UserError, match="has no label 'staging'"):
        remove_label(store, p, "staging", actor="t")
    assert rollback(store, p, "staging", actor="t").to_version == B
    assert labels_of(store, p) == {"staging": B}


def test_the_actor_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTEUR_ACTOR", "ci-bot")
    assert default_actor("alice") == "alice"
    assert default_actor(None) == "ci-bot"
    monkeypatch.delenv("PROMPTEUR_ACTOR")
    import getpass

    assert default_actor(None) == getpass.getuser()


def assert_consistent(store: Store, p: str, actors: set[str], least: int) -> None:
    """Every logged step starts from the holder the previous one left: no update was lost
    (a move to the version already held is a no-op, so fewer moves than calls may be
    logged), the steps are numbered without a gap, and the label holds the last one."""
    log = audit_log(store, p, "production")
    assert [m.seq for m in log] == list(range(1, len(log) + 1))
    assert len(log) >= least
    assert log[0].from_version is None
    for prev, cur in itertools.pairwise(log):
        assert cur.from_version == prev.to_version, (prev, cur)
        assert cur.from_version != cur.to_version
    assert {m.actor for m in log} == actors
    assert labels_of(store, p) == {"production": log[-1].to_version}


def test_two_concurrent_writers_lose_no_move(store_url: str, store: Store, p: str) -> None:
    """Two threads, each with its own engine (its own connections), move the same label back
    and forth as fast as they can."""
    per_writer = 25
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer(targets: tuple[str, str], actor: str) -> None:
        s = Store(store_url)
        try:
            barrier.wait()
            for i in range(per_writer):
                move_label(
                    s, p, "production", targets[i % 2], actor=actor, reason=None, evidence=None
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            s.close()

    threads = [
        threading.Thread(target=writer, args=((A, B), "w1")),
        threading.Thread(target=writer, args=((C, A), "w2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert_consistent(store, p, {"w1", "w2"}, per_writer)


WRITER = """
import sys, time
from prompteur.registry import move_label, rollback
from prompteur.store import Store
url, name, actor, a, b, start = sys.argv[1:]
s = Store(url)
while time.time() < float(start):
    time.sleep(0.005)
for i in range(30):
    if i % 10 == 9:
        try:
            rollback(s, name, "production", actor=actor)
        except Exception as exc:  # no previous holder yet: a UserError, anything else fails
            if type(exc).__name__ != "UserError":
                raise
    else:
        move_label(s, name, "production", (a, b)[i % 2], actor=actor, reason=None, evidence=None)
s.close()
"""


def test_two_processes_moving_and_rolling_back_stay_consistent(
    store_url: str, store: Store, p: str
) -> None:
    """Two processes (each its own store, connections and, for SQLite, file locks) move and
    roll back the same label at the same moment."""
    import subprocess
    import sys
    import time

    start = str(time.time() + 3.0)  # both interpreters are up and the store open by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store_url, p, actor, a, b, start],
            stderr=subprocess.PIPE,
            text=True,
        )
        for actor, a, b in (("w1", A, B), ("w2", C, A))
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert_consistent(store, p, {"w1", "w2"}, 20)
    log = audit_log(store, p, "production")
    assert any(m.action == "rollback" for m in log)
