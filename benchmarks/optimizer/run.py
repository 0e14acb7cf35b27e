"""Optimizer benchmark on the eight instruction-induction tasks of ../shared/data/ape-dev.

For each task, seed and budget, in one process, on the embedded model, all through
prompteur's rendering ("Instruction / Input: / Output:" completion format, greedy):

- human-0:      the human instruction, zero-shot
- human-4:      the human instruction with 4 random train demonstrations (seeded draw)
- random-search: the human instruction with random 4-demonstration sets, each scored on all
                dev cases, best kept — as many sets as the budget pays for
- prompteur:    `optimize` from human-4, same budget, same dev cases
- DSPy:         read from results/dspy.jsonl (dspy_baseline.py), its chosen instruction and
                demonstrations scored through our rendering by that script

Test = the 100 `execute/` examples, scored with the paper's metric (ape.score). Every result
line goes to results/optimizer.jsonl as it is known; a re-run skips what is there.

    .venv/bin/python benchmarks/optimizer/run.py                 # everything (long)
    .venv/bin/python benchmarks/optimizer/run.py --tasks sentiment --seeds 0 --budgets 300
    .venv/bin/python benchmarks/optimizer/run.py --report        # tables from the results
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ape  # noqa: E402

from prompteur.config import load_config  # noqa: E402
from prompteur.models.providers import get_model  # noqa: E402
from prompteur.optimizer.engine import Settings, optimize  # noqa: E402
from prompteur.optimizer.evaluator import Budget, Evaluator  # noqa: E402
from prompteur.prompt import Prompt, parse_prompt  # noqa: E402
from prompteur.runner import Runner  # noqa: E402
from prompteur.store import Store  # noqa: E402
from prompteur.suite import Case  # noqa: E402

RESULTS = HERE / "results"
OUT = RESULTS / "optimizer.jsonl"
CHECKS = [{"type": "equals", "normalize": True}]
# Methods this script runs; the first two do not search (their rows have budget 0).
FIXED = ("human-0", "human-4")
METHODS = (*FIXED, "random-search", "random-search-16", "prompteur")
# Result rows by (task, seed, budget, method).
Rows = dict[tuple[str, int, int, str], dict[str, Any]]


def prompt_for(task: str, instruction: str, demos: list[ape.Example]) -> Prompt:
    import yaml

    front = {
        "name": f"ape-{task}",
        "model": {
            "id": "local",
            "parameters": {"temperature": 0, "max_tokens": 40, "stop": ["\n"]},
        },
        "inputs": {"input": {"kind": "string"}},
        "examples": [{"input": d.input, "output": d.output} for d in demos],
    }
    system = f"system:\n{instruction}\n\n" if instruction.strip() else ""
    body = (
        f"{system}user:\n{{% for ex in examples -%}}\nInput: {{{{ ex.input }}}}\n"
        "Output: {{ ex.output }}\n\n{% endfor -%}\nInput: {{ input }}\nOutput:\n"
    )
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    return parse_prompt(f"---\n{head}---\n{body}", name=f"ape-{task}")


def cases(examples: list[ape.Example], split: str) -> list[Case]:
    return [
        Case(id=f"{split}{i}", inputs={"input": e.input}, expected=list(e.accepted))
        for i, e in enumerate(examples)
    ]


def done_keys() -> set[tuple[str, int, int, str]]:
    if not OUT.exists():
        return set()
    keys = set()
    for line in OUT.read_text().splitlines():
        r = json.loads(line)
        keys.add((r["task"], r["seed"], r["budget"], r["method"]))
    return keys


def append(row: dict[str, Any]) -> None:
    with OUT.open("a") as fh:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")


class Bench:
    def __init__(self, store: Store, config: Any) -> None:
        self.store = store
        self.model = get_model("local", config)

    def runner(self) -> Runner:
        # No response cache: every method pays for its own calls, as the peers do.
        return Runner({"local": self.model}, cost_of=lambda m, u: 0.0, default_checks=CHECKS)

    async def test_scores(self, prompt: Prompt, task: ape.Task, test: list[Case]) -> list[float]:
        ev = self.evaluator(10**9)
        await ev.evaluate([(prompt, test)], final=True)
        by_id = {r.case_id: r for r in ev.records(prompt, [c.id for c in test])}
        return [
            ape.score(by_id[c.id].output or "", ex) for c, ex in zip(test, task.test, strict=True)
        ]

    def evaluator(self, budget: int) -> Evaluator:
        run = self.store.new_run("ape", {"kind": "bench"}, 0)
        return Evaluator(self.runner(), "local", self.store, run, Budget(budget))


async def one(bench: Bench, name: str, seed: int, budgets: list[int], skip: set) -> None:
    task = ape.load_task(name, seed)
    train, dev, test = cases(task.train, "t"), cases(task.dev, "d"), cases(task.test, "x")
    rng = random.Random(f"demos:{name}:{seed}")
    human = task.human_instruction
    start_demos = rng.sample(task.train, 4)

    async def record(method: str, budget: int, prompt: Prompt, extra: dict[str, Any]) -> None:
        t0 = time.monotonic()
        per = await bench.test_scores(prompt, task, test)
        append(
            {
                "task": name,
                "seed": seed,
                "budget": budget,
                "method": method,
                "test_acc": sum(per) / len(per),
                "test_per_example": per,
                "prompt": prompt.text,
                "test_wall_s": round(time.monotonic() - t0, 1),
                **extra,
            }
        )
        print(f"{name} seed {seed} budget {budget} {method}: {sum(per) / len(per):.2f}", flush=True)

    async def random_search(method: str, budget: int, draws: list[list[ape.Example]]) -> None:
        """Each demonstration set with the human instruction on every dev case; the best
        is kept."""
        t0 = time.monotonic()
        ev = bench.evaluator(budget)
        best, best_score = None, -1.0
        for demos in draws:
            p = prompt_for(name, human, demos)
            await ev.evaluate([(p, dev)])
            s = ev.score(p, [c.id for c in dev])
            if sum(s) / len(s) > best_score:
                best, best_score = p, sum(s) / len(s)
        assert best is not None
        extra = {"calls": ev.budget.spent_task, "dev": best_score}
        await record(method, budget, best, extra | {"wall_s": round(time.monotonic() - t0, 1)})

    for method, p in (
        ("human-0", prompt_for(name, human, [])),
        ("human-4", prompt_for(name, human, start_demos)),
    ):
        if (name, seed, 0, method) not in skip:
            await record(method, 0, p, {"calls": 0})
    for budget in budgets:
        sets = max(1, budget // len(dev))
        if (name, seed, budget, "random-search") not in skip:
            draws = [rng.sample(task.train, 4) if i else start_demos for i in range(sets)]
            await random_search("random-search", budget, draws)
        if (name, seed, budget, "random-search-16") not in skip:
            # The same search over 16-demonstration sets: how much of prompteur's gain is its
            # prior for many demonstrations, and how much the search itself.
            rng16 = random.Random(f"rs16:{name}:{seed}")
            await random_search(
                "random-search-16", budget, [rng16.sample(task.train, 16) for _ in range(sets)]
            )
        if (name, seed, budget, "prompteur") not in skip:
            t0 = time.monotonic()
            settings = Settings(budget=budget, seed=seed, report_train=False)
            start = prompt_for(name, human, start_demos)
            # No held-out cases for optimize itself: this script scores every method on the
            # test examples; `--budget` caps every call, a held-out report's included, so the
            # whole budget goes to the search, as it does for the other methods.
            outcome = await optimize(
                bench.store, bench.runner(), "local", start, train, dev, [], settings, suite="ape"
            )
            await record(
                "prompteur",
                budget,
                outcome.best,
                {
                    "calls": outcome.budget.spent_task,
                    "dev": outcome.scores["dev"]["best"].mean.estimate,
                    "changes": outcome.changes,
                    "wall_s": round(time.monotonic() - t0, 1),
                },
            )


# ---- reporting ---------------------------------------------------------------------------


def paired_ci(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Mean of b − a with prompteur's 95% bootstrap interval over examples."""
    from prompteur.stats import bootstrap_mean

    ci = bootstrap_mean([y - x for x, y in zip(a, b, strict=True)])
    return ci.estimate, ci.low, ci.high


