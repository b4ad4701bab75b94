"""Reference geography in the store: writing it once per build, reading it per request."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlite-utils pulls in heavy modules: writers import it, readers do not
    import sqlite_utils


PUBLIC_FIELDS = (
    "code",
    "nom",
    "type",
    "commune_parent",
    "departement",
    "region",
    "population",
    "latitude",
    "longitude",
    "centre",
)
_PUBLIC = ", ".join(PUBLIC_FIELDS)


def replace_reference(db: sqlite_utils.Database, ref: Any) -> None:
    """Replace every reference table with the rows of `ref` (inside the caller's transaction)."""
    for table in ("regions", "departements", "anciennes_communes", "codes_postaux", "noms", "epci"):
        db.execute(f"DELETE FROM {table}")
    db.execute("DELETE FROM communes_rtree")
    db.execute("DELETE FROM communes")
    db["regions"].insert_all(ref.regions)
    db["departements"].insert_all(ref.departements)
    db["epci"].insert_all(ref.epci)
    rows = []
    boxes = []
    for pk, c in enumerate(ref.communes, start=1):
        row = {k: v for k, v in c.items() if k != "bounds"}
        row["pk"] = pk
        rows.append(row)
        if c["bounds"]:
            min_lon, min_lat, max_lon, max_lat = c["bounds"]
            boxes.append((pk, min_lat, max_lat, min_lon, max_lon))
    db["communes"].insert_all(rows, batch_size=500)
    db.conn.executemany("INSERT INTO communes_rtree VALUES (?, ?, ?, ?, ?)", boxes)
    db["anciennes_communes"].insert_all(ref.anciennes, ignore=True)
    db["codes_postaux"].insert_all(ref.codes_postaux, ignore=True)
    db["noms"].insert_all(ref.noms, batch_size=2000)
    db["meta"].upsert({"key": "reference_checksum", "value": ref.checksum}, pk="key")


def reference_checksum(db: sqlite_utils.Database | sqlite3.Connection) -> str | None:
    """Return the checksum of the reference data the store was built from, if any."""
    row = db.execute("SELECT value FROM meta WHERE key = 'reference_checksum'").fetchone()
    return row[0] if row else None


def get(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return the current commune or arrondissement with this INSEE code, or None."""
    row = conn.execute(f"SELECT {_PUBLIC} FROM communes WHERE code = ?", (code,)).fetchone()
    return dict(row) if row else None


def rows_of_departement_of(conn: sqlite3.Connection, code: str) -> list[tuple]:
    """Return the rows (columns of PUBLIC_FIELDS) of every commune and arrondissement of the same
    département as the commune with this INSEE code; empty when the code is unknown."""
    return [
        tuple(r)
        for r in conn.execute(
            f"SELECT {_PUBLIC} FROM communes "
            "WHERE departement = (SELECT departement FROM communes WHERE code = ?)",
            (code,),
        )
    ]


def postcodes_of_departement(conn: sqlite3.Connection, departement: str) -> dict[str, list[str]]:
    """Return code → sorted postcodes of every commune and arrondissement of a département (empty list
    for one without postcode)."""
    found: dict[str, list[str]] = {}
    rows = conn.execute(
        "SELECT c.code, p.code_postal FROM communes c LEFT JOIN codes_postaux p ON p.code_insee = c.code "
        "WHERE c.departement = ? ORDER BY c.code, p.code_postal",
        (departement,),
    )
    for code, cp in rows:
        cps = found.setdefault(code, [])
        if cp is not None:
            cps.append(cp)
    return found


def get_many(conn: sqlite3.Connection, codes: list[str]) -> list[dict[str, Any]]:
    """Return the communes with these codes, in the order given (unknown codes skipped)."""
    if not codes:
        return []
    marks = ",".join("?" * len(codes))
    rows = conn.execute(f"SELECT {_PUBLIC} FROM communes WHERE code IN ({marks})", codes)
    found = {r["code"]: dict(r) for r in rows}
    return [found[c] for c in codes if c in found]


def contour(conn: sqlite3.Connection, code: str) -> bytes | None:
    """Return the exact contour of a commune as WKB, or None."""
    row = conn.execute("SELECT contour FROM communes WHERE code = ?", (code,)).fetchone()
    return row[0] if row else None


def contours_of(conn: sqlite3.Connection, codes: Sequence[str]) -> dict[str, bytes | None]:
    """Return code → contour WKB (None when it has none) of these communes, a few queries for many codes."""
    codes = list(dict.fromkeys(codes))
    out: dict[str, bytes | None] = {}
    for start in range(0, len(codes), 500):  # under SQLite's bound on query parameters
        part = codes[start : start + 500]
        sql = f"SELECT code, contour FROM communes WHERE code IN ({','.join('?' * len(part))})"
        out.update((r[0], r[1]) for r in conn.execute(sql, part))
    return out


def boxes(conn: sqlite3.Connection) -> list[tuple[str, bool, float, float, float, float]]:
    """Return (code, is an arrondissement, min_lat, max_lat, min_lon, max_lon) of every commune's box."""
    rows = conn.execute(
        "SELECT c.code, c.type <> 'COM', r.min_lat, r.max_lat, r.min_lon, r.max_lon FROM communes_rtree r "
        "JOIN communes c ON c.pk = r.pk ORDER BY c.pk"
    )
    return [tuple(r) for r in rows]


def contours_all(conn: sqlite3.Connection) -> list[tuple[str, bool, bytes]]:
    """Return (code, is an arrondissement, contour WKB) of every commune `boxes` gives, in its order."""
    rows = conn.execute(
        "SELECT c.code, c.type <> 'COM', c.contour FROM communes_rtree r JOIN communes c ON c.pk = r.pk "
        "WHERE c.contour IS NOT NULL ORDER BY c.pk"
    )
    return [tuple(r) for r in rows]


def contours_in_box(
    conn: sqlite3.Connection, box: tuple[float, float, float, float]
) -> list[tuple[str, bytes]]:
    """Return (code, contour WKB) of the communes whose box meets (min_lat, max_lat, min_lon, max_lon)."""
    rows = conn.execute(
        "SELECT c.code, c.contour FROM communes_rtree r JOIN communes c ON c.pk = r.pk "
        "WHERE r.max_lat >= ? AND r.min_lat <= ? AND r.max_lon >= ? AND r.min_lon <= ? "
        "ORDER BY c.type = 'COM'",  # an arrondissement is more precise than its city
        box,
    )
    return [(r[0], r[1]) for r in rows]


def centres_near(
    conn: sqlite3.Connection, min_lat: float, max_lat: float, min_lon: float, max_lon: float
) -> list[tuple[str, float, float]]:
    """Return (code, lat, lon) of the current communes whose centre lies in the box."""
    rows = conn.execute(
        "SELECT code, latitude, longitude FROM communes WHERE type = 'COM' "
        "AND latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ?",
        (min_lat, max_lat, min_lon, max_lon),
    )
    return [(r[0], r[1], r[2]) for r in rows]


def postcodes_of(conn: sqlite3.Connection, code: str) -> list[str]:
    """Return the postcodes of a commune, sorted."""
    rows = conn.execute(
        "SELECT code_postal FROM codes_postaux WHERE code_insee = ? ORDER BY code_postal", (code,)
    )
    return [r[0] for r in rows]


def by_postcode(conn: sqlite3.Connection, postcode: str) -> list[str]:
    """Return the INSEE codes of the communes a postcode serves."""
    rows = conn.execute("SELECT code_insee FROM codes_postaux WHERE code_postal = ?", (postcode,))
    return [r[0] for r in rows]


def anciennes_of(conn: sqlite3.Connection, code: str) -> list[dict[str, Any]]:
    """Return the former communes (déléguées, associées) now part of a commune."""
    rows = conn.execute(
        "SELECT code, nom, type, commune FROM anciennes_communes WHERE commune = ? ORDER BY nom",
        (code,),
    )
    return [dict(r) for r in rows]


def ancienne(conn: sqlite3.Connection, code: str) -> list[dict[str, Any]]:
    """Return the former communes that carried this INSEE code."""
    rows = conn.execute("SELECT code, nom, type, commune FROM anciennes_communes WHERE code = ?", (code,))
    return [dict(r) for r in rows]


def arrondissements_of(conn: sqlite3.Connection, code: str) -> list[dict[str, Any]]:
    """Return the arrondissements of Paris, Lyon or Marseille, in order."""
    rows = conn.execute(f"SELECT {_PUBLIC} FROM communes WHERE commune_parent = ? ORDER BY code", (code,))
    return [dict(r) for r in rows]


def departement(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return a département with its région name, or None."""
    row = conn.execute(
        "SELECT d.code, d.nom, d.region, r.nom AS region_nom FROM departements d "
        "JOIN regions r ON r.code = d.region WHERE d.code = ?",
        (code,),
    ).fetchone()
    return dict(row) if row else None


def departements(conn: sqlite3.Connection, region: str | None = None) -> list[dict[str, Any]]:
    """Return the départements (of one région, when given), by code."""
    sql = "SELECT code, nom, region FROM departements"
    args: tuple = ()
    if region:
        sql += " WHERE region = ?"
        args = (region,)
    return [dict(r) for r in conn.execute(sql + " ORDER BY code", args)]


def region_name(conn: sqlite3.Connection, code: str) -> str | None:
    """Return the name of a région."""
    row = conn.execute("SELECT nom FROM regions WHERE code = ?", (code,)).fetchone()
    return row[0] if row else None


def communes_of_departement(conn: sqlite3.Connection, code: str) -> list[dict[str, Any]]:
    """Return the current communes of a département, by name."""
    rows = conn.execute(
        f"SELECT {_PUBLIC} FROM communes WHERE departement = ? AND type = 'COM' ORDER BY nom",
        (code,),
    )
    return [dict(r) for r in rows]


def all_names(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    """Return every (cle, kind, code, nom) of the name index, for the in-memory search."""
    return [tuple(r) for r in conn.execute("SELECT cle, kind, code, nom FROM noms")]


def ranking(conn: sqlite3.Connection) -> dict[str, tuple[str, int]]:
    """Return code → (région, population) of every current commune and arrondissement."""
    rows = conn.execute("SELECT code, region, COALESCE(population, 0) FROM communes")
    return {r[0]: (r[1], r[2]) for r in rows}
