"""Timestamps of throttled events (failed logins, error reports), shared by every worker.

Failed logins are counted in the accounts file (store/authdb.py), so that a login never waits for the
store; error reports in the store, in the same transaction as the report they count.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlite-utils is heavy: the writer connection brings it in
    import sqlite_utils


DDL = """
-- `cle` names who did it: "compte:<email>", "ip:<address>"... (admin/accounts.py) in the accounts
-- file; "signalement:<address>" in the store, beside the reports it brakes.
CREATE TABLE IF NOT EXISTS tentatives (cle TEXT NOT NULL, quand REAL NOT NULL);
CREATE INDEX IF NOT EXISTS tentatives_cle ON tentatives(cle, quand);
"""


def create(db: sqlite_utils.Database) -> None:
    """Create the table when missing."""
    db.conn.executescript(DDL)


# The keys of the report brake (web/admin/reports.py): the only ones a store keeps since schema 6.
REPORT_PREFIX = "signalement:"

# Events older than this are forgotten: longer than any throttling window.
RETENTION_SECONDS = 2 * 86400


def record(db: sqlite_utils.Database, keys: list[str], now: float) -> None:
    """Record one event for each key, and forget the events older than the retention."""
    db.execute("DELETE FROM tentatives WHERE quand < ?", (now - RETENTION_SECONDS,))
    db.conn.executemany("INSERT INTO tentatives (cle, quand) VALUES (?, ?)", [(k, now) for k in keys])


def recent(conn: sqlite3.Connection, key: str, since: float) -> tuple[int, float | None, float | None]:
    """Return how many events this key has since `since`, and the times of the first and last ones."""
    row = conn.execute(
        "SELECT COUNT(*), MIN(quand), MAX(quand) FROM tentatives WHERE cle = ? AND quand >= ?", (key, since)
    ).fetchone()
    return row[0], row[1], row[2]


def clear(db: sqlite_utils.Database, key: str) -> None:
    """Forget every event of a key."""
    db.execute("DELETE FROM tentatives WHERE cle = ?", (key,))


def clear_keys(db: sqlite_utils.Database, keys: list[str], prefixes: list[str]) -> int:
    """Forget every event of these keys and of the keys starting with these prefixes; return how many."""
    removed = 0
    for key in keys:
        removed += db.execute("DELETE FROM tentatives WHERE cle = ?", (key,)).rowcount
    for prefix in prefixes:  # substr, not LIKE: an e-mail address may hold « % » or « _ »
        cur = db.execute("DELETE FROM tentatives WHERE substr(cle, 1, ?) = ?", (len(prefix), prefix))
        removed += cur.rowcount
    return removed


def forget(db: sqlite_utils.Database, key: str, when: float) -> None:
    """Forget the event a key recorded at this exact time (an attempt that turned out fine)."""
    db.execute("DELETE FROM tentatives WHERE cle = ? AND quand = ?", (key, when))


@contextlib.contextmanager
def immediate(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction taken at once, so that a count and the write that depends on it are atomic."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
