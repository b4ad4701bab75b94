"""Answers, usable without Flask: nearest, competent, two-level and point answers, published structures.

Every function takes the store connection explicitly. Points are (latitude, longitude) in WGS84
degrees; distances are great-circle kilometres (haversine, R = 6371.0088 km).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from . import config, territories, wording
from .geo import names
from .geo.distance import EARTH_RADIUS_KM, MAX_DISTANCE_KM, bbox_around, haversine_km, in_words
from .places.communes import commune_at, commune_centre, commune_info, departement_info, departements
from .places.resolve import resolve
from .store import communes as store_communes
from .store import coverage as store_coverage
from .store import db as store_db
from .store import positions as store_positions
from .store import structures as store_structures
from .store import territories as store_territories

__all__ = [
    "resolve",
    "nearest",
    "competent",
    "in_departement",
    "commune_at",
    "commune_info",
    "commune_centre",
    "departement_info",
    "departements",
    "two_level",
    "point_answer",
    "nearest_of_each",
    "structure",
    "reception_points",
    "published",
    "published_by_departement",
    "by_name",
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


def _distinct(types: Sequence[str] | None) -> tuple[str, ...]:
    """Each type once, in the order given: a type repeated must not multiply the work (nor the SQL)."""
    return tuple(dict.fromkeys(types or ()))


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
    rows instead. Types are de-duplicated first: the work depends on the distinct types only.
    """
    types = _distinct(types)
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
            pks = [pk for d, pk in scored if d <= cutoff]
            return _exact(lat, lon, store_structures.by_pks(conn, pks).values(), limit, rayon_km)
    max_radius = min(rayon_km, MAX_DISTANCE_KM) if rayon_km is not None else MAX_DISTANCE_KM
    key = (id(conn), types, limit)
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
        # 1.6× the k-th distance: a second, wider box costs more than a slightly wide first one (near
        # piles on town halls: 2.35 → 2.14 statements a query; unchanged on 100,000 spread points).
        _typical[key] = max(0.05, 0.7 * _typical.get(key, radius) + 0.3 * _kth(scored, limit) * 1.6)
    # Structures at one position tie exactly: the first `limit` of each by id are the only candidates.
    places = [(plat, plon, ptype) for d, _n, plat, plon, ptype in scored if d <= cutoff]
    return _exact(lat, lon, _first_at(conn, places, limit), limit, rayon_km)


# Per connection: (connection, data version, {(latitude, longitude, type, limit): first rows by id}).
# Piles are queried again and again: their rows are read once per store version, not per request.
# Bounded (a few MB per connection); the connection is kept so that its id cannot be reused meanwhile.
_Rows = dict[tuple[float, float, str, int], list[dict[str, Any]]]
_FIRST: dict[int, tuple[sqlite3.Connection, int, _Rows]] = {}
_FIRST_MAX_POSITIONS = 512


def _first_at(
    conn: sqlite3.Connection, places: list[tuple[float, float, str]], limit: int
) -> list[dict[str, Any]]:
    """The first `limit` published structures (by id) at each position, cached per store version."""
    version = store_db.data_version(conn)
    cached = _FIRST.get(id(conn))
    if cached is None or cached[0] is not conn or cached[1] != version:
        if len(_FIRST) >= _TYPICAL_MAX_KEYS:
            _FIRST.clear()
        cached = _FIRST[id(conn)] = (conn, version, {})
    rows_at = cached[2]
    missing = [p for p in places if (*p, limit) not in rows_at]
    if missing:
        if len(rows_at) + len(missing) > _FIRST_MAX_POSITIONS:
            rows_at.clear()
        for p in missing:
            rows_at[(*p, limit)] = []
        for s in store_structures.first_at(conn, missing, limit):
            rows_at[(s["latitude"], s["longitude"], s["type"], limit)].append(s)
        if len(rows_at) > _FIRST_MAX_POSITIONS:  # more positions in one answer than the bound
            found = [s for p in places for s in rows_at[(*p, limit)]]
            rows_at.clear()
            return found
    return [s for p in places for s in rows_at[(*p, limit)]]


