"""Exports of the directory: CSV for French Excel, GeoJSON, and data·inclusion structures (validated).

Points are written (longitude, latitude) in GeoJSON (WGS84), latitude/longitude columns elsewhere.
Every export streams the store's rows to a text stream.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from typing import IO, Any

from .. import phones
from ..store import structures as store_structures
from ..store.schema import STRUCTURE_FIELDS
from . import spreadsheet
from .serializers import structure as public_fields

FORMATS = ("csv", "geojson", "data-inclusion")
CSV_COLUMNS = (*STRUCTURE_FIELDS, "statut")
# data·inclusion "réseaux porteurs" of our types.
RESEAUX = {
    "mission_locale": "mission-locale",
    "antenne_mission_locale": "mission-locale",
    "e2c": "ecoles-de-la-deuxieme-chance",
    "epide": "epide",
}


def _rows(conn: sqlite3.Connection, all_statuses: bool) -> Iterator[dict[str, Any]]:
    """Published structures (parents only when published too), or every one as stored (--tous)."""
    if all_statuses:
        yield from store_structures.all_stored(conn)
    else:
        yield from store_structures.all_stored(conn, ("publie",), published_parents=True)


def write_csv(conn: sqlite3.Connection, out: IO[str], all_statuses: bool = False) -> int:
    """Write structures as CSV for French Excel (UTF-8 with BOM, ';'); return how many rows."""
    return spreadsheet.write(out, CSV_COLUMNS, map(_read_as_french, _rows(conn, all_statuses)))


def _read_as_french(s: dict[str, Any]) -> dict[str, Any]:
    """A phone stored in E.164 is written « 04 73 38 00 00 » (a leading + would be defused as a formula)."""
    if s.get("telephone"):
        s = {**s, "telephone": phones.display(s["telephone"])}
    return s


def write_geojson(
    conn: sqlite3.Connection, out: IO[str], attribution: str, licence: str, all_statuses: bool = False
) -> int:
    """Write structures as a GeoJSON FeatureCollection (Point [lon, lat]; null geometry when unknown)."""
    out.write('{"type": "FeatureCollection", ')
    out.write(f'"attribution": {json.dumps(attribution, ensure_ascii=False)}, ')
    out.write(f'"licence": {json.dumps(licence, ensure_ascii=False)}, "features": [\n')
    n = 0
    for s in _rows(conn, all_statuses):
        geometry = (
            {"type": "Point", "coordinates": [s["longitude"], s["latitude"]]}
            if s.get("latitude") is not None and s.get("longitude") is not None
            else None
        )
        props = {**public_fields(s), "statut": s["statut"]}
        feature = {"type": "Feature", "id": s["id"], "geometry": geometry, "properties": props}
        out.write((",\n" if n else "") + json.dumps(feature, ensure_ascii=False))
        n += 1
    out.write("\n]}\n")
    return n


def data_inclusion(s: dict[str, Any], source: str) -> dict[str, Any]:
    """Return a structure in the data·inclusion schema's field names (before validation)."""
    vintage = s.get("date_maj") or (s.get("modifie_le") or s.get("cree_le") or "")[:10] or None
    links = [
        u.strip() for u in (s.get("source") or "").split("|") if u.strip().startswith(("http://", "https://"))
    ]
    description = s.get("description")
    return {
        "source": source,
        "id": f"{source}--{s['id']}",
        "nom": s["nom"][:150],
        "date_maj": vintage,
        "description": description if description and len(description) >= 5 else None,
        "lien_source": links[0] if links else None,
        "commune": s.get("commune"),
        "code_postal": s.get("code_postal"),
        "code_insee": s.get("code_insee"),
        "adresse": s.get("adresse"),
        "complement_adresse": s.get("complement_adresse"),
        "longitude": s.get("longitude"),
        "latitude": s.get("latitude"),
        "telephone": s.get("telephone"),
        "courriel": s.get("courriel"),
        "site_web": s.get("site_web"),
        "horaires_accueil": s.get("horaires_accueil"),
        "reseaux_porteurs": [RESEAUX[s["type"]]] if s["type"] in RESEAUX else None,
    }


def write_data_inclusion(
    conn: sqlite3.Connection, out: IO[str], source: str = "locator-aura", all_statuses: bool = False
) -> tuple[int, list[str]]:
    """Write structures validated by the data·inclusion schema (v1 Structure) as a JSON list.

    Returns (rows written, problems): a structure the schema refuses is left out and said why.
    """
    from data_inclusion.schema.v1 import Structure  # heavy (pydantic): only for this export
    from pydantic import ValidationError

    problems: list[str] = []
    n = 0
    out.write("[\n")
    for s in _rows(conn, all_statuses):
        d = data_inclusion(s, source)
        if d["date_maj"] and d["date_maj"] > date.today().isoformat():
            d["date_maj"] = date.today().isoformat()
        try:
            model = Structure.model_validate(d)
        except ValidationError as err:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
            problems.append(f"{s['id']} : {reasons}")
            continue
        payload = model.model_dump(mode="json", exclude_none=True)
        out.write((",\n" if n else "") + json.dumps(payload, ensure_ascii=False, sort_keys=True))
        n += 1
    out.write("\n]\n")
    return n, problems


GPKG_LAYERS = ("structures", "territoires")


def write_gpkg(
    db: sqlite3.Connection | str,
    output: str,
    layers: tuple[str, ...] = GPKG_LAYERS,
    all_statuses: bool = False,
) -> dict[str, int]:
    """Write a GeoPackage (EPSG:4326) with these layers; return rows written per layer.

    `structures`: Points (longitude, latitude), the API's structure fields; `territoires`: each
    published Mission locale's territory as a MultiPolygon. Runs offline or in a child process only:
    it loads GeoPandas and pyogrio (see locator.publish.gpkg for the web).
    """
    import pyogrio

    from . import frames

    counts: dict[str, int] = {}
    for layer in layers:
        if layer == "structures":
            frame = frames.structures(db, all_statuses=all_statuses).reset_index(drop=True)
        elif layer == "territoires":
            frame = frames.territories(db, all_statuses=all_statuses).reset_index(drop=True)
        else:
            raise ValueError(f"couche inconnue « {layer} » ({', '.join(GPKG_LAYERS)})")
        # Every layer after the first is added to the same file.
        try:
            pyogrio.write_dataframe(
                frame, output, layer=layer, driver="GPKG", promote_to_multi=layer != "structures"
            )
        except pyogrio.errors.DataSourceError as err:
            raise OSError(str(err)) from None
        counts[layer] = len(frame)
    return counts