def load_rows() -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in OUT.read_text().splitlines()] if OUT.exists() else []
    dspy = RESULTS / "dspy.jsonl"
    if dspy.exists():
        for line in dspy.read_text().splitlines():
            r = json.loads(line)
            if r.get("test_per_example_plain"):
                rows.append(
                    {
                        "task": r["task"],
                        "seed": r["seed"],
                        "budget": r["budget"],
                        "method": f"dspy-{r['optimizer']}",
                        "test_acc": r["test_acc_plain"],
                        "test_per_example": r["test_per_example_plain"],
                        "calls": r.get("calls"),
                        "wall_s": r.get("wall_s"),
                        "test_acc_dspy_own": r.get("test_acc_dspy"),
                    }
                )
    return rows


def seed_spread(by: Rows, budget: int, cols: list[str]) -> str:
    """The eight-task average per seed, for the seeds every task and column has run, as
    mean ± sd over seeds."""
    per_seed: dict[str, list[float]] = {c: [] for c in cols}
    seeds = []
    for s in range(3):
        keys = [(t, s, 0 if c in FIXED else budget, c) for t in ape.TASKS for c in cols]
        if all(k in by for k in keys):
            seeds.append(s)
            for c in cols:
                b = 0 if c in FIXED else budget
                per_seed[c].append(statistics.mean(by[(t, s, b, c)]["test_acc"] for t in ape.TASKS))
    if not seeds:
        return "\nNo seed has every task and column yet."
    cells = []
    for c in cols:
        v = per_seed[c]
        sd = statistics.stdev(v) if len(v) > 1 else 0.0
        cells.append(f"{c} {statistics.mean(v):.3f} ± {sd:.3f}")
    return (
        f"\nEight-task average over seeds {seeds} (mean ± sd over seeds): " + "; ".join(cells) + "."
    )


