"""Answers of the online geocoder kept in the store: the same address is never asked twice."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils


def get(conn: sqlite3.Connection, requete: str) -> tuple[bool, Any]:
    """Return (found, answer) for a query; a cached "no result" is (True, None)."""
    row = conn.execute("SELECT reponse FROM geocodage_cache WHERE requete = ?", (requete,)).fetchone()
    if row is None:
        return False, None
    return True, json.loads(row[0]) if row[0] else None


def put_many(db: sqlite_utils.Database, answers: dict[str, Any], quand: str) -> None:
    """Store answers (query → JSON-able answer or None)."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO geocodage_cache (requete, reponse, quand) VALUES (?, ?, ?)",
        [(q, None if a is None else json.dumps(a, ensure_ascii=False), quand) for q, a in answers.items()],
    )
