"""Precision and recall of the probes' deterministic detectors on hand-labelled sets.

    .venv/bin/python benchmarks/probes/detectors.py   # Markdown tables and the errors

Hand-written sets, one output (or input text) per line with the detector it tests, the truth
(`label`) and what the detector needs (a canary or label `target`, the `planted` personal data,
the person `names` a text holds), hard cases on purpose (apologies that are not refusals,
"not negative", masked numbers, a canary that is only a name in a greeting, a surname that is
also a first name):
- labelled.jsonl: the development set; the detectors were fixed after runs on it, so its
  figures are optimistic;
- heldout.jsonl (90): written after the first fixes and run once: the honest figures, until the
  refusal detector was fixed on its misses (its refusal rows are now tuned-on too);
- heldout_refusal2.jsonl (40 refusal rows): written before that fix and run once after it;
- heldout_contracts.jsonl (80: 40 `names`, 40 `obeys-canary`): written and committed before
  the bias probe's name detection and the injection probe's echo rule were changed.

Two detectors are measured through the probe that uses them, so that the same script gives the
figures before and after a change:
- `names`: the bias probes' person-name detection and swaps. A row's `names` are the people the
  text names (first name and surname apart). The origin probe's twins are compared with the
  text: a name part counts as found when the twins replace it with a name of the same kind (a
  first name by a first name, a surname by a surname); the gender probe must keep surnames.
- `obeys-canary`: the injection probe's verdict on an attack whose goal is the canary.

The headline severity is measured on simulated probe results with a known truth: seeded
scenarios where outputs vary by chance (a noise floor), with or without a planted gap for one
group (`--scenarios`: development seeds 0–59, held-out seeds 1000–1059).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import random
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from prompteur.probes import detectors as d
from prompteur.probes import pii
from prompteur.stats import wilson

HERE = Path(__file__).parent
SETS = ("labelled.jsonl", "heldout.jsonl", "heldout_refusal2.jsonl", "heldout_contracts.jsonl")


def obeys_canary(row: dict[str, Any]) -> bool:
    """The injection probe's verdict on the output, for an attack whose goal is the canary."""
    from prompteur.probes.injection import Direct

    pc = SimpleNamespace(meta={"goal": row["target"], "goal_kind": "canary", "detect": []})
    r = SimpleNamespace(output=row["text"])
    return asyncio.run(Direct().verdict(None, pc, r, None)) is not None  # type: ignore[arg-type]


DETECTORS = {
    "refusal": lambda row: d.refusal(row["text"]) is not None,
    "canary": lambda row: d.target_found(row["text"], row["target"]) is not None,
    "injected-label": lambda row: d.target_found(row["text"], row["target"], word=True) is not None,
    "clarifies": lambda row: d.clarifies(row["text"]) is not None,
    "pii-echo": lambda row: bool(
        pii.echoed([pii.PiiItem(k, v) for k, v in row["planted"]], row["text"])
    ),
    "obeys-canary": obeys_canary,
}
WHAT = {
    "refusal": "the output refuses (over-refusal, ethics)",
    "canary": "the canary leaked, in any spelling (leakage)",
    "injected-label": "the attacker's label is the answer (injection)",
    "clarifies": "the output asks or flags ambiguity (ambiguity)",
    "pii-echo": "planted personal data came back (leakage.pii)",
    "obeys-canary": "the output obeys the attack, not a greeting by that name (injection)",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--scenarios", choices=["dev", "heldout", "none"], default="heldout")
    args = ap.parse_args()
    for name in args.sets.split(","):
        report(name)
    if args.scenarios != "none":
        severity_report(args.scenarios)
    return 0


def report(filename: str) -> None:
    rows = [json.loads(line) for line in (HERE / filename).open(encoding="utf-8")]
    print(f"### {filename}: {len(rows)} labelled rows\n")
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
    named = [r for r in rows if r["detector"] == "names"]
    if named:
        misses += names_report(named)
    print("\nErrors:\n" + ("\n".join(misses) or "- none") + "\n")


# ---- person names (bias probes) -------------------------------------------------------------

_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)


def _lexicons() -> tuple[set[str], set[str]]:
    """Every first name and every surname the bias corpus can put in a twin."""
    from prompteur.probes._corpus import BiasCorpus, corpus

    data = corpus("bias", BiasCorpus)
    firsts: set[str] = set()
    for names in data.names.values():
        firsts |= {n for ns in names.gender.values() for n in ns}
        firsts |= {n for lists in names.origin.values() for ns in lists.values() for n in ns}
    lasts: set[str] = set()
    for lang_surnames in (getattr(data, "surnames", None) or {}).values():
        lasts |= {n for ns in lang_surnames.values() for n in ns}
    return firsts, lasts


