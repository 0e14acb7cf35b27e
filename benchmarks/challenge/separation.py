"""Does a challenge's hidden suite rank candidates? Two attempts at `lettre-formelle` — a naive
prompt (one fixed letter to imitate, which passed the old 6-case suite) and a strong one
(demonstrations that keep each message's own request) — run on the hidden suite on the
embedded model, compared case by case (exact McNemar).

    .venv/bin/python benchmarks/challenge/separation.py [--old]

--old grades them on the suite as it was before (6 cases, no check that the request is kept),
kept in old-hidden.yaml beside this script. Figures in RESULTS.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
PROMPTEUR = Path(sys.executable).with_name("prompteur")


def main() -> int:
    from prompteur.challenge import get_challenge

    old = "--old" in sys.argv
    suite = (
        (HERE / "old-hidden.yaml").read_text(encoding="utf-8")
        if old
        else get_challenge("lettre-formelle").hidden_suite_text()
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        subprocess.run([PROMPTEUR, "init", str(root)], check=True, capture_output=True)
        for name in ("naive", "strong"):
            (root / "prompts" / f"{name}.prompty").write_text(
                (HERE / f"{name}.prompty").read_text(encoding="utf-8"), encoding="utf-8"
            )
        text = re.sub(r"(?m)^prompts: .*$", "prompts: [naive, strong]", suite)
        (root / "suites" / "hidden.yaml").write_text(text, encoding="utf-8")
        out = subprocess.run(
            [PROMPTEUR, "eval", "suites/hidden.yaml", "--no-cache"],
            cwd=root,
            capture_output=True,
            text=True,
        )
        print(out.stdout)
        return 0 if out.returncode in (0, 1) else out.returncode


if __name__ == "__main__":
    raise SystemExit(main())
