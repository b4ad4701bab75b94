"""resolve(text) → places: communes (current, former, arrondissements), départements, points.

The name index lives in memory, built once per process from the store's `noms` table (about
37,500 keys): exact and prefix look-ups are dictionary and bisect operations, typos go through
rapidfuzz over the keys of similar length only.
"""

from __future__ import annotations

import bisect
import re
import sqlite3
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .geo import codes, names
from .geo.distance import valid_lat_lon
from .store import communes as store_communes

# Match quality tiers, best first; within a tier the home région, then population, decide.
EXACT, GLUED, ARTICLE, PREFIX, FUZZY = range(5)

_LATLON = re.compile(r"^\s*(-?\d{1,2}(?:[.,]\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:[.,]\d+)?)\s*$")
_POSTCODE_IN = re.compile(r"\b(\d{5})\b")
_CEDEX = re.compile(r"\bcedex(?:\s*\d{1,2})?\b")
_NOISE_PREFIX = re.compile(
    r"^(?:(?:la\s+)?(?:mairie|commune|ville|village)\s+(?:de\s+|d\s+|du\s+|des\s+)?|a\s+|habite\s+a\s+)"
)
_ARRONDISSEMENT = re.compile(
    r"^(paris|lyon|marseille)\s*(\d{1,2})\s*(?:e|er|eme|ieme|em|ème)?(?:\s+arr\w*)?$"
)


@dataclass
class _Index:
    """Search keys → entries, with the sorted keys for prefixes and the lengths for typos."""

    exact: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    sorted_keys: list[str] = field(default_factory=list)
    glued: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sorted_glued: list[str] = field(default_factory=list)
    bare: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    by_length: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    rank: dict[str, tuple[str, int]] = field(default_factory=dict)
    departements: dict[str, str] = field(default_factory=dict)


_cache: dict[str, _Index] = {}
_lock = threading.Lock()


def _index(conn: sqlite3.Connection) -> _Index:
    """Return the name index of this store, built on first use and kept per reference version."""
    version = conn.execute("SELECT value FROM meta WHERE key = 'reference_checksum'").fetchone()
    key = version[0] if version else ""
    idx = _cache.get(key)
    if idx is not None:
        return idx
    with _lock:
        if key in _cache:
            return _cache[key]
        idx = _Index()
        for cle, kind, code, nom in store_communes.all_names(conn):
            idx.exact[cle].append((kind, code, nom))
            if kind == "departement":
                idx.departements[code] = nom
        idx.sorted_keys = sorted(idx.exact)
        for cle in idx.sorted_keys:
            idx.glued[names.glued(cle)].append(cle)
            idx.bare[names.strip_article(cle)].append(cle)
            idx.by_length[len(cle)].append(cle)
        idx.sorted_glued = sorted(idx.glued)
        idx.rank = store_communes.ranking(conn)
        _cache.clear()
        _cache[key] = idx
        return idx


def _prefixed(sorted_keys: list[str], prefix: str, limit: int = 400) -> list[str]:
    i = bisect.bisect_left(sorted_keys, prefix)
    out = []
    while i < len(sorted_keys) and sorted_keys[i].startswith(prefix) and len(out) < limit:
        out.append(sorted_keys[i])
        i += 1
    return out


def _clean(text: str) -> tuple[str, list[str]]:
    """Return the query key without noise, and the postcodes found in it."""
    key = names.normalize(text)
    postcodes = _POSTCODE_IN.findall(key)
    key = _POSTCODE_IN.sub(" ", key)
    key = _CEDEX.sub(" ", key)
    key = _NOISE_PREFIX.sub("", key.strip())
    return " ".join(key.split()), postcodes


def _candidates(idx: _Index, key: str) -> dict[tuple[str, str], tuple[int, str, str]]:
    """Return (kind, code) → (tier, matched name, kind) for a cleaned query key."""
    found: dict[tuple[str, str], tuple[int, str, str]] = {}

    def add(cles: list[str], tier: int) -> None:
        for cle in cles:
            for kind, code, nom in idx.exact.get(cle, ()):
                k = (kind if kind in ("departement",) else "commune", code)
                if k not in found or found[k][0] > tier:
                    found[k] = (tier, nom, kind)

    add([key] if key in idx.exact else [], EXACT)
    g = names.glued(key)
    add(idx.glued.get(g, []), GLUED)
    add(idx.bare.get(names.strip_article(key), []), ARTICLE)
    if len(key) >= 2:
        add(_prefixed(idx.sorted_keys, key), PREFIX)
        add([c for gk in _prefixed(idx.sorted_glued, g) for c in idx.glued[gk]], PREFIX)
    if not found and len(key) >= 4:
        max_typos = 1 if len(key) <= 6 else 2
        pool = [
            c for n in range(len(key) - max_typos, len(key) + max_typos + 1) for c in idx.by_length.get(n, ())
        ]
        for cle, _dist, _i in process.extract(
            key, pool, scorer=Levenshtein.distance, score_cutoff=max_typos, limit=50
        ):
            add([cle], FUZZY)
    return found