def _replaced(text: str, twin: str) -> list[tuple[str, str]]:
    """(original words, new words) of each stretch the twin rewrote."""
    a, b = _TOKEN.findall(text), _TOKEN.findall(twin)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            out.append((" ".join(a[i1:i2]), " ".join(b[j1:j2])))
    return out


def _parts(old: list[str], gold: list[tuple[str, list[str]]]) -> list[tuple[str, str]] | None:
    """The stretch `old` cut into gold name parts, in order: [(kind, part)], or None when it
    holds a word that is no gold name part."""
    out, i = [], 0
    while i < len(old):
        for kind, words in gold:
            if old[i : i + len(words)] == words:
                out.append((kind, " ".join(words)))
                i += len(words)
                break
        else:
            return None
    return out


def _credit(
    old: str, new: str, gold: list[tuple[str, list[str]]], lex: dict[str, set[str]]
) -> tuple[set[tuple[str, str]], list[str]]:
    """The gold parts a rewritten stretch swapped right, and what it did wrong."""
    parts = _parts(old.split(), gold)
    words = new.split()
    if parts is None:
        return set(), [f"{old!r} → {new!r}"]
    right, wrong = set(), []
    # Each part takes the new words of its own kind, in order (a full name may be rewritten
    # in one stretch, a compound first name by a single one); the last part takes the rest.
    cut, at = [], 0
    for j, (kind, _) in enumerate(parts):
        if j == len(parts) - 1:
            take = len(words) - at
        else:
            take = 0
            while at + take < len(words) and words[at + take] in lex[kind]:
                take += 1
            take = max(1, take)
        cut.append(words[at : at + take])
        at += take
    for (kind, part), got in zip(parts, cut, strict=True):
        if got and all(w in lex[kind] for w in got):
            right.add((kind, part))
        elif kind == "last" and got and all(w in lex["first"] for w in got):
            wrong.append(f"surname {part!r} became the first name {' '.join(got)!r}")
        elif got:
            wrong.append(f"{kind} name {part!r} → {' '.join(got)!r}")
    return right, wrong


def names_report(rows: list[dict[str, Any]]) -> list[str]:
    from prompteur.probes.bias import Gender, Origin

    firsts, lasts = _lexicons()
    lex = {"first": firsts, "last": lasts}
    cells = {k: [0, 0, 0] for k in ("present", "first", "last")}  # tp, fp, fn
    kept = broken = 0
    errors = []
    for i, row in enumerate(rows):
        text, lang = row["text"], row["lang"]
        gold = [
            (kind, n[kind].split()) for n in row["names"] for kind in ("first", "last") if n[kind]
        ]
        mode, twins = Origin().variants(None, text, lang, random.Random(f"names:{i}"))
        said = mode == "swap"
        _count(cells["present"], said, bool(row["names"]))
        if said != bool(row["names"]):
            kind = "false positive" if said else "missed (a signature was added)"
            errors.append(f"- names, {kind}: {text!r}")
        found: set[tuple[str, str]] = set()
        wrong: set[str] = set()
        for twin, *_ in twins.values() if said else ():
            for old, new in _replaced(text, twin):
                right, bad = _credit(old, new, gold, lex)
                found |= right
                wrong |= set(bad)
        for key in ("first", "last"):
            want = {(k, " ".join(w)) for k, w in gold if k == key}
            cells[key][0] += len(found & want)
            cells[key][2] += len(want - found)
            for _, miss in sorted(want - found):
                errors.append(f"- names, {key} name not swapped right: {miss!r} in {text!r}")
        cells["first"][1] += sum(1 for w in wrong if not w.startswith(("surname", "last")))
        cells["last"][1] += sum(1 for w in wrong if w.startswith(("surname", "last")))
        errors += [f"- names, wrong swap: {w} in {text!r}" for w in sorted(wrong)]
        surnames = [" ".join(w) for k, w in gold if k == "last"]
        if surnames:
            _, gtwins = Gender().variants(None, text, lang, random.Random(f"names:{i}"))
            changed = any(s not in twin for twin, *_ in gtwins.values() for s in surnames)
            broken += changed
            kept += not changed
            if changed:
                errors.append(f"- names, the gender twins change a surname: {text!r}")
    print("\nPerson names in the bias probes (origin twins; surnames kept by gender twins):\n")
    print("| what | n | precision [95% CI] | recall [95% CI] |")
    print("|---|---:|---|---|")
    labels = {
        "present": "a name is there (twins swap it, no signature is added)",
        "first": "first names swapped for first names",
        "last": "surnames swapped for surnames",
    }
    for key, (tp, fp, fn) in cells.items():
        print(f"| {labels[key]} | {tp + fn} | {wilson(tp, tp + fp)} | {wilson(tp, tp + fn)} |")
    print(f"\nGender twins keep the surname in {kept} of {kept + broken} texts with one.")
    return errors


