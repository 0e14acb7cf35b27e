"""Structured outputs on the embedded model: the same JSON suite with and without enforcement,
side by side in one run.

    python benchmarks/structured/bench.py [--limit N] [--out results.json]

52 cases (benchmarks/structured/cases.jsonl): a French bank's email triage (categorie,
urgence, a reply in "vous") and its English counterpart (category, urgency, a formal reply),
each through a four-shot prompt declaring its outputs. Every case runs twice on Gemma 3 270M —
`enforce: true` (decoding under the schema's grammar) and `enforce: false` — in alternating
order, one call at a time, then each variant runs the whole suite batched (16 calls in flight,
as `prompteur eval` does), twice, alternating. Reported per variant: the share of outputs that
are JSON (the whole output), that obey the schema, each label field's accuracy, the reply's
register, and the time per call (sequential) and per suite (batched).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema

from prompteur.checks import CheckContext, build
from prompteur.models.providers import get_model
from prompteur.prompt import load_prompt

HERE = Path(__file__).resolve().parent
PROMPTS = {"fr": "tri-banque-fr.prompty", "en": "bank-triage-en.prompty"}
REPLY = {"fr": ("reponse", "vous"), "en": ("reply", "formal")}


def load_cases(limit: int | None) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (HERE / "cases.jsonl").read_text("utf-8").splitlines() if x]
    if limit:
        fr = [r for r in rows if r["lang"] == "fr"][: (limit + 1) // 2]
        en = [r for r in rows if r["lang"] == "en"][: limit // 2]
        rows = fr + en
    return rows


async def judge(row: dict[str, Any], output: str, schema: dict[str, Any]) -> dict[str, Any]:
    text = output.strip()
    try:
        data = json.loads(text)
        is_json = True
    except json.JSONDecodeError:
        data, is_json = None, False
    try:
        jsonschema.validate(data, schema)
        valid = is_json
    except jsonschema.ValidationError:
        valid = False
    ctx = CheckContext(output=output, expected=row["expected"])
    fields = (await build({"type": "equals"})(ctx)).fields or {}
    name, register = REPLY[row["lang"]]
    kept = (await build({"type": "register", "value": register, "path": name})(ctx)).passed
    return {"json": is_json, "schema": valid, "fields": fields, "register": kept}


async def sequential(model: Any, prompts: dict[str, Any], rows: list[dict[str, Any]]) -> dict:
    out: dict[str, list[dict[str, Any]]] = {"enforced": [], "free": []}
    for i, row in enumerate(rows):
        prompt = prompts[row["lang"]]
        on = prompt.request(row["inputs"])
        off = replace(on, output=None)
        order = [("enforced", on), ("free", off)]
        for variant, request in order if i % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            r = await model.generate(request)
            wall = time.perf_counter() - start
            verdict = await judge(row, r.text, prompt.output_schema)
            verdict |= {"seconds": wall, "tokens": r.usage.output_tokens, "enforced": r.enforced}
            out[variant].append(verdict)
    return out


async def batched(model: Any, prompts: dict[str, Any], rows: list[dict[str, Any]]) -> dict:
    """Wall time of the whole suite, 16 calls in flight, each variant twice (A B A B)."""
    sem = asyncio.Semaphore(16)
    times: dict[str, list[float]] = {"enforced": [], "free": []}

    async def one(row: dict[str, Any], enforced: bool) -> None:
        request = prompts[row["lang"]].request(row["inputs"])
        async with sem:
            await model.generate(request if enforced else replace(request, output=None))

    for _ in range(2):
        for variant in ("enforced", "free"):
            start = time.perf_counter()
            await asyncio.gather(*(one(r, variant == "enforced") for r in rows))
            times[variant].append(time.perf_counter() - start)
    return times


def summary(verdicts: list[dict[str, Any]], batch: list[float]) -> dict[str, Any]:
    n = len(verdicts)
    fields: dict[str, list[float]] = {}
    for v in verdicts:
        for name, hit in v["fields"].items():
            fields.setdefault(name, []).append(hit)
    exact = [all(h == 1.0 for h in v["fields"].values()) for v in verdicts]
    seconds = [v["seconds"] for v in verdicts]
    tokens = sum(v["tokens"] for v in verdicts)
    return {
        "cases": n,
        "json": sum(v["json"] for v in verdicts) / n,
        "schema": sum(v["schema"] for v in verdicts) / n,
        "fields": {k: sum(h) / len(h) for k, h in fields.items()},
        "both_fields": sum(exact) / n,
        "register": sum(v["register"] for v in verdicts) / n,
        "median_s_per_call": statistics.median(seconds),
        "mean_s_per_call": statistics.fmean(seconds),
        "tokens_per_s": tokens / sum(seconds),
        "output_tokens": tokens,
        "batched_suite_s": batch,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, help="only the first N cases (half French, half English)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = load_cases(args.limit)
    prompts = {lang: load_prompt(HERE / name) for lang, name in PROMPTS.items()}
    model = get_model("local")

    async def go() -> dict[str, Any]:
        await model.generate(prompts["fr"].request(rows[0]["inputs"]))  # load, warm the prefix
        seq = await sequential(model, prompts, rows)
        batch = await batched(model, prompts, rows)
        return {v: summary(seq[v], batch[v]) for v in ("enforced", "free")}

    result = asyncio.run(go())
    a, b = result["enforced"], result["free"]
    pct = lambda x: f"{x:.1%}"  # noqa: E731
    lines = [
        f"{len(rows)} cases ({sum(r['lang'] == 'fr' for r in rows)} French, "
        f"{sum(r['lang'] == 'en' for r in rows)} English), Gemma 3 270M Q4_K_M, greedy",
        "",
        "| | enforce: true (grammar) | enforce: false |",
        "|---|---:|---:|",
        f"| output is JSON | {pct(a['json'])} | {pct(b['json'])} |",
        f"| obeys the schema | {pct(a['schema'])} | {pct(b['schema'])} |",
    ]
    for name in a["fields"]:
        lines.append(
            f"| field `{name}` right | {pct(a['fields'][name])} | {pct(b['fields'].get(name, 0))} |"
        )
    lines += [
        f"| both label fields right | {pct(a['both_fields'])} | {pct(b['both_fields'])} |",
        f"| reply in the right register | {pct(a['register'])} | {pct(b['register'])} |",
        f"| median time per call (one at a time) | {a['median_s_per_call']:.2f} s | "
        f"{b['median_s_per_call']:.2f} s |",
        f"| output tokens per second | {a['tokens_per_s']:.1f} | {b['tokens_per_s']:.1f} |",
        f"| output tokens in all | {a['output_tokens']} | {b['output_tokens']} |",
        "| whole suite batched (16 in flight), two runs | "
        + " / ".join(f"{t:.1f} s" for t in a["batched_suite_s"])
        + " | "
        + " / ".join(f"{t:.1f} s" for t in b["batched_suite_s"])
        + " |",
    ]
    print("\n".join(lines))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
