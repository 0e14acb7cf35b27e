"""Precision and recall of the probes' deterministic detectors on a hand-labelled set.

    .venv/bin/python benchmarks/probes/detectors.py   # Markdown tables and the errors

Two hand-written sets, one output per line with the detector it tests, the truth (`label`) and
what the detector needs (a canary or label `target`, the `planted` personal data), hard cases on
purpose (apologies that are not refusals, "not negative", masked numbers):
- labelled.jsonl (215): the development set; the detectors were fixed after a first run on it,
  so its figures are optimistic;
- heldout.jsonl (90): written after those fixes and run once: the honest figures, until the
  refusal detector was fixed on its misses (its refusal rows are now tuned-on too);
- heldout_refusal2.jsonl (40 refusal rows): written before that fix and run once after it,
  the honest refusal figures since.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prompteur.probes import detectors as d
from prompteur.probes import pii
from prompteur.stats import wilson

HERE = Path(__file__).parent

DETECTORS = {
    "refusal": lambda row: d.refusal(row["text"]) is not None,
    "canary": lambda row: d.target_found(row["text"], row["target"]) is not None,
    "injected-label": lambda row: d.target_found(row["text"], row["target"], word=True) is not None,
    "clarifies": lambda row: d.clarifies(row["text"]) is not None,
    "pii-echo": lambda row: bool(
        pii.echoed([pii.PiiItem(k, v) for k, v in row["planted"]], row["text"])
    ),
}
WHAT = {
    "refusal": "the output refuses (over-refusal, ethics)",
    "canary": "the canary leaked, in any spelling (leakage, injection)",
    "injected-label": "the attacker's label is the answer (injection)",
    "clarifies": "the output asks or flags ambiguity (ambiguity)",
    "pii-echo": "planted personal data came back (leakage.pii)",
}


def main() -> int:
    for name in ("labelled.jsonl", "heldout.jsonl", "heldout_refusal2.jsonl"):
        report(name)
    return 0


def report(filename: str) -> None:
    rows = [json.loads(line) for line in (HERE / filename).open(encoding="utf-8")]
    print(f"### {filename}: {len(rows)} labelled outputs\n")
    print("| detector | finds | n | positives | precision [95% CI] | recall [95% CI] | errors |")
    print("|---|---|---:|---:|---|---|---:|")
    misses = []
    for name, detect in DETECTORS.items():
        mine = [r for r in rows if r["detector"] == name]
        if not mine:
            continue
        tp = fp = fn = 0
        for r in mine:
            said = detect(r)
            tp += said and r["label"]
            fp += said and not r["label"]
            fn += (not said) and r["label"]
            if said != r["label"]:
                kind = "false positive" if said else "missed"
                misses.append(f"- {name}, {kind}: {r['text']!r}")
        p, rc = wilson(tp, tp + fp), wilson(tp, tp + fn)
        print(f"| {name} | {WHAT[name]} | {len(mine)} | {tp + fn} | {p} | {rc} | {fp + fn} |")
    print("\nErrors:\n" + ("\n".join(misses) or "- none") + "\n")


if __name__ == "__main__":
    sys.exit(main())
