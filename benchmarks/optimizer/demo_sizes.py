"""Design check on development data only: dev accuracy of random demonstration sets by size.

The optimizer explores the largest demonstration sets first (`optimize/proposers.py`,
`DemoSets`). This is the check behind that rule, made where the test set cannot guide it:
seed 3 (not a benchmark seed), the first 60 dev cases of each task, the human instruction,
two random sets per size, the embedded model, greedy, the benchmark's rendering and metric.

    .venv/bin/python benchmarks/optimizer/demo_sizes.py               # sizes 4, 8, 16
    .venv/bin/python benchmarks/optimizer/demo_sizes.py --sizes 16,32,48
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ape

from prompteur.config import load_config
from prompteur.models.base import Model, Params, Request
from prompteur.models.providers import get_model

PARAMS = Params(temperature=0, max_tokens=40, stop=["\n"])


async def accuracy(
    model: Model, cases: list[ape.Example], instruction: str, demos: list[ape.Example]
) -> float:
    requests = [
        Request(
            messages=(), prompt_text=ape.render_plain(instruction, demos, c.input), params=PARAMS
        )
        for c in cases
    ]
    outs = await asyncio.gather(*(model.generate(r) for r in requests))
    return sum(ape.score(o.text, c) for o, c in zip(outs, cases, strict=True)) / len(cases)


async def main(sizes: list[int], seed: int, n_dev: int, draws: int) -> None:
    model = get_model("local", load_config())
    by_size: dict[int, list[float]] = {k: [] for k in sizes}
    for name in ape.TASKS:
        task = ape.load_task(name, seed)
        rng = random.Random(f"prior:{name}")
        row = {}
        for k in sizes:
            row[k] = [
                await accuracy(
                    model, task.dev[:n_dev], task.human_instruction, rng.sample(task.train, k)
                )
                for _ in range(draws)
            ]
            by_size[k] += row[k]
        print(name, {k: [round(x, 2) for x in v] for k, v in row.items()}, flush=True)
    for k in sizes:
        print(f"{k} demonstrations: mean dev accuracy {statistics.mean(by_size[k]):.3f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="4,8,16")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--dev", type=int, default=60, help="dev cases per task")
    ap.add_argument("--draws", type=int, default=2, help="random sets per size")
    a = ap.parse_args()
    asyncio.run(main([int(k) for k in a.sizes.split(",")], a.seed, a.dev, a.draws))
