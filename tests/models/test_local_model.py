"""The embedded model, for real: Gemma 3 270M (base) through llama.cpp in this process."""

from __future__ import annotations

import asyncio

import pytest

from prompteur.models.base import BadRequestError, Message, Params, Request, Response
from prompteur.models.local import LocalModel, to_transcript
from prompteur.models.providers import get_model

FEW_SHOT = (
    "Classify the sentiment of each review as positive or negative.\n\n"
    "Review: I love it, it works perfectly.\nSentiment: positive\n\n"
    "Review: Broke after a week. A waste of money.\nSentiment: negative\n\n"
    "Review: Great value, I would buy it again.\nSentiment: positive\n\n"
    "Review: The worst service I have ever had.\nSentiment: negative\n\n"
    "Review: {review}\nSentiment:"
)


@pytest.fixture(scope="module")
def model() -> LocalModel:
    m = get_model("local")
    assert isinstance(m, LocalModel)
    return m


def ask(model: LocalModel, text: str, **params: object) -> Response:
    req = Request(messages=(Message("user", text),), params=Params(**params))  # type: ignore[arg-type]
    return asyncio.run(model.generate(req))


def test_classifies_clear_reviews(model: LocalModel) -> None:
    good = ask(
        model,
        FEW_SHOT.format(review="Wonderful, I enjoyed every minute."),
        max_tokens=3,
        stop=["\n"],
    )
    bad = ask(
        model,
        FEW_SHOT.format(review="Terrible. It stopped working on day one."),
        max_tokens=3,
        stop=["\n"],
    )
    assert good.text.strip() == "positive"
    assert bad.text.strip() == "negative"
    assert good.finish_reason == "stop"
    assert good.usage.input_tokens > 50 and 1 <= good.usage.output_tokens <= 3
    assert good.latency_s > 0 and good.model == "local"


def test_max_tokens_stops_with_length(model: LocalModel) -> None:
    r = ask(model, "Once upon a time", max_tokens=5)
    assert r.finish_reason == "length" and r.usage.output_tokens == 5


def test_stop_sequence_is_not_in_the_output(model: LocalModel) -> None:
    r = ask(model, "1, 2, 3, 4, 5, 6,", max_tokens=30, stop=[" 9"])
    assert " 9" not in r.text and "7" in r.text and r.finish_reason == "stop"


def test_logprobs_match_greedy_choice(model: LocalModel) -> None:
    r = ask(model, FEW_SHOT.format(review="Awful quality."), max_tokens=2, stop=["\n"], logprobs=3)
    assert r.logprobs is not None and len(r.logprobs) >= 1
    first = r.logprobs[0]
    assert first.token.strip() == "negative"
    assert len(first.top) == 3
    assert first.top[0][0] == first.token and first.top[0][1] == pytest.approx(first.logprob)
    assert first.top[0][1] >= first.top[1][1] >= first.top[2][1]
    assert -20 < first.logprob <= 0


def test_stream_yields_pieces_then_the_response(model: LocalModel) -> None:
    req = Request(
        messages=(Message("user", "The capital of France is"),), params=Params(max_tokens=12)
    )

    async def collect() -> list[object]:
        return [item async for item in model.stream(req)]

    items = asyncio.run(collect())
    assert isinstance(items[-1], Response)
    pieces = items[:-1]
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == items[-1].text  # type: ignore[arg-type]
    assert items[-1].usage.output_tokens == 12  # type: ignore[union-attr]


def test_seeded_sampling_is_reproducible(model: LocalModel) -> None:
    kw = {"temperature": 1.0, "max_tokens": 12}
    a = ask(model, "My favourite animal is", seed=7, **kw)
    b = ask(model, "My favourite animal is", seed=7, **kw)
    others = {ask(model, "My favourite animal is", seed=s, **kw).text for s in (1, 2, 3)}
    assert a.text == b.text
    assert len(others | {a.text}) >= 2  # different seeds explore


def test_prompt_longer_than_context_is_a_bad_request(embedded_model_path) -> None:
    small = LocalModel("local", embedded_model_path, n_ctx=256)
    with pytest.raises(BadRequestError, match="over the context"):
        ask(small, "word " * 400, max_tokens=2)


def test_control_tokens_in_data_stay_plain_text(model: LocalModel) -> None:
    llama = model.llama
    plain = llama.tokenize(b"<end_of_turn>", add_bos=False, special=False)
    special = llama.tokenize(b"<end_of_turn>", add_bos=False, special=True)
    assert len(special) == 1 and len(plain) > 1


def test_transcript_for_a_base_model() -> None:
    single = to_transcript([Message("system", "Be brief."), Message("user", "Q: hi\nA:")])
    assert single == ("Be brief.\n\nQ: hi\nA:", [])
    text, stops = to_transcript(
        [Message("user", "hi"), Message("assistant", "hello"), Message("user", "bye")]
    )
    assert text == "User: hi\nAssistant: hello\nUser: bye\nAssistant:"
    assert stops == ["\nUser:"]
    prefill, _ = to_transcript([Message("user", "hi"), Message("assistant", "Sure,")])
    assert prefill.endswith("Assistant: Sure,")


def test_dialogue_stops_before_inventing_the_next_user_turn(model: LocalModel) -> None:
    msgs = (Message("user", "Say hi."), Message("assistant", "Hi!"), Message("user", "Say bye."))
    r = asyncio.run(model.generate(Request(messages=msgs, params=Params(max_tokens=40))))
    assert "User:" not in r.text
