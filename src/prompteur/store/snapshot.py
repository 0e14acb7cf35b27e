"""The SQLite schema at the newest migration, as a shipped SQL file.

A new SQLite store used to run every Alembic migration in turn (about 0.3 s on a quiet
machine, with Alembic's import), once per project and once per test that makes one. The
migrations stay the one definition of the schema: `schema_sqlite.sql` is what running them on
an empty SQLite database leaves behind, written by `python -m prompteur.store.snapshot`, and a
test re-runs the migrations and fails when the file no longer matches them. A store that
already has tables is always migrated by Alembic.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "schema_sqlite.sql"
_SEPARATOR = "\n-- ;;\n"
_HEAD = "-- head: "


def dump(path: Path) -> str:
    """The schema of the SQLite database at `path` and its Alembic revision, as the file's text."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        ).fetchall()
        (head,) = con.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        con.close()
    statements = [r[0] for r in rows] + [f"INSERT INTO alembic_version VALUES ('{head}')"]
    header = (
        f"{_HEAD}{head}\n"
        "-- Written by `python -m prompteur.store.snapshot` from the migrations: do not edit.\n"
    )
    return header + _SEPARATOR.join(statements) + "\n"


def load(head: str) -> list[str] | None:
    """The statements that make an empty SQLite database a store at `head`; None when the
    shipped snapshot is of another revision (a migration added since: Alembic runs them)."""
    try:
        text = SNAPSHOT.read_text(encoding="utf-8")
    except OSError:
        return None
    first, _, body = text.partition("\n")
    if first != f"{_HEAD}{head}":
        return None
    body = "\n".join(line for line in body.split("\n") if not line.startswith("-- Written"))
    return [s.strip() for s in body.split(_SEPARATOR.strip()) if s.strip()]


def main() -> None:
    """Run the migrations on an empty SQLite database and write the snapshot of the result."""
    import tempfile

    from sqlalchemy import create_engine

    from .db import migrate

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.db"
        engine = create_engine(f"sqlite:///{db}")
        try:
            migrate(engine, snapshot=False)
        finally:
            engine.dispose()
        SNAPSHOT.write_text(dump(db), encoding="utf-8")
    print(f"wrote {SNAPSHOT}", file=sys.stderr)


if __name__ == "__main__":
    main()
