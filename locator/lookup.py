"""Lookups over the store, usable without Flask: nearest, competent, by département, point → commune.

Every function takes the store connection explicitly. Points are (latitude, longitude) in WGS84
degrees; distances are great-circle kilometres (haversine, R = 6371.0088 km).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import Any

from .geo import names
from .geo.distance import EARTH_RADIUS_KM, MAX_DISTANCE_KM, bbox_around, haversine_km
from .places.communes import commune_at, commune_centre, commune_info, departement_info
from .places.resolve import resolve
from .store import db as store_db
from .store import positions as store_positions
from .store import structures as store_structures

__all__ = [
    "resolve",
    "nearest",
    "competent",
    "in_departement",
    "commune_at",
    "commune_info",
    "commune_centre",
    "departement_info",
    "two_level",
]

RECEPTION_TYPES = ("mission_locale", "antenne_mission_locale")
# What the two-level answer lists after the Mission locale and its reception point.
OTHER_TYPES = ("cio", "psad", "mlds", "e2c", "epide", "dispositif")

# (connection, types, limit) → typical distance of the last neighbour, in km. It only steers the first
# search radius (a stale or wrong value costs one more index query, never a wrong answer).
_typical: dict[tuple[int, tuple[str, ...], int], float] = {}
_TYPICAL_MAX_KEYS = 1024
# Largest distance between a structure and the centre of its float32 box in the R*Tree (generous:
# float32 spacing is 4e-6° near 45°N, about 0.5 m).
INDEX_ERROR_KM = 0.005


# Types this rare are ranked by scanning their rows (one SQL statement) rather than by growing a box
# through an index full of other types: 12 ms → 0.1 ms for a type with one structure in 7,000.
SCAN_MAX = 300
_counts: dict[tuple[int, str], tuple[int, dict[str, int]]] = {}  # (connection, store) → (version, counts)


def _published_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Return type → number of published, located structures, re-read only after another commit."""
    path, version = store_db.version(conn)
    key = (id(conn), path)
    cached = _counts.get(key)
    if cached is None or cached[0] != version:
        if len(_counts) > _TYPICAL_MAX_KEYS:
            _counts.clear()
        cached = _counts[key] = (version, store_structures.located_counts(conn))
    return cached[1]


def nearest(
    conn: sqlite3.Connection,
    lat: float,
    lon: float,
    types: Sequence[str] | None = None,
    limit: int = 5,
    rayon_km: float | None = None,
) -> list[tuple[dict[str, Any], float]]:
    """Return up to `limit` (structure, distance_km) pairs nearest to the point, ascending, ties by id.

    The positions index (one entry per distinct point and type, with a count) only narrows the
    candidates: the search box grows until `limit` structures lie within the radius the box is
    guaranteed to contain, so no true neighbour is ever missed. Rare types are ranked over all their
    rows instead.
    """
    if types:
        present = sum(_published_counts(conn).get(t, 0) for t in types)
        if present == 0:
            return []
        if present <= SCAN_MAX:
            scored = store_structures.nearest_by_scan(conn, types, (lat, lon), EARTH_RADIUS_KM)
            if not scored:
                return []
            # SQLite's and Python's arithmetic may differ in the last bits: keep near-ties for the re-rank.
            cutoff = scored[min(limit, len(scored)) - 1][0] + 1e-6
            return _exact(conn, lat, lon, [pk for d, pk in scored if d <= cutoff], limit, rayon_km)
    max_radius = min(rayon_km, MAX_DISTANCE_KM) if rayon_km is not None else MAX_DISTANCE_KM
    key = (id(conn), tuple(types or ()), limit)
    radius = min(_typical.get(key, 20.0), max_radius)
    fetch = limit + 8
    while True:
        # The index holds distinct positions with their counts: a pile on one town hall is one entry.
        # Index distances are within INDEX_ERROR_KM of the exact ones: a position is surely inside the
        # radius only with that margin, and then the box provably holds the `limit` nearest.
        scored = store_positions.nearest_in_box(
            conn, bbox_around(lat, lon, radius), types, (lat, lon), EARTH_RADIUS_KM, fetch
        )
        sure = sum(n for d, n, *_rest in scored if d <= radius - INDEX_ERROR_KM)
        if sure >= limit or radius >= max_radius:
            cutoff = _kth(scored, limit) + 2 * INDEX_ERROR_KM if scored else 0.0
            if len(scored) == fetch and scored[-1][0] <= cutoff:
                fetch *= 2  # more positions tie within the rounding margin than fetched: fetch them all
                continue
            break
        # Grow from what was seen: enough area for `limit` structures at the density found.
        factor = 4.0 if not sure else max(1.5, 1.2 * math.sqrt(limit / sure))
        radius = min(radius * factor, max_radius)
    if not scored:
        return []
    if sum(n for _d, n, *_rest in scored) >= limit and rayon_km is None:
        if len(_typical) > _TYPICAL_MAX_KEYS:
            _typical.clear()
        _typical[key] = max(0.05, 0.7 * _typical.get(key, radius) + 0.3 * _kth(scored, limit) * 1.2)
    # Structures at one position tie exactly: the first `limit` of each by id are the only candidates.
    places = [(plat, plon, ptype) for d, _n, plat, plon, ptype in scored if d <= cutoff]
    pks = store_positions.first_at(conn, places, limit)
    return _exact(conn, lat, lon, pks, limit, rayon_km)


