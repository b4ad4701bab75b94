"""Where an imported row is: its commune (INSEE code, postcode + name, name, or point) and a point we trust.

Points are (latitude, longitude) in WGS84 degrees. Lambert-93 x/y (EPSG:2154, metres) are converted
with pyproj. Every point is checked against France and against its commune's contour.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from ..geo import addresses, codes, geometry, joins, names
from ..geo.postal import has_cedex, without_postal_noise
from ..store import communes as store_communes
from . import clean
from .geocoders import Geocoder

# (min_lat, max_lat, min_lon, max_lon): metropolitan France with Corsica, then the overseas départements.
FRANCE_BOXES = (
    (41.3, 51.2, -5.3, 9.7),
    (15.8, 16.6, -61.9, -60.9),
    (14.3, 14.95, -61.3, -60.8),
    (2.1, 5.9, -54.7, -51.5),
    (-21.45, -20.85, 55.2, 55.9),
    (-13.1, -12.6, 44.9, 45.35),
    (46.7, 47.2, -56.5, -56.1),
)
# Lambert-93 covers metropolitan France in these ranges (metres).
L93_X = (50_000.0, 1_300_000.0)
L93_Y = (6_000_000.0, 7_150_000.0)


def in_france(lat: float, lon: float) -> bool:
    """Tell whether a point lies in France (boxes around the mainland, Corsica, each overseas département)."""
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in FRANCE_BOXES)


@lru_cache(maxsize=1)
def _l93_to_wgs84():
    from pyproj import Transformer  # heavy: only when a file carries Lambert-93 coordinates

    return Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)


def lambert93_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """Return (latitude, longitude) of a Lambert-93 point (x east, y north, metres)."""
    lon, lat = _l93_to_wgs84().transform(x, y)
    return lat, lon


def _in_l93(x: float, y: float) -> bool:
    return L93_X[0] <= x <= L93_X[1] and L93_Y[0] <= y <= L93_Y[1]


@lru_cache(maxsize=16384)  # every row compares its commune's own name: a file meets the same ones often
def _key(name: str) -> str:
    """Compare commune names without article, spaces or hyphens."""
    return names.glued(names.strip_article(names.normalize(name)))


@lru_cache(maxsize=4096)
def _name_key(written: str) -> str:
    return _key(without_postal_noise(written) or "")


# How alike a commune written after a comma must be to a commune's name to be read as it (a typo).
TYPO_SCORE = 85
_UNREAD = object()
# Above the ~35,000 communes and arrondissements: a national file reads each once.
_COMMUNES_MAX = 50_000


@dataclass
class Place:
    """The resolved place of a row, with the problems found on the way."""

    commune: dict[str, Any] | None = None
    code_postal: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    precision: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    candidates: list[dict[str, str]] = field(default_factory=list)
    from_address: bool = False  # the postcode or commune was read from the address cell
    street_cut: bool = False  # the address cell's postcode and commune were cut off (read or repeated)
    adresse: str | None = None  # then: the street part of that cell (None when it held only those)


class PlaceResolver:
    """Resolves rows of one import; keeps small caches of the communes it met."""

    def __init__(self, conn: sqlite3.Connection, geocoder: Geocoder, far_km: float, offline: bool = False):
        """`offline`: GeoPandas places the points in their communes (`locator import`, the build); a web
        worker never loads it, so the wizard's plans use Shapely for the same tests."""
        self.conn = conn
        self.geocoder = geocoder
        self.far_km = far_km
        self.offline = offline
        self._frame: tuple[Any, dict[str, int]] | None = None  # offline: see _communes_frame
        self._shapes: dict[str, Any] = {}  # offline: code → its contour decoded (see _shapes_of)
        self._communes: dict[str, tuple | None] = {}  # code → row of store_communes.PUBLIC_FIELDS
        self._postcodes: dict[str, list[str]] = {}
        self._contours: dict[str, bytes | None] = {}
        self._keys: dict[str, set[str]] = {}
        self._cps: dict[str, list[str]] = {}
        self._departements: dict[str, str] = {}  # code → name, for messages
        self._boxes: tuple[list[str], list[bool], Any] | None = None  # every commune's box, indexed once

    # -- look-ups, cached -------------------------------------------------------------------------
    def commune(self, code: str) -> dict[str, Any] | None:
        """Return a current commune or arrondissement by INSEE code (cached, a département at a time)."""
        row = self._communes.get(code, _UNREAD)
        if row is _UNREAD:
            self._read_departement_of(code)
            row = self._communes[code]
        return dict(zip(store_communes.PUBLIC_FIELDS, row, strict=True)) if row else None

    def _read_departement_of(self, code: str) -> None:
        """Cache every commune of `code`'s département in one read (None for an unknown code).

        A national file meets every commune: rows are kept as tuples, 19 MB for all of France (measured),
        and the cache is bounded above the number of communes (unknown codes cannot grow it forever).
        """
        if len(self._communes) > _COMMUNES_MAX:
            self._communes.clear()
        for row in store_communes.rows_of_departement_of(self.conn, code):
            self._communes[row[0]] = row
        self._communes.setdefault(code, None)

    def by_postcode(self, cp: str) -> list[str]:
        """Return the INSEE codes a postcode serves (cached)."""
        if cp not in self._postcodes:
            if len(self._postcodes) > 5000:
                self._postcodes.clear()
            self._postcodes[cp] = store_communes.by_postcode(self.conn, cp)
        return self._postcodes[cp]

    def postcodes_of(self, code: str) -> list[str]:
        """Return the postcodes of a commune (cached)."""
        if code not in self._cps:
            if len(self._cps) > _COMMUNES_MAX:
                self._cps.clear()
            if code not in self._communes:
                self._read_departement_of(code)
            row = self._communes[code]
            if row:  # the whole département in one read
                self._cps.update(store_communes.postcodes_of_departement(self.conn, row[4]))
            if code not in self._cps:
                self._cps[code] = store_communes.postcodes_of(self.conn, code)
        return self._cps[code]

    def contour(self, code: str) -> bytes | None:
        """Return a commune's contour WKB (cached)."""
        if code not in self._contours:
            if len(self._contours) > 2000:
                self._contours.clear()
            self._contours[code] = store_communes.contour(self.conn, code)
        return self._contours[code]

    def _name_matches(self, commune: dict[str, Any], name: str) -> bool:
        """Tell whether a written commune name means this commune (its name, its city's, a former one's)."""
        written = _name_key(name)
        # Most rows write the commune's own name: its city's and former names are read only otherwise.
        return written == _key(commune["nom"]) or written in self._keys_of(commune)

    def _keys_of(self, commune: dict[str, Any]) -> set[str]:
        code = commune["code"]
        if code not in self._keys:
            if len(self._keys) > 5000:
                self._keys.clear()
            keys = {_key(commune["nom"])}
            if commune.get("commune_parent"):  # "Lyon" for Lyon 3e
                parent = self.commune(commune["commune_parent"])
                if parent:
                    keys.add(_key(parent["nom"]))
            keys.update(_key(old["nom"]) for old in store_communes.anciennes_of(self.conn, code))
            self._keys[code] = keys
        return self._keys[code]

    def _by_name(self, name: str, departement: str | None) -> tuple[list[dict[str, Any]], bool]:
        """Return (communes, exact) for a commune name, within a département when given."""
        from ..places.resolve import resolve

        cleaned = without_postal_noise(name) or name
        places = [p for p in resolve(self.conn, cleaned, limit=20) if p["type"] == "commune"]
        if departement:
            places = [p for p in places if p["commune"]["departement"] == departement]
        exact = [p for p in places if p["match"] == "exact"]
        chosen = exact or [p for p in places if p["match"] == "approche"]
        seen: dict[str, dict[str, Any]] = {}
        for p in chosen:
            seen.setdefault(p["code"], p["commune"])
        return list(seen.values()), bool(exact)

    @staticmethod
    def _candidate(c: dict[str, Any]) -> dict[str, str]:
        return {"code_insee": c["code"], "nom": c["nom"], "departement": c["departement"]}

    # -- the steps ----------------------------------------------------------------------------------
    def _point(self, row: dict[str, Any], place: Place) -> tuple[float, float] | None:
        """Read the point of a row (lat/lon or Lambert-93 x/y), fixing swaps; None when absent or unusable."""
        lat, lon, x, y = row.get("latitude"), row.get("longitude"), row.get("x"), row.get("y")
        if lat is None and lon is None and x is not None and y is not None:
            if not _in_l93(x, y) and _in_l93(y, x):
                x, y = y, x
                place.warnings.append("x et y inversés (Lambert-93) : remis dans l’ordre")
            if not _in_l93(x, y):
                place.warnings.append(f"coordonnées Lambert-93 impossibles (x={x:g}, y={y:g}) : ignorées")
                return None
            return lambert93_to_wgs84(x, y)
        if lat is None or lon is None:
            if (lat is None) != (lon is None):
                place.warnings.append("latitude ou longitude manquante : le point est ignoré")
            return None
        if _in_l93(lon, lat) or _in_l93(lat, lon):
            # Lambert-93 metres written in the latitude/longitude columns.
            if _in_l93(lat, lon):
                lat, lon = lon, lat
            lat, lon = lambert93_to_wgs84(lon, lat)
            place.warnings.append("coordonnées en mètres (Lambert-93) dans latitude/longitude : converties")
            return lat, lon
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) and not (-90 <= lon <= 90 and -180 <= lat <= 180):
            place.warnings.append(f"coordonnées impossibles ({lat:g}, {lon:g}) : ignorées")
            return None
        if in_france(lat, lon):
            return lat, lon
        if in_france(lon, lat):
            place.warnings.append("latitude et longitude inversées : remises dans l’ordre")
            return lon, lat
        place.warnings.append(f"point hors de France ({lat:g}, {lon:g}) : ignoré")
        return None

    def _commune(self, row: dict[str, Any], place: Place, point: tuple[float, float] | None) -> None:
        """Find the row's commune from its INSEE code, postcode and name, or its point."""
        code, cp, name = row.get("code_insee"), row.get("code_postal"), row.get("commune")
        chosen = row.get("choix_commune")
        if chosen:
            code = chosen
        if code:
            commune = self.commune(code)
            if commune is None:
                olds = store_communes.ancienne(self.conn, code)
                if olds:
                    commune = self.commune(olds[0]["commune"])
                    if commune:
                        place.warnings.append(
                            f"code INSEE {code} : ancienne commune ({olds[0]['nom']}), rattachée à "
                            f"{commune['nom']} ({commune['code']})"
                        )
            if commune is None:
                place.errors.append(f"code INSEE {code} inconnu")
                return
            # Paris, Lyon, Marseille: the postcode gives the arrondissement.
            if commune["code"] in codes.PLM and cp:
                arr = codes.arrondissement_of_postcode(cp)
                if arr and self.commune(arr):
                    commune = self.commune(arr)
            place.commune = commune
            if name and not self._name_matches(commune, name):
                place.warnings.append(
                    f"la commune « {name} » ne correspond pas au code INSEE {code} ({commune['nom']}) : "
                    "le code INSEE est retenu"
                )
            if cp:
                self._check_postcode(commune, cp, name, place)
            return
        if cp:
            served = self.by_postcode(cp)
            cedex = has_cedex(name) or (not served and cp[:2] == (row.get("departement") or cp[:2]))
            if not served:
                dep = codes.departement_of_insee(cp) if cp[:2] not in ("97",) else cp[:3]
                if name:
                    found, exact = self._by_name(name, dep)
                    if len(found) == 1:
                        place.commune = found[0]
                        what = "code postal CEDEX" if has_cedex(name) else "code postal inexistant"
                        place.warnings.append(
                            f"{what} {cp} : commune retrouvée par son nom ({found[0]['nom']}, "
                            f"{found[0]['code']})"
                        )
                        self._real_postcode(found[0], cp, place)
                        return
                    if len(found) > 1:
                        place.candidates = [self._candidate(c) for c in found]
                place.errors.append(
                    f"code postal {cp} inexistant"
                    + (f" et commune « {name} » introuvable dans le département {dep}" if name else "")
                    + ("" if not cedex else " (code CEDEX : indiquez la commune)")
                )
                return
            communes = [c for c in (self.commune(x) for x in served) if c]
            if name:
                matching = [c for c in communes if self._name_matches(c, name)]
                if len(matching) >= 1:
                    place.commune = self._prefer_arrondissement(matching, cp)
                    place.code_postal = cp
                    return
                found, _exact = self._by_name(name, codes.departement_of_insee(cp))
                if len(found) == 1 and found[0]["code"] in {c["code"] for c in communes}:
                    # A name written differently (« Pérignat-ès-Allier ») of a commune the code serves.
                    place.commune = found[0]
                    place.code_postal = cp
                    place.warnings.append(
                        f"commune « {name} » lue comme {found[0]['nom']} ({found[0]['code']}), "
                        f"que dessert le code postal {cp}"
                    )
                    return
                if len(found) == 1:
                    place.commune = found[0]
                    place.warnings.append(
                        f"le code postal {cp} ne dessert pas {found[0]['nom']} "
                        f"(codes : {', '.join(self.postcodes_of(found[0]['code']))}) : "
                        "la commune est retenue"
                    )
                    self._real_postcode(found[0], None, place)
                    return
                place.candidates = [self._candidate(c) for c in communes]
                place.errors.append(
                    f"la commune « {name} » ne correspond pas au code postal {cp} "
                    f"(communes de ce code : {', '.join(c['nom'] for c in communes[:8])})"
                )
                return
            if len(communes) == 1 or {c.get("commune_parent") for c in communes} - {None} == {
                c["code"] for c in communes if not c.get("commune_parent")
            }:
                place.commune = self._prefer_arrondissement(communes, cp)
                place.code_postal = cp
                return
            if point is not None:
                inside = self._containing(point, [c["code"] for c in communes])
                if inside:
                    place.commune = inside
                    place.code_postal = cp
                    return
            place.candidates = [self._candidate(c) for c in communes]
            place.errors.append(
                f"le code postal {cp} dessert {len(communes)} communes : indiquez la commune "
                f"({', '.join(c['nom'] for c in communes[:8])})"
            )
            return
        if name:
            found, exact = self._by_name(name, row.get("departement"))
            if point is not None and len(found) > 1:
                inside = self._containing(point, [c["code"] for c in found])
                if inside:
                    place.commune = inside
                    return
            if len(found) == 1:
                place.commune = found[0]
                if not exact:
                    place.warnings.append(
                        f"commune « {name} » lue comme {found[0]['nom']} ({found[0]['code']})"
                    )
                return
            if found:
                place.candidates = [self._candidate(c) for c in found[:10]]
                place.errors.append(
                    f"plusieurs communes s’appellent « {name} » : indiquez le code postal ou le code INSEE"
                )
                return
            place.errors.append(f"commune « {name} » introuvable")
            return
        if point is not None:
            from ..places.communes import commune_at

            commune = commune_at(self.conn, point[0], point[1])
            if commune is None:
                place.errors.append("le point ne tombe dans aucune commune française")
                return
            place.commune = self.commune(commune["code"]) or commune
            return
        place.errors.append(
            "aucun lieu : il faut des coordonnées, un code INSEE, un code postal ou une commune"
        )

    def _prefer_arrondissement(self, communes: list[dict[str, Any]], cp: str) -> dict[str, Any]:
        arr = codes.arrondissement_of_postcode(cp)
        for c in communes:
            if c["code"] == arr:
                return c
        return sorted(communes, key=lambda c: (c.get("commune_parent") is None, c["code"]))[0]

    def _containing(self, point: tuple[float, float], codes_: list[str]) -> dict[str, Any] | None:
        for code in codes_:
            wkb = self.contour(code)
            if wkb is not None and geometry.contains(wkb, point[0], point[1]):
                return self.commune(code)
        return None

    def _real_postcode(self, commune: dict[str, Any], given: str | None, place: Place) -> None:
        cps = self.postcodes_of(commune["code"])
        place.code_postal = cps[0] if len(cps) == 1 else given

    def _check_postcode(self, commune: dict[str, Any], cp: str, name: str | None, place: Place) -> None:
        cps = self.postcodes_of(commune["code"])
        if cp in cps:
            place.code_postal = cp
            return
        if not self.by_postcode(cp):
            what = "code CEDEX" if has_cedex(name) else "absent de la liste de La Poste (code CEDEX ?)"
            place.warnings.append(
                f"code postal {cp} {what} : remplacé par {cps[0] if cps else cp} ({commune['nom']})"
            )
        else:
            place.warnings.append(
                f"le code postal {cp} ne dessert pas {commune['nom']} (codes : {', '.join(cps)}) : remplacé"
            )
        place.code_postal = cps[0] if cps else cp

    def _read_address(
        self, row: dict[str, Any], place: Place, point: tuple[float, float] | None
    ) -> dict[str, Any]:
        """Read the postcode and commune written in the address cell of a row that has no other place.

        Return the row with `code_postal` and `commune` (or `code_insee`) filled and `adresse` reduced
        to its street part; unchanged when the row has its commune elsewhere or the address says none.
        """
        if not row.get("adresse"):
            return row
        written = row["adresse"]
        parts = addresses.split(written)
        if row.get("code_insee") or row.get("code_postal") or row.get("commune"):
            return self._repeated(row, parts, place)
        if parts.code_postal:
            place.from_address, place.street_cut, place.adresse = True, True, parts.rue
            commune = parts.commune
            if commune is None and parts.rue:  # « 12 rue X, Riom 63200 »: the commune before the code
                tails = addresses.commune_tails(parts.rue)
                if tails and tails[0][2]:
                    place.adresse, commune = tails[0][0], tails[0][1]
            return {**row, "adresse": place.adresse, "code_postal": parts.code_postal, "commune": commune}
        if point is not None:
            return row  # the point says the commune; the address stays whole for the geocoder
        for street, tail, separated in addresses.commune_tails(written):
            found, exact = self._by_name(tail, row.get("departement"))
            if not separated:  # the last words of a street: only a commune's very name counts
                found = [c for c in found if _name_key(tail) in self._keys_of(c)]
            elif not exact:  # after a comma: a typo is read, not a building (« Résidence les Lilas »)
                found = [c for c in found if fuzz.ratio(_name_key(tail), _key(c["nom"])) >= TYPO_SCORE]
            if not found:
                continue
            place.from_address, place.street_cut, place.adresse = True, True, street
            chosen = row.get("choix_commune")  # the admin picked one of the homonyms in the wizard
            if chosen and any(c["code"] == chosen for c in found):
                return {**row, "adresse": street, "code_insee": chosen}
            if len(found) > 1:
                listed = "\u202f; ".join(
                    f"{c['nom']} ({self._departement_name(c)}, {c['code']})" for c in found[:10]
                )
                place.candidates = [self._candidate(c) for c in found[:10]]
                place.errors.append(
                    f"adresse « {written[:80]} »\u202f: plusieurs communes s’appellent « {tail} » "
                    f"({listed})\u202f; ajoutez le code postal à l’adresse ou une colonne code_postal"
                )
                return row
            if not exact:
                place.warnings.append(f"commune « {tail} » de l’adresse lue comme {found[0]['nom']}")
            return {**row, "adresse": street, "code_insee": found[0]["code"]}
        place.errors.append(
            f"aucun lieu\u202f: l’adresse « {written[:80]} » ne dit ni code postal ni commune "
            "reconnue\u202f; ajoutez-les à l’adresse (« 12 rue de l’Hôtel de Ville, 63200 Riom ») "
            "ou dans des colonnes code_postal et commune"
        )
        return row

    def _repeated(self, row: dict[str, Any], parts: addresses.Split, place: Place) -> dict[str, Any]:
        """Cut the postcode and commune off an address cell that repeats them beside their own columns.

        « 12 rue X 63200 Riom » with a commune column « Riom »: the street part is stored; the postcode
        is taken when the row has none. An address whose postcode differs from the row's stays whole.
        """
        if not parts.code_postal:
            return self._named_at_end(row, parts, place)
        if not parts.rue:
            return row
        given = row.get("code_postal")
        if given and given != parts.code_postal:
            return row
        commune = row.get("commune")
        if not given and commune and parts.commune and _name_key(parts.commune) != _name_key(commune):
            return row  # two communes: let the columns speak, the address stays as written
        place.street_cut, place.adresse = True, parts.rue
        out = {**row, "adresse": parts.rue}
        if not given and not row.get("code_insee"):
            out["code_postal"] = parts.code_postal
        return out

    def _named_at_end(self, row: dict[str, Any], parts: addresses.Split, place: Place) -> dict[str, Any]:
        """Read the commune named at the end of an address beside a postcode or commune column.

        « 12 rue X, Riom » with a commune « Riom »: the street part is stored. With a postcode alone,
        the commune the address names among those the postcode serves is taken (« Place de la Mairie,
        Saint-Just » with 63600, which serves ten communes). Only the communes of the row's own
        columns are compared: no search.
        """
        if row.get("code_insee") or not parts.rue:
            return row
        written, cp = row.get("commune"), row.get("code_postal")
        served = [] if written or not cp else [c for c in map(self.commune, self.by_postcode(cp)) if c]
        for street, tail, _separated in addresses.commune_tails(parts.rue):
            if not street:
                continue
            if written and _name_key(tail) == _name_key(written):
                place.street_cut, place.adresse = True, street
                return {**row, "adresse": street}
            named = [c for c in served if self._name_matches(c, tail)]
            if named:
                place.street_cut, place.adresse = True, street
                return {**row, "adresse": street, "commune": tail}
        return row

    def _departement_name(self, commune: dict[str, Any]) -> str:
        """Return the name of a commune's département (« Puy-de-Dôme »), or its code."""
        code = commune["departement"]
        if code not in self._departements:
            found = store_communes.departement(self.conn, code)
            self._departements[code] = found["nom"] if found else code
        return self._departements[code]

    def _address_note(self, place: Place, found: Any) -> str:
        """Say what was read from an address cell and what the position stands for."""
        nom = place.commune["nom"] if place.commune else "?"
        said = f"code postal et commune lus dans l’adresse\u202f: {place.code_postal or '?'} {nom}"
        if found is not None and found.precision == "commune" and not found.note:
            if not place.adresse:
                why = "l’adresse ne donne que la commune"
            elif self.geocoder.name == "offline":
                why = "adresse non géocodée hors ligne"
            else:
                why = "adresse trouvée seulement au niveau de la commune"
            said += f"\u202f; position au centre de la commune ({why})"
        return said

    def resolve(self, row: dict[str, Any]) -> Place:
        """Resolve one row's place (see `resolve_many`)."""
        return self.resolve_many([row])[0]

    def resolve_many(self, rows: Sequence[dict[str, Any]]) -> list[Place]:
        """Resolve the places of a chunk of rows: commune, postcode, trusted point (given, or geocoded)
        and its precision, in the rows' order.

        Each row holds clean values: code_insee, code_postal, commune, departement, adresse,
        latitude/longitude or x/y (floats), and optionally choix_commune (an INSEE code picked by
        the admin among candidates). The points are placed in their communes in bulk: the rows known
        by their point alone in one spatial join (offline: GeoPandas over every commune's contour;
        in the wizard: Shapely over the communes' boxes, then their contours), and every given point
        checked against its commune's contour in one vectorised test (each contour read once).
        """
        places = [Place() for _ in rows]
        points = [self._point(row, place) for row, place in zip(rows, places, strict=True)]
        # An address cell may hold the postcode and commune (« 12 rue X, 63200 Riom »): read them first.
        rows = [self._read_address(r, pl, pt) for r, pl, pt in zip(rows, places, points, strict=True)]
        by_point = []  # rows with a point and nothing else: their commune is the one holding the point
        for i, (row, place, point) in enumerate(zip(rows, places, points, strict=True)):
            if point is not None and not any(
                row.get(k) for k in ("choix_commune", "code_insee", "code_postal", "commune")
            ):
                by_point.append(i)
            elif not place.errors:
                self._commune(row, place, point)
        if by_point:
            found = self.communes_at([points[i] for i in by_point])
            for i, commune in zip(by_point, found, strict=True):
                if commune is None:
                    places[i].errors.append("le point ne tombe dans aucune commune française")
                else:
                    places[i].commune = self.commune(commune["code"]) or commune
        for row, place in zip(rows, places, strict=True):
            if place.errors or place.code_postal is not None or not place.commune:
                continue
            cps = self.postcodes_of(place.commune["code"])
            if row.get("code_postal") in cps:
                place.code_postal = row["code_postal"]
            elif len(cps) == 1:
                place.code_postal = cps[0]
        checked = [i for i, (p, pt) in enumerate(zip(places, points, strict=True)) if pt and not p.errors]
        trusted = self._trust_many([points[i] for i in checked], [places[i] for i in checked])
        for i, point in zip(checked, trusted, strict=True):
            points[i] = point
        for row, place, point in zip(rows, places, points, strict=True):
            if not place.errors:
                self._finish(row, place, point)
        return places

    def _finish(self, row: dict[str, Any], place: Place, point: tuple[float, float] | None) -> None:
        """Keep the trusted point, or geocode the row."""
        if point is not None:
            place.latitude, place.longitude = round(point[0], 6), round(point[1], 6)
            place.precision = row.get("precision") or "source"
            if place.from_address:
                place.warnings.append(self._address_note(place, None))
            return
        found = self.geocoder.geocode(self.conn, row.get("adresse"), place.code_postal, place.commune)
        if place.from_address:
            place.warnings.append(self._address_note(place, found))
        if found is None:
            place.warnings.append("position inconnue : la structure n’apparaîtra pas sur la carte")
            return
        if found.note:
            place.warnings.append(found.note)
        place.latitude, place.longitude = round(found.latitude, 6), round(found.longitude, 6)
        place.precision = found.precision

    def communes_at(self, points: Sequence[tuple[float, float]]) -> list[dict[str, Any] | None]:
        """Return the commune holding each point (an arrondissement before its city), in one bulk query.

        A point outside every contour (generalised contours: a border, a shore) gets the closest
        commune within 2 km, as `commune_at` decides, or None.
        """
        from ..places.communes import commune_at

        lats, lons = [p[0] for p in points], [p[1] for p in points]
        if self.offline:
            frame, _rows = self._communes_frame()
            codes_ = frame["code"].tolist()
            arrondissement = frame["arrondissement"].tolist()
            at, box = joins.points_in(frame, lats, lons)
            inside = [True] * len(at)
        else:
            if self._boxes is None:
                rows = store_communes.boxes(self.conn)
                self._boxes = (
                    [r[0] for r in rows],
                    [r[1] for r in rows],
                    geometry.BoxIndex([r[2:] for r in rows]),
                )
            codes_, arrondissement, index = self._boxes
            at, box = index.pairs(lats, lons)
            contours = store_communes.contours_of(self.conn, [codes_[b] for b in box])
            inside = geometry.contains_many(
                [contours.get(codes_[b]) for b in box], [lats[i] for i in at], [lons[i] for i in at]
            )
        best: dict[int, int] = {}
        for i, b, hit in zip(at, box, inside, strict=True):
            # An arrondissement is more precise than its city; then the store's order.
            if hit and (i not in best or (not arrondissement[best[i]], best[i]) > (not arrondissement[b], b)):
                best[i] = b
        out: list[dict[str, Any] | None] = []
        for i, (lat, lon) in enumerate(points):
            if i in best:
                out.append(self.commune(codes_[best[i]]))
            else:  # rare: the near-border search, one point at a time
                out.append(commune_at(self.conn, lat, lon))
        return out

    def _communes_frame(self) -> tuple[Any, dict[str, int]]:
        """Every commune's contour as a GeoDataFrame (offline), read once, and code → its position."""
        if self._frame is None:
            frame = joins.communes_frame(store_communes.contours_all(self.conn))
            self._frame = frame, {code: i for i, code in enumerate(frame["code"])}
        return self._frame

    def _shapes_of(self, codes_: Sequence[str | None]) -> dict[str, Any]:
        """Offline: the contours of these communes as Shapely geometries (None: none), each decoded once,
        from every commune's frame when a row needed it, else read for the communes the file names."""
        missing = [c for c in dict.fromkeys(codes_) if c and c not in self._shapes]
        if missing and self._frame is not None:
            frame, at = self._frame
            geometries = frame.geometry.array
            self._shapes.update((c, geometries[at[c]] if c in at else None) for c in missing)
        elif missing:
            wkbs = store_communes.contours_of(self.conn, missing)
            self._shapes.update(zip(missing, joins.shapes([wkbs.get(c) for c in missing]), strict=True))
        return self._shapes

    def _trust_many(
        self, points: Sequence[tuple[float, float]], places: Sequence[Place]
    ) -> list[tuple[float, float] | None]:
        """Keep each point only when it lies in its commune or near it (FAR_FROM_COMMUNE_KM).

        One vectorised point-in-contour test for the whole chunk; only the points outside their
        commune (few, and each distinct one measured once) get a distance.
        """
        codes_ = [p.commune["code"] if p.commune else None for p in places]
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        if self.offline and codes_:
            shapes = self._shapes_of(codes_)
            inside = joins.inside([shapes.get(c) if c else None for c in codes_], lats, lons)
            # Only the points outside their commune need its contour (a distance).
            contours = store_communes.contours_of(
                self.conn, [c for c, hit in zip(codes_, inside, strict=True) if c and not hit]
            )
            wkbs = [contours.get(c) if c else None for c in codes_]
        else:
            contours = store_communes.contours_of(self.conn, [c for c in codes_ if c])
            wkbs = [contours.get(c) if c else None for c in codes_]
            inside = geometry.contains_many(wkbs, lats, lons)
        distances: dict[tuple[str, float, float], float] = {}
        out: list[tuple[float, float] | None] = []
        for point, place, code, wkb, hit in zip(points, places, codes_, wkbs, inside, strict=True):
            if hit or wkb is None:
                out.append(point)
                continue
            key = (code, point[0], point[1])
            if key not in distances:
                distances[key] = geometry.distance_to_contour_km(wkb, point[0], point[1])
            d = distances[key]
            if d <= self.far_km:
                out.append(point)
                continue
            place.warnings.append(
                f"le point est à {d:.1f} km de {place.commune['nom']} : non retenu, position au centre de la "
                "commune".replace(".", ",", 1)
            )
            out.append(None)
        return out


def clean_place_values(raw: dict[str, str], errors: list[str]) -> dict[str, Any]:
    """Return the place values of a raw row parsed (numbers, codes); problems go to `errors`."""
    out: dict[str, Any] = {}
    for key, parse in (
        ("latitude", clean.number),
        ("longitude", clean.number),
        ("x", clean.number),
        ("y", clean.number),
        ("code_postal", clean.postcode),
        ("code_insee", clean.insee),
    ):
        try:
            out[key] = parse(raw.get(key))
        except clean.Invalid as err:
            errors.append(str(err))
            out[key] = None
    for key in ("commune", "adresse", "departement"):
        try:
            out[key] = clean.text(raw.get(key), key)
        except clean.Invalid as err:
            errors.append(str(err))
            out[key] = None
    if out.get("departement"):
        out["departement"] = codes.normalize_departement(out["departement"]) or None
    return out