def _cost(by: Rows, task: str, budget: int, m: str) -> str:
    """Task-model calls actually used and wall time of the search, mean over the seeds run."""
    rows = [by[k] for s in range(3) if (k := (task, s, budget, m)) in by]
    if not rows:
        return "—"
    walls = [r["wall_s"] for r in rows if r.get("wall_s") is not None]
    wall = f" · {statistics.mean(walls):.0f} s" if walls else ""
    return f"{statistics.mean(r['calls'] for r in rows):.0f}{wall}"


def _side(method: str) -> bool:
    """Columns run on only some tasks or seeds: compared with prompteur on their own rows,
    left out of the average over tasks."""
    return method.startswith("dspy") or method == "random-search-16"


def report(budgets: list[int]) -> str:
    rows = load_rows()
    by: Rows = {}
    for r in rows:
        by[(r["task"], r["seed"], r["budget"], r["method"])] = r
    out = []
    for budget in budgets:
        present = {m for (_, _, b, m) in by if b == budget}
        searched = [m for m in ("random-search", "random-search-16") if m in present]
        cols = [*FIXED, *searched, *sorted(m for m in present if m.startswith("dspy")), "prompteur"]
        out.append(f"\n### Budget {budget} task-model calls\n")
        out.append(
            "| task | " + " | ".join(cols) + " | calls · wall (ours) | calls · wall (random "
            "search) | gain vs human-4 | gain vs random search |"
        )
        out.append("|---" * (len(cols) + 5) + "|")
        pooled: dict[str, list[float]] = {c: [] for c in cols}
        core = [c for c in cols if not _side(c)]
        versus: dict[str, list[float]] = {c: [] for c in cols if _side(c)}
        for task in ape.TASKS:
            cells, per = [], {}
            paired_with: dict[str, list[float]] = {}
            # Only the seeds prompteur has run: every column is paired with it seed by seed.
            seeds = [s for s in range(3) if (task, s, budget, "prompteur") in by]
            for c in cols:
                b = 0 if c in FIXED else budget
                have = [s for s in seeds if (task, s, b, c) in by]
                if _side(c) or have == seeds:
                    accs = [by[(task, s, b, c)]["test_acc"] for s in have]
                    vec = [x for s in have for x in by[(task, s, b, c)]["test_per_example"]]
                else:
                    accs, vec = [], []
                per[c] = vec
                if _side(c):
                    paired_with[c] = [
                        x
                        for s in have
                        for x in by[(task, s, budget, "prompteur")]["test_per_example"]
                    ]
                if accs:
                    sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
                    cells.append(f"{statistics.mean(accs):.2f} ± {sd:.2f} ({len(accs)})")
                else:
                    cells.append("—")
            cost = " | ".join(_cost(by, task, budget, m) for m in ("prompteur", "random-search"))
            gains = []
            for base in ("human-4", "random-search"):
                if per.get(base) and len(per[base]) == len(per["prompteur"]) and per["prompteur"]:
                    d, lo, hi = paired_ci(per[base], per["prompteur"])
                    gains.append(f"{d * 100:+.1f} [{lo * 100:+.1f}, {hi * 100:+.1f}]")
                else:
                    gains.append("—")
            # DSPy ran on fewer tasks: the average is over the tasks every other column has,
            # and each side column is compared with prompteur on its own tasks.
            if all(per.get(c) and len(per[c]) == len(per["prompteur"]) for c in core):
                for c in core:
                    pooled[c] += per[c]
            for c in cols:
                if _side(c) and per.get(c):
                    pooled[c] += per[c]
                    versus[c] += paired_with[c]
            out.append(
                f"| {task} | " + " | ".join(cells) + f" | {cost} | " + " | ".join(gains) + " |"
            )
        if pooled["prompteur"]:
            avg = [
                f"{sum(pooled[c]) / len(pooled[c]):.3f}" if c in core else "(below)" for c in cols
            ]
            gains = []
            for base in ("human-4", "random-search"):
                d, lo, hi = paired_ci(pooled[base], pooled["prompteur"])
                gains.append(f"{d * 100:+.1f} [{lo * 100:+.1f}, {hi * 100:+.1f}]")
            out.append(
                "| **average** (tasks with every column but the side ones) | "
                + " | ".join(avg)
                + " | | | "
                + " | ".join(gains)
                + " |"
            )
            out.append(seed_spread(by, budget, core))
            for c in cols:
                if _side(c) and pooled[c]:
                    d, lo, hi = paired_ci(pooled[c], versus[c])
                    out.append(
                        f"\nGain over {c}: {d * 100:+.1f} points [{lo * 100:+.1f}, "
                        f"{hi * 100:+.1f}] (paired bootstrap over examples)."
                    )
    out += budget_effect(by, budgets)
    return "\n".join(out)


