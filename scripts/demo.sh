#!/usr/bin/env bash
# The main job, on the embedded model, from a clean clone: set up, then run the loop so far.
#   bash scripts/demo.sh [FOLDER]      (default: ./demo-project, recreated)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PROMPTEUR="$PWD/.venv/bin/prompteur"
DEMO="${1:-$PWD/demo-project}"
rm -rf "$DEMO"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "init: a project with two example prompts (English and French)"
"$PROMPTEUR" init "$DEMO"
cd "$DEMO"

step "models: what can run here (the embedded model needs no key)"
"$PROMPTEUR" models

step "library: the prompts"
"$PROMPTEUR" library list

step "render: the messages a prompt produces, without calling a model"
"$PROMPTEUR" render sentiment -i review="The battery died after two days."

step "ask: the embedded model answers, with tokens, latency and cost"
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

step "eval: each example suite, every result stored as it arrives, with intervals"
"$PROMPTEUR" eval suites/sentiment.yaml -o reports/sentiment.html -o reports/sentiment.xml
"$PROMPTEUR" eval suites/tri-tickets.yaml -o reports/tri-tickets.html

step "eval again: answers come from the cache, no model call"
"$PROMPTEUR" eval suites/sentiment.yaml

step "compare: a variant against the original, paired, in words"
sed -i 's/Classify the sentiment of each product review as positive or negative./Is this review positive or negative?/' prompts/sentiment.prompty
"$PROMPTEUR" eval suites/sentiment.yaml
"$PROMPTEUR" compare "$("$PROMPTEUR" runs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[3]["id"])')" latest

step "optimize: a better version under a budget of 60 model calls, judged on held-out cases"
"$PROMPTEUR" optimize sentiment --suite suites/sentiment.yaml --budget 60 -o reports/optimize.html
"$PROMPTEUR" optimize --history

step "runs and versions: everything is in the store"
"$PROMPTEUR" runs
"$PROMPTEUR" library versions sentiment
printf '\nHTML reports: %s\n' "$DEMO/reports/"
