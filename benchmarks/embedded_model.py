"""Benchmark 4: throughput of the embedded model (Gemma 3 270M through llama.cpp, in-process).

Two workloads of greedy few-shot classification (max_tokens 3, stop "\\n"):

- single: 200 reviews through one 4-shot sentiment prompt;
- interleaved: the same 200 reviews through two prompts with different 4-shot blocks, submitted
  A1 B1 A2 B2 … (400 calls).

Each is run by
- the baseline: plain llama-cpp-python `Llama.create_completion` calls in submission order (it
  reuses the previous call's KV-cache prefix, nothing more);
- prompteur's LocalModel with N `generate()` calls in flight (asyncio), served by its batching
  scheduler (shared prefixes resident in the KV cache, one llama_batch per step for all live
  sequences); also with N = 1 (what the runner does today for local models).

Everything runs in this one process, one after the other (never two busy llama.cpp contexts at
once: on 2 cores they slow each other down many times over). Prints ms per call, the speed-up
against the baseline of the same workload, and the agreement of the greedy outputs with it.

    .venv/bin/python benchmarks/embedded_model.py [--cases 200] [--concurrency 16] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from prompteur.models.base import Message, Params, Request
from prompteur.models.local import LocalModel, embedded_model_path

N_CTX, N_BATCH, MAX_TOKENS, STOP = 4096, 512, 3, ["\n"]
TARGET_SINGLE, TARGET_PAIR = 1.5, 3.0

PROMPT_A = (
    "Classify the sentiment of each review as positive or negative.\n\n"
    "Review: I love it, it works perfectly.\nSentiment: positive\n\n"
    "Review: Broke after a week. A waste of money.\nSentiment: negative\n\n"
    "Review: Great value, I would buy it again.\nSentiment: positive\n\n"
    "Review: The worst service I have ever had.\nSentiment: negative\n\n"
    "Review: {review}\nSentiment:"
)
PROMPT_B = (
    "Decide whether each customer comment is positive or negative.\n\n"
    "Comment: Arrived early and the quality is superb.\nAnswer: positive\n\n"
    "Comment: Nothing worked and support never replied.\nAnswer: negative\n\n"
    "Comment: My kids use it every day, highly recommended.\nAnswer: positive\n\n"
    "Comment: Cheap plastic that cracked on the first use.\nAnswer: negative\n\n"
    "Comment: {review}\nAnswer:"
)

SUBJECTS = [
    "The blender",
    "This phone",
    "The hotel room",
    "Our new sofa",
    "The headphones",
    "This book",
    "The delivery",
    "The vacuum cleaner",
    "The restaurant",
    "This jacket",
    "The laptop",
    "The coffee maker",
    "The customer service",
    "This game",
    "The tent",
]
GOOD = [
    "works beautifully",
    "exceeded my expectations",
    "is worth every penny",
    "feels solid and well made",
    "made my week",
    "is exactly as described",
    "is a joy to use",
    "arrived quickly and intact",
]
BAD = [
    "stopped working after two days",
    "is a complete waste of money",
    "feels cheap and flimsy",
    "was a huge disappointment",
    "smells strange and leaks",
    "broke the first time I used it",
    "is nothing like the pictures",
    "arrived damaged",
]
TAILS = [
    "",
    " I would buy it again.",
    " Never again.",
    " Five stars.",
    " Avoid.",
    " My whole family agrees.",
    " Returned it the next day.",
    " Highly recommended!",
    " Not sure what else to say.",
    " The price was fair.",
]


def reviews(n: int, seed: int = 4) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        verb = rng.choice(GOOD if rng.random() < 0.5 else BAD)
        out.append(f"{rng.choice(SUBJECTS)} {verb}.{rng.choice(TAILS)}")
    return out


def baseline(path: str, prompts: list[str]) -> tuple[float, list[str]]:
    from llama_cpp import Llama

    llama = Llama(model_path=path, n_ctx=N_CTX, n_batch=N_BATCH, verbose=False)
    llama.create_completion(prompts[0], max_tokens=MAX_TOKENS, temperature=0.0, stop=STOP)
    llama.create_completion("Warm up.", max_tokens=1, temperature=0.0)
    texts = []
    start = time.perf_counter()
    for p in prompts:
        r = llama.create_completion(p, max_tokens=MAX_TOKENS, temperature=0.0, stop=STOP)
        texts.append(r["choices"][0]["text"])
    elapsed = time.perf_counter() - start
    llama.close()
    return elapsed, texts


def prompteur(model: LocalModel, prompts: list[str], n: int) -> tuple[float, list[str]]:
    def request(p: str) -> Request:
        return Request(
            messages=(Message("user", p),),
            params=Params(max_tokens=MAX_TOKENS, stop=STOP, temperature=0),
        )

    async def run() -> list[str]:
        gate = asyncio.Semaphore(n)

        async def one(p: str) -> str:
            async with gate:
                return (await model.generate(request(p))).text

        return await asyncio.gather(*(one(p) for p in prompts))

    asyncio.run(model.generate(request("Warm up.")))  # load outside the measure
    start = time.perf_counter()
    texts = asyncio.run(run())
    return time.perf_counter() - start, texts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--no-serial", action="store_true", help="skip prompteur with 1 in flight")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    path = str(embedded_model_path())
    texts = reviews(args.cases)
    single = [PROMPT_A.format(review=r) for r in texts]
    pair = [p.format(review=r) for r in texts for p in (PROMPT_A, PROMPT_B)]
    workloads = {"single": single, "interleaved": pair}

    rows = []
    base: dict[str, tuple[float, list[str]]] = {}
    for name, prompts in workloads.items():
        base[name] = baseline(path, prompts)
        rows.append(
            {
                "workload": name,
                "runner": "llama-cpp-python, in order",
                "calls": len(prompts),
                "s": base[name][0],
                "ratio": 1.0,
                "agree": 1.0,
            }
        )
    model = LocalModel("local", Path(path), n_ctx=N_CTX, n_batch=N_BATCH)
    ns = [args.concurrency] + ([] if args.no_serial else [1])
    for name, prompts in workloads.items():
        for n in ns:
            s, out = prompteur(model, prompts, n)
            agree = sum(a == b for a, b in zip(out, base[name][1], strict=True)) / len(prompts)
            rows.append(
                {
                    "workload": name,
                    "runner": f"prompteur LocalModel, {n} in flight",
                    "calls": len(prompts),
                    "s": s,
                    "ratio": base[name][0] / s,
                    "agree": agree,
                }
            )
    for r in rows:
        r["ms_per_call"] = 1000 * r["s"] / r["calls"]

    from llama_cpp import __version__ as llama_version

    from prompteur.models.local import _BATCHERS

    b = next(iter(_BATCHERS.values()))
    meta = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "llama_cpp_python": llama_version,
        "load": os.getloadavg()[0],
        "prefix_tokens": len(model.llama.tokenize(PROMPT_A.split("{review}")[0].encode())),
        "batches": b.batches,
        "batched_calls": b.batched_jobs,
    }
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=2))
    else:
        print(
            f"{'workload':<12} {'runner':<38} {'calls':>5} {'ms/call':>8} {'× base':>7} "
            f"{'agree':>6}"
        )
        for r in rows:
            print(
                f"{r['workload']:<12} {r['runner']:<38} {r['calls']:>5} "
                f"{r['ms_per_call']:>8.1f} {r['ratio']:>6.2f}× {100 * r['agree']:>5.1f}%"
            )
        print(" ".join(f"{k}={v}" for k, v in meta.items()))
    best = {w: max(r["ratio"] for r in rows if r["workload"] == w) for w in workloads}
    ok = best["single"] >= TARGET_SINGLE and best["interleaved"] >= TARGET_PAIR
    print(
        f"targets: single {best['single']:.2f}× (≥ {TARGET_SINGLE}×), "
        f"interleaved {best['interleaved']:.2f}× (≥ {TARGET_PAIR}×): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