def _count(cell: list[int], said: bool, truth: bool) -> None:
    cell[0] += said and truth
    cell[1] += said and not truth
    cell[2] += (not said) and truth


# ---- headline severity on simulated results -------------------------------------------------

GRID = [
    (n, noise, gap)
    for n in (8, 20, 40)
    for noise in (0.0, 0.1, 0.3)
    for gap in (0.0, 0.0, 0.5, 0.9)  # half the scenarios have no gap at all
]


def scenario(seed: int) -> tuple[int, float, float, str]:
    rng = random.Random(f"scenario:{seed}")
    n, noise, gap = GRID[seed % len(GRID)]
    return n, noise, gap, rng.choice(["bias.gender", "bias.origin"])


async def simulate(seed: int) -> tuple[bool, dict[str, Any]]:
    """One probe on simulated results: every output is the case's answer, except by chance
    (`noise`) and, when there is a gap, for one group (`gap` more often). Returns the truth
    (a gap was planted) and the probe's outcome as the report shows it."""
    from prompteur.probes import report
    from prompteur.probes._base import ProbeContext, probes
    from prompteur.prompt import parse_prompt
    from prompteur.runner import ResultRecord
    from prompteur.suite import Case

    n, noise, gap, name = scenario(seed)
    probe = probes()[name]
    prompt = parse_prompt("user:\n{{ message }}\n", name="sim")
    ctx = ProbeContext(prompt=prompt, seed=seed, prompt_lang="fr")
    cases = [
        Case(
            id=f"c{i}",
            inputs={"message": f"Bonjour, ma carte numéro {i} ne fonctionne plus depuis hier."},
            expected=f"answer{i % 3}",
        )
        for i in range(n)
    ]
    pcs = await probe.generate(ctx, cases)
    groups = list(dict.fromkeys(pc.meta["group"] for pc in pcs if pc.meta.get("group")))
    rng = random.Random(f"outputs:{seed}")
    target = rng.choice(groups[1:]) if gap > 0 else None
    items = []
    for pc in pcs:
        right = pc.case.expected
        p = noise + (gap if pc.meta.get("group") == target and not pc.sample else 0.0)
        output = right if rng.random() >= min(1.0, p) else f"other{rng.randrange(4)}"
        r = ResultRecord(
            prompt="sim",
            version="v",
            model="sim",
            case_id=pc.case.id,
            repeat=pc.sample,
            inputs=pc.case.inputs,
            expected=right,
            output=output,
            passed=output == right,
            score=float(output == right),
        )
        items.append((pc, r))
    out = await probe.detect(ctx, items, {})
    return gap > 0, report._outcome_dict(out)


def alarm(o: dict[str, Any]) -> bool:
    """What the headline says: the probe's own severity (high) on a probe that found cases."""
    return bool(o["found"]) and o["severity"] in ("high", "critical")


def severity_report(which: str) -> None:
    seeds = range(0, 60) if which == "dev" else range(1000, 1060)
    tp = fp = fn = 0
    wrong = []
    for seed in seeds:
        truth, o = asyncio.run(simulate(seed))
        said = alarm(o)
        tp += said and truth
        fp += said and not truth
        fn += (not said) and truth
        if said != truth:
            n, noise, gap, name = scenario(seed)
            kind = "false alarm" if said else "missed"
            wrong.append(f"{kind} (n={n}, noise={noise}, gap={gap}, {name})")
    print(f"### Headline severity on {len(seeds)} simulated {which} scenarios\n")
    print("| alarm (severity high on the headline) | n | gaps planted | precision | recall |")
    print("|---|---:|---:|---|---|")
    precision, recall = wilson(tp, tp + fp), wilson(tp, tp + fn)
    print(f"| bias probes | {len(seeds)} | {tp + fn} | {precision} | {recall} |")
    print("\nErrors:\n" + ("\n".join(f"- {w}" for w in wrong) or "- none") + "\n")


if __name__ == "__main__":
    sys.exit(main())
