#!/usr/bin/env bash
# The main job, on the embedded model, from a clean clone: set up what running prompteur
# needs (no test tools, no browser: those belong to scripts/test.sh), then run the loop.
#   bash scripts/demo.sh [FOLDER]      (default: ./demo-project, recreated)
#
# Each step is a block that starts with `step "…"`; add a step as a new block of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS
PROMPTEUR_EXTRAS=runtime bash scripts/setup.sh
ROOT="$PWD"
PROMPTEUR="$ROOT/.venv/bin/prompteur"
DEMO="${1:-$PWD/demo-project}"
rm -rf "$DEMO"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# ---- init ------------------------------------------------------------------------------------
step "init: a project with two example prompts (English and French)"
"$PROMPTEUR" init "$DEMO"
cd "$DEMO"

# ---- models ----------------------------------------------------------------------------------
step "models: what can run here (the embedded model needs no key)"
"$PROMPTEUR" models

# ---- library ---------------------------------------------------------------------------------
step "library: the prompts"
"$PROMPTEUR" library list

# ---- render ----------------------------------------------------------------------------------
step "render: the messages a prompt produces, without calling a model"
"$PROMPTEUR" render sentiment -i review="The battery died after two days."

# ---- ask -------------------------------------------------------------------------------------
step "ask: the embedded model answers, in English and in French"
for review in "The battery died after two days." \
              "Fast delivery and it works perfectly, thank you!" \
              "Not worth the money, it broke in a week."; do
  printf 'review: %s\n  → ' "$review"
  "$PROMPTEUR" ask sentiment -i review="$review"
done
for message in "J'ai été débité deux fois ce mois-ci." \
               "Le colis n'est jamais arrivé." \
               "L'application se ferme toute seule au démarrage."; do
  printf 'message : %s\n  → ' "$message"
  "$PROMPTEUR" ask tri-tickets -i message="$message"
done

# ---- eval ------------------------------------------------------------------------------------
step "eval: each example suite, every result stored as it arrives, with intervals"
"$PROMPTEUR" eval suites/sentiment.yaml -o reports/sentiment.html -o reports/sentiment.xml
"$PROMPTEUR" eval suites/tri-tickets.yaml -o reports/tri-tickets.html

# ---- cache -----------------------------------------------------------------------------------
step "eval again: answers come from the cache, no model call"
"$PROMPTEUR" eval suites/sentiment.yaml

# ---- compare ---------------------------------------------------------------------------------
step "compare: a variant against the original, paired, in words"
BEFORE="$("$PROMPTEUR" runs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
sed -i 's/Classify the sentiment of each product review as positive or negative./Is this review positive or negative?/' prompts/sentiment.prompty
"$PROMPTEUR" eval suites/sentiment.yaml
"$PROMPTEUR" compare "$BEFORE" latest

# ---- optimize --------------------------------------------------------------------------------
step "optimize: a weak first draft (zero-shot: the base model answers '5 stars', not a label)
   improved under a budget of 100 model calls, judged on held-out cases"
cp "$ROOT/examples/optimize/prompts/review-sentiment.prompty" prompts/
cp "$ROOT/examples/optimize/suites/review-sentiment.yaml" suites/
cp "$ROOT/examples/optimize/suites/data/reviews-48.jsonl" suites/data/
"$PROMPTEUR" optimize review-sentiment --suite suites/review-sentiment.yaml --budget 100 \
  -o reports/optimize.html --write
"$PROMPTEUR" optimize --history

# ---- lint ------------------------------------------------------------------------------------
step "lint: what could make these prompts fail — rule, line, why, how to fix"
"$PROMPTEUR" lint --fail-on never

# ---- probe -----------------------------------------------------------------------------------
step "probe: injection and robustness attacks on the sentiment prompt — what breaks it"
"$PROMPTEUR" probe sentiment --suite suites/sentiment.yaml --probes injection,robustness \
  --per-case 1 -o reports/probes.html

# ---- promote ---------------------------------------------------------------------------------
step "promote: the optimized prompt to production, only if its suite says it is good enough"
"$PROMPTEUR" library save review-sentiment
if ! "$PROMPTEUR" promote review-sentiment --to production --actor demo; then
  echo "(refused: production keeps its holder; the reasons are above)"
fi
"$PROMPTEUR" label set sentiment staging --reason "what the demo application uses" --actor demo
"$PROMPTEUR" audit review-sentiment

