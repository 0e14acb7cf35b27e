"""Fidelity of `prompteur import promptfoo` on real promptfoo configs.

    python benchmarks/fidelity/promptfoo.py [FOLDER] [--no-run] [--json OUT]

For every `promptfooconfig*.{yaml,yml,json,js,ts}` under FOLDER (default: the field corpus
of promptfoo's examples beside the repository, else tests/fixtures/field/promptfoo), it
converts the config into a throwaway project and counts: converted fully (nothing listed),
partly (something listed), refused (an error naming the file), tracebacks (an exception that
escaped, or an error that admits a gap in the importer). Then, unless --no-run, it runs the
first case of every converted suite on the embedded model: the first prompt rendered with the
case's inputs, one call, the case's checks — judged and embedded by the embedded model too
(a grader or embedding provider the config names is replaced, as promptfoo's `--grader`
does). It prints the figures and the most frequent gaps (by configs affected).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIELD = ROOT.parent / "shared" / "data" / "field" / "promptfoo-examples"
FIXTURES = ROOT / "tests" / "fixtures" / "field" / "promptfoo"
CONFIG = re.compile(r"^promptfooconfig.*\.(ya?ml|json|js|ts)$")


def configs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if CONFIG.match(p.name) and p.is_file())


def gap(what: str, why: str) -> str:
    """A gap's family, for counting: the kind of thing left out."""
    what = re.sub(r"'[^']*'", "'…'", what)
    head = what.split(" ", 1)[0].split(".", 1)[0]
    if what.startswith("provider"):
        return "provider: " + why.split(";")[0][:70]
    if what.startswith(("redteam plugin", "redteam strategy")):
        return " ".join(what.split()[:2])
    return f"{head[:40]}: {why[:70]}"


_MODEL = None


async def first_case(suite_path: Path) -> tuple[bool, str]:
    from prompteur.checks import CheckContext, build
    from prompteur.models import Params
    from prompteur.models.pool import ModelPool
    from prompteur.prompt import load_prompt
    from prompteur.suite import load_suite

    suite = load_suite(suite_path)
    case = next(iter(suite.cases()))
    ref = suite.spec.prompts[0]
    prompt = load_prompt(ref if ref.endswith(".prompty") else Path("prompts") / f"{ref}.prompty")
    # "Runs" is the question, not the answer's quality: 64 tokens are enough to check it.
    request = prompt.request(case.inputs, params=Params(max_tokens=64))
    global _MODEL
    if _MODEL is None:
        _MODEL = ModelPool(None)  # no project: the embedded model is the default and the judge
    model = _MODEL.get("local")
    response = await model.generate(request)
    broken: list[str] = []
    needs: list[str] = []
    for spec in [*suite.spec.checks, *case.checks]:
        check = build(on_embedded(spec))
        res = await check(
            CheckContext(
                output=response.text,
                expected=case.expected,
                inputs=case.inputs,
                model="local",
                models=_MODEL,
                prompt=request.messages[-1].content,
            )
        )
        # A check failing on the model's answer is a result; one that could not run is not:
        # for want of a key or a package (said), or broken.
        need = NEEDS.search(res.reason)
        if need:
            needs.append(need.group(1) or need.group(2))
        elif "could not run" in res.reason or "timed out" in res.reason:
            broken.append(f"{check.name}: {res.reason[:80]}")
    if broken:
        return False, "checks broken: " + "; ".join(broken)
    if needs:
        return False, "needs " + ", ".join(dict.fromkeys(needs))
    return True, ""


def on_embedded(spec: dict) -> dict:
    """A check spec with the embedded model as its judge and embedder (as promptfoo's
    `--grader` overrides every grader): "runs on the embedded model" means no key at all."""
    if not isinstance(spec, dict):
        return spec
    out = dict(spec)
    if "judge" in out:
        out["judge"] = "local"
    if "embedder" in out:
        out["embedder"] = "local"
    return out


NEEDS = re.compile(
    r"no API key for '[^']+' \(set the environment variable (\w+)\)|pip install '([^']+)'"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--no-run", action="store_true", help="convert only")
    parser.add_argument("--json", type=Path, help="write every config's outcome here")
    args = parser.parse_args()
    folder = args.folder or (FIELD if FIELD.is_dir() else FIXTURES)
    sys.path.insert(0, str(ROOT / "src"))
    from prompteur.errors import UserError
    from prompteur.importers.promptfoo import convert_promptfoo

    outcomes = []
    gaps: collections.Counter[str] = collections.Counter()
    start = time.perf_counter()
    for cfg in configs(folder):
        rel = str(cfg.relative_to(folder))
        row: dict[str, object] = {"config": rel}
        with tempfile.TemporaryDirectory() as tmp:
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                conversion = convert_promptfoo(cfg, out=".")
                conversion.write()
                row["status"] = "partly" if conversion.skipped else "fully"
                row["left"] = [str(s) for s in conversion.skipped]
                for family in {gap(s.what, s.why) for s in conversion.skipped}:
                    gaps[family] += 1
                if not args.no_run and conversion.suite is not None:
                    try:
                        ok, why = asyncio.run(first_case(conversion.suite))
                        row["first_case"] = "ran" if ok else why
                    except UserError as exc:
                        text = exc.render()
                        need = NEEDS.search(text)
                        row["first_case"] = (
                            f"needs {need.group(1) or need.group(2)}" if need else f"failed: {text}"
                        )
                    except Exception as exc:  # measured, not hidden
                        row["first_case"] = f"failed: {type(exc).__name__}: {exc}"
            except UserError as exc:
                internal = "gap in prompteur's importer" in (exc.hint or "")
                row["status"] = "traceback" if internal else "refused"
                row["error"] = exc.render()
            except Exception:
                row["status"] = "traceback"
                row["error"] = traceback.format_exc(limit=-3)
            finally:
                os.chdir(cwd)
        outcomes.append(row)
        print(f"{row['status']:9} {rel}", file=sys.stderr)
    n = len(outcomes)
    count = collections.Counter(str(o["status"]) for o in outcomes)
    print(f"\n{n} configs in {folder.name}/ ({time.perf_counter() - start:.0f} s)")
    for status in ("fully", "partly", "refused", "traceback"):
        print(f"  {status:10} {count[status]:4}  {count[status] / max(n, 1):6.1%}")
    converted = [o for o in outcomes if o["status"] in ("fully", "partly")]
    if not args.no_run:
        ran = [o for o in converted if o.get("first_case") == "ran"]
        needs = [o for o in converted if str(o.get("first_case", "")).startswith("needs ")]
        print(
            f"  first case runs on the embedded model: {len(ran)} of {len(converted)} "
            f"converted suites; {len(needs)} need a key or a package (said), "
            f"{len(converted) - len(ran) - len(needs)} failed"
        )
        for o in converted:
            if o.get("first_case") != "ran":
                print(f"    {o['config']}: {o.get('first_case')}")
    print("\nmost frequent gaps (configs affected):")
    for family, k in gaps.most_common(25):
        print(f"  {k:3}  {family}")
    if args.json:
        args.json.write_text(json.dumps(outcomes, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
