"""Backups with SQLite's online backup API: consistent copies while the site serves and imports run."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from . import structures
from .db import check, migrate, read_only_uri, writer


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why, in French."""


def backup(store: str | Path, target: str | Path) -> int:
    """Copy the store to `target` (a new file, written then renamed); return its size in bytes."""
    store, target = Path(store), Path(target)
    problem = check(store)
    if problem:
        raise BackupError(problem)
    if target.exists() and target.is_dir():
        raise BackupError(f"{target} est un dossier : donnez un nom de fichier.")
    partial = target.with_name(target.name + ".partiel")
    src = sqlite3.connect(read_only_uri(store), uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            # Small steps let writers in between; a write during the copy restarts it from a consistent state.
            src.backup(dst, pages=1024)
            dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        finally:
            dst.close()
    except (sqlite3.Error, OSError) as err:
        partial.unlink(missing_ok=True)
        raise BackupError(f"la sauvegarde a échoué : {err}") from err
    finally:
        src.close()
    os.replace(partial, target)
    return target.stat().st_size


# Objects a store of an older, migratable version lacks: the restore adds them (db.migrate).
_ADDED_SINCE_3 = {("trigger", "structures_version")}
_ADDED_SINCE_4 = {
    ("table", "competences"),
    ("index", "competences_structure"),
    ("table", "territoires"),
    ("table", "positions"),
    *(("table", f"positions_rtree{t}") for t in ("", "_node", "_rowid", "_parent")),
    ("index", "structures_position"),
    *(
        ("trigger", t)
        for t in (
            "positions_rtree_insert",
            "positions_rtree_count",
            "positions_rtree_delete",
            "structures_positions_insert",
            "structures_positions_update",
            "structures_positions_delete",
        )
    ),
}
_ADDED_SINCE_5 = {
    ("table", "plancher_version"),
    ("table", "couverture_sieges"),
    ("trigger", "structures_version_deleted"),
    ("trigger", "structures_version_created"),
    ("table", "epci"),
    ("index", "communes_epci"),
}
# Reference tables that are never empty in a built store.
_NON_EMPTY = ("regions", "departements", "communes", "communes_rtree", "codes_postaux", "noms")


def _expected_objects() -> set[tuple[str, str]]:
    """The (type, name) of every table, index and trigger a store of this version holds."""
    import sqlite_utils

    from . import schema

    with sqlite_utils.Database(memory=True) as mem:
        schema.create(mem)
        return _objects(mem.conn)


def _objects(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    return {(r[0], r[1]) for r in rows}


def verify(source: str | Path) -> str | None:
    """Say in French why a file is not a complete store of this project (None: it can be restored)."""
    problem = check(source)
    if problem:
        return problem
    conn = sqlite3.connect(read_only_uri(source), uri=True)
    try:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        added = {
            "3": _ADDED_SINCE_3 | _ADDED_SINCE_4 | _ADDED_SINCE_5,
            "4": _ADDED_SINCE_4 | _ADDED_SINCE_5,
            "5": _ADDED_SINCE_5,
        }.get(version, set())
        expected = _expected_objects() - added
        missing = sorted(name for _, name in expected - _objects(conn))
        if missing:
            return f"il manque {len(missing)} table(s) ou index : {', '.join(missing[:8])}."
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            return f"le fichier est endommagé ({result})."
        empty = [t for t in _NON_EMPTY if conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is None]
        if empty:
            return f"table(s) vide(s) : {', '.join(empty)} (pas un fichier construit)."
    except sqlite3.Error as err:
        return f"le fichier n'a pas pu être lu ({err})."
    finally:
        conn.close()
    return None


def restore(source: str | Path, store: str | Path) -> None:
    """Replace the store's content with a backup, in place: readers keep serving, then see the restored data.

    The backup is checked first (every table, index and trigger, version, integrity, non-empty
    reference tables); a bad file changes nothing. A backup of the previous version is migrated.
    """
    source, store = Path(source), Path(store)
    problem = verify(source)
    if problem:
        raise BackupError(f"sauvegarde refusée : {problem}")
    replaced = _highest_version(store)
    src = sqlite3.connect(read_only_uri(source), uri=True)
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(store, timeout=30)
        try:
            dst.execute("PRAGMA busy_timeout = 30000")
            src.backup(dst)  # one step: the destination changes in a single transaction
            dst.execute("PRAGMA journal_mode = WAL")
        finally:
            dst.close()
    except sqlite3.Error as err:
        raise BackupError(f"la restauration a échoué : {err}") from err
    finally:
        src.close()
    migrate(store)
    # Edit counters never go back: a form opened on the replaced store must conflict with the backup's rows.
    with writer(store) as db:
        structures.lift_versions(db, replaced)


def _highest_version(store: Path) -> int:
    """The highest edit counter of the store about to be replaced (0 when there is none to read)."""
    if check(store) is not None:
        return 0
    conn = sqlite3.connect(read_only_uri(store), uri=True)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'plancher_version'").fetchone():
            return structures.highest_version(conn)
        return conn.execute("SELECT COALESCE(MAX(version), 0) FROM structures").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()
