"""The directory as GeoDataFrames, for analysts and offline jobs (never imported by a web worker).

Every frame is in WGS84, CRS EPSG:4326, with x = longitude and y = latitude (the GeoJSON order):
`frame.geometry.x` is the longitude. GeoPandas, pandas and Shapely are imported inside the functions,
so importing this module costs nothing.

    from locator.publish import frames
    communes = frames.communes("instance/locator.sqlite")
    communes.dissolve("mission_locale").plot()
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..store.schema import STRUCTURE_FIELDS

if TYPE_CHECKING:
    import geopandas

CRS = "EPSG:4326"
Store = str | Path | sqlite3.Connection


@contextmanager
def _reading(db: Store) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the store: the caller's, or one opened (and closed) here."""
    if isinstance(db, sqlite3.Connection):
        yield db
        return
    from ..store.db import connect

    conn = connect(Path(db))
    try:
        yield conn
    finally:
        conn.close()


def structures(db: Store, all_statuses: bool = False) -> geopandas.GeoDataFrame:
    """Return the published structures (every one with `all_statuses`) as Points, index `id`.

    Columns are the API's structure fields plus `statut`; geometry is Point(longitude, latitude) in
    EPSG:4326, empty (None) for a structure without a known position.
    """
    import geopandas
    import shapely

    from ..store import structures as store_structures

    with _reading(db) as conn:
        statuts = None if all_statuses else ("publie",)
        rows = list(store_structures.all_stored(conn, statuts, published_parents=not all_statuses))
    columns = [*STRUCTURE_FIELDS, "statut"]
    data = {c: [r.get(c) for r in rows] for c in columns}
    points = [
        shapely.Point(r["longitude"], r["latitude"])
        if r["latitude"] is not None and r["longitude"] is not None
        else None
        for r in rows
    ]
    frame = geopandas.GeoDataFrame(data, geometry=points, crs=CRS)
    return frame.set_index("id", drop=False).rename_axis(None)


def territories(db: Store, all_statuses: bool = False) -> geopandas.GeoDataFrame:
    """Return each Mission locale's territory as a (Multi)Polygon in EPSG:4326, one row per Mission locale.

    Only published Missions locales, unless `all_statuses`.
    Columns: structure_id, nom, departement, communes, population, par_couverture (communes given by
    an official coverage list), par_territoire_probable (communes inferred); index `structure_id`.
    """
    import geopandas
    import shapely

    published = "" if all_statuses else " WHERE s.statut = 'publie'"
    with _reading(db) as conn:
        cursor = conn.execute(
            "SELECT t.structure_id, s.nom, s.departement, t.communes, t.population, t.par_couverture, "
            "t.par_territoire_probable, t.geometrie FROM territoires t JOIN structures s ON "
            f"s.id = t.structure_id{published} ORDER BY s.departement, s.nom, t.structure_id"
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor]
    shapes = [shapely.from_geojson(r.pop("geometrie")) if r["geometrie"] else None for r in rows]
    columns = ["structure_id", "nom", "departement", "communes", "population", "par_couverture"]
    columns.append("par_territoire_probable")
    frame = geopandas.GeoDataFrame({c: [r[c] for r in rows] for c in columns}, geometry=shapes, crs=CRS)
    return frame.set_index("structure_id", drop=False).rename_axis(None)


def communes(db: Store, region: str | None = "84") -> geopandas.GeoDataFrame:
    """Return the communes of a région (all of France with None) with their contour and Mission locale.

    Geometry: the commune's contour, MultiPolygon in EPSG:4326 (None for the few without one).
    Columns: code (INSEE), nom, type (COM, or ARM for an arrondissement of Paris, Lyon, Marseille),
    commune_parent, departement, region, population, latitude/longitude of its centre, and, for the
    communes of the home région, mission_locale (the competent Mission locale's id), mission_locale_nom
    and methode (couverture: from an official list; territoire_probable: inferred). Index `code`.
    The column is named `type_commune`, not `type`, which GeoDataFrame keeps for geometry types.
    """
    import geopandas
    import shapely

    sql = (
        "SELECT c.code, c.nom, c.type, c.commune_parent, c.departement, c.region, c.population, "
        "c.latitude, c.longitude, k.structure_id, s.nom, k.methode, c.contour FROM communes c "
        "LEFT JOIN competences k ON k.code_insee = c.code LEFT JOIN structures s ON s.id = k.structure_id"
    )
    args: tuple[str, ...] = ()
    if region is not None:
        sql += " WHERE c.region = ?"
        args = (region,)
    with _reading(db) as conn:
        rows = [tuple(r) for r in conn.execute(sql + " ORDER BY c.code", args)]
    columns = (
        "code",
        "nom",
        "type_commune",
        "commune_parent",
        "departement",
        "region",
        "population",
        "latitude",
        "longitude",
        "mission_locale",
        "mission_locale_nom",
        "methode",
    )
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    contours = shapely.from_wkb([r[-1] for r in rows]) if rows else []
    frame = geopandas.GeoDataFrame(data, geometry=list(contours), crs=CRS)
    return frame.set_index("code", drop=False).rename_axis(None)
