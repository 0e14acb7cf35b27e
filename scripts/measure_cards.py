"""Measure the model cards of every shipped pack, skipping the cards already current.

    nice -n 10 .venv/bin/python scripts/measure_cards.py [-m local:gemma3 -m local:smollm2]
        [--pack NAME ...]

For each pack and model, `prompteur packs measure` runs only when the pack's card has no
figures for that model, or figures measured on another version of a prompt, of its suite or
of the pack: a pack's card is written as soon as that pack is measured, so an interrupted run
resumes where it stopped (about 250 calls a pack on the embedded model). Run it from a folder
whose prompteur.toml says `[local] threads = 1` when other jobs share the cores: llama.cpp's
threads spin, and two of them on a busy core slow each other down many times over.
"""

from __future__ import annotations

import argparse
import sys
import time

from prompteur.config import load_config
from prompteur.packs import Pack, get_pack, measure, packs, suite_version, write_card
from prompteur.prompt import load_prompt


def is_current(pack: Pack, model_id: str) -> bool:
    entry = pack.card().get("models", {}).get(model_id)
    if not isinstance(entry, dict) or entry.get("pack_version") != pack.version:
        return False
    versions = {load_prompt(f).name: load_prompt(f).short_version for f in pack.prompt_files()}
    suites = {f.name: suite_version(f) for f in pack.suite_files()}
    figures = entry.get("prompts", {})
    return set(figures) == set(versions) and all(
        figures[n].get("version") == v
        and figures[n].get("suite_version") == suites.get(figures[n].get("suite"))
        for n, v in versions.items()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-m", "--model", action="append", help="default: local:gemma3")
    parser.add_argument("--pack", action="append", help="default: every pack")
    args = parser.parse_args()
    config = load_config(None)
    chosen = [get_pack(n) for n in args.pack] if args.pack else list(packs())
    for model_id in args.model or ["local:gemma3"]:
        for pack in chosen:
            if is_current(pack, model_id):
                print(f"{pack.name} on {model_id}: current, skipped", flush=True)
                continue
            start = time.monotonic()
            entry = measure(pack, model_id, config)
            write_card(pack, model_id, entry)
            print(
                f"{pack.name} on {model_id}: mean pass rate {entry['mean_pass_rate']} "
                f"({time.monotonic() - start:.0f} s)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
