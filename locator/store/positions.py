"""The positions index: one R*Tree entry per distinct (point, type) of published structures, with a count.

Piles (hundreds of structures on one town hall, what the offline geocoder makes of address-only rows)
cost one index entry, so `nearest` walks positions by distance and takes the structures of each one
in id order. Triggers on `structures` keep it exact whatever writes (build, import, edit, undo, rollback).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

# Schema step "positions" (version 5): independent of any other step; `create` adds and fills it.
DDL = """
CREATE TABLE IF NOT EXISTS positions (
    pk INTEGER PRIMARY KEY,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    type TEXT NOT NULL,
    n INTEGER NOT NULL,
    UNIQUE (latitude, longitude, type)
);
CREATE VIRTUAL TABLE IF NOT EXISTS positions_rtree USING rtree(
    pk, min_lat, max_lat, min_lon, max_lon, +type, +n
);
CREATE INDEX IF NOT EXISTS structures_position ON structures(latitude, longitude, type, statut, id);
CREATE TRIGGER IF NOT EXISTS positions_rtree_insert AFTER INSERT ON positions
BEGIN
    INSERT INTO positions_rtree VALUES (
        new.pk, new.latitude, new.latitude, new.longitude, new.longitude, new.type, new.n
    );
END;
CREATE TRIGGER IF NOT EXISTS positions_rtree_count AFTER UPDATE OF n ON positions
BEGIN
    UPDATE positions_rtree SET n = new.n WHERE pk = new.pk;
END;
CREATE TRIGGER IF NOT EXISTS positions_rtree_delete AFTER DELETE ON positions
BEGIN
    DELETE FROM positions_rtree WHERE pk = old.pk;
