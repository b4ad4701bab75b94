"""Coverage lists in the store: which communes a Mission locale (or a PSAD) is competent for."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


def codes_of(conn: sqlite3.Connection, structure_id: str) -> list[str]:
    """Return the sorted INSEE codes covered by one structure."""
    rows = conn.execute(
        "SELECT code_insee FROM couverture WHERE structure_id = ? ORDER BY code_insee", (structure_id,)
    )
    return [r[0] for r in rows]


def replace(
    db: sqlite_utils.Database,
    structure_id: str,
    codes: list[str],
    source: str | None = None,
    date_maj: str | None = None,
) -> None:
    """Make `codes` the whole coverage list of one structure."""
    db.execute("DELETE FROM couverture WHERE structure_id = ?", (structure_id,))
    db.conn.executemany(
        "INSERT OR IGNORE INTO couverture (code_insee, structure_id, source, date_maj) VALUES (?, ?, ?, ?)",
        [(code, structure_id, source, date_maj) for code in codes],
    )


def structures_of(conn: sqlite3.Connection, code_insee: str) -> list[str]:
    """Return the ids of the structures whose coverage lists this commune."""
    rows = conn.execute(
        "SELECT structure_id FROM couverture WHERE code_insee = ? ORDER BY structure_id", (code_insee,)
    )
    return [r[0] for r in rows]


def rows_of(conn: sqlite3.Connection, structure_id: str) -> list[list[str | None]]:
    """Return the coverage rows of one structure as sorted [code_insee, source, date_maj] lists."""
    rows = conn.execute(
        "SELECT code_insee, source, date_maj FROM couverture WHERE structure_id = ? ORDER BY code_insee",
        (structure_id,),
    )
    return [[r[0], r[1], r[2]] for r in rows]


def put_rows(db: sqlite_utils.Database, structure_id: str, rows: list[list[str | None]]) -> None:
    """Make `rows` ([code_insee, source, date_maj] lists) the whole coverage of one structure."""
    db.execute("DELETE FROM couverture WHERE structure_id = ?", (structure_id,))
    db.conn.executemany(
        "INSERT OR IGNORE INTO couverture (code_insee, structure_id, source, date_maj) VALUES (?, ?, ?, ?)",
        [(r[0], structure_id, r[1], r[2]) for r in rows],
    )
