"""Review queues, their items and labels, and end-user feedback on traces (migration 0007).
What a label may say (score definitions) and how queues are chosen is prompteur.review's;
this module stores and reads rows, as plain mappings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..errors import UserError
from .tables import utcnow
from .tables_review import ReviewItem, ReviewLabel, ReviewQueue, TraceFeedback
from .tables_traces import Trace

if TYPE_CHECKING:
    from .db import Store

_Q = ReviewQueue.__table__
_I = ReviewItem.__table__
_L = ReviewLabel.__table__
_F = TraceFeedback.__table__
_T = Trace.__table__

MAX_POSITION = 2**31 - 1  # beyond, SQLite and PostgreSQL integers overflow: no such item


def _no_item(position: int) -> UserError:
    return UserError(f"no item {position} in this queue", field="position")


ITEM_FIELDS = tuple(c.name for c in _I.columns if c.name not in ("id", "queue_id", "position"))
LABEL_FIELDS = ("reviewer", "value", "comment", "correction", "skipped", "updated_at")


class ReviewRepository:
    """`store.reviews`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._engine = store.engine

    # ---- queues ------------------------------------------------------------------------

    def create_queue(self, queue: dict[str, Any], items: Sequence[dict[str, Any]]) -> int:
        """Store a queue and its items (positions 1..n in the order given) in one
        transaction; a name already taken is refused."""
        try:
            with self._engine.begin() as conn:
                queue_id = conn.execute(
                    _Q.insert().values(created_at=utcnow(), **queue).returning(_Q.c.id)
                ).scalar_one()
                if items:
                    conn.execute(
                        _I.insert(),
                        [
                            {
                                **{k: item.get(k) for k in ITEM_FIELDS},
                                "queue_id": queue_id,
                                "position": n,
                                "inputs": item.get("inputs") or {},
                            }
                            for n, item in enumerate(items, start=1)
                        ],
                    )
        except IntegrityError:
            raise UserError(
                f"a queue named '{queue.get('name')}' exists already",
                field="name",
                hint="choose another name, or see: prompteur review list",
            ) from None
        return int(queue_id)

    def queue(self, ref: str | int) -> dict[str, Any] | None:
        """A queue by its name (or its id, given as an int)."""
        where = _Q.c.id == ref if isinstance(ref, int) else _Q.c.name == str(ref)
        with self._engine.connect() as conn:
            row = conn.execute(select(_Q).where(where)).first()
        return dict(row._mapping) if row is not None else None

    def queues(self) -> list[dict[str, Any]]:
        """Every queue, newest first, with its counts: items, items with enough labels
        (`done`: as many non-skipped labels as the queue wants reviewers), labels."""
        per_item = (
            select(
                _L.c.item_id,
                func.count().label("n"),
            )
            .where(_L.c.skipped.is_(False))
            .group_by(_L.c.item_id)
            .subquery()
        )
        counts = (
            select(
                _I.c.queue_id,
                func.count().label("item_count"),
                func.sum(func.coalesce(per_item.c.n, 0)).label("label_count"),
            )
            .select_from(_I.outerjoin(per_item, per_item.c.item_id == _I.c.id))
            .group_by(_I.c.queue_id)
            .subquery()
        )
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(_Q, counts.c.item_count, counts.c.label_count)
                .select_from(_Q.outerjoin(counts, counts.c.queue_id == _Q.c.id))
                .order_by(_Q.c.created_at.desc(), _Q.c.id.desc())
            ).all()
            done = self._done(conn, None)
        out = []
        for r in rows:
            row = dict(r._mapping)
            row["items"] = int(row.pop("item_count") or 0)
            row["labels"] = int(row.pop("label_count") or 0)
            row["done"] = done.get(row["id"], 0)
            out.append(row)
        return out

    def preference_queues(self, run_id: str) -> list[dict[str, Any]]:
        """The preference queues one of whose variants came from this run (variant a's run
        is the queue's `ref`, variant b's is in its spec), oldest first."""
        query = select(_Q).where(_Q.c.kind == "preference").order_by(_Q.c.id)
        with self._engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        return [
            r for r in rows if run_id in (r["ref"], ((r["spec"] or {}).get("runs") or {}).get("b"))
        ]

    def _done(self, conn: Any, queue_id: int | None) -> dict[int, int]:
        """Items with at least the queue's number of reviewers (skips do not count), per queue."""
        per_item = (
            select(_L.c.queue_id, _L.c.item_id, func.count().label("n"))
            .where(_L.c.skipped.is_(False))
            .group_by(_L.c.queue_id, _L.c.item_id)
            .subquery()
        )
        query = (
            select(per_item.c.queue_id, func.count())
            .select_from(per_item.join(_Q, _Q.c.id == per_item.c.queue_id))
            .where(per_item.c.n >= _Q.c.reviewers)
            .group_by(per_item.c.queue_id)
        )
        if queue_id is not None:
            query = query.where(per_item.c.queue_id == queue_id)
        return {int(q): int(n) for q, n in conn.execute(query)}

    def progress(self, queue_id: int) -> dict[str, Any]:
        """Items, done items, and per reviewer: labelled and skipped counts."""
        with self._engine.connect() as conn:
            items = conn.execute(
                select(func.count()).select_from(_I).where(_I.c.queue_id == queue_id)
            ).scalar_one()
            by = conn.execute(
                select(_L.c.reviewer, _L.c.skipped, func.count())
                .where(_L.c.queue_id == queue_id)
                .group_by(_L.c.reviewer, _L.c.skipped)
            ).all()
            done = self._done(conn, queue_id).get(queue_id, 0)
        reviewers: dict[str, dict[str, int]] = {}
        for who, skipped, n in by:
            entry = reviewers.setdefault(who, {"labelled": 0, "skipped": 0})
            entry["skipped" if skipped else "labelled"] += int(n)
        return {"items": int(items), "done": done, "reviewers": reviewers}

    def delete_queue(self, queue_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(_L.delete().where(_L.c.queue_id == queue_id))
            conn.execute(_I.delete().where(_I.c.queue_id == queue_id))
            conn.execute(_Q.delete().where(_Q.c.id == queue_id))

    # ---- items -------------------------------------------------------------------------

    def items(self, queue_id: int, *, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """A page of items, by position."""
        query = (
            select(_I)
            .where(_I.c.queue_id == queue_id)
            .order_by(_I.c.position)
            .offset(offset)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def item(self, queue_id: int, position: int, reviewer: str | None = None) -> dict[str, Any]:
        """One item by position, with `label`: this reviewer's label (or None), and `count`:
        how many items the queue has. A position out of range is a UserError."""
        if not 1 <= position <= MAX_POSITION:
            raise _no_item(position)
        with self._engine.connect() as conn:
            row = conn.execute(
                select(_I).where(_I.c.queue_id == queue_id, _I.c.position == position)
            ).first()
            if row is None:
                raise _no_item(position)
            item = dict(row._mapping)
            item["label"] = None
            if reviewer is not None:
                label = conn.execute(
                    select(*(_L.c[f] for f in LABEL_FIELDS)).where(
                        _L.c.item_id == item["id"], _L.c.reviewer == reviewer
                    )
                ).first()
                item["label"] = dict(label._mapping) if label is not None else None
            item["count"] = conn.execute(
                select(func.count()).select_from(_I).where(_I.c.queue_id == queue_id)
            ).scalar_one()
        return item

    def next_position(self, queue_id: int, reviewer: str, after: int = 0) -> int | None:
        """The first position after `after` that this reviewer has not labelled nor skipped."""
        mine = select(_L.c.item_id).where(_L.c.queue_id == queue_id, _L.c.reviewer == reviewer)
        query = (
            select(func.min(_I.c.position))
            .where(_I.c.queue_id == queue_id, _I.c.position > after)
            .where(_I.c.id.not_in(mine))
        )
        with self._engine.connect() as conn:
            found = conn.execute(query).scalar_one()
        return int(found) if found is not None else None

    # ---- labels ------------------------------------------------------------------------

    def label(
        self,
        queue_id: int,
        position: int,
        reviewer: str,
        *,
        value: Any,
        comment: str | None = None,
        correction: str | None = None,
        skipped: bool = False,
    ) -> dict[str, Any]:
        """Store this reviewer's label on an item (replacing theirs if there was one)."""
        if not 1 <= position <= MAX_POSITION:
            raise _no_item(position)
        now = utcnow()
        fields = {
            "value": value,
            "comment": comment,
            "correction": correction,
            "skipped": skipped,
            "updated_at": now,
        }
        for attempt in range(2):
            try:
                with self._engine.begin() as conn:
                    item_id = conn.execute(
                        select(_I.c.id).where(_I.c.queue_id == queue_id, _I.c.position == position)
                    ).scalar_one_or_none()
                    if item_id is None:
                        raise _no_item(position)
                    changed = conn.execute(
                        _L.update()
                        .where(_L.c.item_id == item_id, _L.c.reviewer == reviewer)
                        .values(**fields)
                    ).rowcount
                    if not changed:
                        conn.execute(
                            _L.insert().values(
                                item_id=item_id,
                                queue_id=queue_id,
                                reviewer=reviewer,
                                created_at=now,
                                **fields,
                            )
                        )
                break
            except IntegrityError:
                # The same reviewer labelled the same item twice at once: the second becomes
                # an update of the first.
                if attempt:
                    raise
        return {"position": position, "reviewer": reviewer, **fields}

    def labels(self, queue_id: int) -> list[dict[str, Any]]:
        """Every label of a queue with its item (position, case, inputs, output, expected,
        verdict, sides), by position then reviewer."""
        query = (
            select(
                _I.c.position,
                _I.c.case_id,
                _I.c.result_id,
                _I.c.trace_id,
                _I.c.prompt,
                _I.c.version,
                _I.c.model,
                _I.c.inputs,
                _I.c.expected,
                _I.c.output,
                _I.c.verdict,
                _I.c.second,
                _I.c.sides,
                *(_L.c[f] for f in LABEL_FIELDS),
            )
            .select_from(_L.join(_I, _I.c.id == _L.c.item_id))
            .where(_L.c.queue_id == queue_id)
            .order_by(_I.c.position, _L.c.reviewer)
        )
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def votes(self, queue_id: int) -> list[dict[str, Any]]:
        """The labels alone (position, case, output, sides, reviewer, value, skipped), by
        position then reviewer: what agreement and verdicts read, without the items' JSON."""
        query = (
            select(
                _I.c.position,
                _I.c.case_id,
                _I.c.output,
                _I.c.sides,
                _L.c.reviewer,
                _L.c.value,
                _L.c.skipped,
            )
            .select_from(_L.join(_I, _I.c.id == _L.c.item_id))
            .where(_L.c.queue_id == queue_id)
            .order_by(_I.c.position, _L.c.reviewer)
        )
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # ---- end-user feedback -------------------------------------------------------------

    def add_feedback(
        self,
        trace_id: str,
        score: float,
        comment: str | None,
        source: str | None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        row = {
            "trace_id": trace_id,
            "score": float(score),
            "comment": comment,
            "source": source,
            "created_at": at or utcnow(),
        }
        with self._engine.begin() as conn:
            row["id"] = conn.execute(_F.insert().values(**row).returning(_F.c.id)).scalar_one()
        return row

    def feedback(
        self,
        *,
        trace_id: str | None = None,
        since: datetime | None = None,
        below: float | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Feedback rows, newest first; `below`: only scores under it (negative feedback)."""
        query = select(_F).order_by(_F.c.id.desc()).limit(limit)
        if trace_id is not None:
            query = query.where(_F.c.trace_id == trace_id)
        if since is not None:
            query = query.where(_F.c.created_at >= since)
        if below is not None:
            query = query.where(_F.c.score < below)
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def traces_with_feedback(
        self, *, below: float, prompt: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The first span of every trace with a feedback score under `below`, newest
        feedback first, with `feedback_score` and `feedback_comment`."""
        worst = (
            select(
                _F.c.trace_id,
                func.min(_F.c.score).label("feedback_score"),
                func.max(_F.c.comment).label("feedback_comment"),
                func.max(_F.c.id).label("last"),
            )
            .where(_F.c.score < below)
            .group_by(_F.c.trace_id)
            .subquery()
        )
        first = (
            select(_T.c.trace_id, func.min(_T.c.id).label("span"))
            .group_by(_T.c.trace_id)
            .subquery()
        )
        query = (
            select(_T, worst.c.feedback_score, worst.c.feedback_comment)
            .select_from(
                worst.join(first, first.c.trace_id == worst.c.trace_id).join(
                    _T, _T.c.id == first.c.span
                )
            )
            .order_by(worst.c.last.desc())
            .limit(limit)
        )
        if prompt is not None:
            query = query.where(_T.c.prompt == prompt)
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def feedback_rows(
        self, start: datetime, end: datetime, prompt: str | None = None
    ) -> list[dict[str, Any]]:
        """(prompt, created_at, score) of the feedback given in [start, end), the prompt taken
        from the trace it is about (feedback on an unknown trace is left out)."""
        prompts = (
            select(_T.c.trace_id, func.min(_T.c.prompt).label("prompt"))
            .group_by(_T.c.trace_id)
            .subquery()
        )
        query = (
            select(prompts.c.prompt, _F.c.created_at, _F.c.score)
            .select_from(_F.join(prompts, prompts.c.trace_id == _F.c.trace_id))
            .where(_F.c.created_at >= start, _F.c.created_at < end)
            .order_by(_F.c.id)
        )
        if prompt is not None:
            query = query.where(prompts.c.prompt == prompt)
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def feedback_by_version(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per (prompt, version): traces, traces with feedback, negative ones (score < 0.5)."""
        fb = (
            select(
                _F.c.trace_id,
                func.min(_F.c.score).label("worst"),
            )
            .group_by(_F.c.trace_id)
            .subquery()
        )
        query = (
            select(
                _T.c.prompt,
                _T.c.version,
                func.count(func.distinct(_T.c.trace_id)).label("traces"),
                func.count(func.distinct(fb.c.trace_id)).label("with_feedback"),
                func.count(func.distinct(fb.c.trace_id)).filter(fb.c.worst < 0.5).label("negative"),
            )
            .select_from(_T.outerjoin(fb, fb.c.trace_id == _T.c.trace_id))
            .where(_T.c.started_at >= since, _T.c.started_at < until)
            .group_by(_T.c.prompt, _T.c.version)
            .order_by(_T.c.prompt, _T.c.version)
        )
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