def budget_effect(by: Rows, budgets: list[int]) -> list[str]:
    """What more calls buy: each searching method at the largest budget against itself at the
    smallest, paired on the tasks and seeds run at both."""
    if len(budgets) < 2:
        return []
    lo_b, hi_b = min(budgets), max(budgets)
    out = [f"\n### Budget {hi_b} against budget {lo_b}, same method\n"]
    for m in ("random-search", "random-search-16", "prompteur"):
        pairs = [
            (by[(t, s, lo_b, m)]["test_per_example"], by[(t, s, hi_b, m)]["test_per_example"])
            for t in ape.TASKS
            for s in range(3)
            if (t, s, lo_b, m) in by and (t, s, hi_b, m) in by
        ]
        if pairs:
            d, lo, hi = paired_ci(
                [x for a, _ in pairs for x in a], [x for _, b in pairs for x in b]
            )
            out.append(
                f"- {m}: {d * 100:+.1f} points [{lo * 100:+.1f}, {hi * 100:+.1f}] "
                f"over {len(pairs)} task-seeds."
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tasks", default=",".join(ape.TASKS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--budgets", default="300,1000")
    ap.add_argument(
        "--methods",
        default=",".join(METHODS),
        help="which methods to run (the others are skipped)",
    )
    ap.add_argument("--report", action="store_true", help="print the tables and exit")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    wanted = set(args.methods.split(","))
    if unknown := wanted - set(METHODS):
        ap.error(f"--methods: unknown {', '.join(sorted(unknown))}; known: {', '.join(METHODS)}")
    if args.report:
        print(report(budgets))
        return
    RESULTS.mkdir(exist_ok=True)
    work = RESULTS / "work"
    work.mkdir(exist_ok=True)
    config = load_config(work)
    store = Store(f"sqlite:///{work / 'bench.db'}")
    bench = Bench(store, config)
    skip = done_keys()
    for m in METHODS:
        if m not in wanted:
            skip |= {(t, s, b, m) for t in ape.TASKS for s in range(3) for b in (0, *budgets)}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name in args.tasks.split(","):
            asyncio.run(one(bench, name, seed, budgets, skip))
    print(report(budgets))


if __name__ == "__main__":
    main()
