"""Connections to the store: read-only ones for requests and lookups, one writer for builds and imports."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


class StoreMissing(RuntimeError):
    """The store file does not exist or was never built."""


class StoreBusy(sqlite3.OperationalError):
    """Another write held the store longer than the writer may wait: try again in a moment.

    A subclass of OperationalError, so callers that already explain SQLite's refusals keep working.
    """

    def __init__(self, wait_seconds: float):
        self.retry_after = max(1, round(wait_seconds))
        super().__init__(
            "Une autre écriture est en cours (un import, sans doute) : réessayez dans quelques secondes."
        )


_SQLITE_BUSY = 5


def _is_busy(err: sqlite3.OperationalError) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == _SQLITE_BUSY
    return "database is locked" in str(err)


class _WriterConnection(sqlite3.Connection):
    """The writer's connection: every transaction takes the write lock first, and a busy store is StoreBusy.

    A deferred BEGIN that reads before writing cannot wait for the lock (SQLite answers "locked" at once
    when the read snapshot is stale): BEGIN IMMEDIATE waits `busy_timeout`, then fails cleanly.
    """

    wait_seconds = 5.0

    def _busy(self, err: sqlite3.OperationalError) -> Exception:
        return StoreBusy(self.wait_seconds) if _is_busy(err) else err

    def execute(self, sql, *args):
        if len(sql) < 16 and sql.strip().rstrip(";").upper() == "BEGIN":  # not on every row's INSERT
            sql = "BEGIN IMMEDIATE"
        try:
            return super().execute(sql, *args)
        except sqlite3.OperationalError as err:
            raise self._busy(err) from err

    def executemany(self, sql, *args):
        try:
            return super().executemany(sql, *args)
        except sqlite3.OperationalError as err:
            raise self._busy(err) from err

    def executescript(self, sql):
        try:
            return super().executescript(sql)
        except sqlite3.OperationalError as err:
            raise self._busy(err) from err

    def commit(self):
        try:
            return super().commit()
        except sqlite3.OperationalError as err:
            raise self._busy(err) from err


def create_private(path: str | Path) -> None:
    """Create the file readable and writable by its owner only (0600), unless it exists.

    The store and the accounts file hold password and session hashes and reporters' contacts: no one
    else on the machine may read them. SQLite gives its -wal and -shm files the mode of the main file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def read_only_medium(path: str | Path) -> bool:
    """Tell whether the store sits where nothing can be written (a read-only mount or folder)."""
    path = Path(path).resolve()
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY) or not os.access(path.parent, os.W_OK)
    except OSError:
        return False


def read_only_uri(path: str | Path) -> str:
    """Return the URI that opens the store read-only (immutable on a read-only medium)."""
    mode = "mode=ro&immutable=1" if read_only_medium(path) else "mode=ro"
    return f"{Path(path).resolve().as_uri()}?{mode}"


