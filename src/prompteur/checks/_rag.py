"""Retrieval checks graded by a judge — `context-faithfulness`, `context-recall`,
`context-relevance`, `answer-relevance` (promptfoo's RAG assertions) — and two checks that
call a hosted classifier: `moderation` (OpenAI's moderation API, needs OPENAI_API_KEY) and
`classifier` (a Hugging Face text-classification model, needs HF_TOKEN).

The RAG checks read the question and the retrieved context from the case's inputs (`query`
and `context` by default, as promptfoo does) and ask the judge one precise question each,
with the same judge machinery as `rubric` (JSON verdict for chat judges, a few-shot PASS/FAIL
for the embedded base model, which is no reliable judge).
"""

from __future__ import annotations

import os
from typing import Any

from ._base import CheckContext, CheckFn, CheckResult, check, result
from ._judge import (
    UnparseableVerdict,
    _is_user_error,
    _judge_failure,
    _validate_judge,
    grade,
    judge_model,
)


def _rag(name: str, criterion: str, graded: str) -> Any:
    def factory(
        value: Any = None,
        *,
        judge: str | None = None,
        threshold: float = 0.5,
        query_var: str = "query",
        context_var: str = "context",
    ) -> CheckFn:
        _validate_judge(judge)

        async def run(ctx: CheckContext) -> CheckResult:
            query = ctx.inputs.get(query_var)
            context = ctx.inputs.get(context_var)
            needs = {"query": query, "context": context}
            for what in ("query", "context"):
                if "{" + what + "}" in criterion + graded and needs[what] in (None, ""):
                    var = query_var if what == "query" else context_var
                    return result(name, False, f"the case has no input '{var}' (the {what})")
            reference = value if value is not None else ctx.expected
            if "{reference}" in criterion and reference is None:
                return result(name, False, "no expected answer: give `value`")
            fill = {
                "query": str(query),
                "context": str(context),
                "reference": str(reference),
                "output": ctx.output,
            }
            try:
                verdict = await grade(
                    judge_model(ctx.models, judge), criterion.format(**fill), graded.format(**fill)
                )
            except UnparseableVerdict as exc:
                return result(name, False, str(exc), 0.0)
            except Exception as exc:
                if _is_user_error(exc):
                    raise
                return _judge_failure(name, exc)
            return result(
                name,
                verdict.score >= threshold,
                f"score {verdict.score:.2f}: {verdict.reason}",
                verdict.score,
            )

        return run

    return factory


context_faithfulness = check("context-faithfulness")(
    _rag(
        "context-faithfulness",
        "Every statement of the text is supported by this context, nothing is made up.\n"
        "Context: {context}",
        "{output}",
    )
)
context_recall = check("context-recall")(
    _rag(
        "context-recall",
        "The text contains every fact of this reference answer: {reference}",
        "{context}",
    )
)
context_relevance = check("context-relevance")(
    _rag(
        "context-relevance",
        "The text is relevant to this question and holds what is needed to answer it: {query}",
        "{context}",
    )
)
answer_relevance = check("answer-relevance")(
    _rag(
        "answer-relevance",
        "The text answers this question directly and stays on it: {query}",
        "{output}",
    )
)


async def _post(url: str, key_env: str, payload: dict[str, Any]) -> Any:
    import httpx

    key = os.environ.get(key_env)
    if not key:
        raise LookupError(f"needs the environment variable {key_env}")
    async with httpx.AsyncClient(timeout=60) as client:
        reply = await client.post(url, json=payload, headers={"Authorization": f"Bearer {key}"})
    if reply.status_code >= 400:
        raise RuntimeError(f"HTTP {reply.status_code} from {url.split('/')[2]}")
    return reply.json()


@check("moderation")
def moderation(
    value: list[str] | str | None = None, *, model: str = "omni-moderation-latest"
) -> CheckFn:
    """The output is not flagged by OpenAI's moderation model (in the `value` categories, or
    any), called as the project's `openai` provider (its endpoint and key). Without a key the
    check fails and says so."""
    wanted = [value] if isinstance(value, str) else list(value or [])

    async def run(ctx: CheckContext) -> CheckResult:
        from ..models.openai_compat import OpenAICompatModel
        from ..models.pool import ModelPool

        try:
            client = (ctx.models or ModelPool(None)).get(f"openai:{model}")
            assert isinstance(client, OpenAICompatModel)
            data, _ = await client.post_json("/moderations", {"model": model, "input": ctx.output})
        except Exception as exc:
            return result("moderation", False, f"moderation unavailable: {exc}")
        flagged = []
        for res in data.get("results", []):
            for cat, hit in (res.get("categories") or {}).items():
                if hit and (not wanted or cat in wanted):
                    flagged.append(cat)
        return result(
            "moderation", not flagged, f"flagged: {', '.join(flagged)}" if flagged else ""
        )

    return run


@check("classifier")
def classifier(value: str | None = None, *, model: str, threshold: float = 0.5) -> CheckFn:
    """A Hugging Face text-classification `model` gives the class `value` (or, without one,
    any class) a score ≥ threshold. Needs HF_TOKEN: without it the check fails and says so."""
    url = f"https://router.huggingface.co/hf-inference/models/{model}"

    async def run(ctx: CheckContext) -> CheckResult:
        try:
            data = await _post(url, "HF_TOKEN", {"inputs": ctx.output})
        except (LookupError, RuntimeError, OSError) as exc:
            return result("classifier", False, f"classifier unavailable: {exc}")
        rows = data[0] if data and isinstance(data[0], list) else data
        scores = {str(r.get("label")): float(r.get("score", 0)) for r in rows or []}
        score = (
            scores.get(str(value), 0.0) if value is not None else max(scores.values(), default=0.0)
        )
        return result(
            "classifier", score >= threshold, f"{value or 'top class'}: {score:.2f}", score
        )

    return run