# ---- sdk -------------------------------------------------------------------------------------
step "SDK: an application gets the prompt by label and calls the model; each call is a trace"
"$ROOT/.venv/bin/python" - <<'PY'
from prompteur import Client

with Client() as client:  # the local project; Client(url=..., api_key=...) for a server
    prompt = client.get_prompt("sentiment", label="staging")
    print(f"sentiment@{prompt.short_version} from the {prompt.source}")
    for review in ("Broke after a week.", "Great sound, great price.", "Meh. It works."):
        answer = client.complete("sentiment", {"review": review}, label="staging")
        print(f"  {review!r} → {answer.output.strip()!r} ({answer.latency_ms:.0f} ms)")
PY

# ---- monitor ---------------------------------------------------------------------------------
step "monitor: the production calls per version — volume, pass rate, latency, alerts"
"$PROMPTEUR" monitor score --sample 1
"$PROMPTEUR" monitor sentiment

# ---- review (issue 18): people in the loop --------------------------------------------------
step "review: a queue of the ticket triage eval's results, for people to label"
"$PROMPTEUR" eval suites/tri-tickets.yaml > /dev/null || true   # from the cache: no model call
"$PROMPTEUR" review create demo-review --run latest --size 8 --seed 1

step "review: a reviewer's key, and a script that labels through the REST API"
REVIEW_KEY=$("$PROMPTEUR" keys create --scopes review --name demo-script)
REVIEW_PORT=$("$ROOT/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PROMPTEUR" serve --port "$REVIEW_PORT" --log-level warning &
REVIEW_SERVER=$!
trap 'kill "$REVIEW_SERVER" 2>/dev/null || true' EXIT
REVIEW_KEY="$REVIEW_KEY" REVIEW_URL="http://127.0.0.1:$REVIEW_PORT" "$ROOT/.venv/bin/python" - <<'PY'
import os
import time

import httpx

url, key = os.environ["REVIEW_URL"], os.environ["REVIEW_KEY"]
headers = {"Authorization": f"Bearer {key}"}
for _ in range(100):  # the server is starting
    try:
        httpx.get(f"{url}/v1/review/queues", headers=headers, timeout=2).raise_for_status()
        break
    except httpx.HTTPError:
        time.sleep(0.2)
items = httpx.get(f"{url}/v1/review/queues/demo-review/items", headers=headers).json()
for item in items:
    said = (item["output"] or "").strip().lower().strip(" .!")
    good = said.split("\n")[0] == str(item["expected"]).lower()
    label = {"value": "pass" if good else "fail"}
    if not good:  # the answer that should have been given becomes the case's expected value
        label |= {"correction": item["expected"], "comment": f"said {said[:30]!r}"}
    r = httpx.put(
        f"{url}/v1/review/queues/demo-review/items/{item['position']}/label",
        json=label,
        headers=headers,
    )
    r.raise_for_status()
    print(f"  item {item['position']}: {label['value']}")
PY
kill "$REVIEW_SERVER" 2>/dev/null || true
wait "$REVIEW_SERVER" 2>/dev/null || true
trap - EXIT
"$PROMPTEUR" review progress demo-review

step "review: the judge calibrated on those labels, no CSV to write"
"$PROMPTEUR" judge calibrate --judge local --from-queue demo-review \
  --rubric "The answer is the one category that fits the customer's message"

step "review: the reviewed failures become cases of a regression suite, and it runs"
cat > suites/from-review.yaml <<'YAML'
# cases people found wrong (prompteur review to-cases adds them)
prompts: [tri-tickets]
checks:
  - type: equals
    normalize: true
cases:
  - inputs: {message: "Je n'arrive plus à me connecter depuis hier."}
    expected: technique
YAML
"$PROMPTEUR" review to-cases demo-review --suite suites/from-review.yaml
"$PROMPTEUR" eval suites/from-review.yaml || true
# ---- end of the review block -----------------------------------------------------------------

# ---- runs ------------------------------------------------------------------------------------
step "runs and versions: everything is in the store"
"$PROMPTEUR" runs
"$PROMPTEUR" library versions review-sentiment

# ---- end of the main job ---------------------------------------------------------------------
printf '\nHTML reports: %s\n' "$DEMO/reports/"
printf 'The web interface on this project: cd %s && %s view\n' "$DEMO" "$PROMPTEUR"
printf 'The whole demo took %d s (set-up included).\n' "$((SECONDS - START))"
