"""« Signaler une erreur »: reports from the public, and the moderation queue admins work through."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlite-utils is heavy: the writer connection brings it in
    import sqlite_utils


STATUSES = ("nouveau", "resolu", "rejete")

DDL = """
CREATE TABLE IF NOT EXISTS signalements (
    id INTEGER PRIMARY KEY,
    structure_id TEXT NOT NULL,
    champ TEXT NOT NULL,
    message TEXT NOT NULL,
    contact TEXT,
    statut TEXT NOT NULL DEFAULT 'nouveau' CHECK (statut IN ('nouveau', 'resolu', 'rejete')),
    cree_le TEXT NOT NULL,
    traite_par TEXT,
    traite_le TEXT
);
CREATE INDEX IF NOT EXISTS signalements_statut ON signalements(statut, cree_le);
"""


def create(db: sqlite_utils.Database) -> None:
    """Create the table when missing."""
    db.conn.executescript(DDL)


def add(
    db: sqlite_utils.Database, structure_id: str, champ: str, message: str, contact: str | None, now: str
) -> int:
    """Queue a report; return its number."""
    cur = db.execute(
        "INSERT INTO signalements (structure_id, champ, message, contact, cree_le) VALUES (?, ?, ?, ?, ?)",
        (structure_id, champ, message, contact, now),
    )
    return cur.lastrowid


def queue(conn: sqlite3.Connection, statut: str = "nouveau", limit: int = 200) -> list[dict[str, Any]]:
    """Return the reports with this status, oldest first for new ones, newest first otherwise."""
    order = "ASC" if statut == "nouveau" else "DESC"
    rows = conn.execute(
        "SELECT r.*, s.nom AS structure_nom FROM signalements r "
        "LEFT JOIN structures s ON s.id = r.structure_id "
        f"WHERE r.statut = ? ORDER BY r.cree_le {order}, r.id {order} LIMIT ?",
        (statut, limit),
    )
    return [dict(r) for r in rows]


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Return how many reports each status has."""
    found = dict(conn.execute("SELECT statut, COUNT(*) FROM signalements GROUP BY statut").fetchall())
    return {s: found.get(s, 0) for s in STATUSES}


def get(conn: sqlite3.Connection, report_id: int) -> dict[str, Any] | None:
    """Return one report, or None."""
    row = conn.execute("SELECT * FROM signalements WHERE id = ?", (report_id,)).fetchone()
    return dict(row) if row else None


def settle(db: sqlite_utils.Database, report_id: int, statut: str, by: str, now: str) -> bool:
    """Mark a new report resolved or rejected; False when it is unknown or already settled."""
    cur = db.execute(
        "UPDATE signalements SET statut = ?, traite_par = ?, traite_le = ? "
        "WHERE id = ? AND statut = 'nouveau'",
        (statut, by, now, report_id),
    )
    return cur.rowcount == 1
