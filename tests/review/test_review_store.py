"""Review queues, labels and feedback through `store.reviews` and prompteur.review, on a real
SQLite file and a real PostgreSQL database (the `store` fixture runs each test on both)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers_review import (
    V1,
    V2,
    judged,
    make_run,
    record,
    simple_run,
    trace_row,
    two_variant_run,
)

from prompteur import review
from prompteur.config import load_config
from prompteur.errors import UserError
from prompteur.review._scores import Score
from prompteur.store import Store

PASS = review.DEFAULT


def test_a_queue_of_failures_holds_copies_of_the_failed_results(store: Store) -> None:
    run = two_variant_run(store)
    q = review.from_run(store, "fails", run, score=PASS, select="failures")
    assert q["name"] == "fails" and q["source"] == "run" and q["ref"] == run
    items = store.reviews.items(q["id"])
    assert [i["case_id"] for i in items] == ["c1", "c3", "c5", "c7", "c9"]
    assert [i["position"] for i in items] == [1, 2, 3, 4, 5]
    first = items[0]
    assert first["inputs"] == {"name": "n1"} and first["expected"] == "Hello n1"
    assert first["output"] == "Bye n1 from 1" and first["verdict"]["passed"] is False
    assert first["result_id"] is not None


def test_selections_all_sample_and_disagreement(store: Store) -> None:
    run = make_run(
        store,
        [
            record(0, checks=[judged("contains", True), judged("rubric", True)]),
            record(1, checks=[judged("contains", True), judged("rubric", False)], passed=False),
            record(2, checks=[judged("contains", False), judged("regex", True)], passed=False),
            *[record(i) for i in range(3, 20)],
        ],
    )
    assert len(store.reviews.items(review.from_run(store, "all", run, score=PASS)["id"])) == 20
    split = review.from_run(store, "d", run, score=PASS, select="disagreement")
    assert [i["case_id"] for i in store.reviews.items(split["id"])] == ["c1", "c2"]
    judge = review.from_run(store, "j", run, score=PASS, select="judge-disagreement")
    assert [i["case_id"] for i in store.reviews.items(judge["id"])] == ["c1"]
    one = review.from_run(store, "s1", run, score=PASS, select="sample", size=5, seed=7)
    two = review.from_run(store, "s2", run, score=PASS, select="sample", size=5, seed=7)
    other = review.from_run(store, "s3", run, score=PASS, select="sample", size=5, seed=8)
    ids = [[i["case_id"] for i in store.reviews.items(q["id"])] for q in (one, two, other)]
    assert len(ids[0]) == 5 and ids[0] == ids[1] and ids[0] != ids[2]


def test_a_queue_name_is_unique_and_bounded(store: Store) -> None:
    run = two_variant_run(store, 2)
    review.from_run(store, "q", run, score=PASS)
    with pytest.raises(UserError, match="exists already"):
        review.from_run(store, "q", run, score=PASS)
    for bad in ("", "a/b", "x" * 101, "tab\there"):
        with pytest.raises(UserError, match="queue name"):
            review.from_run(store, bad, run, score=PASS)
    with pytest.raises(UserError, match="selection is empty"):
        review.from_run(store, "none", make_run(store, [record(0)]), score=PASS, select="failures")


def test_labels_are_stored_with_who_and_when_and_relabelling_replaces(store: Store) -> None:
    q = review.from_run(store, "q", simple_run(store, 3), score=PASS)
    before = datetime.now(UTC) - timedelta(seconds=1)
    review.label(store, q, 1, "alice", value="fail", comment="rude")
    review.label(store, q, 1, "alice", value="pass", correction="Hello n0")
    review.label(store, q, 2, "alice", skipped=True)
    review.label(store, q, 1, "bob", value=False)
    rows = store.reviews.labels(q["id"])
    assert [(r["position"], r["reviewer"], r["value"], r["skipped"]) for r in rows] == [
        (1, "alice", True, False),
        (1, "bob", False, False),
        (2, "alice", None, True),
    ]
    assert rows[0]["correction"] == "Hello n0" and rows[0]["comment"] is None
    assert rows[0]["updated_at"] >= before
    p = review.progress(store, q)
    assert p["items"] == 3 and p["done"] == 1
    assert p["reviewers"] == {
        "alice": {"labelled": 1, "skipped": 1},
        "bob": {"labelled": 1, "skipped": 0},
    }
    assert store.reviews.next_position(q["id"], "alice") == 3
    assert store.reviews.next_position(q["id"], "bob") == 2
    mine = store.reviews.item(q["id"], 1, "bob")
    assert mine["label"]["value"] is False and mine["count"] == 3
    listed = {x["name"]: x for x in store.reviews.queues()}
    assert listed["q"]["items"] == 3 and listed["q"]["done"] == 1 and listed["q"]["labels"] == 2


def test_a_label_must_fit_the_score(store: Store) -> None:
    tone = Score("tone", "categorical", ("warm", "neutral", "cold"))
    stars = Score("stars", "numeric", range=(1.0, 5.0))
    run = two_variant_run(store, 2)
    qt = review.from_run(store, "tone", run, score=tone)
    qs = review.from_run(store, "stars", run, score=stars)
    review.label(store, qt, 1, "a", value="warm")
    review.label(store, qs, 1, "a", value="4.5")
    for q, bad in ((qt, "hot"), (qs, "6"), (qs, "many"), (qt, None)):
        with pytest.raises(UserError):
            review.label(store, q, 2, "a", value=bad)
    with pytest.raises(UserError, match="no item 9"):
        review.label(store, qt, 9, "a", value="warm")
    # A position beyond the database's integers is no item either, not an overflow.
    for huge in (10**20, -(10**20)):
        with pytest.raises(UserError, match="no item"):
            review.label(store, qt, huge, "a", value="warm")
        with pytest.raises(UserError, match="no item"):
            store.reviews.item(qt["id"], huge)
    with pytest.raises(UserError, match="comment"):
        review.label(store, qt, 2, "a", value="warm", comment="x" * 5000)
    assert [r["value"] for r in store.reviews.labels(qs["id"])] == [4.5]


def test_preference_queue_order_is_random_per_item_and_revealed_exactly(store: Store) -> None:
    run = two_variant_run(store, 40)
    q = review.preference_queue(store, "ab", run, a=V1[:8], b=V2[:8], seed=3)
    items = store.reviews.items(q["id"])
    assert len(items) == 40 and q["blind"]
    orders = [tuple(i["sides"]) for i in items]
    assert set(orders) == {("a", "b"), ("b", "a")}
    for i in items:  # what was shown as A really is the output of the variant recorded first
        shown_a = i["output"]
        assert shown_a.endswith("from 1" if i["sides"][0] == "a" else "from 2")
    # The reviewer always picks the output from version 2 (the one that always passes).
    for i in items[:30]:
        review.label(store, q, i["position"], "r", value="a" if i["sides"][0] == "b" else "b")
    for i in items[30:]:
        review.label(store, q, i["position"], "r", value="tie")
    pref = review.preference_of(store, q)
    assert (pref.a_wins, pref.b_wins, pref.ties) == (0, 30, 10)
    assert pref.b.startswith("greet@22222222") and pref.preferred == "b"
    exported = review.export_rows(store, q)
    assert {r["value"] for r in exported[:30]} == {"b"}
    with pytest.raises(UserError, match="one"):
        review.preference_queue(store, "bad", run, a="greet", b=V2[:8])


def test_traces_queues_and_feedback(store: Store) -> None:
    now = datetime.now(UTC)
    store.traces.insert(
        [
            trace_row(i, now, score=i / 10, passed=i >= 3, scored_at=now if i != 5 else None)
            for i in range(6)
        ]
    )
    store.reviews.add_feedback(f"{4:032x}", 0.0, "wrong name", "app-key")
    store.reviews.add_feedback(f"{2:032x}", 1.0, None, "app-key")
    low = review.from_traces(store, "low", score=PASS, select="low-score", below=0.3)
    assert [i["output"] for i in store.reviews.items(low["id"])] == ["out 0", "out 1", "out 2"]
    neg = review.from_traces(store, "neg", score=PASS, select="negative-feedback")
    (item,) = store.reviews.items(neg["id"])
    assert item["output"] == "out 4" and item["verdict"]["feedback"]["comment"] == "wrong name"
    sample = review.from_traces(store, "sample", score=PASS, size=4, seed=1)
    assert len(store.reviews.items(sample["id"])) == 4
    assert [f["score"] for f in store.reviews.feedback(trace_id=f"{4:032x}")] == [0.0]
    stats = store.reviews.feedback_by_version(now - timedelta(hours=1), now + timedelta(hours=1))
    assert stats == [
        {"prompt": "greet", "version": V1, "traces": 6, "with_feedback": 2, "negative": 1}
    ]


def test_cases_from_a_queue_take_the_correction_as_expected(store: Store) -> None:
    q = review.from_run(store, "q", simple_run(store, 4), score=PASS)
    review.label(store, q, 1, "a", value="pass")
    review.label(store, q, 2, "a", value="fail", comment="says bye")
    review.label(store, q, 3, "a", value="pass", correction="Hello there n2")
    review.label(store, q, 4, "a", skipped=True)
    cases = review.cases_from_queue(store, q)
    assert [c["inputs"] for c in cases] == [{"name": "n1"}, {"name": "n2"}]
    assert cases[0]["expected"] == "Hello n1" and "says bye" in cases[0]["description"]
    assert cases[1]["expected"] == "Hello there n2"
    assert [c["id"] for c in review.cases_from_queue(store, q, only="corrections")] == [
        f"review-{q['id']}-3"
    ]


def test_negative_feedback_becomes_a_case_unless_a_reviewer_passed_it(store: Store) -> None:
    now = datetime.now(UTC)
    store.traces.insert(
        [trace_row(i, now, meta={"expected": "Hello n1"} if i == 1 else {}) for i in range(4)]
    )
    for i, score in ((0, 0.0), (1, 0.2), (2, 0.1), (3, 0.9)):
        store.reviews.add_feedback(f"{i:032x}", score, "rude\rcases: []" if i == 0 else None, "app")
    q = review.from_traces(store, "unhappy", score=PASS, select="negative-feedback")
    by_output = {i["output"]: i["position"] for i in store.reviews.items(q["id"])}
    assert sorted(by_output) == ["out 0", "out 1", "out 2"]  # 0.9 is not negative
    review.label(store, q, by_output["out 2"], "ann", value="pass")  # a person overrides
    cases = review.cases_from_queue(store, q)
    assert sorted(c["inputs"]["name"] for c in cases) == ["n0", "n1"]
    one = next(c for c in cases if c["inputs"] == {"name": "n1"})
    assert one["expected"] == "Hello n1" and "negative user feedback" in one["description"]
    assert review.cases_from_queue(store, q, only="corrections") == []
    only = review.cases_from_queue(store, q, positions={by_output["out 1"]})
    assert [c["inputs"] for c in only] == [{"name": "n1"}]
    with pytest.raises(UserError, match="unknown choice"):
        review.cases_from_queue(store, q, only="everything")


def test_a_runs_preference_verdicts_come_from_either_run(store: Store) -> None:
    first, second = simple_run(store, 3), two_variant_run(store, 3)
    q = review.preference_queue(store, "ab", first, a="greet", b=V2[:8], run_b=second, seed=3)
    other = review.from_run(store, "plain", first, score=PASS)
    assert other["kind"] == "label"
    for position in (1, 2, 3):
        review.label(store, q, position, "ann", value="a" if position < 3 else "tie")
    pref = review.preference_of(store, q)
    for run in (first, second):
        (shown,) = review.run_preferences(store, run, "fr")
        assert shown["queue"] == "ab" and shown["words"] == pref.words("fr")
        assert (shown["a_wins"] + shown["b_wins"], shown["ties"]) == (2, 1)
    assert review.run_preferences(store, two_variant_run(store, 2)) == []


def test_export_jsonl_and_csv(store: Store) -> None:
    q = review.from_run(store, "q", simple_run(store, 2), score=PASS)
    review.label(store, q, 1, "a", value="pass", comment='tricky, "quoted"')
    review.label(store, q, 2, "a", value="fail")
    lines = [json.loads(x) for x in review.export_text(store, q, "jsonl").splitlines()]
    assert [(x["position"], x["value"], x["reviewer"]) for x in lines] == [
        (1, True, "a"),
        (2, False, "a"),
    ]
    import csv
    import io

    table = list(csv.DictReader(io.StringIO(review.export_text(store, q, "csv"))))
    assert table[0]["comment"] == 'tricky, "quoted"' and json.loads(table[0]["inputs"]) == {
        "name": "n0"
    }


def test_human_verdicts_take_the_majority(store: Store) -> None:
    q = review.from_run(store, "q", simple_run(store, 3), score=PASS, reviewers=3)
    for who, values in {"a": "ppf", "b": "pff", "c": "pf"}.items():
        for pos, v in enumerate(values, start=1):
            review.label(store, q, pos, who, value=v == "p")
    assert [(p, v) for p, _, v in review.human_verdicts(store, q)] == [
        (1, True),
        (2, False),
        (3, False),
    ]


def test_scores_come_from_prompteur_toml(tmp_path: Path) -> None:
    (tmp_path / "prompteur.toml").write_text(
        '[scores.tone]\nkind = "categorical"\ncategories = ["warm", "cold"]\n'
        'description = "How warm is it?"\ndescription_fr = "Quelle chaleur ?"\n'
        '[scores.stars]\nkind = "numeric"\nrange = [1, 5]\n'
    )
    config = load_config(tmp_path)
    found = review.scores(config)
    assert found["tone"].choices == ("warm", "cold")
    assert found["tone"].describe("fr") == "Quelle chaleur ?"
    assert found["stars"].range == (1.0, 5.0) and found["stars"].level == "interval"
    (tmp_path / "prompteur.toml").write_text('[scores.bad]\nkind = "categorical"\n')
    with pytest.raises(UserError) as info:
        load_config(tmp_path)
    assert "2 to 9" in str(info.value) and "scores.bad" in str(info.value)
