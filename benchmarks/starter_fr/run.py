"""The starter's French ticket triage (tri-tickets) on held-out tickets: the shipped prompt
against the one it replaced, on the embedded model, paired.

    .venv/bin/python benchmarks/starter_fr/run.py

heldout.csv: 40 realistic tickets (10 per category) written for this check and never used to
choose the prompt's demonstrations; the demonstrations were chosen on the starter suite
(src/prompteur/starter/suites/tri-tickets.yaml). before.prompty is the prompt as it was
before that change. Prints the eval's table (pass rates with 95% intervals) and the paired
comparison; takes a minute or two on 2 cores.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROMPTEUR = Path(sys.executable).parent / "prompteur"
SUITE = """description: held-out French tickets (benchmarks/starter_fr)
prompts: [tri-tickets-before, tri-tickets]
checks:
  - type: equals
    normalize: true
dataset: data/heldout.csv
"""


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fr"
        subprocess.run([str(PROMPTEUR), "init", str(root)], check=True, stdout=subprocess.DEVNULL)
        shutil.copy(HERE / "before.prompty", root / "prompts" / "tri-tickets-before.prompty")
        shutil.copy(HERE / "heldout.csv", root / "suites" / "data" / "heldout.csv")
        (root / "suites" / "heldout.yaml").write_text(SUITE, encoding="utf-8")
        run = [str(PROMPTEUR), "eval", "suites/heldout.yaml", "--no-cache"]
        code = subprocess.run(run, cwd=root).returncode
        if code not in (0, 1):
            return code
        subprocess.run([str(PROMPTEUR), "compare", "latest"], cwd=root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
