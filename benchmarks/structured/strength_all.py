"""Suite strength on every suite prompteur writes: `init`, each domain pack, and `draft` on the
briefs of docs/draft.md and docs/structured.md. Each suite's standard mutants, killed or not,
on the embedded model (prompt mutants run for real, under a budget per suite).

    python benchmarks/structured/strength_all.py [--budget 400] [--outputs-only] [--out F]

Prints one line per suite: mutants killed / counted (equivalent and budget-skipped ones are
not counted), and the survivors; the goal is ≥ 90% on every suite.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROMPTEUR = [sys.executable, "-m", "prompteur.cli"]


def sh(args: list[str], cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def briefs() -> dict[str, str]:
    """The briefs written in the docs (fenced `cat > briefs/X.yaml <<'EOF'` blocks)."""
    found = {}
    for doc in ("draft.md", "structured.md"):
        path = ROOT / "docs" / doc
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        for name, body in re.findall(
            r"cat > briefs/([\w-]+\.yaml) <<'EOF'\n(.*?)\nEOF", text, re.S
        ):
            found[name] = body + "\n"
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=400)
    ap.add_argument("--outputs-only", action="store_true", help="output mutants only, no model")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "p"
        sh([*PROMPTEUR, "init", str(project)], Path(tmp))
        packs = json.loads(sh([*PROMPTEUR, "packs", "--json"], project))
        for pack in packs:
            sh([*PROMPTEUR, "init", ".", "--pack", pack["name"]], project)
        (project / "briefs").mkdir()
        for name, body in briefs().items():
            (project / "briefs" / name).write_text(body, encoding="utf-8")
            sh([*PROMPTEUR, "draft", "--brief", f"briefs/{name}", "--force"], project)
        for suite in sorted((project / "suites").glob("*.yaml")):
            out = sh(
                [
                    *PROMPTEUR,
                    "suite",
                    "strength",
                    f"suites/{suite.name}",
                    "--json",
                    "--budget",
                    str(args.budget),
                    *(["--outputs-only"] if args.outputs_only else []),
                ],
                project,
            )
            report = json.loads(out)
            rows.append(report)
            score = report["score"]
            shown = "—" if score is None else f"{score:.0%}"
            survivors = [
                f"{m['target']}:{m['operator']}"
                for m in report["mutants"]
                if m["status"] == "survived"
            ]
            print(
                f"{suite.name:28} {report['killed']:3}/{report['counted']:<3} "
                f"{shown:>5}  equivalent {report['equivalent']:2}"
                f"  not run {report['skipped']:2}  calls {report['calls']:4}  "
                f"survivors: {', '.join(survivors) or '—'}"
                + "".join(
                    f"  blind: {p} {', '.join(f)}" for p, f in report["blind_fields"].items()
                ),
                flush=True,
            )
    if args.out:
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
