"""Territories: which Mission locale is competent for each commune of the région, and its polygon.

One rule, used both for one commune (lookup.competent) and for the whole région (refresh): a commune
in a coverage list belongs to the Mission locale(s) listing it; otherwise to the Mission locale of its
département with the site (siège or published antenne) nearest to the commune's centre, ties by id.
Sources show a Mission locale's territory inside its département and its sites inside its territory.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import config
from .geo.distance import haversine_km
from .store import territories as store_territories

if TYPE_CHECKING:
    import sqlite_utils

# The structures whose changes move territories (with coverage lists).
TERRITORY_TYPES = ("mission_locale", "antenne_mission_locale")
# Simplification of territory outlines for display, in degrees (≈ 100 m): 10× fewer vertices, no
# visible change at the zooms where a whole territory is shown.
SIMPLIFY_DEGREES = 0.001
# Rounding of the stored outline coordinates (5 decimals ≈ 1 m).
DECIMALS = 5


def nearest_site(
    sites: Iterable[dict[str, Any]], lat: float, lon: float
) -> tuple[dict[str, Any], float] | None:
    """Return the site nearest to the point and its distance (km), ties by Mission locale id then site id."""
    best: tuple[float, str, str, dict[str, Any]] | None = None
    for s in sites:
        key = (haversine_km(lat, lon, s["latitude"], s["longitude"]), s["ml_id"], s["site_id"], s)
        if best is None or key[:3] < best[:3]:
            best = key
    return (best[3], best[0]) if best else None


def one_per_point(sites: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return, of the sites sharing a département and a point, the first by (Mission locale id, site id).

    Sites at one point (a pile of antennes on a town hall) are all at one distance from any commune:
    only that first one can be `nearest_site`, so the others need not be compared.
    """
    kept: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
    for site in sites:
        key = (site["departement"], site["latitude"], site["longitude"])
        best = kept.get(key)
        if best is None or (site["ml_id"], site["site_id"]) < (best["ml_id"], best["site_id"]):
            kept[key] = site
    return list(kept.values())


def probable(
    conn: sqlite3.Connection, departement: str, lat: float, lon: float
) -> tuple[dict[str, Any], float] | None:
    """Return the site (ml_id, site_id, commune…) deciding the probable Mission locale of a point of
    this département, and its distance; None when no Mission locale has its siège there."""
    return nearest_site(one_per_point(store_territories.ml_sites(conn, departement)), lat, lon)


def compute(conn: sqlite3.Connection, region: str) -> list[dict[str, Any]]:
    """Return the answer of every current commune of the région (sites read once, grouped by département)."""
    covered = store_territories.coverage_by_commune(conn, region)
    by_dep: dict[str, list[dict[str, Any]]] = {}
    for site in one_per_point(store_territories.ml_sites(conn)):
        by_dep.setdefault(site["departement"], []).append(site)
    answers = []
    for c in store_territories.region_communes(conn, region):
        row = {
            "code_insee": c["code"],
            "departement": c["departement"],
            "structure_id": None,
            "methode": "inconnue",
            "site_id": None,
            "distance_km": None,
            "listes": len(covered.get(c["code"], ())),
            "population": c["population"] or 0,
        }
        if row["listes"]:
            row.update(structure_id=covered[c["code"]][0], methode="couverture")
        elif c["latitude"] is not None:
            found = nearest_site(by_dep.get(c["departement"], ()), c["latitude"], c["longitude"])
            if found:
                site, d = found
                row.update(
                    structure_id=site["ml_id"],
                    methode="territoire_probable",
                    site_id=site["site_id"],
                    distance_km=d,
                )
        answers.append(row)
    return answers


def outlines(conn: sqlite3.Connection, answers: list[dict[str, Any]], region: str) -> list[dict[str, Any]]:
    """Return each Mission locale's territory: the union of its communes' contours (a commune in several
    lists counts for each), simplified, as GeoJSON MultiPolygon text, with its counts."""
    import shapely  # heavy: only the writers that recompute territories load it

    covered = store_territories.coverage_by_commune(conn, region)
    members: dict[str, list[dict[str, Any]]] = {}
    for a in answers:
        for ml_id in covered.get(a["code_insee"]) or ([a["structure_id"]] if a["structure_id"] else []):
            members.setdefault(ml_id, []).append(a)
    wkbs = store_territories.contours(conn, [a["code_insee"] for a in answers])
    out = []
    for ml_id, rows in sorted(members.items()):
        parts = [shapely.from_wkb(wkbs[a["code_insee"]]) for a in rows if a["code_insee"] in wkbs]
        geometry = None
        if parts:
            merged = shapely.union_all(parts).simplify(SIMPLIFY_DEGREES, preserve_topology=True)
            merged = shapely.set_precision(merged, 10**-DECIMALS)
            polygons = [g for g in shapely.get_parts(merged) if g.geom_type == "Polygon" and not g.is_empty]
            geometry = shapely.to_geojson(shapely.MultiPolygon(polygons)) if polygons else None
        out.append(
            {
                "structure_id": ml_id,
                "geometrie": geometry,
                "communes": len(rows),
                "population": sum(a["population"] for a in rows),
                "par_couverture": sum(1 for a in rows if a["methode"] == "couverture"),
                "par_territoire_probable": sum(1 for a in rows if a["methode"] == "territoire_probable"),
            }
        )
    return out


def refresh(db: sqlite_utils.Database, region: str | None = None) -> dict[str, Any]:
    """Recompute and store every commune's answer and every territory (inside the caller's transaction,
    if any); return what was done: communes, territoires, sans_reponse, plusieurs_listes, secondes."""
    region = region or config.load()["REGION"]
    started = time.perf_counter()
    answers = compute(db.conn, region)
    territories = outlines(db.conn, answers, region)
    store_territories.replace(db, answers, territories)
    return {
        "communes": len(answers),
        "territoires": len(territories),
        "sans_reponse": sum(1 for a in answers if a["structure_id"] is None),
        "plusieurs_listes": sum(1 for a in answers if a["listes"] > 1),
        "secondes": round(time.perf_counter() - started, 2),
    }


def migrate(path: str | Path, region: str | None = None) -> dict[str, Any] | None:
    """Bring an older store up to date and, when its answers were never computed (a store of schema 4
    just migrated, a restored old backup), compute them now so that no page serves empty territories;
    return what refresh did, or None when there was nothing to do."""
    from .store import db as store_db

    store_db.migrate(path)
    if store_db.read_only_medium(path):
        return None
    db = store_db.writer(path)
    try:
        if store_territories.count(db.conn):
            return None
        with db.atomic():
            return refresh(db, region)
    finally:
        db.close()