def _kth(scored: list[tuple[float, int, float, float, str]], k: int) -> float:
    """Return the index distance of the k-th structure of positions sorted by distance (the last if fewer)."""
    total = 0
    for d, n, *_rest in scored:
        total += n
        if total >= k:
            return d
    return scored[-1][0]


def _exact(
    lat: float, lon: float, rows: Iterable[dict[str, Any]], limit: int, rayon_km: float | None
) -> list[tuple[dict[str, Any], float]]:
    """Rank candidates by exact distance from their stored coordinates (ties by id), within the radius."""
    exact = []
    at: dict[tuple[float, float], float] = {}  # a pile shares one point: one distance for all its rows
    for s in rows:
        point = (s["latitude"], s["longitude"])
        d = at.get(point)
        if d is None:
            d = at[point] = haversine_km(lat, lon, *point)
        if rayon_km is None or d <= rayon_km:
            exact.append((d, s["id"], s))
    exact.sort(key=lambda t: (t[0], t[1]))
    # Copies: the rows may be cached (`_first_at`), and callers are free to change what they get.
    return [(dict(s), d) for d, _id, s in exact[:limit]]


def nearest_of_each(
    conn: sqlite3.Connection, lat: float, lon: float, types: Sequence[str]
) -> list[dict[str, Any]]:
    """Return {type, structure, distance_km} for the nearest structure of each type, in the order given.

    A type with no located, published structure is left out.
    """
    out = []
    for type_ in _distinct(types):
        found = nearest(conn, lat, lon, types=[type_], limit=1)
        if found:
            s, d = found[0]
            out.append({"type": type_, "structure": s, "distance_km": d})
    return out


def structure(conn: sqlite3.Connection, structure_id: str) -> dict[str, Any] | None:
    """Return a published structure by id; None when unknown or not published."""
    s = store_structures.get(conn, structure_id)
    return s if s is not None and s["statut"] == "publie" else None


def reception_points(conn: sqlite3.Connection, structure_id: str) -> list[dict[str, Any]]:
    """Return the published reception points (antennes, permanences) attached to a structure, by name."""
    return store_structures.children(conn, structure_id)


