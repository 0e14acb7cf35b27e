"""How fast and how lean prompteur refuses hostile input: every bomb of the security tests,
each in a fresh process, measured from the outside (wall time, peak memory over the process's
own baseline), beside the same process rendering an ordinary prompt.

    python benchmarks/security/bombs.py            # prints a table; --markdown for RESULTS.md

The goal (docs/security.md): the worst bomb stops in <= 2 s and <= 200 MB above baseline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "security"))

from test_parse_bounds import LAUGHS, MERGES  # noqa: E402
from test_template_bounds import BOMBS  # noqa: E402

CHILD = r"""
import json, resource, sys, time
from prompteur.errors import UserError
from prompteur.prompt import parse_prompt
from prompteur.yamlfile import load_yaml
kind, payload = sys.argv[1], sys.argv[2]
# Warm up the imports and the sandbox, then take the baseline.
parse_prompt("---\nname: w\n---\nuser:\n{% for i in range(3) %}{{ i }}{% endfor %}\n").render({})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
outcome = "accepted"
try:
    if kind == "template":
        parse_prompt("---\nname: bomb\n---\nuser:\n" + payload + "\n", name="bomb").render({})
    else:
        load_yaml(payload, "bomb.yaml")
except UserError as exc:
    outcome = "refused: " + exc.message[:60]
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "mb": (peak - base) / 1024, "outcome": outcome}))
"""


def measure(kind: str, payload: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind, payload],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    cases = [("template", name, body) for name, body in BOMBS.items()]
    cases += [("yaml", "billion laughs", LAUGHS), ("yaml", "merge-key bomb", MERGES)]
    cases.append(("template", "ordinary prompt (reference)", "{{ 'hello' }} {{ 1 + 1 }}"))
    rows = []
    for kind, name, payload in cases:
        r = measure(kind, payload)
        rows.append((name, r["seconds"], r["mb"], r["outcome"]))
        if not args.markdown:
            print(f"{name:32} {r['seconds']:6.2f} s {r['mb']:7.1f} MB  {r['outcome']}", flush=True)
    worst_s = max(r[1] for r in rows)
    worst_mb = max(r[2] for r in rows)
    verdict = "met" if worst_s <= 2 and worst_mb <= 200 else "NOT met"
    if args.markdown:
        print("| input | wall time | peak memory above baseline | outcome |")
        print("| --- | ---: | ---: | --- |")
        for name, sec, mb, outcome in rows:
            print(f"| {name} | {sec:.2f} s | {mb:.1f} MB | {outcome} |")
    print(f"\nworst: {worst_s:.2f} s, {worst_mb:.1f} MB (goal <= 2 s and <= 200 MB: {verdict})")


if __name__ == "__main__":
    main()
