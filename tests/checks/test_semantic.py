"""The `similar` check with real embeddings: the packaged all-MiniLM-L6-v2 offline (the
`semantic` extra), and a provider's /embeddings endpoint served on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from helpers_http import LoopbackServer, Recorded, Reply

from prompteur.checks import CheckContext, CheckResult, _semantic, build, cosine, similarity
from prompteur.errors import UserError
from prompteur.models.pool import ModelPool

local = pytest.mark.skipif(
    not _semantic.local_available(),
    reason="the semantic extra is not installed: pip install 'prompteur[semantic]'",
)


def run(spec: dict[str, Any], ctx: CheckContext) -> CheckResult:
    """The check on `ctx`, with a project's models (outside any project: no config) unless
    `ctx` brings its own."""

    async def go() -> CheckResult:
        pool = ctx.models or ModelPool(None)
        try:
            return await build(spec)(replace(ctx, models=pool))
        finally:
            if ctx.models is None:
                await pool.aclose()

    return asyncio.run(go())


# ---- offline: all-MiniLM-L6-v2 -------------------------------------------------------------


@local
def test_minilm_ranks_paraphrases_above_unrelated_text() -> None:
    ref = "The cat is sitting on the mat."
    para = asyncio.run(similarity("A cat sits on a mat.", [ref]))
    unrelated = asyncio.run(similarity("Quarterly revenue grew by five percent.", [ref]))
    assert para > 0.8 > 0.3 > unrelated
    refund = "We will refund your order in full."
    near = asyncio.run(similarity("You'll get all your money back for the purchase.", [refund]))
    far = asyncio.run(similarity("Our shop opens at nine in the morning.", [refund]))
    assert near > far + 0.2


@local
def test_similar_check_offline() -> None:
    spec = {"type": "similar", "threshold": 0.7}
    ok = run(
        spec, CheckContext("Paris is the capital of France.", expected="France's capital is Paris.")
    )
    assert ok.passed and ok.score >= 0.7 and "≥" in ok.reason
    bad = run(spec, CheckContext("I like green tea.", expected="France's capital is Paris."))
    assert not bad.passed and bad.score < 0.7 and "<" in bad.reason
    # a list of references: the closest one counts
    many = run(
        {**spec, "value": ["I enjoy tea.", "Berlin is big."]}, CheckContext("I like green tea.")
    )
    assert many.passed


def test_missing_offline_model_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_semantic, "local_available", lambda: False)
    with pytest.raises(UserError, match=r"prompteur\[semantic\]"):
        build({"type": "similar", "value": "x"})


def test_unknown_embedder_and_bad_threshold() -> None:
    with pytest.raises(UserError, match="unknown embedder"):
        build({"type": "similar", "value": "x", "embedder": "word2vec"})
    with pytest.raises(UserError, match="threshold"):
        build({"type": "similar", "value": "x", "threshold": 2, "embedder": "openai:x"})


# ---- a provider's embeddings endpoint on loopback ----------------------------------------------


def bag_of_words(text: str, dims: int = 64) -> list[float]:
    """A deterministic embedding: hashed word counts (texts sharing words are close)."""
    vec = [0.0] * dims
    for word in text.lower().replace(".", " ").split():
        vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % dims] += 1.0
    return vec


class StubEmbeddings:
    def __init__(self) -> None:
        self.server = LoopbackServer(self.handle)

    def handle(self, req: Recorded) -> Reply:
        if req.path != "/v1/embeddings":
            return Reply(404, {"error": {"message": f"no {req.path}"}})
        body = req.json
        texts = body["input"]
        data = [
            {"object": "embedding", "index": i, "embedding": bag_of_words(t)}
            for i, t in enumerate(texts)
        ]
        data.reverse()  # the index, not the order, says which text a vector belongs to
        return Reply(200, {"object": "list", "data": data, "model": body["model"]})

    @property
    def inputs(self) -> list[list[str]]:
        return [r.json["input"] for r in self.server.requests]


@pytest.fixture
def embeddings() -> Iterator[StubEmbeddings]:
    stub = StubEmbeddings()
    with stub.server:
        yield stub


def test_provider_embeddings(embeddings: StubEmbeddings) -> None:
    embedder = f"openai-compatible:embed-small@{embeddings.server.url}/v1"
    spec = {"type": "similar", "embedder": embedder, "threshold": 0.6}
    ref = "the red fox jumps over the lazy dog"
    near = "the red fox jumps over a dog"
    close = run(spec, CheckContext(near, expected=ref))
    far = run(spec, CheckContext("stocks rallied on monday", expected=ref))
    assert close.passed and not far.passed and close.score > far.score
    assert close.score == pytest.approx(cosine(bag_of_words(near), bag_of_words(ref)))
    body = embeddings.server.requests[0].json
    assert body["model"] == "embed-small"
    assert embeddings.inputs[0] == [near, ref]
    # the reference is embedded once: later calls send only the new output
    assert embeddings.inputs[1] == ["stocks rallied on monday"]


def test_provider_error_fails_the_check(embeddings: StubEmbeddings) -> None:
    embeddings.server.handler = lambda req: Reply(500, {"error": {"message": "no vectors today"}})
    embedder = f"openai-compatible:broken@{embeddings.server.url}/v1"
    r = run({"type": "similar", "embedder": embedder, "value": "a"}, CheckContext("b"))
    assert not r.passed and "embedding failed" in r.reason and "no vectors today" in r.reason


def test_provider_that_has_no_embeddings_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    with pytest.raises(UserError, match="unknown embedder"):
        build({"type": "similar", "value": "x", "embedder": "anthropic:claude"})


def test_cosine() -> None:
    assert cosine([1, 0], [1, 0]) == 1.0
    assert cosine([1, 0], [0, 1]) == 0.0
    assert cosine([0, 0], [1, 1]) == 0.0
    assert math.isclose(cosine([1, 1], [1, 0]), 1 / math.sqrt(2))
    with pytest.raises(ValueError, match="sizes"):
        cosine([1], [1, 2])
