"""The accounts file: admin accounts, their sessions, failed logins, and the uploads waiting in the wizard.

A SQLite file of its own beside the store (setting AUTH_DB; by default `<store>-comptes.sqlite`), so that
a login never waits for an import holding the store's write lock, and a backup of the store carries no
password nor session hash. This module owns its connections, as store/db.py owns the store's. A store
of schema 5 or older kept its accounts inside: they are moved here once (`prepare`), then dropped there.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from . import db as store_db

if TYPE_CHECKING:
    import sqlite_utils

AUTH_VERSION = "1"
# Set once the accounts of the store beside were taken over (or found absent): never taken again.
TAKEN = "comptes_repris"

_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"


def location(store: str | Path, configured: str | Path | None = None) -> Path:
    """Return the accounts file of a store: AUTH_DB when set, else `<store name>-comptes.sqlite` beside it."""
    if configured:
        return Path(configured)
    store = Path(store)
    return store.with_name(f"{store.stem}-comptes{store.suffix or '.sqlite'}")


def _create(db: sqlite_utils.Database) -> None:
    from . import pending, throttle, users

    db.conn.executescript(_META)
    for module in (users, throttle, pending):
        module.create(db)
    db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (AUTH_VERSION,))
    db.conn.commit()


def writer(path: str | Path, wait_seconds: float | None = None) -> sqlite_utils.Database:
    """Open the accounts file for writing (created 0600 with its tables if absent): `with writer(p) as db`."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        store_db.create_private(path)
        with closing(sqlite3.connect(path)) as conn:
            # Set before the first table (and before WAL): pages of a swept plan go back to the disk.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.executescript(_META)
    db = store_db.writer(path, wait_seconds)
    try:
        _create(db)
    except BaseException:
        db.close()
        raise
    return db


def connect(path: str | Path) -> sqlite3.Connection:
    """Open the accounts file read-only (created first when absent); rows behave like dicts."""
    if not Path(path).exists():
        writer(path).close()
    return store_db.connect(path)


def prepare(path: str | Path, store: str | Path) -> None:
    """Make sure the accounts file exists and holds the accounts an older store kept (moved once)."""
    path = Path(path)
    if path.exists():
        try:
            with closing(sqlite3.connect(store_db.read_only_uri(path), uri=True)) as conn:
                if conn.execute("SELECT 1 FROM meta WHERE key = ?", (TAKEN,)).fetchone():
                    return
        except sqlite3.Error:
            pass  # not created yet, or half-created: the writer below finishes it
    with writer(path) as db:
        take_accounts(db, store)


def _store_tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def take_accounts(db: sqlite_utils.Database, store: str | Path) -> None:
    """Copy the accounts, open sessions and failed logins a store of schema 5 or older kept, once.

    The store is only read: its writer drops those tables afterwards (schema.create). Uploads waiting
    in the old wizard are not taken (planned in the old format; they expire within a day anyway).
    """
    from .throttle import REPORT_PREFIX

    with db.atomic():
        if db.execute("SELECT 1 FROM meta WHERE key = ?", (TAKEN,)).fetchone():
            return
        store = Path(store)
        if store.exists() and store.stat().st_size:
            with closing(sqlite3.connect(store_db.read_only_uri(store), uri=True)) as old:
                tables = _store_tables(old)
                if "utilisateurs" in tables:
                    rows = old.execute(
                        "SELECT email, role, mot_de_passe, cree_le, modifie_le FROM utilisateurs"
                    )
                    db.conn.executemany("INSERT OR IGNORE INTO utilisateurs VALUES (?, ?, ?, ?, ?)", rows)
                if "sessions_admin" in tables:
                    rows = old.execute("SELECT jeton, email, cree_le, expire_le FROM sessions_admin")
                    db.conn.executemany("INSERT OR IGNORE INTO sessions_admin VALUES (?, ?, ?, ?)", rows)
                if "tentatives" in tables:
                    rows = old.execute(
                        "SELECT cle, quand FROM tentatives WHERE NOT cle LIKE ?", (REPORT_PREFIX + "%",)
                    )
                    db.conn.executemany("INSERT INTO tentatives (cle, quand) VALUES (?, ?)", rows)
        db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (TAKEN, str(store)))