END;
CREATE TRIGGER IF NOT EXISTS structures_positions_insert AFTER INSERT ON structures
WHEN new.latitude IS NOT NULL AND new.longitude IS NOT NULL AND new.statut = 'publie'
BEGIN
    INSERT INTO positions (latitude, longitude, type, n) VALUES (new.latitude, new.longitude, new.type, 1)
        ON CONFLICT (latitude, longitude, type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS structures_positions_update
AFTER UPDATE OF latitude, longitude, statut, type ON structures
WHEN (old.latitude IS NOT new.latitude OR old.longitude IS NOT new.longitude
      OR old.statut IS NOT new.statut OR old.type IS NOT new.type)
BEGIN
    UPDATE positions SET n = n - 1
        WHERE old.statut = 'publie' AND latitude = old.latitude AND longitude = old.longitude
        AND type = old.type;
    DELETE FROM positions WHERE n <= 0 AND latitude = old.latitude AND longitude = old.longitude
        AND type = old.type;
    INSERT INTO positions (latitude, longitude, type, n)
        SELECT new.latitude, new.longitude, new.type, 1
        WHERE new.latitude IS NOT NULL AND new.longitude IS NOT NULL AND new.statut = 'publie'
        ON CONFLICT (latitude, longitude, type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS structures_positions_delete AFTER DELETE ON structures
WHEN old.latitude IS NOT NULL AND old.longitude IS NOT NULL AND old.statut = 'publie'
BEGIN
    UPDATE positions SET n = n - 1
        WHERE latitude = old.latitude AND longitude = old.longitude AND type = old.type;
    DELETE FROM positions WHERE n <= 0 AND latitude = old.latitude AND longitude = old.longitude
        AND type = old.type;
END;
"""


def create(db: sqlite_utils.Database) -> None:
    """Create the positions index; fill it from the structures when it is new (a migrated store)."""
    new = "positions" not in db.table_names()
    db.conn.executescript(DDL)
    if new:
        with db.conn:
            db.execute(
                "INSERT INTO positions (latitude, longitude, type, n) SELECT latitude, longitude, type, "
                "COUNT(*) FROM structures WHERE latitude IS NOT NULL AND longitude IS NOT NULL "
                "AND statut = 'publie' GROUP BY latitude, longitude, type"
            )


# Great-circle distance (km) from the point (:phi, :lam in radians, :cos_phi = cos(:phi)) to the
# centre of an index box, computed by SQLite's math functions so that only the nearest rows reach Python.
_HAVERSINE_SQL = (
    "2 * :r * asin(min(1.0, sqrt("
    "pow(sin((radians((min_lat + max_lat) / 2) - :phi) / 2), 2) + "
    ":cos_phi * cos(radians((min_lat + max_lat) / 2)) * "
    "pow(sin((radians((min_lon + max_lon) / 2) - :lam) / 2), 2))))"
)


def nearest_in_box(
    conn: sqlite3.Connection,
    box: tuple[float, float, float, float],
    types: Sequence[str] | None,
    point: tuple[float, float],
    earth_radius_km: float,
    fetch: int,
) -> list[tuple[float, int, float, float, str]]:
    """Return up to `fetch` (distance_km, count, latitude, longitude, type) positions in the box, by distance.

    The box is (min_lat, max_lat, min_lon, max_lon). Distances use the index's float32 boxes: within
    a metre or so of the exact ones; latitude and longitude are the exact stored ones.
    """
    phi, lam = math.radians(point[0]), math.radians(point[1])
    args: dict[str, Any] = {
        "r": earth_radius_km,
        "phi": phi,
        "lam": lam,
        "cos_phi": math.cos(phi),
        "s": box[0],
        "n": box[1],
        "w": box[2],
        "e": box[3],
        "fetch": fetch,
    }
    type_sql = ""
    if types:
        type_sql = f" AND type IN ({','.join(f':t{i}' for i in range(len(types)))})"
        args.update({f"t{i}": t for i, t in enumerate(types)})
    # The R*Tree's auxiliary columns cost a lookup per row in the box: only the type filter reads one;
    # the count comes with the `fetch` nearest from the positions table.
    return conn.execute(
        "SELECT r.d, p.n, p.latitude, p.longitude, p.type FROM ("
        f"SELECT {_HAVERSINE_SQL} AS d, pk FROM positions_rtree "
        f"WHERE max_lat >= :s AND min_lat <= :n AND max_lon >= :w AND min_lon <= :e{type_sql} "
        "ORDER BY d LIMIT :fetch) r JOIN positions p ON p.pk = r.pk ORDER BY r.d",
        args,
    ).fetchall()


# The triggers run for each inserted structure: the two that index it (the R*Tree of structures, the
# positions index) and the one that starts its counter above those of deleted structures. A big import
# drops them inside its transaction and does their work in three statements at the end: a row at a
# time, the indexing costs about 100 µs of R*Tree work per row and the counter 16 µs; in bulk, a
# fraction of that.
_INSERT_TRIGGERS = ("structures_rtree_insert", "structures_positions_insert", "structures_version_created")


def defer_insert_indexing(db: sqlite_utils.Database) -> tuple[int, list[str]]:
    """Stop indexing and numbering inserted structures one by one, inside the caller's transaction.

    Return (largest pk so far, the triggers' definitions) for `index_inserted`, which must run in the
    same transaction, before anything reads the indexes for the new rows; until then the rows
    inserted must not be updated nor deleted (their index entries do not exist yet). A rollback
    restores the triggers with everything else.
    """
    marks = ",".join("?" * len(_INSERT_TRIGGERS))
    triggers = [
        r[0]
        for r in db.execute(
            f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks}) ORDER BY name",
            _INSERT_TRIGGERS,
        )
    ]
    since = db.execute("SELECT COALESCE(MAX(pk), 0) FROM structures").fetchone()[0]
    for name in _INSERT_TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    return since, triggers


def index_inserted(db: sqlite_utils.Database, since: int, triggers: Sequence[str]) -> None:
    """Index and number the structures inserted after `since` as the dropped triggers would have, then
    restore them."""
    located = "latitude IS NOT NULL AND longitude IS NOT NULL AND statut = 'publie'"
    db.execute(
        "INSERT INTO structures_rtree SELECT pk, latitude, latitude, longitude, longitude, type "
        f"FROM structures WHERE pk > ? AND {located} ORDER BY pk",
        (since,),
    )
    db.execute(
        "INSERT INTO positions (latitude, longitude, type, n) SELECT latitude, longitude, type, COUNT(*) "
        f"FROM structures WHERE pk > ? AND {located} GROUP BY latitude, longitude, type "
        "ON CONFLICT (latitude, longitude, type) DO UPDATE SET n = n + excluded.n",
        (since,),
    )
    # structures_version_created's rule (store.schema), for all the new rows at once.
    db.execute(
        "UPDATE structures SET version = (SELECT version + 1 FROM plancher_version WHERE id = 1) "
        "WHERE pk > ? AND version <= (SELECT version FROM plancher_version WHERE id = 1)",
        (since,),
    )
    for sql in triggers:
        db.execute(sql)
