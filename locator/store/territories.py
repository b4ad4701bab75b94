"""Territories in the store: the competent Mission locale of every commune of the région, and each
Mission locale's territory polygon, both recomputed by locator.territories after every change."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

DDL = """
-- The answer of every current commune of the home région: its Mission locale (NULL: none known),
-- how it was chosen (couverture, territoire_probable, inconnue), the site it was chosen by and its
-- distance (territoire_probable), and how many coverage lists name it (several: to check).
CREATE TABLE IF NOT EXISTS competences (
    code_insee TEXT PRIMARY KEY,
    departement TEXT NOT NULL,
    structure_id TEXT,
    methode TEXT NOT NULL,
    site_id TEXT,
    distance_km REAL,
    listes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS competences_structure ON competences(structure_id);
-- Each Mission locale's territory: the union of its communes' contours, simplified, as GeoJSON.
-- (Schema 7 adds etiquette_latitude/longitude, where the map writes its name: schema._ADDED_COLUMNS.)
CREATE TABLE IF NOT EXISTS territoires (
    structure_id TEXT PRIMARY KEY,
    geometrie TEXT,
    communes INTEGER NOT NULL,
    population INTEGER NOT NULL,
    par_couverture INTEGER NOT NULL,
    par_territoire_probable INTEGER NOT NULL
);
"""

_SITE_TYPES = ("mission_locale", "antenne_mission_locale")


def ml_sites(
    conn: sqlite3.Connection, departement: str | None = None, epci: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    """Return the located sites of published Missions locales (siège and published reception points
    linked by parent_id) as dicts: ml_id, departement (the siège's), site_id, commune, latitude,
    longitude, and where the site is: epci and site_departement (None when its commune is unknown).

    `departement`: only the Missions locales whose siège is there; `epci` (code, département): only
    the sites located in that intercommunality's part of that département.
    """
    where, args = "", []
    if departement:
        where += " AND m.departement = ?"
        args.append(departement)
    if epci:
        where += " AND l.epci = ? AND l.departement = ?"
        args.extend(epci)
    located = "LEFT JOIN communes l ON l.code = {}.code_insee"
    rows = conn.execute(
        "SELECT m.id AS ml_id, m.departement, m.id AS site_id, m.commune, m.latitude, m.longitude, "
        "l.epci, l.departement AS site_departement "
        f"FROM structures m {located.format('m')} "
        "WHERE m.type = 'mission_locale' AND m.statut = 'publie' "
        f"AND m.latitude IS NOT NULL {where} "
        "UNION ALL "
        "SELECT m.id, m.departement, a.id, a.commune, a.latitude, a.longitude, l.epci, l.departement "
        f"FROM structures m JOIN structures a ON a.parent_id = m.id {located.format('a')} "
        "WHERE m.type = 'mission_locale' AND m.statut = 'publie' AND a.statut = 'publie' "
        f"AND a.type IN (?, ?) AND a.latitude IS NOT NULL {where} "
        "ORDER BY 1, 3",
        [*args, *_SITE_TYPES, *args],
    )
    return [dict(r) for r in rows]


def ml_departements(conn: sqlite3.Connection) -> set[str]:
    """Return the départements where a published Mission locale has its siège."""
    rows = conn.execute(
        "SELECT DISTINCT departement FROM structures WHERE type = 'mission_locale' AND statut = 'publie'"
    )
    return {r[0] for r in rows if r[0]}


def region_communes(conn: sqlite3.Connection, region: str, contours: bool = False) -> list[dict[str, Any]]:
    """Return the current communes (COM) of a région: code, nom, departement, population, centre, epci."""
    extra = ", contour" if contours else ""
    rows = conn.execute(
        f"SELECT code, nom, departement, population, latitude, longitude, epci{extra} FROM communes "
        "WHERE region = ? AND type = 'COM' ORDER BY code",
        (region,),
    )
    return [dict(r) for r in rows]


def commune(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return one current commune or arrondissement as region_communes gives them, or None."""
    row = conn.execute(
        "SELECT code, nom, departement, population, latitude, longitude, epci FROM communes WHERE code = ?",
        (code,),
    ).fetchone()
    return dict(row) if row else None


def epci_communes(conn: sqlite3.Connection, epci: str, departement: str) -> list[dict[str, Any]]:
    """Return the current communes of an intercommunality's part of a département (as region_communes)."""
    rows = conn.execute(
        "SELECT code, nom, departement, population, latitude, longitude, epci FROM communes "
        "WHERE epci = ? AND departement = ? AND type = 'COM' ORDER BY code",
        (epci, departement),
    )
    return [dict(r) for r in rows]


def epci(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return an intercommunality (code, nom, type), or None."""
    row = conn.execute("SELECT code, nom, type FROM epci WHERE code = ?", (code,)).fetchone()
    return dict(row) if row else None


def other_region_codes(conn: sqlite3.Connection, region: str) -> set[str]:
    """Return the codes of the communes and arrondissements of every other région."""
    return {r[0] for r in conn.execute("SELECT code FROM communes WHERE region != ?", (region,))}


def coverage_by_commune(conn: sqlite3.Connection, region: str) -> dict[str, list[str]]:
    """Return code → ids of the published Missions locales whose coverage lists that commune of the
    région (an arrondissement listed counts for its city), ids sorted by the Mission locale's name."""
    rows = conn.execute(
        "SELECT COALESCE(c.commune_parent, c.code), s.id FROM couverture v "
        "JOIN communes c ON c.code = v.code_insee JOIN structures s ON s.id = v.structure_id "
        "WHERE c.region = ? AND s.type = 'mission_locale' AND s.statut = 'publie' "
        "ORDER BY s.nom, s.id",
        (region,),
    )
    out: dict[str, list[str]] = {}
    for code, sid in rows:
        if sid not in out.setdefault(code, []):
            out[code].append(sid)
    return out


def contours(conn: sqlite3.Connection, codes: Sequence[str]) -> dict[str, bytes]:
    """Return code → contour WKB of these communes (those without a contour are left out)."""
    out: dict[str, bytes] = {}
    for i in range(0, len(codes), 500):
        chunk = list(codes[i : i + 500])
        rows = conn.execute(
            f"SELECT code, contour FROM communes WHERE code IN ({','.join('?' * len(chunk))}) "
            "AND contour IS NOT NULL",
            chunk,
        )
        out.update({r[0]: r[1] for r in rows})
    return out


def replace(
    db: sqlite_utils.Database, answers: list[dict[str, Any]], territories: list[dict[str, Any]]
) -> None:
    """Make these rows the whole answer table and territory table (inside the caller's transaction)."""
    db.execute("DELETE FROM competences")
    db.execute("DELETE FROM territoires")
    cols = ("code_insee", "departement", "structure_id", "methode", "site_id", "distance_km", "listes")
    db.conn.executemany(
        f"INSERT INTO competences ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [tuple(a[c] for c in cols) for a in answers],
    )
    cols = (
        "structure_id",
        "geometrie",
        "communes",
        "population",
        "par_couverture",
        "par_territoire_probable",
        "etiquette_latitude",
        "etiquette_longitude",
    )
    db.conn.executemany(
        f"INSERT INTO territoires ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [tuple(t.get(c) for c in cols) for t in territories],
    )


def competence(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return the stored answer of one commune of the région, or None."""
    row = conn.execute("SELECT * FROM competences WHERE code_insee = ?", (code,)).fetchone()
    return dict(row) if row else None


def competences(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return every stored commune answer, by code."""
    return [dict(r) for r in conn.execute("SELECT * FROM competences ORDER BY code_insee")]


def territory(conn: sqlite3.Connection, structure_id: str) -> dict[str, Any] | None:
    """Return one Mission locale's stored territory (GeoJSON geometry text and counts), or None."""
    row = conn.execute("SELECT * FROM territoires WHERE structure_id = ?", (structure_id,)).fetchone()
    return dict(row) if row else None


def territories(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return every stored territory with its Mission locale's name and département, by département
    then name."""
    rows = conn.execute(
        "SELECT t.structure_id, t.communes, t.population, t.par_couverture, t.par_territoire_probable, "
        "s.nom, s.departement FROM territoires t JOIN structures s ON s.id = t.structure_id "
        "ORDER BY s.departement, s.nom"
    )
    return [dict(r) for r in rows]


def unlabelled(conn: sqlite3.Connection) -> int:
    """Return how many drawn territories have no label position (a store of schema 6 just migrated)."""
    return conn.execute(
        "SELECT COUNT(*) FROM territoires WHERE geometrie IS NOT NULL AND etiquette_latitude IS NULL"
    ).fetchone()[0]


def names(conn: sqlite3.Connection, ids: Sequence[str], region: str) -> dict[str, tuple[str, bool]]:
    """Return id → (name, seated outside `region`) of these structures."""
    out: dict[str, tuple[str, bool]] = {}
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT s.id, s.nom, d.region IS NOT NULL AND d.region != ? FROM structures s "
            f"LEFT JOIN departements d ON d.code = s.departement WHERE s.id IN ({marks})",
            [region, *chunk],
        )
        out.update({r[0]: (r[1], bool(r[2])) for r in rows})
    return out


# The meta key under which `refresh` keeps what the stored outlines and label positions were drawn from.
DRAWN_FROM = "territoires_empreintes"


def drawn(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return the stored territories as drawn at the last refresh: {"outlines": id → (fingerprint,
    geometry), "labels": (fingerprint, id → (latitude, longitude))}; empty when never recorded."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (DRAWN_FROM,)).fetchone()
    if row is None:
        return {}
    marks = json.loads(row[0])
    stored = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT structure_id, geometrie, etiquette_latitude, etiquette_longitude FROM territoires"
        )
    }
    outlines = {
        sid: (mark, stored[sid][0]) for sid, mark in marks.get("outlines", {}).items() if sid in stored
    }
    spots = {sid: (lat, lon) for sid, (_g, lat, lon) in stored.items() if lat is not None}
    return {"outlines": outlines, "labels": (marks.get("labels"), spots)}


def remember_drawn(db: sqlite_utils.Database, outlines: dict[str, str], labels: str) -> None:
    """Record what the territories just stored were drawn from (inside the caller's transaction)."""
    value = json.dumps({"outlines": outlines, "labels": labels}, sort_keys=True)
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (DRAWN_FROM, value))


def count(conn: sqlite3.Connection) -> int:
    """Return how many commune answers are stored (0: never computed, e.g. a store just migrated)."""
    return conn.execute("SELECT COUNT(*) FROM competences").fetchone()[0]


def create(db: sqlite_utils.Database) -> None:
    """Create the territory tables if missing (a store of schema 4 gets them at its next write)."""
    db.conn.executescript(DDL)
