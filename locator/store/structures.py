"""Structures in the store: upserts by stable id, and the reads that lookups need."""

from __future__ import annotations

import math
import operator
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .schema import STRUCTURE_FIELDS, STRUCTURE_TYPES

if TYPE_CHECKING:  # sqlite-utils pulls in heavy modules: writers import it, readers do not
    import sqlite_utils

# What the public reads: a parent that is not published (a draft, an archived one) is no parent, so
# that its id never leaves the admin area. One index lookup a row.
_PUBLIC_PARENT = (
    "(SELECT p.id FROM structures p WHERE p.id = s.parent_id AND p.statut = 'publie') AS parent_id"
)
_COLUMNS = (
    ", ".join(_PUBLIC_PARENT if f == "parent_id" else f"s.{f}" for f in STRUCTURE_FIELDS) + ", s.statut"
)


def upsert(db: sqlite_utils.Database, rows: Iterable[dict[str, Any]], now: str) -> tuple[int, int]:
    """Insert or update structures by `id`; return (created, updated) counts. Unchanged rows stay."""
    created = updated = 0
    for row in rows:
        cols = [c for c in row if c not in ("pk", "cree_le", "modifie_le")]
        old = db.execute(f"SELECT {', '.join(cols)} FROM structures WHERE id = ?", (row["id"],)).fetchone()
        if old is None:
            names = cols + ["cree_le", "modifie_le"]
            db.execute(
                f"INSERT INTO structures ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [row[c] for c in cols] + [now, now],
            )
            created += 1
        elif tuple(old) != tuple(row[c] for c in cols):
            sets = ", ".join(f"{c} = ?" for c in cols if c != "id")
            db.execute(
                f"UPDATE structures SET {sets}, modifie_le = ? WHERE id = ?",
                [row[c] for c in cols if c != "id"] + [now, row["id"]],
            )
            updated += 1
    return created, updated


def _type_filter(types: Sequence[str] | None) -> tuple[str, list[str]]:
    if not types:
        return "", []
    return f" AND s.type IN ({','.join('?' * len(types))})", list(types)


def count_by_status(conn: sqlite3.Connection) -> dict[str, int]:
    """Return statut → number of structures."""
    return dict(conn.execute("SELECT statut, COUNT(*) FROM structures GROUP BY statut").fetchall())


