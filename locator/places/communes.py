"""Communes as places: a commune by code (former codes too), its details, the commune at a point."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..geo import geometry, names
from ..geo.distance import bbox_around
from ..store import communes as store_communes


def commune_centre(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return a current commune by code, or the current commune of a former commune's code (light)."""
    commune = store_communes.get(conn, code)
    if commune is None:
        olds = store_communes.ancienne(conn, code)
        if olds:
            commune = store_communes.get(conn, olds[0]["commune"])
    return commune


def commune_info(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return a current commune (or arrondissement) with postcodes, names of its areas, former communes.

    A former commune's code (déléguée / associée) gives its current commune, with `ancienne` set.
    """
    commune = store_communes.get(conn, code)
    ancienne = None
    if commune is None:
        olds = store_communes.ancienne(conn, code)
        if not olds:
            return None
        ancienne = olds[0]
        commune = store_communes.get(conn, ancienne["commune"])
        if commune is None:
            return None
    info = dict(commune)
    info["codes_postaux"] = store_communes.postcodes_of(conn, commune["code"])
    dep = store_communes.departement(conn, commune["departement"])
    info["departement_nom"] = dep["nom"] if dep else None
    info["region_nom"] = dep["region_nom"] if dep else None
    info["anciennes_communes"] = [
        {"code": o["code"], "nom": o["nom"], "type": o["type"]}
        for o in store_communes.anciennes_of(conn, commune["code"])
        if o["nom"] != commune["nom"]
    ]
    if ancienne is not None:
        note = names.former_note(ancienne["nom"], ancienne["type"], commune["nom"])
        info["ancienne"] = {**ancienne, "note": note}
    return info


def commune_at(conn: sqlite3.Connection, lat: float, lon: float) -> dict[str, Any] | None:
    """Return the commune (arrondissement in Paris, Lyon, Marseille) whose contour holds the point.

    Contours are generalised, so a point a few hundred metres outside every contour (a border, a
    shore) gets the closest commune within 2 km, with `approximatif` set.
    """
    for code, wkb in store_communes.contours_in_box(conn, (lat, lat, lon, lon)):
        if wkb is not None and geometry.contains(wkb, lat, lon):
            return store_communes.get(conn, code)
    best = None
    for code, wkb in store_communes.contours_in_box(conn, bbox_around(lat, lon, 2.0)):
        if wkb is None:
            continue
        d = geometry.distance_to_contour_km(wkb, lat, lon)
        if d <= 2.0 and (best is None or d < best[0]):
            best = (d, code)
    if best is None:
        return None
    commune = store_communes.get(conn, best[1])
    return {**commune, "approximatif": True} if commune else None


def departement_info(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return a département (code, nom, région) by its code, or None."""
    return store_communes.departement(conn, code)


def departements(conn: sqlite3.Connection, region: str | None = None) -> list[dict[str, Any]]:
    """Return the départements (code, nom, région) of one région, or all of them, by code."""
    return store_communes.departements(conn, region)
