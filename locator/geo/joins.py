"""Points in communes in bulk with GeoPandas, for offline jobs (`locator import`, `locator build`).

A web worker never loads GeoPandas (pandas alone weighs more than the whole app): the admin wizard,
which plans uploads inside a worker, does the same tests with Shapely directly (locator.geo.geometry).
Both end in the same GEOS predicate over the same STRtree, so they answer alike (a test compares them);
GeoPandas is the stack the people we build for chose for bulk geography.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CRS = "EPSG:4326"


def communes_frame(rows: Sequence[tuple[str, bool, bytes]]) -> Any:
    """Return a GeoDataFrame of communes from (code, is an arrondissement, contour WKB), in that order,
    its spatial index built."""
    import geopandas

    frame = geopandas.GeoDataFrame(
        {"code": [r[0] for r in rows], "arrondissement": [bool(r[1]) for r in rows]},
        geometry=geopandas.GeoSeries.from_wkb([r[2] for r in rows], crs=CRS),
    )
    frame.sindex  # noqa: B018 — built once here, not on the first chunk's join
    return frame


def _points(lats: Sequence[float], lons: Sequence[float]) -> Any:
    import geopandas

    return geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lons, lats, crs=CRS))


def points_in(frame: Any, lats: Sequence[float], lons: Sequence[float]) -> tuple[list[int], list[int]]:
    """Return (point indexes, frame row positions) of every point lying in (or on) a commune of the
    frame, in one spatial join."""
    import geopandas

    if not lats:
        return [], []
    joined = geopandas.sjoin(_points(lats, lons), frame[["geometry"]], how="inner", predicate="intersects")
    rows = frame.index.get_indexer(joined["index_right"])
    return joined.index.tolist(), rows.tolist()


def shapes(wkbs: Sequence[bytes | None]) -> list[Any]:
    """Decode contours (WKB, None for none) into Shapely geometries, in one vectorised call."""
    import geopandas

    return list(geopandas.GeoSeries.from_wkb(list(wkbs), crs=CRS).array)


def inside(contours: Sequence[Any], lats: Sequence[float], lons: Sequence[float]) -> list[bool]:
    """For each i, tell whether contour i (a Shapely geometry; None: no contour, False) contains or
    touches point i, in one element-wise test."""
    import geopandas

    if not contours:
        return []
    given = geopandas.GeoSeries(list(contours), crs=CRS)
    return _points(lats, lons).geometry.intersects(given, align=False).fillna(False).tolist()