def located_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Return type → number of published structures that have a position (the index's content)."""
    rows = conn.execute(
        "SELECT type, COUNT(*) FROM structures WHERE statut = 'publie' AND latitude IS NOT NULL "
        "AND longitude IS NOT NULL GROUP BY type"
    )
    return {r[0]: r[1] for r in rows}


def nearest_by_scan(
    conn: sqlite3.Connection, types: Sequence[str], point: tuple[float, float], earth_radius_km: float
) -> list[tuple[float, int]]:
    """Return (distance_km, pk) of every published, located structure of these types, nearest first.

    For rare types: their rows come from the type index, distances from SQLite's math functions.
    """
    phi, lam = math.radians(point[0]), math.radians(point[1])
    args: dict[str, Any] = {"r": earth_radius_km, "phi": phi, "lam": lam, "cos_phi": math.cos(phi)}
    args.update({f"t{i}": t for i, t in enumerate(types)})
    marks = ",".join(f":t{i}" for i in range(len(types)))
    distance = (
        "2 * :r * asin(min(1.0, sqrt(pow(sin((radians(latitude) - :phi) / 2), 2) + "
        ":cos_phi * cos(radians(latitude)) * pow(sin((radians(longitude) - :lam) / 2), 2))))"
    )
    return conn.execute(
        f"SELECT {distance} AS d, pk FROM structures WHERE type IN ({marks}) AND statut = 'publie' "
        "AND latitude IS NOT NULL AND longitude IS NOT NULL ORDER BY d",
        args,
    ).fetchall()


def by_pks(conn: sqlite3.Connection, pks: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Return pk → structure for these internal keys."""
    if not pks:
        return {}
    rows = conn.execute(
        f"SELECT {_COLUMNS}, s.pk FROM structures s WHERE s.pk IN ({','.join('?' * len(pks))})",
        list(pks),
    )
    return {r[-1]: _public(r) for r in rows}


_NAMES = (*STRUCTURE_FIELDS, "statut")


_COMPOUND_MAX = 200


def first_at(
    conn: sqlite3.Connection, positions: Sequence[tuple[float, float, str]], limit: int
) -> list[dict[str, Any]]:
    """Return the first `limit` published structures (by id) at each (latitude, longitude, type).

    One statement for every position (each part walks the position index in id order) that reads
    the rows themselves, so that no second query fetches them by key.
    """
    if not positions:
        return []
    part = (
        f"SELECT * FROM (SELECT {_COLUMNS} FROM structures s WHERE s.latitude = ? AND s.longitude = ? "
        "AND s.type = ? AND s.statut = 'publie' ORDER BY s.id LIMIT ?)"
    )
    out: list[dict[str, Any]] = []
    for start in range(0, len(positions), _COMPOUND_MAX):  # SQLite joins at most 500 SELECTs in one
        chunk = positions[start : start + _COMPOUND_MAX]
        args = [x for lat, lon, type_ in chunk for x in (lat, lon, type_, limit)]
        out += [_public(r) for r in conn.execute(" UNION ALL ".join([part] * len(chunk)), args)]
    return out


def _public(row: sqlite3.Row) -> dict[str, Any]:
    """Map a row selected as `_COLUMNS` (extra trailing columns ignored) to a dict."""
    return dict(zip(_NAMES, row, strict=False))


def get(conn: sqlite3.Connection, structure_id: str) -> dict[str, Any] | None:
    """Return one structure by its public id (whatever its status; its parent only if published), or None."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM structures s WHERE s.id = ?", (structure_id,)).fetchone()
    return _public(row) if row else None


def get_many(conn: sqlite3.Connection, ids: Sequence[str]) -> list[dict[str, Any]]:
    """Return the published structures with these ids, in the order given."""
    if not ids:
        return []
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM structures s WHERE s.statut = 'publie' "
        f"AND s.id IN ({','.join('?' * len(ids))})",
        list(ids),
    )
    found = {r["id"]: _public(r) for r in rows}
    return [found[i] for i in ids if i in found]


def published(
    conn: sqlite3.Connection,
    types: Sequence[str] | None = None,
    departement: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Return published structures (optionally of some types / one département), by type then name."""
    type_sql, args = _type_filter(types)
    sql = f"SELECT {_COLUMNS} FROM structures s WHERE s.statut = 'publie'{type_sql}"
    if departement:
        sql += " AND s.departement = ?"
        args.append(departement)
    sql += " ORDER BY s.type, s.nom, s.id"
    if limit:
        sql += " LIMIT ?"
        args.append(limit)
    return [_public(r) for r in conn.execute(sql, args)]


def search_names(
    conn: sqlite3.Connection, words: Sequence[str], types: Sequence[str] | None, limit: int
) -> list[dict[str, Any]]:
    """Return published structures whose name or commune holds every word (case-insensitive)."""
    type_sql, args = _type_filter(types)
    sql = f"SELECT {_COLUMNS} FROM structures s WHERE s.statut = 'publie'{type_sql}"
    for word in words:
        sql += " AND (s.nom LIKE ? ESCAPE '\\' OR s.commune LIKE ? ESCAPE '\\')"
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [like, like]
    sql += " ORDER BY s.type, s.nom LIMIT ?"
    args.append(limit)
    return [_public(r) for r in conn.execute(sql, args)]


def children(conn: sqlite3.Connection, parent_id: str) -> list[dict[str, Any]]:
    """Return the published reception points attached to a structure."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM structures s WHERE s.statut = 'publie' AND s.parent_id = ? ORDER BY s.nom",
        (parent_id,),
    )
    return [_public(r) for r in rows]


def children_of(conn: sqlite3.Connection, parent_id: str) -> list[tuple[str, str]]:
    """Return (id, nom) of every structure (any status) attached to this one."""
    rows = conn.execute("SELECT id, nom FROM structures WHERE parent_id = ? ORDER BY id", (parent_id,))
    return [(r[0], r[1]) for r in rows]