def published(conn: sqlite3.Connection, types: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Return every published structure (of some types), by type then name."""
    return store_structures.published(conn, _distinct(types))


def published_by_departement(conn: sqlite3.Connection) -> dict[str, int]:
    """Return département code → number of published structures."""
    counts: dict[str, int] = {}
    for s in store_structures.published(conn):
        counts[s["departement"]] = counts.get(s["departement"], 0) + 1
    return counts


def by_name(
    conn: sqlite3.Connection, words: Sequence[str], types: Sequence[str] | None, limit: int
) -> list[dict[str, Any]]:
    """Return published structures whose name or commune holds every word, by type then name."""
    return store_structures.search_names(conn, _distinct(words), _distinct(types), limit)


def in_departement(
    conn: sqlite3.Connection, code: str, types: Sequence[str] | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Return the published structures of a département, by type then name."""
    return store_structures.published(conn, types=_distinct(types), departement=code, limit=limit)


# "None within N km" phrases per type, and how the nearest known one is then named.
NONE_KNOWN = {
    "mission_locale": ("Aucune Mission locale connue", "la plus proche connue"),
    "antenne_mission_locale": ("Aucune antenne de Mission locale connue", "la plus proche connue"),
    "cio": ("Aucun CIO connu", "le plus proche connu"),
    "psad": ("Aucune PSAD connue", "la plus proche connue"),
    "mlds": ("Aucune MLDS connue", "la plus proche connue"),
    "e2c": ("Aucune École de la 2e chance connue", "la plus proche connue"),
    "epide": ("Aucun centre EPIDE connu", "le plus proche connu"),
    "dispositif": ("Aucun dispositif local connu", "le plus proche connu"),
    "partenaire": ("Aucun partenaire connu", "le plus proche connu"),
}


def _answer(
    commune: dict[str, Any], methode: str, raison: str, ml: dict[str, Any] | None = None, **more: Any
):
    d = _distance(commune["latitude"], commune["longitude"], ml) if ml else None
    return {
        "commune": commune,
        "mission_locale": ml,
        "distance_km": d,
        "missions_locales": [dict(ml, distance_km=d)] if ml else [],
        "methode": methode,
        "raison": raison,
        **more,
    }


def competent(
    conn: sqlite3.Connection, code: str, region: str | None = None, finder_url: str | None = None
) -> dict[str, Any] | None:
    """Return the Mission locale competent for a commune, how it was chosen (`methode`) and why (`raison`).

    `couverture`: in an imported coverage list (several lists → all of them); `territoire_probable`:
    inferred per intercommunality from where the Missions locales receive (locator.territories);
    `hors_region`: outside `region`, no Mission locale is presented as its own (`annuaire_national`
    links to a national finder); `inconnue`: no Mission locale in the département, or no position.
    A former commune answers as its current commune, a Paris/Lyon/Marseille arrondissement as its city.
    None when the commune is unknown.
    """
    commune = commune_info(conn, code)
    if commune is None:
        return None
    settings = config.load() if region is None or finder_url is None else {}
    region = region or settings["REGION"]
    finder_url = finder_url or settings["NATIONAL_FINDER_URL"]
    prefix = commune["ancienne"]["note"] + " " if commune.get("ancienne") else ""
    if commune["region"] != region:
        home = store_communes.region_name(conn, region) or region
        where = ", ".join(p for p in (commune.get("departement_nom"), commune.get("region_nom")) if p)
        return _answer(
            commune,
            "hors_region",
            f"{prefix}{commune['nom']} ({where}) est hors de la région {home}, la seule que couvre cet "
            "annuaire : aucune Mission locale n’y est présentée comme la sienne. Cherchez sa Mission "
            "locale dans l’annuaire national des Missions locales.",
            annuaire_national=finder_url,
        )
    city = store_communes.get(conn, commune["commune_parent"]) if commune.get("commune_parent") else None
    if city is not None:
        prefix += f"{commune['nom']} fait partie de {city['nom']}. "
    place = city or commune
    covering = store_structures.covering(conn, [commune["code"], place["code"]], ["mission_locale"])
    lat, lon = commune["latitude"], commune["longitude"]
    if covering:
        with_distance = [(s, _distance(lat, lon, s)) for s in covering]
        ml, d = with_distance[0]
        also = wording.count(len(covering) - 1, "autre Mission locale")
        others = f" La commune figure aussi dans la liste de {also}." if len(covering) > 1 else ""
        source, date_maj = store_coverage.origin_of(conn, [commune["code"], place["code"]], ml["id"])
        away = outside_region(conn, ml, region)
        where = (
            " Cette Mission locale est hors de la région "
            f"({away['departement_nom']}, {away['region_nom']}) : l’annuaire n’en connaît que le nom "
            "et l’adresse que donne la liste."
            if away
            else ""
        )
        answer = _answer(
            commune,
            "couverture",
            f"{prefix}{place['nom']} figure dans la liste des communes couvertes par la {ml['nom']} : "
            f"{coverage_origin(source, date_maj)}.{where}{others}",
            ml,
            liste={"source": source, "date": date_maj, "officielle": is_official(source)},
            mission_locale_hors_region=bool(away),
        )
        answer["missions_locales"] = [dict(s, distance_km=dd) for s, dd in with_distance]
        return answer
    if place["latitude"] is None or place["longitude"] is None:
        return _answer(commune, "inconnue", f"{prefix}La position {names.of(place['nom'])} est inconnue.")
    found = territories.probable(conn, place["code"])
    if found is None:
        return _answer(
            commune,
            "inconnue",
            f"{prefix}Aucune Mission locale n’est connue dans le département "
            f"{commune.get('departement_nom') or place['departement']}.",
        )
    ml = store_structures.get(conn, found["ml_id"])
    site = found["site"]
    if place is not commune and lat is not None and site.get("latitude") is not None:
        # One origin: an arrondissement's answer measures from the arrondissement, as its cards do.
        found = {**found, "distance_km": haversine_km(lat, lon, site["latitude"], site["longitude"])}
    return _answer(
        commune,
        "territoire_probable",
        prefix + _probable_reason(place["nom"], ml["nom"], found),
        ml,
        site_id=found["site"]["site_id"],
        mission_locale_hors_region=bool(outside_region(conn, ml, region)),
    )


def is_official(source: str | None) -> bool:
    """Tell whether coverage rows come from the Missions locales network's own list."""
    return bool(source) and source.startswith(store_coverage.NETWORK_SOURCE)


def coverage_origin(source: str | None, date_maj: str | None) -> str:
    """Say which coverage list it is and when: « la liste officielle, publiée par le réseau des
    Missions locales en janvier 2026 », « une liste saisie dans l’annuaire, mise à jour en mars 2026 »…"""
    when = month_year(date_maj)
    if is_official(source):
        return "la liste officielle, publiée par le réseau des Missions locales" + (
            f" en {when}" if when else ""
        )
    if source == store_coverage.MANUAL_SOURCE:
        return "une liste saisie dans l’annuaire" + (f", mise à jour en {when}" if when else "")
    name = (source or "").split(" : ", 1)[-1].strip() if source and " : " in source else ""
    said = f" du fichier « {name} »" if name else ""
    return f"une liste importée{said}" + (f", datée de {when}" if when else "")


_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def month_year(iso: str | None) -> str | None:
    """Return « janvier 2026 » for a date "2026-01-01" (a list is dated by its month), else None."""
    try:
        year, month = int((iso or "")[:4]), int((iso or "")[5:7])
    except ValueError:
        return None
    return f"{_MONTHS[month - 1]} {year}" if 1 <= month <= 12 else None


def outside_region(
    conn: sqlite3.Connection, s: dict[str, Any], region: str | None = None
) -> dict[str, Any] | None:
    """Return the département and région of a structure seated outside the home région (a Mission locale
    of another région covering communes of this one), or None when it is in the région."""
    region = region or config.load()["REGION"]
    dep = s.get("departement")
    if not dep:
        return None
    info = store_communes.departement(conn, dep)
    if info is None or info["region"] == region:
        return None
    return {
        "departement": dep,
        "departement_nom": info["nom"],
        "region": info["region"],
        "region_nom": info["region_nom"],
    }


def _probable_reason(nom: str, ml_nom: str, found: dict[str, Any]) -> str:
    """Say in plain French how the probable territory named this Mission locale, and that it is inferred."""
    site = found["site"]
    where = f"{names.at(site['commune'] or nom)}, à {_km(found['distance_km'])}"
    group = _epci_name(found["epci"]) if found["epci"] else None
    regle = found["regle"]
    if regle == territories.SEULE:
        why = (
            f"{nom} fait partie de {group}, où la {ml_nom} est la seule Mission locale à recevoir "
            f"(elle reçoit {where})."
        )
    elif regle == territories.PLUS_PROCHE:
        why = (
            f"{nom} fait partie de {group}, où reçoivent {found['candidats']} Missions locales ; "
            f"la plus proche est la {ml_nom}, qui reçoit {where}."
        )
    elif regle == territories.MAJORITE:
        why = (
            f"{nom} fait partie de {group}, où aucune Mission locale ne reçoit ; pour "
            f"{found['voix']} de ses {found['votants']} communes, la Mission locale du département qui "
            f"reçoit le plus près est la {ml_nom} (pour {nom} : {where})."
        )
    else:
        why = f"La {ml_nom} est la Mission locale du département qui reçoit le plus près de {nom} : {where}."
    return (
        f"{why} C’est un territoire probable, déduit des lieux d’accueil : aucune liste officielle de "
        "communes couvertes ne nomme cette commune."
    )


def _epci_name(epci: dict[str, Any]) -> str:
    """Return an intercommunality's name after "de": "la communauté de communes du Diois"."""
    nom = epci["nom"]
    if nom.startswith("Communauté "):
        return "la c" + nom[1:]
    if nom.startswith("Métropole "):
        return "la " + nom
    return f"l’intercommunalité {nom}"


def _unknown(commune: dict[str, Any], raison: str) -> dict[str, Any]:
    """The competent answer when no Mission locale can be named (methode "inconnue")."""
    return {
        "commune": commune,
        "mission_locale": None,
        "distance_km": None,
        "missions_locales": [],
        "methode": "inconnue",
        "raison": raison,
    }


def two_level(
    conn: sqlite3.Connection,
    code: str,
    others: Sequence[str] = OTHER_TYPES,
    origin: tuple[float, float] | None = None,
    region: str | None = None,
    finder_url: str | None = None,
    far_km: dict[str, float] | None = None,
) -> dict[str, Any] | None:
    """Return the full answer for a commune: its Mission locale, that one's nearest reception point,
    and the nearest structure of each other type — each with its distance and why it was chosen.

    `origin` (lat, lon), e.g. the user's own position, replaces the commune centre for the distances.
    An other type whose nearest structure lies beyond `far_km[type]` is said so (`loin_km`, `raison`).
    """
    answer = competent(conn, code, region, finder_url)
    if answer is None:
        return None
    if far_km is None:
        far_km = config.load()["FAR_KM_BY_TYPE"]
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
                "raison": _reception_reason(best["id"] == ml["id"], ml["nom"], where, d, len(located)),
            }
    answer["autres"] = _others(conn, lat, lon, others, far_km) if lat is not None else []
    return answer


