"""The admin import wizard's steps between upload and confirmation, over the import pipeline.

A pending import keeps the uploaded bytes and the admin's fixes (a field's new value, a point, the
commune picked for an ambiguous postcode), keyed by file line. Every fix plans the whole file again
with `plan_import`, so that cross-row checks (duplicates, parents named in the file) stay right.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..ingest import clean, geocoders, table
from ..ingest.importer import ImportPlan, plan_import
from ..ingest.importer import sniff as sniff_genre
from ..ingest.limits import Limits
from ..ingest.pipeline import Options
from ..store.schema import STRUCTURE_TYPES
from .editing import FORM_FIELDS

# Columns a fix may set: those of the structure form (import-format names), and the parent's name.
FIXABLE = (*FORM_FIELDS, "parent")
ACTION_LABELS = {
    "nouveau": "nouveau",
    "mis_a_jour": "mis à jour",
    "inchange": "inchangé",
    "rejete": "rejeté",
}


def new_reglages(statut: str, hors_region: bool = False) -> dict[str, Any]:
    """Return the fixes of a fresh upload: none yet, the status new rows get, out-of-région rows wanted."""
    return {"statut": statut, "corrections": {}, "choix_communes": {}, "hors_region": hors_region}


def sniff(contenu: bytes, settings: dict[str, Any]) -> str | None:
    """Return why an upload is not a structures CSV, from its first bytes and header alone, else None."""
    try:
        genre = sniff_genre(contenu, int(settings["IMPORT_MAX_BYTES"]), Limits.from_settings(settings))
    except table.FileProblem as err:
        return str(err)
    if genre != "structures":
        what = "l'annuaire DILA (JSON)" if genre == "annuaire" else "une liste de communes couvertes"
        return (
            f"Ce fichier n'est pas un tableau de structures (il ressemble à {what}) : "
            "importez-le avec « locator import »."
        )
    return None


def plan(
    conn: sqlite3.Connection,
    contenu: bytes,
    fichier: str,
    reglages: dict[str, Any],
    settings: dict[str, Any],
    known_answers: dict[str, Any] | None = None,
) -> ImportPlan:
    """Plan the file with the admin's fixes applied; nothing is written."""
    options = Options(
        statut=reglages["statut"],
        choix_communes={int(k): v for k, v in reglages["choix_communes"].items()},
        corrections={int(k): v for k, v in reglages["corrections"].items()},
        far_km=float(settings.get("FAR_FROM_COMMUNE_KM", 2.0)),
        max_bytes=int(settings["IMPORT_MAX_BYTES"]),
        limits=Limits.from_settings(settings),
        region=str(settings["REGION"]),
        hors_region=bool(reglages.get("hors_region")),
    )
    return plan_import(
        conn, contenu, fichier, _geocoder(settings, known_answers), options, region=settings["REGION"]
    )


def _geocoder(settings: dict[str, Any], known: dict[str, Any] | None) -> geocoders.Geocoder:
    """The settings' geocoder; anything but "ban" is the offline one (a wizard never fails on a typo)."""
    kind = "ban" if settings.get("GEOCODER") == "ban" else "offline"
    return geocoders.make(kind, settings, known)


def raw_rows(
    contenu: bytes, max_bytes: int, settings: dict[str, Any] | None = None
) -> dict[int, dict[str, str]]:
    """Return the file's rows as read (line → {column: text}), for the fix form."""
    limits = Limits.from_settings(settings or {})
    return dict(table.open_table(contenu, max_bytes, limits).rows())


def type_of(value: str | None) -> str:
    """Return the type a cell names (a type or a French label such as « Antenne »), or "" if none."""
    try:
        return clean.structure_type(value, STRUCTURE_TYPES)[0] or ""
    except clean.Invalid:
        return ""


def fix(reglages: dict[str, Any], ligne: int, values: dict[str, str], raw: dict[str, str]) -> dict[str, Any]:
    """Return the réglages with a row's fixes: only the fields that differ from the file are kept."""
    corrections = dict(reglages["corrections"])
    current = dict(corrections.get(str(ligne), {}))
    for key, value in values.items():
        if key not in FIXABLE:
            continue
        value = value.strip()
        same_type = key == "type" and value and value == type_of(raw.get(key))  # chosen from the list
        if same_type or value == (raw.get(key) or "").strip():
            current.pop(key, None)
        else:
            current[key] = value
    if current:
        corrections[str(ligne)] = current
    else:
        corrections.pop(str(ligne), None)
    return {**reglages, "corrections": corrections}


def pick_commune(reglages: dict[str, Any], ligne: int, code: str | None) -> dict[str, Any]:
    """Return the réglages with the commune picked for a row (None: no choice)."""
    choices = dict(reglages["choix_communes"])
    if code:
        choices[str(ligne)] = code
    else:
        choices.pop(str(ligne), None)
    return {**reglages, "choix_communes": choices}


def rows_view(
    plan_data: dict[str, Any], reglages: dict[str, Any], raw: dict[int, dict[str, str]]
) -> list[dict[str, Any]]:
    """Return the plan's rows for the preview (blank lines left out), each saying whether it was fixed.

    `nom` and `commune` are what the row would store, or for a rejected row what the file says.
    """
    fixed = set(reglages["corrections"]) | set(reglages["choix_communes"])
    out = []
    for r in plan_data["lignes"]:
        if r["action"] == "vide":
            continue
        s = r.get("structure")
        if s:
            nom, commune = s.get("nom"), f"{s.get('commune') or ''} ({s.get('code_insee')})"
        else:
            values = {**raw.get(r["ligne"], {}), **reglages["corrections"].get(str(r["ligne"]), {})}
            nom = values.get("nom")
            commune = " ".join(v for v in (values.get("code_postal"), values.get("commune")) if v)
        out.append(
            {
                **r,
                "libelle": ACTION_LABELS.get(r["action"], r["action"]),
                "corrigee": str(r["ligne"]) in fixed,
                "nom": nom or "",
                "commune": commune.strip(),
            }
        )
    return out


def _raw_point(raw: dict[str, str]) -> tuple[float, float] | None:
    try:
        lat = float((raw.get("latitude") or "").replace(",", ".").strip())
        lon = float((raw.get("longitude") or "").replace(",", ".").strip())
    except ValueError:
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    return None


def features(
    plan_data: dict[str, Any], raw: dict[int, dict[str, str]], reglages: dict[str, Any]
) -> dict[str, Any]:
    """Return the rows that have a point as GeoJSON (properties: line, action, name, messages).

    A planned row shows where it would be stored; a rejected one where the file (or a fix) puts it.
    """
    out = []
    for r in plan_data["lignes"]:
        if r["action"] == "vide":
            continue
        s = dict(r.get("structure") or {})
        if s.get("latitude") is None or s.get("longitude") is None:
            values = {**raw.get(r["ligne"], {}), **reglages["corrections"].get(str(r["ligne"]), {})}
            point = _raw_point(values)
            if point is None:
                continue
            s.update(
                latitude=point[0], longitude=point[1], nom=values.get("nom"), commune=values.get("commune")
            )
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [s["longitude"], s["latitude"]]},
                "properties": {
                    "ligne": r["ligne"],
                    "action": r["action"],
                    "libelle": ACTION_LABELS.get(r["action"], r["action"]),
                    "nom": s.get("nom"),
                    "commune": s.get("commune"),
                    "precision": s.get("precision_geocodage"),
                    "messages": list(r.get("erreurs") or []) + list(r.get("avertissements") or []),
                },
            }
        )
    return {"type": "FeatureCollection", "features": out}
