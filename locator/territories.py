"""Territories: which Mission locale is competent for each commune of the région, and its polygon.

One rule, used both for one commune (lookup.competent) and for the whole région (refresh): a commune
in a coverage list belongs to the Mission locale(s) listing it; otherwise to its probable territory,
decided per intercommunality (EPCI), because Mission locale territories are made of intercommunalities.
The communes of one EPCI within one département form a group:
- the Missions locales that receive in the group (a siège or published antenne located there) are its
  candidates: with one, the whole group is hers; with several (a metropolis), each commune goes to the
  one whose site there is nearest to its centre;
- in a group where none receives, each commune votes for the Mission locale of its département with the
  site nearest to its centre, and the one with most votes takes the whole group (then the larger
  population, then the id).
A commune without an EPCI is a group of its own: its vote decides. Ties of distance go by Mission
locale id then site id. Measured against the network's official list (scripts/score_territories.py),
this agrees on 88 % of the région's communes, where the nearest site of the département alone gave 85 %.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import config
from .geo.distance import haversine_km
from .store import communes as store_communes
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
# How a probable answer was reached (`regle`): the only Mission locale receiving in the commune's
# intercommunality, the nearest of several receiving there, the majority of the intercommunality's
# communes (none receives there), or the commune's own nearest site (no intercommunality known).
SEULE, PLUS_PROCHE, MAJORITE, COMMUNE = "seule", "plus_proche", "majorite", "commune"


def nearest_site(
    sites: Iterable[dict[str, Any]], lat: float, lon: float
) -> tuple[dict[str, Any], float] | None:
    """Return the site nearest to the point and its distance (km), ties by Mission locale id then site id."""
    return _nearest(_prepared(sites), lat, lon)


def _prepared(sites: Iterable[dict[str, Any]]) -> list[tuple[float, float, float, str, str, dict[str, Any]]]:
    """Return each site with its latitude in radians and its cosine, computed once for many points."""
    out = []
    for s in sites:
        p2 = math.radians(s["latitude"])
        out.append((p2, math.cos(p2), s["longitude"], s["ml_id"], s["site_id"], s))
    return out


def _nearest(
    prepared: list[tuple[float, float, float, str, str, dict[str, Any]]], lat: float, lon: float
) -> tuple[dict[str, Any], float] | None:
    # The haversine's inner term (the same arithmetic as geo.distance) grows with the distance:
    # comparing it spares the arcsine per site (a large intercommunality's vote compares thousands).
    p1 = math.radians(lat)
    cos1 = math.cos(p1)
    best: tuple[float, str, str] | None = None
    found: dict[str, Any] | None = None
    for p2, cos2, lon2, ml_id, site_id, s in prepared:
        a = math.sin((p2 - p1) / 2) ** 2 + cos1 * cos2 * math.sin(math.radians(lon2 - lon) / 2) ** 2
        if best is None or (a, ml_id, site_id) < best:
            best, found = (a, ml_id, site_id), s
    if found is None:
        return None
    return found, haversine_km(lat, lon, found["latitude"], found["longitude"])


def one_per_point(sites: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return, of the sites of one Mission locale sharing a point, the first by site id.

    Sites at one point (a pile of antennes on a town hall) are all at one distance from any commune:
    only that first one can be `nearest_site`, so the others need not be compared.
    """
    kept: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
    for site in sites:
        key = (site["ml_id"], site["latitude"], site["longitude"])
        best = kept.get(key)
        if best is None or site["site_id"] < best["site_id"]:
            kept[key] = site
    return list(kept.values())


