"""Contours and points: thin wrappers over Shapely, imported lazily so web workers start light.

Coordinates are WGS84 (EPSG:4326) with x = longitude, y = latitude, as in the INSEE/IGN files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any


def _shapely():
    import shapely  # heavy: only loaded by the code paths that need geometry

    return shapely


@lru_cache(maxsize=512)
def _geometry(wkb: bytes) -> Any:
    """Decode (and keep) a WKB contour; the same communes are asked about again and again."""
    shapely = _shapely()
    geom = shapely.from_wkb(wkb)
    shapely.prepare(geom)
    return geom


def contains(wkb: bytes, lat: float, lon: float) -> bool:
    """Tell whether the WKB (multi)polygon contains or touches the point."""
    shapely = _shapely()
    return bool(shapely.intersects_xy(_geometry(wkb), lon, lat))


def contains_many(wkbs: Sequence[bytes | None], lats: Sequence[float], lons: Sequence[float]) -> list[bool]:
    """For each i, tell whether contour `wkbs[i]` contains or touches point i (False for no contour).

    One vectorised test for the whole list; each distinct contour is decoded once, however many points
    (a pile of rows in one commune) ask about it.
    """
    shapely = _shapely()
    if not wkbs:
        return []
    decoded: dict[bytes, Any] = {}
    for wkb in wkbs:
        if wkb is not None and wkb not in decoded:
            decoded[wkb] = None
    shapes = shapely.from_wkb(list(decoded))
    shapely.prepare(shapes)
    decoded = dict(zip(decoded, shapes, strict=True))
    geoms = [decoded[w] if w is not None else None for w in wkbs]
    return shapely.intersects_xy(geoms, lons, lats).tolist()


class BoxIndex:
    """An STRtree over boxes (min_lat, max_lat, min_lon, max_lon): which boxes hold each of many points."""

    def __init__(self, boxes: Sequence[tuple[float, float, float, float]]):
        shapely = _shapely()
        import numpy as np

        b = np.asarray(boxes, dtype=float).reshape(-1, 4)
        self.tree = shapely.STRtree(shapely.box(b[:, 2], b[:, 0], b[:, 3], b[:, 1]))

    def pairs(self, lats: Sequence[float], lons: Sequence[float]) -> tuple[list[int], list[int]]:
        """Return (point indexes, box indexes) of every point lying in (or on) a box, in one query."""
        shapely = _shapely()
        found = self.tree.query(shapely.points(lons, lats), predicate="intersects")
        return found[0].tolist(), found[1].tolist()


def distance_to_contour_km(wkb: bytes, lat: float, lon: float) -> float:
    """Approximate distance in km from a point to a contour (0 inside); good to a few % locally."""
    shapely = _shapely()
    geom = _geometry(wkb)
    if shapely.intersects_xy(geom, lon, lat):
        return 0.0
    # Scale longitudes by cos(lat) so that degrees are isotropic near the point, then convert.
    k = math.cos(math.radians(lat))
    scaled = shapely.transform(geom, lambda xy: xy * [k, 1.0])
    return shapely.distance(scaled, shapely.Point(lon * k, lat)) * 111.195


def to_geojson(wkb: bytes, decimals: int = 5) -> str:
    """Return a contour as GeoJSON geometry text, coordinates rounded (5 decimals ≈ 1 m)."""
    shapely = _shapely()
    return shapely.to_geojson(shapely.set_precision(_geometry(wkb), 10**-decimals))
