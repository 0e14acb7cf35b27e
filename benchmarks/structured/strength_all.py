"""Suite strength on every suite prompteur writes: `init`, each domain pack, and `draft` on the
briefs of docs/draft.md and docs/structured.md. Each suite's standard mutants, killed or not,
on the embedded model (prompt mutants run for real, under a budget per suite).

    python benchmarks/structured/strength_all.py [--budget 400] [--outputs-only]
        [--cases N --seed S] [--only 'seo/*' ...] [--projects DIR] [--out F.jsonl]

Prints one line per suite: mutants killed / counted (equivalent and budget-skipped ones are
not counted), and the survivors; the goal is ≥ 90% on every suite.
"""

from __future__ import annotations

import argparse
import fnmatch
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


def make_projects(root: Path) -> None:
    """root/base: `init` and `draft` on the docs' briefs; root/PACK: `init` then that domain
    pack (its suites under suites/PACK/), as a user installs it — one project per pack keeps
    the library each suite resolves its prompt in small."""
    base = root / "base"
    sh([*PROMPTEUR, "init", str(base)], root)
    (base / "briefs").mkdir()
    for name, body in briefs().items():
        (base / "briefs" / name).write_text(body, encoding="utf-8")
        sh([*PROMPTEUR, "draft", "--brief", f"briefs/{name}", "--force"], base)
    for pack in json.loads(sh([*PROMPTEUR, "packs", "--json"], base)):
        home = root / pack["name"]
        sh([*PROMPTEUR, "init", str(home)], root)
        sh([*PROMPTEUR, "init", ".", "--pack", pack["name"]], home)


def written_suites(root: Path) -> dict[str, Path]:
    """Each suite's path under suites/ → the project it runs in."""
    found = {}
    for home in sorted(p for p in root.iterdir() if (p / "suites").is_dir()):
        for suite in sorted((home / "suites").glob("**/*.yaml")):
            found.setdefault(suite.relative_to(home / "suites").as_posix(), home)
    return dict(sorted(found.items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=400)
    ap.add_argument("--outputs-only", action="store_true", help="output mutants only, no model")
    ap.add_argument("--cases", type=int, help="the model runs on a seeded sample of N cases")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", default=[], help="suites matching these globs")
    ap.add_argument("--projects", type=Path, help="keep the projects here (reused if there)")
    ap.add_argument("--out", type=Path, help="JSON lines, one report per suite, as they come")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.projects or Path(tmp)
        if not (root / "base").exists():
            root.mkdir(parents=True, exist_ok=True)
            make_projects(root)
        homes = written_suites(root)
        names = list(homes)
        if args.only:
            names = [n for g in args.only for n in names if fnmatch.fnmatch(n, g)]
            names = list(dict.fromkeys(names))  # in the order asked
        for name in names:
            out = sh(
                [
                    *PROMPTEUR,
                    "suite",
                    "strength",
                    f"suites/{name}",
                    "--json",
                    "--budget",
                    str(args.budget),
                    *(["--cases", str(args.cases), "--seed", str(args.seed)] if args.cases else []),
                    *(["--outputs-only"] if args.outputs_only else []),
                ],
                homes[name],
            )
            report = json.loads(out)
            if args.out:
                with args.out.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"name": name, **report}, ensure_ascii=False) + "\n")
            score = report["score"]
            shown = "—" if score is None else f"{score:.0%}"
            survivors = [
                f"{m['target']}:{m['operator']}"
                for m in report["mutants"]
                if m["status"] == "survived"
            ]
            print(
                f"{name:36} {report['killed']:3}/{report['counted']:<3} "
                f"{shown:>5}  equivalent {report['equivalent']:2}"
                f"  not run {report['skipped']:2}  calls {report['calls']:4}  "
                f"survivors: {', '.join(survivors) or '—'}"
                + "".join(
                    f"  blind: {p} {', '.join(f)}" for p, f in report["blind_fields"].items()
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
