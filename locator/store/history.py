"""History of changes: before/after of every structure or coverage change, and undoing an import.

Every writer of structures (imports, the admin's edits, undos) records what it changed here with
`record_change`, inside its own transaction, so that the store can be put back exactly as it was.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import sqlite_utils

from .. import wording
from . import coverage as store_coverage
from . import imports as store_imports
from . import structures as store_structures

ACTIONS = ("cree", "modifie", "supprime", "couverture", "annule")


class UndoConflict(RuntimeError):
    """Something the import changed was changed again since: undoing would lose that later change."""

    def __init__(self, ids: list[str]):
        self.ids = ids
        super().__init__(
            "Annulation impossible : ces structures ont été modifiées depuis l’import : " + ", ".join(ids)
        )


class UnknownImport(LookupError):
    """No import has this number."""


class AlreadyUndone(ValueError):
    """The import was undone already: undoing it twice would put back what it had replaced."""


def record_change(db: sqlite_utils.Database, **change: Any) -> int:
    """Record one change, given by the keywords of `change_values`, and return its id."""
    return db.execute(_INSERT_CHANGE, change_values(**change)).lastrowid


_INSERT_CHANGE = (
    "INSERT INTO historique (import_id, auteur, quand, objet, structure_id, action, avant, apres) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def change_values(
    structure_id: str,
    action: str,
    avant: Any,
    apres: Any,
    auteur: str | None,
    quand: str,
    import_id: int | None = None,
    objet: str = "structure",
) -> tuple[Any, ...]:
    """Return the values stored for one change (`record_change`, or many at once: `record_changes`).

    `objet` is "structure" (avant/apres: full stored rows as given by `structures.get_stored`, None
    when absent) or "couverture" (avant/apres: the structure's coverage as `coverage.rows_of` gives
    it). `action` is one of ACTIONS; `import_id` links the change to the import that made it (None
    for an edit by hand).
    """
    return (
        import_id,
        auteur,
        quand,
        objet,
        structure_id,
        action,
        None if avant is None else _json(avant),
        None if apres is None else _json(apres),
    )


def _json(value: Any) -> str:
    """The stored text of a row before or after (orjson: a big import writes one per row, ~8× faster
    than the standard library; keys sorted, UTF-8 kept)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()


def record_changes(db: sqlite_utils.Database, changes: list[tuple[Any, ...]]) -> None:
    """Record many changes given as `change_values` in one statement, in their order."""
    db.conn.executemany(_INSERT_CHANGE, changes)


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


def import_changed_anything(conn: sqlite3.Connection, import_id: int) -> bool:
    """Tell whether an import recorded at least one change (one that changed nothing is not kept)."""
    row = conn.execute("SELECT 1 FROM historique WHERE import_id = ? LIMIT 1", (import_id,)).fetchone()
    return row is not None


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


class UndoBlocked(UndoConflict):
    """Later work depends on what the import wrote: undoing it alone would lose it or leave orphans."""

    def __init__(self, edited: list[tuple[str, str]], coverage: dict[str, list[str]], antennes: list[tuple]):
        self.edited, self.coverage, self.antennes = edited, coverage, antennes
        self.ids = sorted({sid for sid, _ in edited} | set(coverage) | {a[2] for a in antennes})
        parts = []
        if edited:
            parts.append(
                "structures modifiées depuis l’import : " + ", ".join(f"{n} ({i})" for i, n in edited)
            )
        for sid, codes in coverage.items():
            parts.append(
                f"{wording.count(len(codes), 'commune couverte')} par {sid} "
                + ("ajoutées" if len(codes) > 1 else "ajoutée")
                + f" depuis : {', '.join(codes[:10])}"
            )
        if antennes:
            parts.append(
                "antennes rattachées depuis : " + ", ".join(f"{n} ({i}) → {p}" for i, n, p in antennes)
            )
        RuntimeError.__init__(self, "Annulation impossible : " + " ; ".join(parts) + ".")