def parent_of(conn: sqlite3.Connection, structure_id: str) -> str | None:
    """Return the stored parent id of a structure (None: none, or no such structure)."""
    row = conn.execute("SELECT parent_id FROM structures WHERE id = ?", (structure_id,)).fetchone()
    return row[0] if row else None


def children_with_types(conn: sqlite3.Connection, parent_id: str) -> list[tuple[str, str, str]]:
    """Return (id, nom, type) of every structure (any status) attached to this one."""
    rows = conn.execute("SELECT id, nom, type FROM structures WHERE parent_id = ? ORDER BY id", (parent_id,))
    return [(r[0], r[1], r[2]) for r in rows]


def covering(conn: sqlite3.Connection, codes: Sequence[str], types: Sequence[str]) -> list[dict[str, Any]]:
    """Return the published structures of these types whose coverage lists one of the communes."""
    marks = ",".join("?" * len(codes))
    type_marks = ",".join("?" * len(types))
    rows = conn.execute(
        f"SELECT DISTINCT {_COLUMNS} FROM couverture c JOIN structures s ON s.id = c.structure_id "
        f"WHERE c.code_insee IN ({marks}) AND s.type IN ({type_marks}) AND s.statut = 'publie' "
        "ORDER BY s.nom",
        [*codes, *types],
    )
    return [_public(r) for r in rows]


def coverage_size(conn: sqlite3.Connection) -> int:
    """Return how many (commune, structure) coverage pairs the store holds."""
    return conn.execute("SELECT COUNT(*) FROM couverture").fetchone()[0]


# Every stored column but the internal key: what history keeps, so that a change can be undone exactly.
STORED_COLUMNS = (*STRUCTURE_FIELDS, "statut", "cree_le", "modifie_le", "origine")
_STORED = ", ".join(STORED_COLUMNS)
_STORED_VALUES = operator.itemgetter(*STORED_COLUMNS)


def get_stored(conn: sqlite3.Connection, structure_id: str) -> dict[str, Any] | None:
    """Return every stored column of one structure (for history and comparisons), or None."""
    row = conn.execute(f"SELECT {_STORED} FROM structures WHERE id = ?", (structure_id,)).fetchone()
    return dict(zip(STORED_COLUMNS, tuple(row), strict=True)) if row else None


