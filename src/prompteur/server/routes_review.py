"""Review queues over HTTP (people label results and traces, or choose between two blind
outputs) and end-user feedback on traces. Labelling needs the `review` scope (a write key
holds it), making a queue needs `write`, feedback needs `feedback` (a write key holds it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from .deps import Principal, require

router = APIRouter(prefix="/v1/review", tags=["review"])
feedback_router = APIRouter(prefix="/v1/feedback", tags=["review"])
READ = Depends(require("read"))
REVIEW = Depends(require("review"))
WRITE = Depends(require("write"))
FEEDBACK = Depends(require("feedback"))
QueueName = Annotated[str, PathParam(min_length=1, max_length=100)]
Position = Annotated[int, PathParam(ge=1, le=1_000_000)]


class QueueIn(BaseModel):
    """A new queue: from a run (`run`, with `select`), from traces (`source: traces`), or a
    blind preference queue (`kind: preference`, with variants `a` and `b`)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["label", "preference"] = "label"
    source: Literal["run", "traces"] = "run"
    run: str | None = Field(default=None, max_length=40)
    run_b: str | None = Field(default=None, max_length=40)
    select: str | None = Field(default=None, max_length=30)
    score: str | None = Field(default=None, max_length=100)
    prompt: str | None = Field(default=None, max_length=200)
    a: str | None = Field(default=None, max_length=300)
    b: str | None = Field(default=None, max_length=300)
    size: int | None = Field(default=None, ge=1, le=10_000)
    seed: int = Field(default=0, ge=0, le=2**31)
    below: float = Field(default=0.5, ge=0, le=1)
    blind: bool = False
    reviewers: int = Field(default=1, ge=1, le=20)


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: bool | float | str | None = None
    comment: str | None = Field(default=None, max_length=4000)
    correction: str | None = Field(default=None, max_length=20_000)
    skipped: bool = False


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trace_id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")
    score: bool | float = Field(description="1 (or true) good, 0 (or false) bad; in [0, 1]")
    comment: str | None = Field(default=None, max_length=4000)


class FeedbackOut(BaseModel):
    id: int
    trace_id: str
    score: float
    comment: str | None
    created_at: datetime


# A key's name never changes: looked up once per key, not on every label.
_NAMES: dict[tuple[str, str], str] = {}


def reviewer(principal: Principal) -> str:
    """Who labels: the API key's name (its id when it has none); `dev` for an anonymous
    caller of a --dev server."""
    if principal.key_id is None:
        return "dev"
    cache_key = (principal.project, principal.key_id)
    name = _NAMES.get(cache_key)
    if name is None:
        found = [
            k for k in principal.store.keys.list(principal.project) if k["id"] == principal.key_id
        ]
        name = (found[0]["name"] if found else None) or f"key:{principal.key_id}"
        _NAMES[cache_key] = name
    return name


def _queue(principal: Principal, name: str) -> dict[str, Any]:
    from .. import review
    from ..errors import UserError
    from .errors import ApiError

    try:
        return review.queue(principal.store, name)
    except UserError as exc:
        raise ApiError(404, exc.message, hint=exc.hint) from None