def _blockers(
    conn: sqlite3.Connection, first: dict, last: dict
) -> tuple[list[tuple[str, str]], dict[str, list[str]], list[tuple[str, str, str]]]:
    """What later work the undo would overwrite or orphan: edited structures, coverage, antennes."""
    edited = sorted(
        {
            (sid, (_current(conn, ch) or ch["apres"] or {}).get("nom", sid) if objet == "structure" else sid)
            for (objet, sid), ch in last.items()
            if _current(conn, ch) != ch["apres"]
        }
    )
    removed = {sid for (objet, sid), ch in first.items() if objet == "structure" and ch["avant"] is None}
    coverage: dict[str, list[str]] = {}
    antennes: list[tuple[str, str, str]] = []
    for sid in sorted(removed):
        if ("couverture", sid) not in first:
            codes = [r[0] for r in store_coverage.rows_of(conn, sid)]
            if codes:
                coverage[sid] = codes
        for child in store_structures.children_of(conn, sid):
            if child[0] not in removed:
                antennes.append((child[0], child[1], sid))
    return edited, coverage, antennes


def _detach(db: sqlite_utils.Database, blockers: tuple, auteur: str | None, quand: str) -> None:
    """Undo the later work that depends on removed structures: their coverage, their antennes' link."""
    _, coverage, antennes = blockers
    for sid in coverage:
        before = store_coverage.rows_of(db.conn, sid)
        store_coverage.put_rows(db, sid, [])
        record_change(
            db,
            structure_id=sid,
            action="annule",
            avant=before,
            apres=[],
            auteur=auteur,
            quand=quand,
            objet="couverture",
        )
    for child_id, _, _ in antennes:
        before = store_structures.get_stored(db.conn, child_id)
        store_structures.update(db, child_id, {"parent_id": None, "modifie_le": quand})
        record_change(
            db,
            structure_id=child_id,
            action="modifie",
            avant=before,
            apres=store_structures.get_stored(db.conn, child_id),
            auteur=auteur,
            quand=quand,
        )


def _first_and_last(conn: sqlite3.Connection, import_id: int) -> tuple[dict, dict]:
    """The first change (its `avant`: the state before) and the last one of each thing an import touched."""
    first: dict[tuple[str, str], dict[str, Any]] = {}
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for change in changes_of_import(conn, import_id):
        key = (change["objet"], change["structure_id"])
        first.setdefault(key, change)
        last[key] = change
    return first, last


def undo_blockers(conn: sqlite3.Connection, import_id: int) -> UndoBlocked | None:
    """Say which later work would block undoing this import (None: it can be undone alone)."""
    blockers = _blockers(conn, *_first_and_last(conn, import_id))
    return UndoBlocked(*blockers) if any(blockers) else None


def undo_import(
    db: sqlite_utils.Database,
    import_id: int,
    auteur: str | None,
    quand: str,
    *,
    with_dependants: bool = False,
    then: Callable[[sqlite_utils.Database], Any] | None = None,
) -> int:
    """Put back every structure and coverage list an import changed, as it was before; return how many.

    Runs in one transaction. Later work that depends on what the import wrote (a structure edited
    since, coverage or antennes attached since to a structure the undo removes) blocks it
    (UndoBlocked, nothing written) unless `with_dependants`: then later edits are undone too, the
    removed structures' coverage is deleted and their antennes detached — all recorded.
    UnknownImport or AlreadyUndone when the import is unknown or already undone. Each restoration is
    recorded (action "annule").
    """
    record = store_imports.get(db.conn, import_id)
    if record is None:
        raise UnknownImport(f"Import {import_id} inconnu.")
    if record["annule_le"]:
        raise AlreadyUndone(f"L’import {import_id} a déjà été annulé le {record['annule_le']}.")
    first, last = _first_and_last(db.conn, import_id)
    with db.atomic():
        blockers = _blockers(db.conn, first, last)
        if any(blockers) and not with_dependants:
            raise UndoBlocked(*blockers)
        _detach(db, blockers, auteur, quand)
        for key in reversed(list(first)):
            objet, sid = key
            before, after = first[key]["avant"], _current(db.conn, last[key])
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
        if then is not None:  # e.g. recompute territories, in the same transaction
            then(db)
    return len(first)
