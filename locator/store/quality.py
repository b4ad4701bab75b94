"""Reads behind the data-quality dashboard."""

from __future__ import annotations

import sqlite3
from typing import Any

from .schema import STRUCTURE_FIELDS

_COLUMNS = ", ".join(f"s.{f}" for f in STRUCTURE_FIELDS) + ", s.statut"


def live_structures(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return every structure that is not archived (published or draft), by département then name."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM structures s WHERE s.statut != 'archive' ORDER BY s.departement, s.nom, s.id"
    )
    return [dict(r) for r in rows]


def uncovered_communes(conn: sqlite3.Connection, region: str) -> list[dict[str, Any]]:
    """Return the current communes of a région that no published Mission locale's coverage lists."""
    rows = conn.execute(
        "SELECT c.code, c.nom, c.departement, c.population, c.latitude, c.longitude FROM communes c "
        "WHERE c.region = ? AND c.type = 'COM' AND NOT EXISTS ("
        "  SELECT 1 FROM couverture v JOIN structures s ON s.id = v.structure_id "
        "  WHERE v.code_insee = c.code AND s.type = 'mission_locale' AND s.statut = 'publie') "
        "ORDER BY c.departement, c.nom",
        (region,),
    )
    return [dict(r) for r in rows]


def unanswered_communes(conn: sqlite3.Connection, region: str) -> list[dict[str, Any]]:
    """Return the current communes of a région whose stored answer names no Mission locale (or that
    have no stored answer at all), with the answer's `methode` (None: never computed)."""
    rows = conn.execute(
        "SELECT c.code, c.nom, c.departement, c.population, c.latitude, c.longitude, k.methode "
        "FROM communes c LEFT JOIN competences k ON k.code_insee = c.code "
        "WHERE c.region = ? AND c.type = 'COM' AND k.structure_id IS NULL ORDER BY c.departement, c.nom",
        (region,),
    )
    return [dict(r) for r in rows]


def several_lists_communes(conn: sqlite3.Connection, region: str) -> list[dict[str, Any]]:
    """Return the current communes of a région that several Missions locales' coverage lists name, with
    those Missions locales' names (`missions_locales`, sorted, ' ; '-separated)."""
    rows = conn.execute(
        "SELECT c.code, c.nom, c.departement, c.population, c.latitude, c.longitude, k.listes, "
        "(SELECT group_concat(nom, ' ; ') FROM (SELECT DISTINCT s.nom FROM couverture v "
        "  JOIN communes cc ON cc.code = v.code_insee JOIN structures s ON s.id = v.structure_id "
        "  WHERE COALESCE(cc.commune_parent, cc.code) = c.code AND s.type = 'mission_locale' "
        "  AND s.statut = 'publie' ORDER BY s.nom)) AS missions_locales "
        "FROM competences k JOIN communes c ON c.code = k.code_insee "
        "WHERE c.region = ? AND k.listes > 1 ORDER BY c.departement, c.nom",
        (region,),
    )
    return [dict(r) for r in rows]