def point_answer(
    conn: sqlite3.Connection,
    lat: float,
    lon: float,
    others: Sequence[str] = OTHER_TYPES,
    far_km: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Return the answer for a point in no known commune: no Mission locale is presented as its own;
    the nearest structure of each other type is listed with its distance from the point.

    Shaped like `two_level`'s (without a commune nor a reception point).
    """
    return {
        "commune": None,
        "methode": "inconnue",
        "raison": "Ce point n’est dans aucune commune connue : aucune Mission locale n’est présentée "
        "comme la vôtre. Les structures les plus proches sont listées avec leur distance.",
        "mission_locale": None,
        "distance_km": None,
        "autres": _others(conn, lat, lon, others, far_km),
    }


def _others(
    conn: sqlite3.Connection, lat: float, lon: float, others: Sequence[str], far_km: dict[str, float] | None
) -> list[dict[str, Any]]:
    """The nearest structure of each other type, said far beyond its type's distance (FAR_KM_BY_TYPE)."""
    if far_km is None:
        far_km = config.load()["FAR_KM_BY_TYPE"]
    return [
        _other(o["type"], o["structure"], o["distance_km"], far_km.get(o["type"]))
        for o in nearest_of_each(conn, lat, lon, others)
    ]


def _other(type_: str, s: dict[str, Any], d: float, far: float | None) -> dict[str, Any]:
    """The nearest structure of a type; beyond `far` km it is named the nearest *known* one."""
    if far is None or d <= far:
        return {"type": type_, "structure": s, "distance_km": d, "loin_km": None, "raison": None}
    none, nearest_known = NONE_KNOWN.get(type_, ("Aucune structure connue", "la plus proche connue"))
    return {
        "type": type_,
        "structure": s,
        "distance_km": d,
        "loin_km": far,
        "raison": f"{none} à moins de {far:g} km ; {nearest_known} est à {_km(d)}.",
    }


def _reception_reason(main: bool, ml_nom: str, where: str, d: float, known: int) -> str:
    """Why this reception point, in plain words ("lieu principal", not "siège"; plurals agreed)."""
    head = (
        f"Le lieu principal de la {ml_nom} est aussi son lieu d’accueil le plus proche"
        if main
        else f"Le lieu d’accueil de la {ml_nom} le plus proche"
    )
    places = "1 lieu connu" if known == 1 else f"{known} lieux connus"
    return f"{head} {where} ({_km(d)}), parmi {places}."


def _distance(lat: float | None, lon: float | None, s: dict[str, Any]) -> float | None:
    if lat is None or lon is None or s["latitude"] is None or s["longitude"] is None:
        return None
    return haversine_km(lat, lon, s["latitude"], s["longitude"])


def _km(d: float) -> str:
    return in_words(d)  # the pages' and the printout's one rule: a reason says what the card says


# ---------------------------------------------------------------- structures by name

# Words a type answers to besides its name ("E2C" finds every École de la 2e chance).
_TYPE_WORDS = {
    "mission_locale": "mission locale ml",
    "antenne_mission_locale": "antenne mission locale ml permanence",
    "cio": "cio centre information orientation",
    "psad": "psad plateforme decrocheurs",
    "mlds": "mlds",
    "e2c": "e2c ecole 2e deuxieme chance",
    "epide": "epide",
    "dispositif": "dispositif",
}
# Per connection: (connection, data version, [(name words, all words, structure)]), rebuilt after any
# commit; the connection is kept so that its id cannot be reused by another one while cached.
_NAMED: dict[int, tuple[sqlite3.Connection, Any, list[tuple[list[str], set[str], dict[str, Any]]]]] = {}
_NAMED_MAX = 64
# Words of a name search used, each once (no name holds more): the scan costs structures × words.
NAMED_WORDS = 12


def structures_named(conn: sqlite3.Connection, text: str, limit: int = 5) -> list[dict[str, Any]]:
    """Return published structures whose name (or type) holds every word typed, names first.

    Words match whatever the accents and case, the last one as a prefix (it is being typed):
    "Mission locale de Thiers", "CIO Vichy", "E2C", "Tillion".
    """
    query = list(dict.fromkeys(w for w in names.words(text) if w not in names.STOPWORDS))[:NAMED_WORDS]
    if not query or not any(len(w) >= 2 for w in query):
        return []
    version = store_db.version(conn)
    cached = _NAMED.get(id(conn))
    if cached is None or cached[0] is not conn or cached[1] != version:
        index = []
        for s in store_structures.published(conn):
            own = names.words(s["nom"])
            index.append((own, set(own) | set(_TYPE_WORDS.get(s["type"], "").split()), s))
        if len(_NAMED) >= _NAMED_MAX:
            _NAMED.clear()
        cached = _NAMED[id(conn)] = (conn, version, index)
    *whole, last = query
    found = []
    for own, every, s in cached[2]:
        if all(w in every for w in whole) and any(w.startswith(last) for w in every):
            in_name = sum(1 for w in query if any(o.startswith(w) for o in own))
            found.append((-in_name, len(own), s["nom"], s))
    found.sort(key=lambda f: f[:3])
    return [f[3] for f in found[:limit]]


def territory_of(conn: sqlite3.Connection, structure_id: str) -> dict[str, Any] | None:
    """Return a Mission locale's stored territory (outline and counts), or None."""
    return store_territories.territory(conn, structure_id)


def all_territories(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return every stored territory of the région's Missions locales."""
    return store_territories.territories(conn)


def territory_origin(
    conn: sqlite3.Connection, t: dict[str, Any], lists: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Say where a territory comes from: `methode` (couverture, territoire_probable or mixte),
    `officiel`, the list's `source` and `date`, and `texte`, a French sentence for pages."""
    lists = store_coverage.lists_by_structure(conn) if lists is None else lists
    entry = lists.get(t["structure_id"]) or {}
    source, date_maj = entry.get("source"), entry.get("date_maj")
    by_list, inferred = t["par_couverture"], t["par_territoire_probable"]
    if by_list and not inferred:
        methode = "couverture"
    elif inferred and not by_list:
        methode = "territoire_probable"
    else:
        methode = "mixte"
    origin = coverage_origin(source, date_maj)
    if methode == "couverture":
        texte = f"Ses communes sont celles de sa liste des communes couvertes : {origin}."
    elif methode == "territoire_probable":
        texte = (
            "Aucune liste des communes couvertes n’est importée pour cette Mission locale : ses communes "
            "lui sont rattachées par déduction, d’après les lieux d’accueil de leur intercommunalité "
            "(territoire probable, pas officiel)."
        )
    else:
        texte = (
            f"{by_list} commune{'s' if by_list > 1 else ''} d’après sa liste des communes couvertes "
            f"({origin}) ; {inferred} rattachée{'s' if inferred > 1 else ''} par déduction, qu’aucune "
            "liste ne nomme (territoire probable, pas officiel)."
        )
    when = month_year(date_maj)
    kind = "liste officielle" if is_official(source) else "liste importée"
    if source == store_coverage.MANUAL_SOURCE:
        kind = "liste saisie"
    court = {
        "couverture": f"{kind} ({when})" if when else kind,
        "territoire_probable": "déduit (territoire probable)",
        "mixte": f"{by_list} par la {kind}, {inferred} déduite{'s' if inferred > 1 else ''}",
    }[methode]
    return {
        "methode": methode,
        "court": court,
        "officiel": methode == "couverture" and is_official(source),
        "source": source if by_list else None,
        "date": date_maj if by_list else None,
        "texte": texte,
    }


# How many other communes a territory search offers besides the one it answers.
TERRITORY_CHOICES = 6


def territory_search(
    conn: sqlite3.Connection,
    text: str,
    code: str | None = None,
    region: str | None = None,
    finder_url: str | None = None,
) -> dict[str, Any]:
    """Return the commune a territory search names and its competent answer (`reponse`, as `competent`
    gives it), with the other communes the text could mean (`autres`: code, nom, departement).

    `code` (an INSEE code the searcher picked among the others) wins over the text. A postcode shared
    by several communes answers none of them: `autres` lists them to pick from. `reponse` is None when
    nothing matches or the choice is left to the searcher.
    """
    places = resolve(conn, text, limit=TERRITORY_CHOICES + 1, region=region)
    communes = [p for p in places if p["type"] == "commune" and p.get("code")]
    if not communes and places and places[0]["type"] == "point":
        found = commune_at(conn, places[0]["latitude"], places[0]["longitude"])
        communes = [{"type": "commune", "code": found["code"], "match": "coordonnees"}] if found else []
    picked = None
    if code and store_communes.get(conn, code) is not None:
        picked = code
    elif communes and not (communes[0]["match"] == "code_postal" and len(communes) > 1):
        picked = communes[0]["code"]
    answer = competent(conn, picked, region, finder_url) if picked else None
    others = []
    for c in communes:
        if c["code"] == picked:
            continue
        info = commune_info(conn, c["code"])
        if info:
            others.append({"code": info["code"], "nom": info["nom"], "departement": info["departement"]})
    return {"texte": text, "reponse": answer, "autres": others[:TERRITORY_CHOICES]}


def territories_overview(conn: sqlite3.Connection, region: str | None = None) -> dict[str, Any]:
    """Return every territory with its origin and, for a Mission locale of another région covering
    communes of this one, its département and région (`hors_region`); the région's Missions locales
    first (`region`), the others apart (`autres`), and what the whole map rests on (`resume`)."""
    region = region or config.load()["REGION"]
    lists = store_coverage.lists_by_structure(conn)
    home, away = [], []
    for t in store_territories.territories(conn):
        row = {
            **t,
            "origine": territory_origin(conn, t, lists),
            "hors_region": outside_region(conn, t, region),
        }
        (away if row["hors_region"] else home).append(row)
    rows = home + away
    by_list = sum(r["par_couverture"] for r in rows)
    inferred = sum(r["par_territoire_probable"] for r in rows)
    official = [r["origine"] for r in rows if r["origine"]["officiel"]]
    newest = max(official, key=lambda o: o["date"] or "") if official else None
    listed = "les listes des communes couvertes importées"
    if newest:
        listed = f"la liste des communes couvertes : {coverage_origin(newest['source'], newest['date'])}"
    if by_list and not inferred:
        texte = f"Chaque commune de la région est rattachée à sa Mission locale par {listed}."
    elif inferred and not by_list:
        texte = (
            "Aucune liste des communes couvertes n’est importée : chaque commune de la région est "
            "rattachée à une Mission locale par déduction, d’après les lieux d’accueil (sièges et "
            "antennes) de son intercommunalité. Ces territoires sont probables, pas officiels."
        )
    else:
        texte = (
            f"{by_list} communes de la région sont rattachées à leur Mission locale par {listed} ; les "
            f"{inferred} autres, qu’aucune liste ne nomme, par déduction d’après les lieux d’accueil de "
            "leur intercommunalité (territoire probable, pas officiel)."
        )
    return {
        "region": home,
        "autres": away,
        "communes_autres": sum(r["communes"] for r in away),
        "par_couverture": by_list,
        "par_territoire_probable": inferred,
        "liste": {"source": newest["source"], "date": newest["date"]} if newest else None,
        "texte": texte,
    }
