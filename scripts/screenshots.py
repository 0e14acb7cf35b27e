"""Screenshots of every page of the web interface, into docs/img/ (referenced by docs/web.md
and the README).

Builds a demo project in a temporary folder with real work on the embedded model — an eval of
two variants, a promotion through the gate, an optimization, a probe run, a playground run —
plus a week of production traces written through the traces API's own function (there is no
production here; the traces say so in their metadata) and two review queues labelled by a
script (a pass/fail queue, a blind A/B queue: the labels are the demo's, not people's), serves
it with `prompteur view`'s app on loopback, and photographs each page with Playwright driving
Debian's Chromium headless.

    .venv/bin/python scripts/screenshots.py [--lang en|fr] [--out FOLDER] [--only review,review-ab]

The French pass (`--lang fr`) writes into docs/img/fr/ and photographs every screen, the lists
and the lessons and review pages too, for a French reader to check. Takes a minute or two on
2 cores (most of it the optimizer's model calls).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "web"))  # test_web.serve, the loopback server
CHROMIUM = os.environ.get("PROMPTEUR_CHROMIUM", "/usr/bin/chromium")
REVIEWS = [
    ("Arrived quickly and works exactly as described.", "positive"),
    ("Stopped charging after three days. Very disappointed.", "negative"),
    ("My kids love it, best purchase this year.", "positive"),
    ("The screen cracked the first time I dropped it on the sofa.", "negative"),
    ("Excellent sound, comfortable, and the battery lasts forever.", "positive"),
    ("Customer service ignored my three emails.", "negative"),
    ("Solid build and a fair price. Recommended.", "positive"),
    ("It smells of burnt plastic when it runs.", "negative"),
    ("Not bad at all, I expected much worse for the price.", "positive"),
    ("Looks nice, but the strap broke within a week.", "negative"),
    ("Setup took two minutes and it has worked flawlessly since.", "positive"),
    ("The app keeps crashing and support never answered.", "negative"),
]


def _prompteur(root: Path, *args: str) -> None:
    exe = Path(sys.executable).parent / "prompteur"
    subprocess.run([str(exe), *args], cwd=root, check=True, stdout=subprocess.DEVNULL)


def build(root: Path) -> dict[str, str]:
    from prompteur.config import load_config
    from prompteur.scaffold import init_project
    from prompteur.store import Store
    from prompteur.traces import TraceIn, record

    init_project(root)
    prompts = root / "prompts"
    text = (prompts / "sentiment.prompty").read_text(encoding="utf-8")
    bare = text.replace("name: sentiment\n", "name: sentiment-bare\n")
    bare = re.sub(r"{% for ex in examples -%}.*?{% endfor -%}\n", "", bare, flags=re.S)
    (prompts / "sentiment-bare.prompty").write_text(bare, encoding="utf-8")
    cases = "".join(
        f'  - inputs: {{review: "{r}"}}\n    expected: {label}\n' for r, label in REVIEWS
    )
    (root / "suites" / "sentiment.yaml").write_text(
        "description: Sentiment of product reviews.\nprompts: [sentiment, sentiment-bare]\n"
        "checks:\n  - type: equals\n  - type: word-count\n    max: 1\ncases:\n" + cases,
        encoding="utf-8",
    )
    (root / "suites" / "data" / "reviews.jsonl").unlink(missing_ok=True)
    _prompteur(root, "eval", "suites/sentiment.yaml")
    _prompteur(
        root, "review", "create", "relecture", "--run", "latest", "--size", "4", "--seed", "1"
    )
    _prompteur(root, "promote", "sentiment", "--to", "staging", "--threshold", "0.5")
    # The main job's optimization (scripts/demo.sh): a weak zero-shot draft that the search
    # beats on held-out cases, so the page shows a real lineage and a real verdict.
    example = ROOT / "examples" / "optimize"
    shutil.copy(example / "prompts" / "review-sentiment.prompty", prompts)
    shutil.copy(example / "suites" / "review-sentiment.yaml", root / "suites")
    shutil.copy(example / "suites" / "data" / "reviews-48.jsonl", root / "suites" / "data")
    _prompteur(
        root,
        "optimize",
        "review-sentiment",
        "-s",
        "suites/review-sentiment.yaml",
        "--budget",
        "100",
    )
    _prompteur(
        root,
        "probe",
        "sentiment",
        "-s",
        "suites/sentiment.yaml",
        "-p",
        "injection,bias",
        "--max-cases",
        "6",
    )
    store = Store(load_config(root).database_url)
    try:
        rng = random.Random(7)
        now = datetime.now(UTC)
        versions = {v.name: v.version for name in ("sentiment",) for v in store.versions(name)[:1]}
        traces = []
        for hour in range(7 * 24):
            for _ in range(rng.randint(1, 6)):
                drop = hour < 30  # the last 30 hours answer worse: the alert fires
                passed = rng.random() < (0.6 if drop else 0.92)
                traces.append(
                    TraceIn(
                        prompt="sentiment",
                        version=versions.get("sentiment"),
                        label="production",
                        model="local",
                        output="positive" if passed else "I think",
                        latency_ms=rng.gauss(70, 12) + (25 if drop else 0),
                        tokens_in=90,
                        tokens_out=1,
                        cost=0.0,
                        started_at=now - timedelta(hours=hour, minutes=rng.randint(0, 59)),
                        scores=[{"name": "equals", "passed": passed}],
                        metadata={"demo": "generated by scripts/screenshots.py"},
                        inputs={"review": rng.choice(REVIEWS)[0]},
                    )
                )
        record(store, traces)
        reviewed(store)
        ids = {
            kind: next(r.id for r in store.runs(50) if r.kind == kind)
            for kind in ("eval", "optimize", "probe")
        }
    finally:
        store.close()
    return ids


def reviewed(store: Any) -> None:
    """Two review queues on the first eval, labelled by a script (the demo has no reviewers;
    the labels say nothing of the model): a pass/fail queue two people labelled, disagreeing
    on two items, and a blind A/B queue of the two prompts where the few-shot one is preferred
    on most cases."""
    from prompteur import review

    first = [r for r in store.runs(50) if r.kind == "eval"][-1].id
    q = review.from_run(store, "first-pass", first, score=review.DEFAULT, created_by="demo")
    for item in store.reviews.items(q["id"]):
        verdict = bool((item["verdict"] or {}).get("passed"))
        for who in ("ann", "bob"):
            flip = who == "bob" and item["position"] in (3, 8)
            review.label(store, q, item["position"], who, value=verdict != flip)
    ab = review.preference_queue(
        store, "few-shot-or-bare", first, a="sentiment", b="sentiment-bare", seed=7
    )
    for item in store.reviews.items(ab["id"]):
        n = item["position"]
        wanted = "tie" if n == 5 else ("b" if n == 9 else "a")  # in the variants' terms
        shown = wanted if wanted == "tie" else ("a" if item["sides"][0] == wanted else "b")
        review.label(store, ab, n, "ann", value=shown)


def shoot(
    url: str, ids: dict[str, str], out: Path, lang: str, only: set[str] | None = None
) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    q = f"lang={lang}"
    written: list[Path] = []

    def take(page: Any, name: str, *, full_page: bool) -> None:
        if only and name not in only:
            return
        target = out / f"web-{name}.png"
        page.screenshot(path=str(target), full_page=full_page)
        written.append(target)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        # The playground first: its run records the edited version, which the prompt's
        # page then shows in a diff against the working file.
        page.goto(url + f"/ui/playground?{q}&prompt=sentiment-bare")
        editor = page.locator("#text")
        edited = editor.input_value().replace(
            "\nClassify the sentiment of each",
            "\nAnswer with one word. Classify the sentiment of each",
        )
        editor.fill(edited)
        page.locator("button[value=run]").click()
        page.locator("#result").wait_for(timeout=120_000)
        take(page, "playground", full_page=True)
        from prompteur.prompt import parse_prompt

        version = parse_prompt(edited, name="sentiment-bare").short_version
        shots = {
            "library": f"/ui/library?{q}",
            "prompt": f"/ui/library/sentiment-bare?{q}&a=file&b={version}#diff",
            "run": f"/ui/runs/{ids['eval']}?{q}&show=changed",
            "compare": f"/ui/runs/{ids['eval']}/compare?{q}&a=1&b=0",
            "optimize": f"/ui/optimize/{ids['optimize']}?{q}",
            "probes": f"/ui/probes/{ids['probe']}?{q}",
            "monitor": f"/ui/monitor?{q}",
            "review": f"/ui/review/first-pass/3?{q}",
            "review-ab": f"/ui/review/few-shot-or-bare?{q}",
        }
        if lang != "en":  # every screen, for a reader of that language to check
            from prompteur.learn import lessons

            shots |= {
                "runs": f"/ui/runs?{q}",
                "optimize-list": f"/ui/optimize?{q}",
                "probes-list": f"/ui/probes?{q}",
                "learn": f"/ui/learn?{q}",
                "lesson": f"/ui/learn/{lessons()[0].id}?{q}",
                "review": f"/ui/review?{q}",
                "review-queue": f"/ui/review/relecture?{q}",
                "review-item": f"/ui/review/relecture/1?{q}",
                "not-found": f"/ui/library/no-such-prompt?{q}",
            }
        for name, path in shots.items():
            if only and name not in only:
                continue
            page.goto(url + path)
            take(page, name, full_page=False)
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="default: docs/img, docs/img/fr in French")
    parser.add_argument("--lang", choices=("en", "fr"), default="en")
    parser.add_argument(
        "--only", default="", help="Only these pages, comma-separated (e.g. review,review-ab)."
    )
    args = parser.parse_args()
    if args.out is None:
        args.out = ROOT / "docs" / "img" / ("" if args.lang == "en" else args.lang)
    from test_web import serve  # the tests' loopback uvicorn fixture, as a context manager

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        ids = build(root)
        with serve(root, dev=True) as url:
            only = {x.strip() for x in args.only.split(",") if x.strip()}
            for path in shoot(url, ids, args.out, args.lang, only):
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