def _kth(scored: list[tuple[float, int, float, float, str]], k: int) -> float:
    """Return the index distance of the k-th structure of positions sorted by distance (the last if fewer)."""
    total = 0
    for d, n, *_rest in scored:
        total += n
        if total >= k:
            return d
    return scored[-1][0]


def _exact(
    conn: sqlite3.Connection, lat: float, lon: float, pks: list[int], limit: int, rayon_km: float | None
) -> list[tuple[dict[str, Any], float]]:
    """Rank candidates by exact distance from their stored coordinates (ties by id), within the radius."""
    rows = store_structures.by_pks(conn, pks)
    exact = []
    for s in rows.values():
        d = haversine_km(lat, lon, s["latitude"], s["longitude"])
        if rayon_km is None or d <= rayon_km:
            exact.append((d, s["id"], s))
    exact.sort(key=lambda t: (t[0], t[1]))
    return [(s, d) for d, _id, s in exact[:limit]]


def in_departement(
    conn: sqlite3.Connection, code: str, types: Sequence[str] | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Return the published structures of a département, by type then name."""
    return store_structures.published(conn, types=types, departement=code, limit=limit)


def competent(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return the Mission locale competent for a commune: from the coverage lists, else the nearest.

    The answer says how it was chosen (`methode`: "couverture" or "plus_proche") and why (`raison`).
    None when the commune is unknown.
    """
    commune = commune_info(conn, code)
    if commune is None:
        return None
    codes = [commune["code"]] + ([commune["commune_parent"]] if commune.get("commune_parent") else [])
    covering = store_structures.covering(conn, codes, ["mission_locale"])
    lat, lon = commune["latitude"], commune["longitude"]
    prefix = commune["ancienne"]["note"] + " " if commune.get("ancienne") else ""
    if covering:
        with_distance = [(s, _distance(lat, lon, s)) for s in covering]
        ml, d = with_distance[0]
        others = (
            f" La commune figure aussi dans la liste de {len(covering) - 1} autre(s) Mission(s) locale(s)."
            if len(covering) > 1
            else ""
        )
        return {
            "commune": commune,
            "mission_locale": ml,
            "distance_km": d,
            "missions_locales": [dict(s, distance_km=dd) for s, dd in with_distance],
            "methode": "couverture",
            "raison": f"{prefix}{commune['nom']} figure dans la liste des communes couvertes par "
            f"la {ml['nom']}.{others}",
        }
    if lat is None or lon is None:
        return {
            "commune": commune,
            "mission_locale": None,
            "distance_km": None,
            "missions_locales": [],
            "methode": "inconnue",
            "raison": f"{prefix}La position {names.of(commune['nom'])} est inconnue.",
        }
    found = nearest(conn, lat, lon, types=["mission_locale"], limit=1)
    if not found:
        return {
            "commune": commune,
            "mission_locale": None,
            "distance_km": None,
            "missions_locales": [],
            "methode": "inconnue",
            "raison": "Aucune Mission locale n'est encore enregistrée.",
        }
    ml, d = found[0]
    return {
        "commune": commune,
        "mission_locale": ml,
        "distance_km": d,
        "missions_locales": [dict(ml, distance_km=d)],
        "methode": "plus_proche",
        "raison": f"{prefix}Approximation : la liste des communes couvertes par chaque Mission locale "
        f"n'est pas encore connue, voici la Mission locale la plus proche {names.of(commune['nom'])} "
        f"({_km(d)}).",
    }


def two_level(
    conn: sqlite3.Connection,
    code: str,
    others: Sequence[str] = OTHER_TYPES,
    origin: tuple[float, float] | None = None,
) -> dict[str, Any] | None:
    """Return the full answer for a commune: its Mission locale, that one's nearest reception point,
    and the nearest structure of each other type — each with its distance and why it was chosen.

    `origin` (lat, lon), e.g. the user's own position, replaces the commune centre for the distances.
    """
    answer = competent(conn, code)
    if answer is None:
        return None
    commune = answer["commune"]
    lat, lon = origin if origin else (commune["latitude"], commune["longitude"])
    where = "de votre position" if origin else names.of(commune["nom"])
    ml = answer["mission_locale"]
    if origin and ml is not None:
        answer["distance_km"] = _distance(lat, lon, ml)
    answer["point_accueil"] = None
    if ml is not None and lat is not None:
        points = [ml] + store_structures.children(conn, ml["id"])
        located = [(p, _distance(lat, lon, p)) for p in points if p["latitude"] is not None]
        if located:
            best, d = min(located, key=lambda pd: (pd[1], pd[0]["id"]))
            answer["point_accueil"] = {
                "structure": best,
                "distance_km": d,
                "raison": (
                    "Le siège est le lieu d'accueil le plus proche"
                    if best["id"] == ml["id"]
                    else f"Le lieu d'accueil de la {ml['nom']} le plus proche"
                )
                + f" {where} ({_km(d)}), parmi {len(located)} connu(s).",
            }
    answer["autres"] = []
    if lat is not None:
        for type_ in others:
            found = nearest(conn, lat, lon, types=[type_], limit=1)
            if found:
                s, d = found[0]
                answer["autres"].append({"type": type_, "structure": s, "distance_km": d})
    return answer


def _distance(lat: float | None, lon: float | None, s: dict[str, Any]) -> float | None:
    if lat is None or lon is None or s["latitude"] is None or s["longitude"] is None:
        return None
    return haversine_km(lat, lon, s["latitude"], s["longitude"])


def _km(d: float) -> str:
    return f"{d:.1f} km".replace(".", ",")
