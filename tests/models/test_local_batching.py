"""The embedded model's batching scheduler: concurrent greedy calls share one llama.cpp context."""

from __future__ import annotations

import asyncio

import pytest

from prompteur.models.base import BadRequestError, Message, Params, Request, Response
from prompteur.models.local import _BATCHERS, LocalModel
from prompteur.models.local_batch import Job
from prompteur.models.providers import get_model

PROMPT_A = (
    "Classify the sentiment of each review as positive or negative.\n\n"
    "Review: I love it, it works perfectly.\nSentiment: positive\n\n"
    "Review: Broke after a week. A waste of money.\nSentiment: negative\n\n"
    "Review: {review}\nSentiment:"
)
PROMPT_B = (
    "Decide whether each customer comment is positive or negative.\n\n"
    "Comment: Arrived early and the quality is superb.\nAnswer: positive\n\n"
    "Comment: Cheap plastic that cracked on the first use.\nAnswer: negative\n\n"
    "Comment: {review}\nAnswer:"
)
REVIEWS = [
    "Wonderful, I enjoyed every minute.",
    "Terrible. It stopped working on day one.",
    "Best purchase I made this year.",
    "The box was empty.",
    "Five stars, would buy again.",
    "Rude staff and cold food.",
]


@pytest.fixture(scope="module")
def model() -> LocalModel:
    m = get_model("local")
    assert isinstance(m, LocalModel)
    return m


def req(text: str, **params: object) -> Request:
    return Request(messages=(Message("user", text),), params=Params(**params))  # type: ignore[arg-type]


async def gather(model: LocalModel, reqs: list[Request]) -> list[Response | BaseException]:
    return await asyncio.gather(*(model.generate(r) for r in reqs), return_exceptions=True)


def test_concurrent_calls_match_sequential_calls(model: LocalModel) -> None:
    reqs = [
        req(p.format(review=r), max_tokens=3, stop=["\n"])
        for r in REVIEWS
        for p in (PROMPT_A, PROMPT_B)
    ]
    reqs += [
        req("Once upon a time", max_tokens=6),
        req("1, 2, 3, 4, 5, 6,", max_tokens=20, stop=[" 9"]),
    ]
    sequential = [model.generate_sync(r) for r in reqs]  # the old one-at-a-time path
    batcher_before = _BATCHERS[id(model.llama)].batches if id(model.llama) in _BATCHERS else 0
    batched = asyncio.run(gather(model, reqs))
    # Logits differ by float rounding with the batch's shape, so a near tie may flip a token
    # (2.5% of classification calls in benchmarks/embedded_model.py): lengths, stops and
    # usage must match exactly; texts must agree on the large majority.
    same = 0
    for s, b in zip(sequential, batched, strict=True):
        assert isinstance(b, Response)
        assert (b.finish_reason, b.usage) == (s.finish_reason, s.usage)
        same += b.text == s.text
    assert same >= 0.8 * len(reqs), f"only {same}/{len(reqs)} texts agree"
    batcher = _BATCHERS[id(model.llama)]
    assert batcher.batches - batcher_before < len(reqs)  # some calls shared a batch
    by_text = {r.messages[0].content: b for r, b in zip(reqs, batched, strict=True)}
    assert by_text[PROMPT_A.format(review=REVIEWS[0])].text.strip() == "positive"
    assert by_text[PROMPT_B.format(review=REVIEWS[1])].text.strip() == "negative"


def test_stops_and_max_tokens_per_request(model: LocalModel) -> None:
    reqs = [
        req("Once upon a time", max_tokens=5),
        req("Once upon a time", max_tokens=9),
        req("1, 2, 3, 4, 5, 6,", max_tokens=30, stop=[" 9"]),
        req(PROMPT_A.format(review="Awful."), max_tokens=3, stop=["\n"]),
    ]
    a, b, c, d = asyncio.run(gather(model, reqs))
    assert isinstance(a, Response) and isinstance(b, Response)
    assert (a.finish_reason, a.usage.output_tokens) == ("length", 5)
    assert (b.finish_reason, b.usage.output_tokens) == ("length", 9)
    assert isinstance(c, Response) and " 9" not in c.text and "7" in c.text
    assert c.finish_reason == "stop"
    assert isinstance(d, Response) and "\n" not in d.text and d.finish_reason == "stop"
    assert d.usage.input_tokens > 40 and d.usage.output_tokens <= 3


def test_requests_arriving_during_a_batch_are_served(model: LocalModel) -> None:
    async def run() -> list[Response]:
        first = [
            asyncio.create_task(model.generate(req("Once upon a time", max_tokens=25)))
            for _ in range(3)
        ]
        await asyncio.sleep(0.05)  # the first batch is running
        later = [
            model.generate(req(PROMPT_A.format(review=r), max_tokens=3, stop=["\n"]))
            for r in REVIEWS
        ]
        done = await asyncio.wait_for(asyncio.gather(*first, *later), timeout=60)
        return list(done)

    out = asyncio.run(run())
    assert len(out) == 3 + len(REVIEWS)
    # (free text from identical prompts may drift apart after a near tie: a sequence's logits
    # depend on its row in the batch by float rounding, so only the counts are compared here)
    assert all(o.usage.output_tokens == 25 and o.finish_reason == "length" for o in out[:3])
    assert all(o.text.strip() in ("positive", "negative") for o in out[3:])


def test_a_bad_request_fails_alone(model: LocalModel) -> None:
    too_long = "word " * (model.n_ctx + 10)
    reqs = [req(PROMPT_A.format(review=r), max_tokens=3, stop=["\n"]) for r in REVIEWS[:3]]
    out = asyncio.run(gather(model, [reqs[0], req(too_long, max_tokens=3), *reqs[1:]]))
    assert isinstance(out[1], BadRequestError)
    assert all(isinstance(r, Response) and r.text.strip() for r in (out[0], *out[2:]))


def test_a_failing_batch_falls_back_to_one_by_one(model: LocalModel, monkeypatch) -> None:
    batcher = _BATCHERS[id(model.llama)]
    real = batcher._run
    calls: list[int] = []

    def flaky(jobs: list[Job]) -> None:
        calls.append(len(jobs))
        if len(jobs) > 1:
            raise RuntimeError("no KV slot")
        real(jobs)

    monkeypatch.setattr(batcher, "_run", flaky)
    reqs = [req(PROMPT_A.format(review=r), max_tokens=3, stop=["\n"]) for r in REVIEWS[:4]]
    out = asyncio.run(gather(model, reqs))
    assert all(isinstance(r, Response) and r.text.strip() for r in out)


def test_sampling_and_logprobs_keep_the_sequential_path(model: LocalModel) -> None:
    r = asyncio.run(
        model.generate(req(PROMPT_A.format(review="Awful."), max_tokens=2, stop=["\n"], logprobs=2))
    )
    assert r.logprobs and r.logprobs[0].token.strip() == "negative"
    s = asyncio.run(model.generate(req("Once upon a time", max_tokens=4, temperature=0.8, seed=1)))
    assert s.usage.output_tokens <= 4
    # and a greedy call afterwards still agrees with the sequential path
    g = req(PROMPT_B.format(review="Lovely."), max_tokens=3, stop=["\n"])
    assert asyncio.run(model.generate(g)).text == model.generate_sync(g).text