def _first_per_point(sites: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return, of the sites sharing a point (whatever their Mission locale), the first by Mission locale
    id then site id: the only one of them `_nearest` can answer, since they are all at one distance."""
    kept: dict[tuple[Any, Any], dict[str, Any]] = {}
    for site in sites:
        key = (site["latitude"], site["longitude"])
        best = kept.get(key)
        if best is None or (site["ml_id"], site["site_id"]) < (best["ml_id"], best["site_id"]):
            kept[key] = site
    return list(kept.values())


def group_key(commune: dict[str, Any]) -> tuple[str, str]:
    """Return the group a commune is decided with: its EPCI's part of its département, else itself."""
    if commune.get("epci"):
        return (commune["epci"], commune["departement"])
    return ("", commune["code"])


def decide(
    members: Sequence[dict[str, Any]],
    here: Sequence[dict[str, Any]],
    departement_sites: Sequence[dict[str, Any]],
    only: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Return code → probable answer of each located commune of one group (of that one commune only,
    when `only` names it: the others still vote).

    `members`: the group's communes (code, latitude, longitude, population); `here`: the sites located
    in the group; `departement_sites`: the sites of the Missions locales whose siège is in the group's
    département (one_per_point). An answer holds ml_id, site (the deciding site: the nearest of that
    Mission locale's sites there), distance_km, regle, candidats (Missions locales receiving in the
    group), voix and votants (the vote, MAJORITE only).
    """
    located = [c for c in members if c["latitude"] is not None and c["longitude"] is not None]
    answered = [c for c in located if only is None or c["code"] == only]
    answers: dict[str, dict[str, Any]] = {}
    candidates = sorted({s["ml_id"] for s in here})
    if candidates:
        regle = SEULE if len(candidates) == 1 else PLUS_PROCHE
        receiving = _prepared(_first_per_point(here))
        for c in answered:
            site, d = _nearest(receiving, c["latitude"], c["longitude"])  # type: ignore[misc]
            answers[c["code"]] = {
                "ml_id": site["ml_id"],
                "site": site,
                "distance_km": d,
                "regle": regle,
                "candidats": len(candidates),
                "voix": None,
                "votants": None,
            }
        return answers
    votes: dict[str, str] = {}
    voting = _prepared(_first_per_point(departement_sites))
    for c in located:
        found = _nearest(voting, c["latitude"], c["longitude"])
        if found:
            votes[c["code"]] = found[0]["ml_id"]
    if not votes:
        return answers
    count = Counter(votes.values())
    population: Counter[str] = Counter()
    for c in located:
        if c["code"] in votes:
            population[votes[c["code"]]] += c["population"] or 0
    winner = min(count, key=lambda ml: (-count[ml], -population[ml], ml))
    own = _prepared(s for s in departement_sites if s["ml_id"] == winner)
    regle = MAJORITE if len(members) > 1 else COMMUNE
    for c in answered:
        site, d = _nearest(own, c["latitude"], c["longitude"])  # type: ignore[misc]
        answers[c["code"]] = {
            "ml_id": winner,
            "site": site,
            "distance_km": d,
            "regle": regle,
            "candidats": 0,
            "voix": count[winner],
            "votants": len(votes),
        }
    return answers


def probable(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Return the probable answer of one current commune (see `decide`), with `epci` (its
    intercommunality: code, nom, type; None without one) and `communes` (how many communes its group
    has); None when the commune is unknown or unlocated, or no Mission locale can be named."""
    commune = store_territories.commune(conn, code)
    if commune is None:
        return None
    if commune["epci"]:
        key = (commune["epci"], commune["departement"])
        members = store_territories.epci_communes(conn, *key)
        here = one_per_point(store_territories.ml_sites(conn, epci=key))
    else:
        members, here = [commune], []
    dep_sites = [] if here else one_per_point(store_territories.ml_sites(conn, commune["departement"]))
    found = decide(members, here, dep_sites, only=code).get(code)
    if found is None:
        return None
    group = store_territories.epci(conn, commune["epci"]) if commune["epci"] else None
    return {**found, "epci": group, "communes": len(members)}


def compute(conn: sqlite3.Connection, region: str, coverage: bool = True) -> list[dict[str, Any]]:
    """Return the answer of every current commune of the région (sites read once, grouped by
    département and by intercommunality). `coverage=False` ignores the coverage lists: every commune
    gets the inferred answer (what scripts/score_territories.py measures)."""
    covered = store_territories.coverage_by_commune(conn, region) if coverage else {}
    sites = one_per_point(store_territories.ml_sites(conn))  # a pile of antennes on a town hall: one
    by_dep: dict[str, list[dict[str, Any]]] = {}
    for site in sites:
        by_dep.setdefault(site["departement"], []).append(site)
    here: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for site in sites:
        if site["epci"]:
            here.setdefault((site["epci"], site["site_departement"]), []).append(site)
    communes = store_territories.region_communes(conn, region)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in communes:
        groups.setdefault(group_key(c), []).append(c)
    probable_of: dict[str, dict[str, Any]] = {}
    for key, members in groups.items():
        dep = members[0]["departement"]
        probable_of.update(decide(members, here.get(key, []) if key[0] else [], by_dep.get(dep, [])))
    answers = []
    for c in communes:
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
        found = probable_of.get(c["code"])
        if row["listes"]:
            row.update(structure_id=covered[c["code"]][0], methode="couverture")
        elif found:
            row.update(
                structure_id=found["ml_id"],
                methode="territoire_probable",
                site_id=found["site"]["site_id"],
                distance_km=found["distance_km"],
            )
        answers.append(row)
    return answers


def outlines(
    conn: sqlite3.Connection,
    answers: list[dict[str, Any]],
    region: str,
    drawn: dict[str, tuple[str, str | None]] | None = None,
) -> list[dict[str, Any]]:
    """Return each Mission locale's territory: the union of its communes' contours (a commune in several
    lists counts for each), simplified, as GeoJSON MultiPolygon text, with its counts and `empreinte`
    (what the outline is drawn from). `drawn`: id → (empreinte, outline) of the stored territories; an
    outline drawn from the same communes of the same reference geography is kept, not drawn again."""
    import shapely  # heavy: only the writers that recompute territories load it

    covered = store_territories.coverage_by_commune(conn, region)
    members: dict[str, list[dict[str, Any]]] = {}
    for a in answers:
        for ml_id in covered.get(a["code_insee"]) or ([a["structure_id"]] if a["structure_id"] else []):
            members.setdefault(ml_id, []).append(a)
    reference = store_communes.reference_checksum(conn) or ""
    marks = {ml_id: _outline_mark(reference, rows) for ml_id, rows in members.items()}
    drawn = drawn or {}
    kept = {ml_id for ml_id, mark in marks.items() if drawn.get(ml_id, ("",))[0] == mark}
    wkbs = store_territories.contours(
        conn, [a["code_insee"] for ml_id, rows in members.items() if ml_id not in kept for a in rows]
    )
    out = []
    for ml_id, rows in sorted(members.items()):
        geometry = None
        if ml_id in kept:
            geometry = drawn[ml_id][1]
        elif parts := [shapely.from_wkb(wkbs[a["code_insee"]]) for a in rows if a["code_insee"] in wkbs]:
            merged = shapely.union_all(parts).simplify(SIMPLIFY_DEGREES, preserve_topology=True)
            merged = shapely.set_precision(merged, 10**-DECIMALS)
            polygons = [g for g in shapely.get_parts(merged) if g.geom_type == "Polygon" and not g.is_empty]
            geometry = shapely.to_geojson(shapely.MultiPolygon(polygons)) if polygons else None
        out.append(
            {
                "structure_id": ml_id,
                "empreinte": marks[ml_id],
                "geometrie": geometry,
                "communes": len(rows),
                "population": sum(a["population"] for a in rows),
                "par_couverture": sum(1 for a in rows if a["methode"] == "couverture"),
                "par_territoire_probable": sum(1 for a in rows if a["methode"] == "territoire_probable"),
            }
        )
    return out


def _outline_mark(reference: str, rows: list[dict[str, Any]]) -> str:
    """Return what an outline is drawn from, as a short text: the reference geography, the drawing
    settings and the communes."""
    codes = ",".join(sorted(a["code_insee"] for a in rows))
    return _digest(f"{reference}|{SIMPLIFY_DEGREES}|{DECIMALS}|{codes}")


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def label_text(nom: str, outside: bool = False) -> str:
    """Return the text the map writes on a territory (what territoires.js shows)."""
    return nom + (" (hors région)" if outside else "")


def with_labels(
    conn: sqlite3.Connection,
    territories: list[dict[str, Any]],
    region: str,
    drawn: tuple[str | None, dict[str, tuple[float, float]]] | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """Return the territories with `etiquette_latitude`/`etiquette_longitude`: where the map writes
    each name, inside the territory and clear of the others' names (locator.geo.labels); and what
    they were placed from. `drawn`: (what the stored positions were placed from, id → position): the
    same outlines and names keep their positions, as placing them again would give the same."""
    import shapely

    from .geo import labels

    ids = [t["structure_id"] for t in territories]
    named = store_territories.names(conn, ids, region)
    texts = {t["structure_id"]: label_text(*named.get(t["structure_id"], ("", False))) for t in territories}
    placed = [t for t in territories if t["geometrie"]]
    mark = _digest(
        "|".join(f"{t['structure_id']}\t{texts[t['structure_id']]}\t{t['geometrie']}" for t in placed)
        + f"|{labels.REFERENCE_ZOOM}"
    )
    known, stored = drawn or (None, {})
    if known == mark and all(t["structure_id"] in stored for t in placed):
        spots = {t["structure_id"]: stored[t["structure_id"]] for t in placed}
    else:
        spots = labels.place(
            [
                (t["structure_id"], texts[t["structure_id"]], shapely.from_geojson(t["geometrie"]))
                for t in placed
            ]
        )
    out = []
    for t in territories:
        lat, lon = spots.get(t["structure_id"], (None, None))
        out.append(
            {
                **t,
                "etiquette_latitude": None if lat is None else round(lat, DECIMALS),
                "etiquette_longitude": None if lon is None else round(lon, DECIMALS),
            }
        )
    return out, mark


def refresh(db: sqlite_utils.Database, region: str | None = None) -> dict[str, Any]:
    """Recompute and store every commune's answer and every territory (inside the caller's transaction,
    if any); return what was done: communes, territoires, sans_reponse, plusieurs_listes, secondes."""
    region = region or config.load()["REGION"]
    started = time.perf_counter()
    answers = compute(db.conn, region)
    drawn = store_territories.drawn(db.conn)
    territories = outlines(db.conn, answers, region, drawn.get("outlines"))
    territories, placed_from = with_labels(db.conn, territories, region, drawn.get("labels"))
    store_territories.replace(db, answers, territories)
    store_territories.remember_drawn(
        db, {t["structure_id"]: t["empreinte"] for t in territories}, placed_from
    )
    return {
        "communes": len(answers),
        "territoires": len(territories),
        "sans_reponse": sum(1 for a in answers if a["structure_id"] is None),
        "plusieurs_listes": sum(1 for a in answers if a["listes"] > 1),
        "secondes": round(time.perf_counter() - started, 2),
    }


def migrate(path: str | Path, region: str | None = None) -> dict[str, Any] | None:
    """Bring an older store up to date and, when its answers were never computed (a store of schema 4
    just migrated, a restored old backup) or its territories have no label positions (schema 6),
    compute them now so that no page serves empty territories or piled names; return what refresh
    did, or None when there was nothing to do."""
    from .store import db as store_db

    store_db.migrate(path)
    if store_db.read_only_medium(path):
        return None
    db = store_db.writer(path)
    try:
        if store_territories.count(db.conn) and not store_territories.unlabelled(db.conn):
            return None
        with db.atomic():
            return refresh(db, region)
    finally:
        db.close()