def connect(path: str | Path, scratch: bool = False) -> sqlite3.Connection:
    """Open the store read-only (requests never write); rows behave like dicts.

    On a read-only medium a WAL store cannot create its shared-memory file: it is then opened as
    immutable (no locks, nothing can change it anyway), so the site keeps serving. `scratch`: the
    connection may still create TEMP tables (a large plan spills its working maps there); the store
    itself stays read-only.
    """
    path = Path(path)
    if not path.exists():
        raise StoreMissing(f"Le fichier de données {path} n’existe pas : lancez « locator build ».")
    conn = sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    if not scratch:
        conn.execute("PRAGMA query_only = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    # One connection per server thread: a 1 MB page cache each (not 2) keeps a worker's memory low;
    # the hot pages of the 30 MB store stay in the operating system's cache anyway.
    conn.execute("PRAGMA cache_size = -1024")
    return conn


def migrate(path: str | Path) -> None:
    """Bring a store of an older, migratable version up to date (new columns, triggers); idempotent."""
    from . import schema

    if read_only_medium(path):
        return
    with writer(path) as db:
        schema.create(db)


def ping(conn: sqlite3.Connection) -> None:
    """Read one row: raises when the store cannot be read."""
    conn.execute("SELECT 1 FROM meta LIMIT 1").fetchone()


# Tables every page needs: /healthz says not-ok when one is missing (one query on the catalogue).
REQUIRED_TABLES = (
    "meta",
    "communes",
    "communes_rtree",
    "noms",
    "structures",
    "structures_rtree",
    "couverture",
)


def missing_tables(conn: sqlite3.Connection) -> list[str]:
    """Return the required tables the store lacks (empty when it is whole)."""
    marks = ",".join("?" * len(REQUIRED_TABLES))
    rows = conn.execute(f"SELECT name FROM sqlite_master WHERE name IN ({marks})", REQUIRED_TABLES)
    present = {r[0] for r in rows}
    return [t for t in REQUIRED_TABLES if t not in present]


def version(conn: sqlite3.Connection) -> tuple[str, int]:
    """Return (store file, data version): the version changes after any other connection's commit."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    return path, conn.execute("PRAGMA data_version").fetchone()[0]


def data_version(conn: sqlite3.Connection) -> int:
    """Return the connection's data version: it changes after any other connection's commit."""
    return conn.execute("PRAGMA data_version").fetchone()[0]


def finish_build(db: sqlite_utils.Database) -> None:
    """Refresh the planner's statistics and fold the WAL into the main file (one file to copy)."""
    db.execute("PRAGMA optimize")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def writer(path: str | Path, wait_seconds: float | None = None) -> sqlite_utils.Database:
    """Open the store for writing (created if absent) in WAL mode, so readers never wait on a write.

    The one way to write: `with writer(path) as db:` closes the connection however the block ends
    (transactions are the caller's, with `db.atomic()`).

    A write waits `wait_seconds` (default: setting WRITE_WAIT_SECONDS) for another one, then raises
    StoreBusy.
    """
    import sqlite_utils  # heavy (35 MB): only writers pay for it, never a serving worker

    if wait_seconds is None:
        from .. import config

        wait_seconds = float(config.load()["WRITE_WAIT_SECONDS"])
    path = Path(path)
    create_private(path)
    # Default transaction handling: sqlite-utils' db.atomic() relies on it (savepoints when nested);
    # implicit transactions take the write lock at once, like db.atomic()'s (see _WriterConnection).
    conn = sqlite3.connect(str(path), factory=_WriterConnection, isolation_level="IMMEDIATE")
    conn.wait_seconds = wait_seconds
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(wait_seconds * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


_CAUSES = (
    ("disk is full", "le disque est plein ; libérez de la place puis recommencez."),
    ("readonly", "il est en lecture seule (disque ou dossier protégé en écriture)."),
    ("unable to open", "il est en lecture seule ou son dossier n’est pas accessible en écriture."),
    ("locked", "une autre écriture est en cours ; réessayez dans un moment."),
    ("malformed", "il est endommagé ; restaurez une sauvegarde (« locator restore »)."),
)


def explain(err: Exception) -> str:
    """Say in French why SQLite refused a write (full disk, read-only medium, lock, damage)."""
    if isinstance(err, StoreBusy):
        return "une autre écriture est en cours (un import, sans doute) ; réessayez dans quelques secondes."
    text = str(err).lower()
    for marker, why in _CAUSES:
        if marker in text:
            return why
    return f"erreur de la base ({err})."


def outdated(path: str | Path) -> bool:
    """Tell whether the store is of an older schema this code brings up to date (`migrate`)."""
    from .schema import MIGRATABLE_VERSIONS

    try:
        with contextlib.closing(sqlite3.connect(read_only_uri(path), uri=True)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError:
        return False  # missing, not a store: `check` says why
    return row is not None and row[0] in MIGRATABLE_VERSIONS


def check(path: str | Path) -> str | None:
    """Return why the store cannot be served (missing, not SQLite, corrupted, not built), or None."""
    path = Path(path)
    if not path.exists():
        return f"le fichier de données {path} n’existe pas : lancez « locator build --db {path} »."
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                return f"le fichier de données {path} est endommagé ({result}) : restaurez une sauvegarde."
            has_meta = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
            version = (
                conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if has_meta
                else None
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        return (
            f"le fichier {path} n’est pas un fichier de données lisible ({err}) : restaurez une sauvegarde."
        )
    from .schema import MIGRATABLE_VERSIONS, SCHEMA_VERSION

    if version is not None and version[0] not in (SCHEMA_VERSION, *MIGRATABLE_VERSIONS):
        return f"le fichier de données {path} vient d’une version antérieure : lancez « locator build »."
    if version is None:
        return f"le fichier {path} n’est pas construit par « locator build » (pas un fichier de données)."
    return None
