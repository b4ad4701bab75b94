"""The record of applied imports: one row per file imported, with its counts and its JSON report."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils


_COLUMNS = (
    "id, fichier, sha256, genre, quand, auteur, lus, crees, mis_a_jour, inchanges, rejetes, "
    "rapport, annule_le, annule_par"
)


def _counts_and_report(rapport: dict[str, Any]) -> tuple[Any, ...]:
    """The count columns (lus, crees, mis_a_jour, inchanges, rejetes) and the JSON report, in that order."""
    return (
        rapport.get("lus", 0),
        rapport.get("crees", 0),
        rapport.get("mis_a_jour", 0),
        rapport.get("inchanges", 0),
        len(rapport.get("rejetes", [])) + rapport.get("rejetes_non_listes", 0),
        json.dumps(rapport, ensure_ascii=False),
    )


def record(
    db: sqlite_utils.Database,
    *,
    fichier: str,
    sha256: str,
    genre: str,
    quand: str,
    auteur: str | None,
    rapport: dict[str, Any],
    jeton: str | None = None,
) -> int:
    """Insert the record of an import (counts taken from its report) and return its id.

    `jeton`: the wizard's upload it comes from (a second confirmation of that upload finds it)."""
    cur = db.execute(
        "INSERT INTO imports (fichier, sha256, genre, quand, auteur, lus, crees, mis_a_jour, inchanges, "
        "rejetes, rapport, jeton) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            fichier,
            sha256,
            genre,
            quand,
            auteur,
            *_counts_and_report(rapport),
            jeton,
        ),
    )
    return cur.lastrowid


def set_report(db: sqlite_utils.Database, import_id: int, rapport: dict[str, Any]) -> None:
    """Replace the counts and report of an import (they are final only once every row is written)."""
    db.execute(
        "UPDATE imports SET lus = ?, crees = ?, mis_a_jour = ?, inchanges = ?, rejetes = ?, rapport = ? "
        "WHERE id = ?",
        (*_counts_and_report(rapport), import_id),
    )


def get(conn: sqlite3.Connection, import_id: int) -> dict[str, Any] | None:
    """Return one import record (its report decoded), or None."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM imports WHERE id = ?", (import_id,)).fetchone()
    return _decode(row) if row else None


def recent(conn: sqlite3.Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Return the latest imports, newest first."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM imports ORDER BY id DESC LIMIT ?", (limit,))
    return [_decode(r) for r in rows]


def latest_of(conn: sqlite3.Connection, sha256: str, auteur: str | None) -> dict[str, Any] | None:
    """Return the latest import of this file by this author, or None (where a double click leads)."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM imports WHERE sha256 = ? AND auteur IS ? ORDER BY id DESC LIMIT 1",
        (sha256, auteur),
    ).fetchone()
    return _decode(row) if row else None


def of_upload(conn: sqlite3.Connection, jeton: str) -> dict[str, Any] | None:
    """Return the import made from this wizard upload, or None."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM imports WHERE jeton = ?", (jeton,)).fetchone()
    return _decode(row) if row else None


def forget(db: sqlite_utils.Database, import_id: int) -> None:
    """Remove the record of an import that changed nothing (it is not an import of the history)."""
    db.execute("DELETE FROM imports WHERE id = ?", (import_id,))


def mark_undone(db: sqlite_utils.Database, import_id: int, auteur: str | None, quand: str) -> None:
    """Record that an import was undone, when and by whom."""
    db.execute("UPDATE imports SET annule_le = ?, annule_par = ? WHERE id = ?", (quand, auteur, import_id))


def _decode(row) -> dict[str, Any]:
    out = dict(zip([c.strip() for c in _COLUMNS.split(",")], tuple(row), strict=True))
    out["rapport"] = json.loads(out["rapport"]) if out["rapport"] else None
    return out
