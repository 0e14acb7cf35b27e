"""The trace spool: traces the SDK could not deliver, kept on disk until the server takes them.

One SQLite file per destination (a server URL with its API key, or a local store) in a folder
the application chooses, by default under the user's cache folder. Any number of processes may
append to it (SQLite's own locking); one at a time delivers from it: the holder of an OS file
lock on the file beside it (`flock`), which the OS releases when its process ends, however it
ends. No lease, no timestamp decides who delivers, so a clock that jumps changes nothing but the
ages shown.

Rows are delivered oldest first and deleted only once the server has taken them; a process
that dies between the two leaves them for the next one, which sends them again (at least once:
the server stores a span once). The spool is bounded in traces and in bytes: to stay within
its caps it drops its oldest rows, counts them, and never drops the rows being delivered.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import UserError
from ..i18n import plural

log = logging.getLogger("prompteur.sdk")

SPOOL_ENV = "PROMPTEUR_SPOOL_DIR"
SUFFIX = ".sqlite3"
CORRUPT = ".corrupt-"
DEFAULT_MAX_TRACES = 100_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
BUSY_SECONDS = 5.0  # how long a write waits for another process's transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS traces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payload TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value);
INSERT OR IGNORE INTO meta VALUES ('count', 0), ('bytes', 0), ('dropped', 0), ('sending', 0);
"""


class SpoolError(Exception):
    """The spool cannot be written or read now (folder not writable, disk full, locked)."""


def default_root() -> Path:
    """$PROMPTEUR_SPOOL_DIR, else the user's cache folder + prompteur/spool."""
    env = os.environ.get(SPOOL_ENV)
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    return base / "prompteur" / "spool"


def fingerprint(target: str, secret: str | None) -> str:
    """Who the spooled traces are for: a hash of the destination and its key. Traces spooled
    with one key are never delivered with another (it may belong to another project)."""
    data = f"prompteur-spool\0{target}\0{secret or ''}".encode()
    return hashlib.sha256(data).hexdigest()[:16]


def shown_target(target: str) -> str:
    """The destination as it may be shown: no user, password or query string."""
    parts = urlsplit(target)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"
    with contextlib.suppress(Exception):
        from ..store import hidden_password

        return hidden_password(target)
    return "a local store"


def spool_path(root: Path, target: str, secret: str | None) -> Path:
    shown = shown_target(target)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", shown.split("://", 1)[-1]).strip("_")[:60]
    return root / f"{slug or 'spool'}-{fingerprint(target, secret)}{SUFFIX}"


