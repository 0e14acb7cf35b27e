#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests.
#
#   eval "$(bash scripts/postgres.sh)"     # or: source scripts/postgres.sh
#
# Prints `export PROMPTEUR_TEST_POSTGRES_URL=...` on stdout (everything else goes to stderr).
# Installs the Debian `postgresql` package when no server binaries are found (needs root),
# creates a cluster in $PROMPTEUR_PG_DIR (default /tmp/prompteur-pg) owned by the `postgres`
# user (initdb refuses root), listening only on 127.0.0.1:$PROMPTEUR_PG_PORT (default 54329)
# with trust authentication, and creates the database `prompteur_test`. A running cluster is
# reused. No systemd: the server is started with pg_ctl and keeps running after the script.
# Stop it with: runuser -u postgres -- pg_ctl -D /tmp/prompteur-pg/data stop

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: do the work in a child shell (strict mode, exits) and adopt its export line.
    if __prompteur_pg_line="$(bash "${BASH_SOURCE[0]}")"; then
        eval "$__prompteur_pg_line"
        unset __prompteur_pg_line
        return 0
    fi
    unset __prompteur_pg_line
    return 1
fi

set -euo pipefail

ROOT="${PROMPTEUR_PG_DIR:-/tmp/prompteur-pg}"
PORT="${PROMPTEUR_PG_PORT:-54329}"
DB=prompteur_test
DATA="$ROOT/data"
LOG="$ROOT/server.log"
URL="postgresql://postgres@127.0.0.1:$PORT/$DB"

say() { echo "postgres.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

find_bindir() {
    local dir
    # Debian keeps the server binaries out of PATH; take the newest installed major version.
    for dir in $(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    return 1
}

install_postgres() {
    [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed; run as root or: apt-get install postgresql"
    command -v apt-get >/dev/null || die "PostgreSQL is not installed and apt-get is not available"
    say "installing PostgreSQL (apt-get install postgresql)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends postgresql </dev/null >&2 \
        || die "apt-get install postgresql failed"
}

# As the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

psql_admin() {
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres "$@"
}

mkdir -p "$(dirname "$ROOT")"
# One caller at a time (parallel test runs share the cluster).
exec 9>"$ROOT.lock"
flock -w 600 9 || die "timed out waiting for $ROOT.lock"

BINDIR="$(find_bindir)" || {
    install_postgres
    BINDIR="$(find_bindir)" || die "no initdb/pg_ctl found after installing postgresql"
}
PSQL="$BINDIR/psql"
[[ -x "$PSQL" ]] || PSQL="$(command -v psql)" || die "no psql found"
MAJOR="$("$BINDIR/pg_ctl" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')"

if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir "$ROOT" --shell /bin/bash postgres
fi

running() { as_owner "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }
ready() { "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1; }

wait_ready() { # seconds
    local i
    for ((i = 0; i < $1; i++)); do
        ready && return 0
        sleep 1
    done
    ready
}

create_cluster() {
    mkdir -p "$ROOT"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$ROOT"; fi
    if [[ -f "$DATA/PG_VERSION" && "$(cat "$DATA/PG_VERSION")" != "$MAJOR" ]]; then
        say "cluster in $DATA is from PostgreSQL $(cat "$DATA/PG_VERSION"), not $MAJOR: recreating"
        rm -rf "$DATA"
    fi
    [[ -f "$DATA/PG_VERSION" ]] && return 0
    rm -rf "$DATA"
    say "creating a PostgreSQL $MAJOR cluster in $DATA"
    as_owner "$BINDIR/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --no-locale \
        >"$ROOT/initdb.log" 2>&1 || {
        cat "$ROOT/initdb.log" >&2
        die "initdb failed"
    }
    # A test server: loopback only, own socket folder, durability traded for speed.
    as_owner tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# --- prompteur test cluster (scripts/postgres.sh) ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$ROOT'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

if ready; then
    : # ours, already running (or another server on the port: the database step will tell)
elif running && wait_ready 20; then
    : # ours, was starting up
else
    create_cluster
    say "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG)"
    # pg_ctl copes with a stale postmaster.pid (e.g. after a crash or a reboot).
    # 9>&-: the server must not inherit (and so hold forever) the lock.
    as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null 9>&- || {
        tail -n 20 "$LOG" >&2 || true
        die "the server did not start"
    }
    wait_ready 30 || die "no answer on 127.0.0.1:$PORT"
fi

if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]]; then
    psql_admin -c "CREATE DATABASE $DB" >&2 || die "cannot create database $DB"
fi

echo "export PROMPTEUR_TEST_POSTGRES_URL=$URL"
