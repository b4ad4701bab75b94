"""Imports waiting for an admin's confirmation: the uploaded file, the fixes made, the last plan.

Kept in the store (not in a worker's memory) so that every worker serves the wizard; keyed by a
random token and bound to the account that uploaded the file. The file and the plan are stored
compressed (zlib): a plan repeats the same keys on every row and shrinks about tenfold.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlite-utils is heavy: the writer connection brings it in
    import sqlite_utils


DDL = """
CREATE TABLE IF NOT EXISTS imports_en_attente (
    jeton TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    cree_le REAL NOT NULL,
    fichier TEXT NOT NULL,
    contenu BLOB NOT NULL,
    reglages TEXT NOT NULL,
    plan TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS imports_en_attente_email ON imports_en_attente(email);
"""


def create(db: sqlite_utils.Database) -> None:
    """Create the table when missing."""
    db.conn.executescript(DDL)


def _pack(value: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 6)


def _unpack(value: bytes | str) -> Any:
    """Read a packed value (or one stored as JSON text before packing)."""
    return json.loads(zlib.decompress(value) if isinstance(value, bytes) else value)


def count(conn: sqlite3.Connection, since: float, email: str | None = None) -> int:
    """Return how many recent pending imports there are (of this account, when given)."""
    sql = "SELECT count(*) FROM imports_en_attente WHERE cree_le >= ?"
    args: tuple = (since,)
    if email is not None:
        sql, args = sql + " AND email = ?", (since, email)
    return conn.execute(sql, args).fetchone()[0]


def of_account(conn: sqlite3.Connection, email: str, since: float) -> list[dict[str, Any]]:
    """Return this account's recent pending imports (token, file name), newest first."""
    rows = conn.execute(
        "SELECT jeton, fichier FROM imports_en_attente WHERE email = ? AND cree_le >= ? "
        "ORDER BY cree_le DESC",
        (email, since),
    ).fetchall()
    return [{"jeton": r[0], "fichier": r[1]} for r in rows]


def put(
    db: sqlite_utils.Database,
    token: str,
    email: str,
    now: float,
    fichier: str,
    contenu: bytes,
    reglages: dict[str, Any],
    plan: dict[str, Any],
    forget_before: float,
) -> None:
    """Keep a new pending import, and forget the ones older than `forget_before`."""
    db.execute("DELETE FROM imports_en_attente WHERE cree_le < ?", (forget_before,))
    db.execute(
        "INSERT INTO imports_en_attente (jeton, email, cree_le, fichier, contenu, reglages, plan) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (token, email, now, fichier, zlib.compress(contenu, 6), json.dumps(reglages), _pack(plan)),
    )


def get(conn: sqlite3.Connection, token: str, email: str, since: float) -> dict[str, Any] | None:
    """Return the pending import of this token if it belongs to this account and is recent, else None."""
    row = conn.execute(
        "SELECT jeton, email, cree_le, fichier, contenu, reglages, plan FROM imports_en_attente "
        "WHERE jeton = ? AND email = ? AND cree_le >= ?",
        (token, email, since),
    ).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["reglages"] = json.loads(out["reglages"])
    out["plan"] = _unpack(out["plan"])
    out["contenu"] = _unpack_file(out["contenu"], out["plan"].get("taille"))
    return out


def update(db: sqlite_utils.Database, token: str, reglages: dict[str, Any], plan: dict[str, Any]) -> None:
    """Replace the fixes and the plan of a pending import."""
    db.execute(
        "UPDATE imports_en_attente SET reglages = ?, plan = ? WHERE jeton = ?",
        (json.dumps(reglages), _pack(plan), token),
    )


def _unpack_file(contenu: bytes, size: int | None) -> bytes:
    """Return the uploaded bytes (stored compressed; older rows hold them as sent)."""
    try:
        data = zlib.decompress(contenu)
    except zlib.error:
        return contenu
    return data if size is None or len(data) == size else contenu


def drop(db: sqlite_utils.Database, token: str) -> bool:
    """Forget a pending import (applied or abandoned); False when it was already gone (a double click)."""
    return db.execute("DELETE FROM imports_en_attente WHERE jeton = ?", (token,)).rowcount > 0
