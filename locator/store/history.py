"""History of changes: before/after of every structure or coverage change, and undoing an import.

Every writer of structures (imports, the admin's edits, undos) records what it changed here with
`record_change`, inside its own transaction, so that the store can be put back exactly as it was.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

from . import coverage as store_coverage
from . import imports as store_imports
from . import structures as store_structures

ACTIONS = ("cree", "modifie", "supprime", "couverture", "annule")


class UndoConflict(RuntimeError):
    """Something the import changed was changed again since: undoing would lose that later change."""

    def __init__(self, ids: list[str]):
        self.ids = ids
        super().__init__(
            "Annulation impossible : ces structures ont été modifiées depuis l'import : " + ", ".join(ids)
        )


def record_change(
    db: sqlite_utils.Database,
    *,
    structure_id: str,
    action: str,
    avant: Any,
    apres: Any,
    auteur: str | None,
    quand: str,
    import_id: int | None = None,
    objet: str = "structure",
) -> int:
    """Record one change and return its id.

    `objet` is "structure" (avant/apres: full stored rows as given by `structures.get_stored`, None
    when absent) or "couverture" (avant/apres: the structure's coverage as `coverage.rows_of` gives
    it). `action` is one of ACTIONS; `import_id` links the change to the import that made it (None
    for an edit by hand).
    """
    cur = db.execute(
        "INSERT INTO historique (import_id, auteur, quand, objet, structure_id, action, avant, apres) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            import_id,
            auteur,
            quand,
            objet,
            structure_id,
            action,
            None if avant is None else json.dumps(avant, ensure_ascii=False, sort_keys=True),
            None if apres is None else json.dumps(apres, ensure_ascii=False, sort_keys=True),
        ),
    )
    return cur.lastrowid


def _decode(row: sqlite3.Row | tuple) -> dict[str, Any]:
    keys = ("id", "import_id", "auteur", "quand", "objet", "structure_id", "action", "avant", "apres")
    out = dict(zip(keys, tuple(row), strict=True))
    for k in ("avant", "apres"):
        out[k] = json.loads(out[k]) if out[k] is not None else None
    return out


_SELECT = "SELECT id, import_id, auteur, quand, objet, structure_id, action, avant, apres FROM historique"


def changes_of_import(conn: sqlite3.Connection, import_id: int) -> list[dict[str, Any]]:
    """Return the changes an import made, in the order they were made (avant/apres decoded)."""
    return [_decode(r) for r in conn.execute(f"{_SELECT} WHERE import_id = ? ORDER BY id", (import_id,))]


def changes_of_structure(conn: sqlite3.Connection, structure_id: str) -> list[dict[str, Any]]:
    """Return every recorded change of one structure (and of its coverage), oldest first."""
    return [
        _decode(r) for r in conn.execute(f"{_SELECT} WHERE structure_id = ? ORDER BY id", (structure_id,))
    ]


def has_history(conn: sqlite3.Connection, structure_id: str) -> bool:
    """Tell whether anyone ever recorded a change of this structure (the seed keeps off those)."""
    row = conn.execute(
        "SELECT 1 FROM historique WHERE structure_id = ? AND objet = 'structure' LIMIT 1", (structure_id,)
    ).fetchone()
    return row is not None


def _current(conn: sqlite3.Connection, change: dict[str, Any]) -> Any:
    if change["objet"] == "couverture":
        return store_coverage.rows_of(conn, change["structure_id"])
    return store_structures.get_stored(conn, change["structure_id"])


def undo_import(db: sqlite_utils.Database, import_id: int, auteur: str | None, quand: str) -> int:
    """Put back every structure and coverage list an import changed, as it was before; return how many.

    Runs in one transaction. Refuses (UndoConflict, nothing written) when something the import wrote
    was changed again since, and (ValueError) when the import is unknown or already undone. Each
    restoration is itself recorded (action "annule"), so an undo can be reviewed like any change.
    """
    record = store_imports.get(db.conn, import_id)
    if record is None:
        raise ValueError(f"Import {import_id} inconnu.")
    if record["annule_le"]:
        raise ValueError(f"L'import {import_id} a déjà été annulé le {record['annule_le']}.")
    changes = changes_of_import(db.conn, import_id)
    # The last state each thing reached through this import, and the first state before it.
    first: dict[tuple[str, str], dict[str, Any]] = {}
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for change in changes:
        key = (change["objet"], change["structure_id"])
        first.setdefault(key, change)
        last[key] = change
    conflicts = sorted(
        {sid for (objet, sid), ch in last.items() if _current(db.conn, ch) != ch["apres"]},
    )
    if conflicts:
        raise UndoConflict(conflicts)
    with db.atomic():
        for key in reversed(list(first)):
            objet, sid = key
            before, after = first[key]["avant"], last[key]["apres"]
            if objet == "couverture":
                store_coverage.put_rows(db, sid, before or [])
            else:
                store_structures.put_stored(db, sid, before)
            record_change(
                db,
                structure_id=sid,
                action="annule",
                avant=after,
                apres=before,
                auteur=auteur,
                quand=quand,
                objet=objet,
            )
        store_imports.mark_undone(db, import_id, auteur, quand)
    return len(first)
