"""Coverage lists in the store: which communes a Mission locale (or a PSAD) is competent for."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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


# The source of coverage rows read from the Missions locales network's file (« zones de couverture »):
# the answers say that such a list is the official one. Other lists: "Liste des communes couvertes : FILE"
# (an admin's plain list) or "saisie manuelle" (the admin form).
NETWORK_SOURCE = "Zones de couverture du réseau des Missions locales"
PLAIN_SOURCE = "Liste des communes couvertes"
MANUAL_SOURCE = "saisie manuelle"


def origin_of(
    conn: sqlite3.Connection, codes: Sequence[str], structure_id: str
) -> tuple[str | None, str | None]:
    """Return (source, date_maj) of the coverage row naming one of these communes for a structure."""
    marks = ",".join("?" * len(codes))
    row = conn.execute(
        f"SELECT source, date_maj FROM couverture WHERE structure_id = ? AND code_insee IN ({marks}) "
        "ORDER BY date_maj DESC LIMIT 1",
        [structure_id, *codes],
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def lists_by_structure(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Return structure id → {"source", "date_maj", "communes"} of its coverage list (the most recent
    source and date when its rows mix several)."""
    rows = conn.execute(
        "SELECT structure_id, source, MAX(date_maj), COUNT(*) FROM couverture "
        "GROUP BY structure_id, source ORDER BY structure_id, MAX(date_maj)"
    )
    out: dict[str, dict[str, Any]] = {}
    for sid, source, date_maj, n in rows:
        before = out.get(sid, {"communes": 0})
        out[sid] = {"source": source, "date_maj": date_maj, "communes": before["communes"] + n}
    return out


SEAT_COLUMNS = ("code_ml", "nom_ml", "adresse", "code_postal", "commune", "code_insee", "source", "date_maj")


def put_seat(db: sqlite_utils.Database, structure_id: str, seat: dict[str, Any]) -> None:
    """Keep what a coverage file says of a Mission locale's seat (replacing what an earlier file said)."""
    db.execute(
        f"INSERT OR REPLACE INTO couverture_sieges (structure_id, {', '.join(SEAT_COLUMNS)}) "
        f"VALUES (?, {', '.join('?' * len(SEAT_COLUMNS))})",
        [structure_id, *(seat.get(c) for c in SEAT_COLUMNS)],
    )


def seats(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return what coverage files say of the seats of published Missions locales, with the directory's
    address beside it (columns prefixed `annuaire_`), by the Mission locale's département and name."""
    rows = conn.execute(
        "SELECT v.*, s.nom, s.adresse AS annuaire_adresse, s.code_postal AS annuaire_code_postal, "
        "s.commune AS annuaire_commune, s.code_insee AS annuaire_code_insee, s.departement, "
        "s.latitude, s.longitude FROM couverture_sieges v JOIN structures s ON s.id = v.structure_id "
        "WHERE s.type = 'mission_locale' AND s.statut = 'publie' ORDER BY s.departement, s.nom"
    )
    return [dict(r) for r in rows]
