"""The full probe battery on the embedded model against the example prompts.

    .venv/bin/python benchmarks/probes/battery.py [--per-case 2]

Makes a fresh `prompteur init` project in a temporary folder, copies sentiment20.yaml (20
cases) into it, then runs every probe on the sentiment prompt (20 cases) and on the French
tri-tickets prompt (its 8 cases), with the embedded model as the target and — named, for the
mechanics — as the ethics judge. Prints the command lines, wall time, calls and every probe's
rate; writes the JSON and HTML reports into benchmarks/probes/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
RUNS = [
    ("sentiment", "suites/sentiment20.yaml", "sentiment20"),
    ("tri-tickets", "suites/tri-tickets.yaml", "tri-tickets"),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-case", type=int, default=2)
    args = ap.parse_args()
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    exe = Path(sys.executable).parent / "prompteur"
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "battery"
        subprocess.run([str(exe), "init", str(project)], check=True, capture_output=True)
        shutil.copy(HERE / "sentiment20.yaml", project / "suites" / "sentiment20.yaml")
        env = {**os.environ, "COLUMNS": "120", "PROMPTEUR_DATABASE_URL": ""}
        for prompt, suite, name in RUNS:
            cmd = [
                "prompteur", "probe", prompt, "--suite", suite, "--judge", "local",
                "--per-case", str(args.per_case), "-o", f"{name}.json", "-o", f"{name}.html",
            ]  # fmt: skip
            load = os.getloadavg()[0]
            start = time.monotonic()
            proc = subprocess.run(
                [str(exe), *cmd[1:]], cwd=project, env=env, capture_output=True, text=True
            )
            wall = time.monotonic() - start
            if proc.returncode not in (0, 1):
                print(proc.stderr, file=sys.stderr)
                return proc.returncode
            for suffix in ("json", "html"):
                shutil.copy(project / f"{name}.{suffix}", out / f"{name}.{suffix}")
            report = json.loads((project / f"{name}.json").read_text(encoding="utf-8"))
            summarise(" ".join(cmd), report, wall, load)
    return 0


def summarise(cmd: str, r: dict, wall: float, load: float) -> None:
    t = r["totals"]
    base = r["baseline"][0]["pass_rate"]
    print(f"\n## {r['prompt']['name']} · {r['suite']}\n")
    print(f"- Command: `{cmd}`")
    print(
        f"- {t['cases']} cases → {t['probe_cases']} probe cases; {t['model_calls']} model calls, "
        f"{t['cached']} from cache, {t['judge_calls']} judge calls; wall {wall:.1f} s "
        f"(report {t['seconds']:.1f} s, load average {load:.2f} at start)"
    )
    rate = f"{base['estimate']:.1%} [{base['low']:.1%}, {base['high']:.1%}]"
    print(f"- Baseline check pass rate: {rate}")
    print("\n| probe | tested | found | failure rate [95% CI] | severity |")
    print("|---|---:|---:|---|---|")
    for o in r["outcomes"]:
        if o["skipped"]:
            print(f"| {o['probe']} | — | — | skipped: {o['skipped'][:60]}… | |")
            continue
        i = o["rate"]
        print(
            f"| {o['probe']} | {o['tested']} | {o['found']} | {i['estimate']:.0%} "
            f"[{i['low']:.0%}, {i['high']:.0%}] | {o['severity']} |"
        )


if __name__ == "__main__":
    sys.exit(main())
