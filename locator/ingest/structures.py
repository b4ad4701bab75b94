"""Structures from the team's seed CSV into store rows (minimal loader; the full import is #3)."""

from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path
from typing import Any

from ..geo import names
from ..store import communes as store_communes

# Vintage of each source family, when the row does not say it (see ../shared/data/SOURCES.md).
SOURCE_DATES = (
    ("Carte-reseaux-SPRO-ARA", "2022-05-25"),
    ("betagouv/annuaire", "2017-12-12"),
)


def slug(text: str) -> str:
    """Return an ASCII slug of a name, for readable stable ids."""
    return re.sub(r"[^a-z0-9]+", "-", names.fold(text)).strip("-")[:80]


def structure_id(type_: str, nom: str, code_insee: str | None) -> str:
    """Return the stable id of a structure: its name's slug and its commune (same row, same id).

    An antenne may carry its Mission locale's exact name (Villeurbanne): "antenne-" tells them apart.
    """
    base = slug(nom)
    if type_ == "antenne_mission_locale" and not base.startswith("antenne"):
        base = f"antenne-{base}"
    return f"{base}-{(code_insee or 'xx').lower()}"


def source_date(source: str) -> str | None:
    """Return the vintage of a source URL list: the date of the first known source family."""
    for marker, date in SOURCE_DATES:
        if marker in source:
            return date
    return None


def _float(text: str) -> float | None:
    text = (text or "").strip().replace(",", ".")
    return float(text) if text else None


def read_seed(path: str | Path, conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Read the seed CSV; missing positions fall back to the commune centre (precision "commune")."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        raw = list(csv.DictReader(f))
    rows: list[dict[str, Any]] = []
    ids_by_name: dict[str, str] = {}
    for r in raw:
        code = (r["insee_code"] or "").strip() or None
        lat, lon = _float(r["latitude"]), _float(r["longitude"])
        precision = "source"
        commune = store_communes.get(conn, code) if code else None
        if (lat is None or lon is None) and commune:
            lat, lon, precision = commune["latitude"], commune["longitude"], "commune"
        sid = structure_id(r["type"].strip(), r["name"], code)
        ids_by_name[r["name"].strip()] = sid
        rows.append(
            {
                "id": sid,
                "type": r["type"].strip(),
                "nom": r["name"].strip(),
                "adresse": r["address"].strip() or None,
                "complement_adresse": None,
                "code_postal": r["postcode"].strip() or None,
                "commune": r["commune"].strip() or None,
                "code_insee": code,
                "departement": r["departement"].strip() or (commune or {}).get("departement"),
                "latitude": lat,
                "longitude": lon,
                "telephone": r["phone"].strip() or None,
                "courriel": r["email"].strip() or None,
                "site_web": r["website"].strip() or None,
                "horaires_accueil": None,
                "parent_id": r["parent_name"].strip() or None,  # a name until linked below
                "description": None,
                "source": r["source_url"].strip() or None,
                "date_maj": source_date(r["source_url"]),
                "precision_geocodage": precision if lat is not None else None,
                "statut": "publie",
            }
        )
    for row in rows:
        if row["parent_id"]:
            row["parent_id"] = ids_by_name.get(row["parent_id"])
    return rows