def insert(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Insert one structure; `row` holds stored columns (missing ones are NULL)."""
    cols = [c for c in STORED_COLUMNS if c in row]
    db.execute(
        f"INSERT INTO structures ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


def insert_many(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> None:
    """Insert structures in one statement; every row holds every stored column."""
    db.conn.executemany(
        f"INSERT INTO structures ({_STORED}) VALUES ({', '.join('?' * len(STORED_COLUMNS))})",
        map(_STORED_VALUES, rows),
    )


def update(db: sqlite_utils.Database, structure_id: str, changes: dict[str, Any]) -> None:
    """Set some stored columns of one structure (the id itself never changes)."""
    cols = [c for c in changes if c in STORED_COLUMNS and c != "id"]
    if not cols:
        return
    db.execute(
        f"UPDATE structures SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
        [changes[c] for c in cols] + [structure_id],
    )


def version_of(conn: sqlite3.Connection, structure_id: str) -> int | None:
    """Return the edit counter of a structure (what the admin form sends back), or None."""
    row = conn.execute("SELECT version FROM structures WHERE id = ?", (structure_id,)).fetchone()
    return row[0] if row else None


def update_if_version(
    db: sqlite_utils.Database, structure_id: str, changes: dict[str, Any], version: int
) -> bool:
    """Set stored columns only if the counter is still `version` (one atomic UPDATE); False otherwise."""
    cols = [c for c in changes if c in STORED_COLUMNS and c != "id"]
    sets = ", ".join(f"{c} = ?" for c in [*cols, "version"])
    cur = db.execute(
        f"UPDATE structures SET {sets} WHERE id = ? AND version = ?",
        [changes[c] for c in cols] + [version + 1, structure_id, version],
    )
    return cur.rowcount == 1


def highest_version(conn: sqlite3.Connection) -> int:
    """Return the highest edit counter the store ever gave: of a structure, or of a deleted one."""
    row = conn.execute(
        "SELECT max(COALESCE((SELECT MAX(version) FROM structures), 0), "
        "COALESCE((SELECT version FROM plancher_version WHERE id = 1), 0))"
    ).fetchone()
    return row[0]


def lift_versions(db: sqlite_utils.Database, above: int) -> None:
    """Move every edit counter (and the floor of new ones) above `above`, keeping their order.

    After a backup is restored: a form opened on the replaced store carries a counter up to `above`,
    and must conflict with every structure the backup brings back, or creates again later.
    """
    step = above + 1
    with db.atomic():
        db.execute("UPDATE structures SET version = version + ?", (step,))
        db.execute(
            "INSERT INTO plancher_version (id, version) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET version = version + excluded.version",
            (step,),
        )


def delete(db: sqlite_utils.Database, structure_id: str) -> None:
    """Delete one structure, its external identifiers and its coverage."""
    db.execute("DELETE FROM structures WHERE id = ?", (structure_id,))
    db.execute("DELETE FROM structure_refs WHERE structure_id = ?", (structure_id,))
    db.execute("DELETE FROM couverture WHERE structure_id = ?", (structure_id,))


def put_stored(db: sqlite_utils.Database, structure_id: str, row: dict[str, Any] | None) -> None:
    """Make the stored structure exactly `row` (None: absent) — what undoing a change needs."""
    if row is None:
        db.execute("DELETE FROM structures WHERE id = ?", (structure_id,))
    elif get_stored(db.conn, structure_id) is None:
        insert(db, row)
    else:
        update(db, structure_id, row)


def in_commune(conn: sqlite3.Connection, code_insee: str, types: Sequence[str]) -> list[dict[str, Any]]:
    """Return every structure (any status) of these types in one commune: candidates for matching."""
    rows = conn.execute(
        f"SELECT {_STORED} FROM structures WHERE code_insee = ? AND type IN ({','.join('?' * len(types))})",
        [code_insee, *types],
    )
    return [dict(zip(STORED_COLUMNS, tuple(r), strict=True)) for r in rows]


def stored_in_box(
    conn: sqlite3.Connection, box: tuple[float, float, float, float], types: Sequence[str]
) -> list[dict[str, Any]]:
    """Return published and draft structures of these types in (min_lat, max_lat, min_lon, max_lon)."""
    cols = ", ".join(f"s.{c}" for c in STORED_COLUMNS)
    marks = ",".join("?" * len(types))
    # CROSS JOIN keeps the R*Tree first: otherwise SQLite may walk every structure of the type.
    published = conn.execute(
        f"SELECT {cols} FROM structures_rtree r CROSS JOIN structures s ON s.pk = r.pk "
        "WHERE r.max_lat >= ? AND r.min_lat <= ? AND r.max_lon >= ? AND r.min_lon <= ? "
        f"AND r.type IN ({marks})",
        [*box, *types],
    )
    # Drafts are not in the index (it serves the public): few, found through the type index.
    drafts = conn.execute(
        f"SELECT {cols} FROM structures s WHERE s.type IN ({marks}) AND s.statut = 'brouillon' "
        "AND s.latitude BETWEEN ? AND ? AND s.longitude BETWEEN ? AND ?",
        [*types, *box],
    )
    return [dict(zip(STORED_COLUMNS, tuple(r), strict=True)) for rows in (published, drafts) for r in rows]


def max_pk(conn: sqlite3.Connection) -> int:
    """Return the largest internal key: rows above it were written later (by the running import)."""
    return conn.execute("SELECT COALESCE(MAX(pk), 0) FROM structures").fetchone()[0]


def names_in_commune(conn: sqlite3.Connection, code_insee: str, max_pk: int) -> list[tuple[str, str, str]]:
    """Return (id, nom, type) of every structure (any status) of one commune up to `max_pk`, by pk."""
    rows = conn.execute(
        "SELECT id, nom, type FROM structures WHERE code_insee = ? AND pk <= ? ORDER BY pk",
        (code_insee, max_pk),
    )
    return [(r[0], r[1], r[2]) for r in rows]


def snapshot(conn: sqlite3.Connection, max_pk: int) -> list[tuple[Any, ...]]:
    """Return (id, nom, type, statut, latitude, longitude, code_insee) of every structure up to `max_pk`."""
    rows = conn.execute(
        "SELECT id, nom, type, statut, latitude, longitude, code_insee FROM structures "
        "WHERE pk <= ? ORDER BY pk",
        (max_pk,),
    )
    return [tuple(r) for r in rows]


def located_in_box(
    conn: sqlite3.Connection, box: tuple[float, float, float, float], max_pk: int
) -> list[tuple[str, str, str, str, float, float]]:
    """Return (id, nom, type, statut, latitude, longitude) of published and draft structures in the box.

    Only rows up to `max_pk`; published ones through the R*Tree, drafts through the type index.
    """
    published = conn.execute(
        "SELECT s.id, s.nom, s.type, s.statut, s.latitude, s.longitude FROM structures_rtree r "
        "CROSS JOIN structures s ON s.pk = r.pk "
        "WHERE r.max_lat >= ? AND r.min_lat <= ? AND r.max_lon >= ? AND r.min_lon <= ? AND r.pk <= ?",
        [*box, max_pk],
    ).fetchall()
    marks = ",".join("?" * len(STRUCTURE_TYPES))
    drafts = conn.execute(
        f"SELECT id, nom, type, statut, latitude, longitude FROM structures WHERE type IN ({marks}) "
        "AND statut = 'brouillon' AND latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ? AND pk <= ?",
        [*STRUCTURE_TYPES, *box, max_pk],
    ).fetchall()
    return [tuple(r) for r in published + drafts]


def names_of_types(conn: sqlite3.Connection, types: Sequence[str]) -> list[tuple[str, str, str]]:
    """Return (id, nom, type) of every structure of these types (parents are looked up by name)."""
    rows = conn.execute(
        f"SELECT id, nom, type FROM structures WHERE type IN ({','.join('?' * len(types))}) ORDER BY id",
        list(types),
    )
    return [(r[0], r[1], r[2]) for r in rows]


def by_ref(conn: sqlite3.Connection, espace: str, valeur: str) -> str | None:
    """Return the id of the structure known under this external identifier, or None."""
    row = conn.execute(
        "SELECT structure_id FROM structure_refs WHERE espace = ? AND valeur = ?", (espace, valeur)
    ).fetchone()
    return row[0] if row else None


def refs_of(conn: sqlite3.Connection, structure_id: str) -> list[tuple[str, str]]:
    """Return the (espace, valeur) external identifiers of a structure."""
    rows = conn.execute(
        "SELECT espace, valeur FROM structure_refs WHERE structure_id = ? ORDER BY espace, valeur",
        (structure_id,),
    )
    return [(r[0], r[1]) for r in rows]


def set_ref(db: sqlite_utils.Database, structure_id: str, espace: str, valeur: str) -> None:
    """Record that a structure is known as `valeur` in the directory `espace`."""
    db.execute(
        "INSERT OR REPLACE INTO structure_refs (espace, valeur, structure_id) VALUES (?, ?, ?)",
        (espace, valeur, structure_id),
    )


def all_stored(
    conn: sqlite3.Connection, statuts: Sequence[str] | None = None, published_parents: bool = False
) -> Iterable[dict[str, Any]]:
    """Yield every structure (of these statuses), by type then name — for exports; streamed.

    `published_parents`: a parent that is not published is left out (public exports).
    """
    cols = ", ".join(
        _PUBLIC_PARENT if c == "parent_id" and published_parents else f"s.{c}" for c in STORED_COLUMNS
    )
    sql = f"SELECT {cols} FROM structures s"
    args: list[str] = []
    if statuts:
        sql += f" WHERE s.statut IN ({','.join('?' * len(statuts))})"
        args = list(statuts)
    for r in conn.execute(sql + " ORDER BY s.type, s.nom, s.id", args):
        yield dict(zip(STORED_COLUMNS, tuple(r), strict=True))
