"""Admin listings of structures, whatever their status, with the filters of the admin pages."""

from __future__ import annotations

import sqlite3
from typing import Any

_COLUMNS = "s.id, s.type, s.nom, s.commune, s.code_insee, s.departement, s.statut, s.date_maj, s.parent_id"


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def structures(
    conn: sqlite3.Connection,
    words: list[str] | None = None,
    statut: str | None = None,
    type_: str | None = None,
    departement: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Return (total, one page) of structures matching every word (name, commune or id) and filter."""
    where = ["1 = 1"]
    args: list[Any] = []
    for word in words or []:
        where.append("(s.nom LIKE ? ESCAPE '\\' OR s.commune LIKE ? ESCAPE '\\' OR s.id LIKE ? ESCAPE '\\')")
        args += [_like(word)] * 3
    for column, value in (("statut", statut), ("type", type_), ("departement", departement)):
        if value:
            where.append(f"s.{column} = ?")
            args.append(value)
    sql_where = " AND ".join(where)
    total = conn.execute(f"SELECT COUNT(*) FROM structures s WHERE {sql_where}", args).fetchone()[0]
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM structures s WHERE {sql_where} ORDER BY s.nom, s.id LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return total, [dict(r) for r in rows]


def parents(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the Missions locales (any status but archived) an antenne may be attached to, by name."""
    rows = conn.execute(
        "SELECT id, nom, commune FROM structures WHERE type = 'mission_locale' AND statut != 'archive' "
        "ORDER BY nom"
    )
    return [dict(r) for r in rows]


def recent_changes(
    conn: sqlite3.Connection, limit: int = 100, manual_only: bool = False
) -> list[dict[str, Any]]:
    """Return the latest recorded changes (avant/apres decoded), oldest of them first."""
    import json

    where = "WHERE import_id IS NULL" if manual_only else ""
    rows = conn.execute(
        "SELECT id, import_id, auteur, quand, objet, structure_id, action, avant, apres FROM historique "
        f"{where} ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    out = []
    for r in reversed(rows):
        d = dict(r)
        for k in ("avant", "apres"):
            d[k] = json.loads(d[k]) if d[k] is not None else None
        out.append(d)
    return out