def shown_item(q: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """An item as a reviewer may see it: never which variant is which in a preference
    queue, and no automatic verdict when the queue is blind."""
    hidden = {"sides", "queue_id"}
    if q["blind"] or q["kind"] == "preference":
        hidden |= {"verdict", "version", "model", "result_id"}
    return {k: v for k, v in item.items() if k not in hidden}


@router.get("/scores", summary="The project's score definitions")
def list_scores(principal: Principal = READ) -> list[dict[str, Any]]:
    from .. import review

    return [s.to_dict() for s in review.scores(principal.config).values()]


@router.get("/queues", summary="The review queues, newest first, with their progress")
def list_queues(principal: Principal = READ) -> list[dict[str, Any]]:
    return principal.store.reviews.queues()


@router.post("/queues", summary="Make a review queue", status_code=201)
def create_queue(body: QueueIn, principal: Principal = WRITE) -> dict[str, Any]:
    from .. import review

    return review.summary(principal.store, make_queue(principal, body))


def make_queue(principal: Principal, body: QueueIn) -> dict[str, Any]:
    """The queue a request describes, made under the caller's name: the REST route's and the
    run page's form's."""
    from .. import review
    from ..errors import UserError

    store, who = principal.store, reviewer(principal)
    if body.kind == "preference":
        if not body.run:
            raise UserError("a preference queue needs a run", field="run")
        q = review.preference_queue(
            store,
            body.name,
            body.run,
            a=body.a,
            b=body.b,
            run_b=body.run_b,
            size=body.size,
            seed=body.seed,
            reviewers=body.reviewers,
            created_by=who,
        )
    elif body.source == "traces":
        q = review.from_traces(
            store,
            body.name,
            score=review.score_named(principal.config, body.score),
            select=body.select or "sample",
            prompt=body.prompt,
            size=body.size or 50,
            seed=body.seed,
            below=body.below,
            blind=body.blind,
            reviewers=body.reviewers,
            created_by=who,
        )
    else:
        if not body.run:
            raise UserError("a queue from a run needs its run id", field="run")
        q = review.from_run(
            store,
            body.name,
            body.run,
            score=review.score_named(principal.config, body.score),
            select=body.select or "all",
            size=body.size,
            seed=body.seed,
            blind=body.blind,
            reviewers=body.reviewers,
            created_by=who,
        )
    return q


@router.get("/queues/{queue}", summary="A queue: progress, agreement, preference verdict")
def get_queue(
    queue: QueueName, lang: Literal["en", "fr"] = "en", principal: Principal = READ
) -> dict[str, Any]:
    from .. import review

    return review.summary(principal.store, _queue(principal, queue), lang)


@router.get("/queues/{queue}/items", summary="A page of a queue's items, by position")
def list_items(
    queue: QueueName,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    principal: Principal = READ,
) -> list[dict[str, Any]]:
    q = _queue(principal, queue)
    items = principal.store.reviews.items(q["id"], offset=offset, limit=limit)
    return [shown_item(q, i) for i in items]


@router.get("/queues/{queue}/items/{position}", summary="One item, with the caller's label")
def get_item(queue: QueueName, position: Position, principal: Principal = READ) -> dict[str, Any]:
    from ..errors import UserError
    from .errors import ApiError

    q = _queue(principal, queue)
    try:
        item = principal.store.reviews.item(q["id"], position, reviewer(principal))
    except UserError as exc:
        raise ApiError(404, exc.message) from None
    return shown_item(q, item)


@router.put("/queues/{queue}/items/{position}/label", summary="Label an item (or skip it)")
def put_label(
    queue: QueueName, position: Position, body: LabelIn, principal: Principal = REVIEW
) -> dict[str, Any]:
    from .. import review

    q = _queue(principal, queue)
    return review.label(
        principal.store,
        q,
        position,
        reviewer(principal),
        value=body.value,
        comment=body.comment,
        correction=body.correction,
        skipped=body.skipped,
    )


@router.get("/queues/{queue}/labels", summary="Every label of a queue (revealed), for export")
def list_labels(queue: QueueName, principal: Principal = READ) -> list[dict[str, Any]]:
    from .. import review

    return review.export_rows(principal.store, _queue(principal, queue))


@router.get("/queues/{queue}/disagreements", summary="The items whose reviewers disagree")
def list_disagreements(queue: QueueName, principal: Principal = READ) -> list[dict[str, Any]]:
    from .. import review

    return review.disagreements(principal.store, _queue(principal, queue))


@feedback_router.post("", summary="An end user's feedback on a traced call", status_code=201)
def post_feedback(body: FeedbackIn, principal: Principal = FEEDBACK) -> FeedbackOut:
    from ..errors import UserError

    score = float(body.score)
    if not 0.0 <= score <= 1.0:
        raise UserError("a feedback score is in [0, 1] (1 good, 0 bad)", field="score")
    row = principal.store.reviews.add_feedback(
        body.trace_id, score, body.comment, reviewer(principal)
    )
    return FeedbackOut(**{k: row[k] for k in FeedbackOut.model_fields})