def _commune_place(conn, code: str, match: str, note: str | None = None) -> dict[str, Any] | None:
    commune = store_communes.get(conn, code)
    if commune is None:
        return None
    return {
        "type": "commune",
        "code": code,
        "nom": commune["nom"],
        "commune": commune,
        "match": match,
        "note": note,
    }


def resolve(
    conn: sqlite3.Connection, text: str, limit: int = 10, region: str = codes.REGION_AURA
) -> list[dict[str, Any]]:
    """Return the places a text may mean, best first (see DESIGN.md "Lookup semantics")."""
    text = (text or "").strip()
    if not text:
        return []
    idx = _index(conn)
    places: list[dict[str, Any]] = []

    m = _LATLON.match(text)
    if m and any(c in g for g in m.groups() for c in ".,"):
        lat, lon = float(m.group(1).replace(",", ".")), float(m.group(2).replace(",", "."))
        if valid_lat_lon(lat, lon):
            from .lookup import commune_at

            return [
                {
                    "type": "point",
                    "latitude": lat,
                    "longitude": lon,
                    "commune": commune_at(conn, lat, lon),
                    "match": "coordonnees",
                    "note": None,
                }
            ]

    compact = text.replace(" ", "")
    dep = codes.normalize_departement(compact)
    if dep and dep in idx.departements:
        return [
            {
                "type": "departement",
                "code": dep,
                "nom": idx.departements[dep],
                "match": "code_departement",
                "note": None,
            }
        ]

    if codes.is_postcode(compact) or codes.is_insee_code(compact):
        code = compact.upper()
        for insee in store_communes.by_postcode(conn, code):
            place = _commune_place(conn, insee, "code_postal")
            if place:
                places.append(place)
        places.sort(key=lambda p: (p["commune"]["type"] != "ARM", -(p["commune"]["population"] or 0)))
        place = _commune_place(conn, code, "code_insee")
        if place and all(p["code"] != code for p in places):
            places.append(place)
        for old in store_communes.ancienne(conn, code):
            if old["commune"] != code:
                note = _former_note(old, conn)
                place = _commune_place(conn, old["commune"], "code_insee_ancien", note)
                if place:
                    places.append(place)
        return places[:limit]

    key, postcodes = _clean(text)
    if not key:
        return resolve(conn, postcodes[0], limit, region) if postcodes else []
    arr = _ARRONDISSEMENT.match(key)
    if arr:
        code = codes.arrondissement_code(codes.PLM_NAMES[arr.group(1)], int(arr.group(2)))
        place = _commune_place(conn, code, "arrondissement") if code else None
        if place:
            return [place]

    found = _candidates(idx, key)
    in_postcodes = set()
    for cp in postcodes:
        in_postcodes.update(store_communes.by_postcode(conn, cp))

    def order(item):
        (kind, code), (tier, _nom, _k) = item
        reg, pop = idx.rank.get(code, ("", 0)) if kind == "commune" else (region, 10**9)
        return (code not in in_postcodes if in_postcodes else False, tier, reg != region, -pop, code)

    for (kind, code), (tier, nom, how) in sorted(found.items(), key=order):
        if kind == "departement":
            places.append(
                {"type": "departement", "code": code, "nom": nom, "match": _TIER_NAMES[tier], "note": None}
            )
            continue
        note = None
        if how in ("deleguee", "associee"):
            note = _former_note(
                {"nom": nom, "type": "COMD" if how == "deleguee" else "COMA", "commune": code}, conn
            )
        place = _commune_place(conn, code, _TIER_NAMES[tier], note)
        if place:
            places.append(place)
        if len(places) >= limit:
            break
    return places


_TIER_NAMES = {EXACT: "exact", GLUED: "exact", ARTICLE: "exact", PREFIX: "debut", FUZZY: "approche"}


def _former_note(old: dict[str, Any], conn: sqlite3.Connection) -> str:
    current = store_communes.get(conn, old["commune"])
    what = "une commune déléguée" if old["type"] == "COMD" else "une commune associée"
    return f"{old['nom']} est {what} {names.de(current['nom']) if current else 'de ' + old['commune']}."