class _DrainLock:
    """A non-blocking exclusive lock on a file, held per open file (two clients of one process
    exclude each other too) and released by the OS when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            # Closing the descriptor releases the lock (flock and msvcrt alike).
            os.close(fd)


@dataclass(frozen=True)
class Appended:
    stored: int  # traces written
    dropped: int  # traces dropped to stay within the caps (oldest first; maybe new ones)
    count: int  # traces in the spool now
    bytes: int


@dataclass(frozen=True)
class SpoolInfo:
    path: Path
    target: str | None  # where its traces go, as shown (no key, no password)
    traces: int
    bytes: int
    file_bytes: int
    oldest: float | None  # wall-clock time the oldest trace was spooled
    dropped: int  # dropped by the caps since the file was made
    corrupt: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "target": self.target,
            "traces": self.traces,
            "bytes": self.bytes,
            "file_bytes": self.file_bytes,
            "oldest": self.oldest,
            "dropped_by_cap": self.dropped,
            "corrupt": self.corrupt,
            "error": self.error,
        }


class Spool:
    """One spool file. Thread-safe; opened on first use; every method raises SpoolError when
    the disk or the file fails, and a corrupt file is set aside (renamed, never deleted)."""

    def __init__(
        self,
        path: Path,
        *,
        target: str = "",
        max_traces: int = DEFAULT_MAX_TRACES,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.path = Path(path)
        self.target = target
        self.max_traces = max_traces
        self.max_bytes = max_bytes
        self.lock = _DrainLock(self.path.with_name(self.path.name + ".lock"))
        self._conn: sqlite3.Connection | None = None
        self._inode: int | None = None  # of the file the connection has open
        self._mutex = threading.RLock()
        # Corrupt files moved away: (where, how many traces they held if that was readable).
        self.set_aside: list[tuple[Path, int | None]] = []

    def __repr__(self) -> str:
        return f"Spool({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    # ---- the connection ---------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            # Traces hold the application's inputs and outputs: for this user's eyes only.
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise SpoolError(f"cannot create the spool folder {self.path.parent}: {exc}") from None
        for attempt in range(2):
            try:
                if not self.path.exists():  # SQLite gives its journals the file's mode
                    os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError as exc:
                raise SpoolError(f"cannot create the spool {self.path}: {exc}") from None
            try:
                conn = self._connect()
            except sqlite3.DatabaseError as exc:
                if attempt or not _is_corrupt(exc):
                    raise SpoolError(f"cannot open the spool {self.path}: {exc}") from None
                self._set_aside(str(exc))
                continue
            self._conn = conn
            self._inode = _inode(self.path)
            return conn
        raise AssertionError("unreachable")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a spooled trace survives the process dying (kill -9 included);
            # a power cut may cost the last transactions.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            row = conn.execute("PRAGMA quick_check(1)").fetchone()
            if row is None or row[0] != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {row}")
            if self.target:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('target', ?)", (self.target,))
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_aside(self, why: str) -> None:
        """Move a corrupt file (and its journal) out of the way, keeping it for a human, and
        say how many traces it held when that can still be read."""
        held: int | None = None
        with (
            contextlib.suppress(sqlite3.Error),
            contextlib.closing(sqlite3.connect(self.path, timeout=BUSY_SECONDS)) as conn,
        ):
            held = int(conn.execute("SELECT count(*) FROM traces").fetchone()[0])
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}{CORRUPT}{stamp}-{os.getpid()}")
        for extra in ("", "-wal", "-shm"):
            src = Path(str(self.path) + extra)
            if src.exists():
                try:
                    src.replace(Path(str(aside) + extra))
                except OSError as exc:
                    raise SpoolError(
                        f"the spool {self.path} is corrupt ({why}) and cannot be moved aside: {exc}"
                    ) from None
        self.set_aside.append((aside, held))
        log.warning(
            "prompteur: the trace spool %s is corrupt (%s): moved to %s with the %s it "
            "held; a new spool starts",
            self.path,
            why,
            aside.name,
            plural(held, "trace") if held is not None else "traces (how many cannot be read)",
        )

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction (the write lock taken at once: no upgrade deadlock)."""
        with self._mutex:
            conn = self._open()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._fail(exc)

    def _fail(self, exc: sqlite3.DatabaseError) -> None:
        if _is_corrupt(exc):
            self._close_conn()
            # Unless another process already moved it and started a new one there.
            if _inode(self.path) == self._inode:
                with contextlib.suppress(SpoolError):
                    self._set_aside(str(exc))
        raise SpoolError(f"the spool {self.path}: {exc}") from None

    def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def close(self) -> None:
        with self._mutex:
            self._close_conn()

    # ---- rows ---------------------------------------------------------------------------------

    def append(self, payloads: list[str]) -> Appended:
        """Add traces (each one JSON object) at the tail, then drop the oldest rows that break
        a cap (never a row being delivered)."""
        now = time.time()
        rows = [(p, len(p.encode("utf-8"))) for p in payloads]
        # A trace bigger than the whole cap would push every other one out, then itself.
        too_big = sum(1 for _, size in rows if size > self.max_bytes)
        if too_big:
            rows = [(p, size) for p, size in rows if size <= self.max_bytes]
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO traces (payload, size, created_at) VALUES (?, ?, ?)",
                [(p, size, now) for p, size in rows],
            )
            count, size = _totals(conn)
            count += len(rows)
            size += sum(s for _, s in rows)
            dropped, count, size = self._enforce_caps(conn, count, size)
            _set_totals(conn, count, size)
            if too_big:
                conn.execute("UPDATE meta SET value = value + ? WHERE name = 'dropped'", (too_big,))
        return Appended(len(rows) + too_big, dropped + too_big, count, size)

    def _enforce_caps(
        self, conn: sqlite3.Connection, count: int, size: int
    ) -> tuple[int, int, int]:
        if count <= self.max_traces and size <= self.max_bytes:
            return 0, count, size
        sending = _meta(conn, "sending")
        victims: list[int] = []
        freed = 0
        cursor = conn.execute("SELECT id, size FROM traces WHERE id > ? ORDER BY id", (sending,))
        for rowid, row_size in cursor:
            if count - len(victims) <= self.max_traces and size - freed <= self.max_bytes:
                break
            victims.append(rowid)
            freed += row_size
        cursor.close()
        if victims:
            conn.execute("DELETE FROM traces WHERE id > ? AND id <= ?", (sending, victims[-1]))
            conn.execute(
                "UPDATE meta SET value = value + ? WHERE name = 'dropped'", (len(victims),)
            )
        return len(victims), count - len(victims), size - freed

    def take(self, n: int) -> list[tuple[int, str]]:
        """The `n` oldest rows, marked as being delivered (the caps spare them). Only the
        holder of the drain lock calls this."""
        with self._write() as conn:
            rows = conn.execute(
                "SELECT id, payload FROM traces ORDER BY id LIMIT ?", (n,)
            ).fetchall()
            conn.execute(
                "UPDATE meta SET value = ? WHERE name = 'sending'", (rows[-1][0] if rows else 0,)
            )
        return rows

    def remove(self, ids: list[int]) -> int:
        """Delete delivered (or refused) rows; returns how many were still there."""
        with self._write() as conn:
            gone = 0
            freed = 0
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                found = conn.execute(
                    f"SELECT count(*), coalesce(sum(size), 0) FROM traces WHERE id IN ({marks})",
                    chunk,
                ).fetchone()
                conn.execute(f"DELETE FROM traces WHERE id IN ({marks})", chunk)
                gone += found[0]
                freed += found[1]
            count, size = _totals(conn)
            _set_totals(conn, max(0, count - gone), max(0, size - freed))
            conn.execute("UPDATE meta SET value = 0 WHERE name = 'sending'")
        return gone

    def release(self) -> None:
        """Nothing is being delivered any more: the caps may drop any row again."""
        with self._write() as conn:
            conn.execute("UPDATE meta SET value = 0 WHERE name = 'sending'")

    def pending(self) -> tuple[int, int]:
        """(traces, bytes) in the spool now."""
        with self._mutex:
            conn = self._open()
            try:
                return _totals(conn)
            except sqlite3.DatabaseError as exc:
                self._fail(exc)
                raise AssertionError("unreachable") from None

    def clear(self) -> int:
        """Delete every row (`prompteur traces spool clear`); returns how many there were."""
        with self._write() as conn:
            count, _ = _totals(conn)
            conn.execute("DELETE FROM traces")
            _set_totals(conn, 0, 0)
            conn.execute("UPDATE meta SET value = 0 WHERE name = 'sending'")
        return count

    def info(self) -> SpoolInfo:
        with self._mutex:
            return inspect(self.path)


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return False  # locked, read-only, disk full, cannot open: the file may be fine
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def _meta(conn: sqlite3.Connection, name: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _totals(conn: sqlite3.Connection) -> tuple[int, int]:
    return _meta(conn, "count"), _meta(conn, "bytes")


def _set_totals(conn: sqlite3.Connection, count: int, size: int) -> None:
    conn.executemany(
        "UPDATE meta SET value = ? WHERE name = ?", [(count, "count"), (size, "bytes")]
    )


def _chunks(items: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def inspect(path: Path) -> SpoolInfo:
    """What a spool file holds, read without changing it (a corrupt file is reported, not
    moved: only a client that needs the spool sets it aside)."""
    file_bytes = sum(
        Path(str(path) + extra).stat().st_size
        for extra in ("", "-wal")
        if Path(str(path) + extra).exists()
    )
    try:
        conn = sqlite3.connect(path, timeout=BUSY_SECONDS)
    except sqlite3.Error as exc:
        return SpoolInfo(path, None, 0, 0, file_bytes, None, 0, error=str(exc))
    try:
        count, size = _totals(conn)
        oldest = conn.execute("SELECT min(created_at) FROM traces").fetchone()[0]
        target = conn.execute("SELECT value FROM meta WHERE name = 'target'").fetchone()
        dropped = _meta(conn, "dropped")
    except sqlite3.DatabaseError as exc:
        corrupt = not isinstance(exc, sqlite3.OperationalError) or "no such table" in str(exc)
        return SpoolInfo(path, None, 0, 0, file_bytes, None, 0, corrupt=corrupt, error=str(exc))
    finally:
        conn.close()
    return SpoolInfo(
        path, str(target[0]) if target else None, count, size, file_bytes, oldest, dropped
    )


def find_spools(root: Path) -> list[SpoolInfo]:
    """Every spool file in `root`, and every corrupt one a client set aside there."""
    if not root.is_dir():
        return []
    found: list[SpoolInfo] = []
    for path in sorted(root.iterdir()):
        if path.name.endswith(SUFFIX):
            found.append(inspect(path))
        elif CORRUPT in path.name and not path.name.endswith(("-wal", "-shm")):
            found.append(SpoolInfo(path, None, 0, 0, path.stat().st_size, None, 0, corrupt=True))
    return found


def open_spool(
    folder: str | Path | bool | None,
    target: str,
    secret: str | None,
    *,
    max_traces: int = DEFAULT_MAX_TRACES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Spool | None:
    """The spool of a client: None when `folder` is False. A folder the application names
    must be writable now (a mistake is said at start, not at the first outage); the default
    one is tried when needed, and a failure then is counted and logged."""
    if folder is False:
        return None
    if max_traces < 1:
        raise UserError("must be 1 or more", field="spool_max_traces")
    if max_bytes < 1:
        raise UserError("must be 1 or more", field="spool_max_bytes")
    explicit = folder is not None and folder is not True
    root = Path(folder).expanduser() if explicit else default_root()  # type: ignore[arg-type]
    path = spool_path(root, target, secret)
    if root.name.endswith(SUFFIX):
        # One spool file, named: delivered to this target whatever key it was made with
        # (`prompteur traces spool drain --file`, after a key was replaced).
        if not root.is_file():
            raise UserError("no such spool file", file=root, field="spool")
        path, root = root, root.parent
    spool = Spool(
        path,
        target=shown_target(target),
        max_traces=max_traces,
        max_bytes=max_bytes,
    )
    if explicit:
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(spool.lock.path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as exc:
            raise UserError(
                f"cannot write the trace spool here: {exc.strerror or exc}",
                file=root,
                field="spool",
                hint="give a writable folder, or spool=False for none",
            ) from None
    return spool
