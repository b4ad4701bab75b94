"""Where to write each territory's name on a map: a point inside it, away from the other names.

Computed offline (after every territory refresh), in the pixel plane of one Web Mercator zoom level,
where a label is a box whose size follows from its text. Each name goes to the pole of inaccessibility
(polylabel) of what is left of its territory once the boxes already placed, grown by half its own box,
are cut out: there its box touches none of theirs. The smallest territories are placed first (they
have the least room). A territory too small or too crowded keeps its own pole; the browser then hides
whichever names still collide at the zoom the map is shown at.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# The zoom the boxes are measured at: from there on the map shows every name it can (territoires.js).
REFERENCE_ZOOM = 10
# A label's box in pixels (12 px text, as .territoire-etiquette in css/territoires.css): an average
# character width, the padding and border around the text, the line's height.
CHAR_PX = 6.6
PADDING_PX = 12
HEIGHT_PX = 22
# Pole precision, in pixels of the reference zoom.
TOLERANCE_PX = 1.0


def box_size(text: str) -> tuple[float, float]:
    """Return the (width, height) in pixels of a label showing this text."""
    return len(text) * CHAR_PX + PADDING_PX, float(HEIGHT_PX)


def _scale(zoom: int) -> float:
    """Return pixels per degree of longitude at this zoom (Web Mercator, 256 px tiles)."""
    return 256 * 2**zoom / 360


def to_pixels(lon: float, lat: float, zoom: int = REFERENCE_ZOOM) -> tuple[float, float]:
    """Project a WGS84 point (longitude, latitude) to Web Mercator pixels (y grows northwards)."""
    k = _scale(zoom)
    y = math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))
    return lon * k, y * k


def to_degrees(x: float, y: float, zoom: int = REFERENCE_ZOOM) -> tuple[float, float]:
    """Return the WGS84 (longitude, latitude) of a point of the pixel plane (the inverse of to_pixels)."""
    k = _scale(zoom)
    lat = math.degrees(2 * math.atan(math.exp(math.radians(y / k))) - math.pi / 2)
    return x / k, lat


def _largest(geometry: Any) -> Any:
    """Return the largest polygon of a geometry (None when it has no area)."""
    import shapely

    parts = [g for g in shapely.get_parts(geometry) if g.geom_type == "Polygon" and not g.is_empty]
    return max(parts, key=lambda g: g.area) if parts else None


def place(
    territories: Sequence[tuple[str, str, Any]], zoom: int = REFERENCE_ZOOM
) -> dict[str, tuple[float, float]]:
    """Return id → (latitude, longitude) of each label.

    `territories`: (id, label text, shapely geometry in WGS84 with x = longitude, y = latitude);
    a territory without area gets no label.
    """
    import shapely
    from shapely.ops import polylabel

    planar = []
    for key, text, geometry in territories:
        main = _largest(geometry) if geometry is not None else None
        if main is None:
            continue
        projected = shapely.transform(main, lambda a: _project_array(a, zoom))
        planar.append((key, box_size(text), projected))
    planar.sort(key=lambda t: (t[2].area, t[0]))
    placed = _Placed()
    out: dict[str, tuple[float, float]] = {}
    for key, (w, h), polygon in planar:
        spot = None
        near = placed.grown_near(polygon.bounds, w, h)
        if near is not None:
            near = near[shapely.intersects(near, polygon)]
        if near is not None and len(near):
            free = _largest(polygon.difference(shapely.union_all(near)))
            if free is not None and free.area > 0:
                spot = polylabel(free, tolerance=TOLERANCE_PX)
        if spot is None:
            spot = polylabel(polygon, tolerance=TOLERANCE_PX)
        placed.add(spot.x, spot.y, w, h)
        lon, lat = to_degrees(spot.x, spot.y, zoom)
        out[key] = (lat, lon)
    return out


class _Placed:
    """The label boxes placed so far, filed by grid cell: a territory meets only the boxes around it,
    so placing n names costs about n times the neighbours, not n times all the names before it."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float]] = []  # centre x, y, width, height
        self.cells: dict[tuple[int, int], list[int]] = {}

    def add(self, x: float, y: float, w: float, h: float) -> None:
        """File a box under every cell it covers."""
        index = len(self.boxes)
        self.boxes.append((x, y, w, h))
        for cell in _cells(x - w / 2, y - h / 2, x + w / 2, y + h / 2):
            self.cells.setdefault(cell, []).append(index)

    def grown_near(self, bounds: tuple[float, float, float, float], w: float, h: float) -> Any:
        """Return, as an array of shapely boxes, the placed boxes grown by half a (w, h) box whose
        extent meets these bounds (None when there is none): where a (w, h) box centred would touch them."""
        import numpy as np
        import shapely

        minx, miny, maxx, maxy = bounds[0] - w / 2, bounds[1] - h / 2, bounds[2] + w / 2, bounds[3] + h / 2
        found = {i for cell in _cells(minx, miny, maxx, maxy) for i in self.cells.get(cell, ())}
        if not found:
            return None
        x, y, pw, ph = np.array([self.boxes[i] for i in sorted(found)]).T
        half_w, half_h = (pw + w) / 2, (ph + h) / 2
        keep = (x - half_w < bounds[2]) & (x + half_w > bounds[0]) & (y - half_h < bounds[3])
        keep &= y + half_h > bounds[1]
        if not keep.any():
            return None
        return shapely.box((x - half_w)[keep], (y - half_h)[keep], (x + half_w)[keep], (y + half_h)[keep])


# Side of a grid cell in pixels: a few label widths, so a box sits in one to four cells.
CELL_PX = 256.0


def _cells(minx: float, miny: float, maxx: float, maxy: float) -> list[tuple[int, int]]:
    """Return the grid cells an extent covers."""
    x0, x1 = math.floor(minx / CELL_PX), math.floor(maxx / CELL_PX)
    y0, y1 = math.floor(miny / CELL_PX), math.floor(maxy / CELL_PX)
    return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]


def _project_array(coords: Any, zoom: int) -> Any:
    """Project an (n, 2) array of (longitude, latitude) to pixels (what shapely.transform calls)."""
    import numpy as np

    k = _scale(zoom)
    lat = np.radians(coords[:, 1])
    y = np.degrees(np.log(np.tan(np.pi / 4 + lat / 2)))
    return np.column_stack([coords[:, 0] * k, y * k])


def overlaps(boxes: Sequence[tuple[float, float, float, float]]) -> list[tuple[int, int]]:
    """Return the pairs (i, j), i < j, of boxes (centre x, centre y, width, height) that overlap."""
    # Sweep along x: a box meets only those whose left edge comes before its right edge.
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][0] - boxes[i][2] / 2)
    active: list[int] = []
    pairs = []
    for i in order:
        x1, y1, w1, h1 = boxes[i]
        active = [j for j in active if boxes[j][0] + boxes[j][2] / 2 > x1 - w1 / 2]
        for j in active:
            x2, y2, w2, h2 = boxes[j]
            if abs(x1 - x2) < (w1 + w2) / 2 and abs(y1 - y2) < (h1 + h2) / 2:
                pairs.append((min(i, j), max(i, j)))
        active.append(i)
    return sorted(pairs)
