"""Store rows → API dictionaries and GeoJSON, with the French field names of the contract."""

from __future__ import annotations

from typing import Any

from ..store.schema import STRUCTURE_FIELDS

COMMUNE_FIELDS = (
    "code",
    "nom",
    "type",
    "commune_parent",
    "departement",
    "departement_nom",
    "region",
    "region_nom",
    "codes_postaux",
    "latitude",
    "longitude",
    "centre",
    "population",
)


def structure(s: dict[str, Any], distance_km: float | None = None) -> dict[str, Any]:
    """Return the public fields of a structure, with its distance (km, 3 decimals) when given."""
    out = {f: s.get(f) for f in STRUCTURE_FIELDS}
    if distance_km is not None:
        out["distance_km"] = round(distance_km, 3)
    return out


def commune(c: dict[str, Any]) -> dict[str, Any]:
    """Return the public fields of a commune (with whatever extra keys the lookup added)."""
    out = {f: c.get(f) for f in COMMUNE_FIELDS if f in c}
    for extra in ("anciennes_communes", "ancienne", "approximatif", "match", "note"):
        if c.get(extra) is not None:
            out[extra] = c[extra]
    return out


def feature(s: dict[str, Any], distance_km: float | None = None) -> dict[str, Any]:
    """Return a structure as a GeoJSON Feature: a Point [lon, lat] whose properties are its fields."""
    return {
        "type": "Feature",
        "id": s["id"],
        "geometry": {"type": "Point", "coordinates": [s["longitude"], s["latitude"]]},
        "properties": structure(s, distance_km),
    }


def feature_collection(
    pairs: list[tuple[dict[str, Any], float | None]], attribution: str, licence: str
) -> dict[str, Any]:
    """Return located structures as a FeatureCollection carrying attribution and licence."""
    return {
        "type": "FeatureCollection",
        "features": [feature(s, d) for s, d in pairs if s.get("latitude") is not None],
        "attribution": attribution,
        "licence": licence,
    }
