"""Structures edited by hand: the form checked like an import row, then written with its history.

The admin form sends the same columns as an import file; they go through the import's row pipeline
(clean values, place, postcode/commune checks, stable id, duplicate detection), so a structure typed
by hand obeys the same rules as one imported. The form is authoritative: a field it empties is emptied.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from .. import territories
from ..ingest import parents
from ..ingest.geocoders import OfflineGeocoder
from ..ingest.pipeline import Options, RowPipeline
from ..store import communes as store_communes
from ..store import coverage as store_coverage
from ..store import history as store_history
from ..store import structures as store_structures
from ..store.schema import STRUCTURE_FIELDS

if TYPE_CHECKING:  # sqlite-utils is heavy: the writer connection brings it in
    import sqlite_utils

# Columns the form sends, named as in an import file: the public fields but those the store derives.
FORM_FIELDS = tuple(
    f
    for f in STRUCTURE_FIELDS
    if f not in ("id", "departement", "parent_id", "date_maj", "precision_geocodage")
)
# Free-text fields the form may empty (the place fields are recomputed from what is left).
CLEARABLE = (
    "adresse",
    "complement_adresse",
    "telephone",
    "courriel",
    "site_web",
    "horaires_accueil",
    "horaires_note",
    "description",
    "source",
)
MANUAL_PRECISION = "manuelle"  # a point placed by an admin (typed or dragged on the map)
_INSEE = re.compile(r"\b(\d[0-9AB]\d{3})\b")


@dataclass
class Checked:
    """A form checked: the row to store (None when refused), why not, and what to look at."""

    structure: dict[str, Any] | None
    action: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    candidates: list[dict[str, str]] = field(default_factory=list)
    coverage: list[str] = field(default_factory=list)


def coverage_codes(conn: sqlite3.Connection, text: str, errors: list[str]) -> list[str]:
    """Return the sorted INSEE codes written in a coverage box (one per line, names may follow)."""
    codes = sorted(set(_INSEE.findall((text or "").upper())))
    known = {c["code"] for c in store_communes.get_many(conn, codes)}
    unknown = [c for c in codes if c not in known]
    if unknown:
        errors.append(
            "Communes couvertes : "
            + ("codes INSEE inconnus " if len(unknown) > 1 else "code INSEE inconnu ")
            + ", ".join(unknown[:10])
        )
    leftovers = _INSEE.sub("", (text or "").upper())
    if re.search(r"\d", leftovers):
        errors.append("Communes couvertes : écrivez des codes INSEE à 5 caractères (63003), un par ligne.")
    return [c for c in codes if c in known]


def _same_point(values: dict[str, str], old: dict[str, Any] | None) -> bool:
    if old is None or old.get("latitude") is None:
        return False
    try:
        lat = float((values.get("latitude") or "").replace(",", "."))
        lon = float((values.get("longitude") or "").replace(",", "."))
    except ValueError:
        return False
    return abs(lat - old["latitude"]) < 1e-6 and abs(lon - old["longitude"]) < 1e-6


def check(
    conn: sqlite3.Connection,
    values: dict[str, str],
    existing: dict[str, Any] | None,
    *,
    statut: str,
    parent_id: str | None,
    coverage_text: str,
    verified_today: bool,
    choix_commune: str | None = None,
) -> Checked:
    """Check the form of a new structure (existing None) or of a stored one; nothing is written."""
    raw = {k: (values.get(k) or "").strip() for k in FORM_FIELDS}
    raw["statut"] = statut
    if existing is not None:
        raw["id"] = existing["id"]
    today = date.today().isoformat()
    raw["date_maj"] = today if verified_today or existing is None else (existing.get("date_maj") or "")
    given = bool(raw["latitude"] or raw["longitude"])
    precision = None
    if given:
        precision = existing.get("precision_geocodage") if _same_point(raw, existing) else MANUAL_PRECISION
    options = Options(origine="manuel", statut=statut, date_maj=None, choix_communes={})
    if choix_commune:
        serves = store_communes.by_postcode(conn, raw["code_postal"]) if raw["code_postal"] else []
        if choix_commune not in serves:
            return Checked(None, "rejete", ["Choisissez une des communes que dessert le code postal."])
        options.choix_communes[1] = choix_commune
    pipeline = RowPipeline(conn, OfflineGeocoder(), options)
    row = pipeline.prepare(1, raw, precision=precision)
    if row is None:
        return Checked(None, "rejete", ["Le formulaire est vide."])
    errors = list(row.erreurs)
    coverage = coverage_codes(conn, coverage_text, errors)
    if not row.erreurs and existing is None and row.avant is not None:
        errors.append(
            f"Une structure « {row.avant['nom']} » existe déjà avec l’identifiant {row.avant['id']} : "
            "modifiez-la plutôt que d’en créer une autre."
        )
    if errors:
        return Checked(None, "rejete", errors, row.avertissements, row.communes_candidates, coverage)
    row = pipeline.finish(row)
    s = row.structure
    if s is None:
        return Checked(None, "rejete", row.erreurs, row.avertissements, row.communes_candidates, coverage)
    for key in CLEARABLE:
        if not raw.get(key):
            s[key] = None
    s["statut"] = statut
    s["parent_id"] = None
    if parent_id:
        parent = store_structures.get_stored(conn, parent_id)
        if parent is None or parent["statut"] == "archive":
            errors.append("Structure de rattachement inconnue ou archivée.")
        elif parent_id == s["id"]:
            errors.append("Une structure ne peut pas être rattachée à elle-même.")
        else:
            problem = parents.type_refusal(s["type"], parent["nom"], parent["type"])
            chain = None if problem else parents.loop(conn, s["id"], parent_id)
            if chain:
                problem = parents.loop_refusal(conn, chain, s["nom"])
            if problem:
                errors.append(_sentence(problem))
            else:
                s["parent_id"] = parent_id
    errors += _coverage_refusals(conn, s, existing, coverage)
    if errors:
        return Checked(None, "rejete", errors, row.avertissements, row.communes_candidates, coverage)
    changed = existing is None or any(
        s.get(k) != existing.get(k)
        for k in store_structures.STORED_COLUMNS
        if k not in ("modifie_le", "origine")
    )
    return Checked(
        s,
        "nouveau" if existing is None else ("mis_a_jour" if changed else "inchange"),
        [],
        row.avertissements,
        row.communes_candidates,
        coverage,
    )


def _sentence(text: str) -> str:
    """A message of the shared rules (lower-case, no full stop) as a sentence of the form."""
    return text[:1].upper() + text[1:] + "."


def _coverage_refusals(
    conn: sqlite3.Connection, s: dict[str, Any], existing: dict[str, Any] | None, coverage: list[str]
) -> list[str]:
    """Communes are covered by Missions locales only, and only a published one gets new ones.

    A Mission locale set aside (draft, archived) keeps the list it had: unpublishing loses nothing.
    """
    if not coverage:
        return []
    if s["type"] != "mission_locale":
        return [
            f"Seule une Mission locale couvre des communes ({parents.a_type(s['type'])} non) : "
            "videz la liste des communes couvertes."
        ]
    had = store_coverage.codes_of(conn, existing["id"]) if existing is not None else []
    if s["statut"] != "publie" and coverage != had:
        return [
            "Seule une Mission locale publiée reçoit des communes couvertes : publiez-la "
            "(statut « publiée ») ou laissez la liste comme elle était."
        ]
    return []


class EditConflict(RuntimeError):
    """The structure was written since its form was opened: saving would lose that change silently."""

    def __init__(self) -> None:
        super().__init__(
            "Cette fiche a été modifiée par quelqu’un d’autre depuis que vous l’avez ouverte : "
            "rechargez-la et refaites vos changements."
        )


class UnknownStructure(LookupError):
    """No structure has this id (a stale link or a hand-typed address): the page answers 404."""

    def __init__(self, structure_id: str) -> None:
        self.structure_id = structure_id
        super().__init__(f"Structure inconnue : {structure_id}.")


def save(db: sqlite_utils.Database, checked: Checked, auteur: str, now: str, version: int | None) -> str:
    """Write a checked form and its coverage in one transaction, recording both changes; return the id.

    `version` is the edit counter the form was opened with (required for a stored structure): when
    anyone wrote the structure since, EditConflict is raised and nothing is written.
    """
    s = dict(checked.structure or {})
    if not s:  # a rejected form never reaches here: calling save with one is a bug, not a conflict
        raise ValueError("Rien à enregistrer.")
    sid = s["id"]
    with db.atomic():
        before = store_structures.get_stored(db.conn, sid)
        old_rows = store_coverage.rows_of(db.conn, sid)
        coverage_changed = [r[0] for r in old_rows] != checked.coverage
        if before is not None:
            _claim_version(db, sid, version, checked.action != "inchange" or coverage_changed)
        if checked.action != "inchange" or before is None:
            s["cree_le"] = (before or {}).get("cree_le") or now
            s["modifie_le"] = now
            s["origine"] = "manuel"
            store_structures.put_stored(db, sid, s)
            store_history.record_change(
                db,
                structure_id=sid,
                action="cree" if before is None else "modifie",
                avant=before,
                apres=store_structures.get_stored(db.conn, sid),
                auteur=auteur,
                quand=now,
            )
        if coverage_changed:
            kept = {r[0]: r for r in old_rows}
            rows = [kept.get(c) or [c, "saisie manuelle", now[:10]] for c in checked.coverage]
            store_coverage.put_rows(db, sid, rows)
            store_history.record_change(
                db,
                structure_id=sid,
                action="couverture",
                avant=old_rows,
                apres=store_coverage.rows_of(db.conn, sid),
                auteur=auteur,
                quand=now,
                objet="couverture",
            )
        if coverage_changed or _moves_territories(before, s if checked.action != "inchange" else before):
            territories.refresh(db)
    return sid


def _moves_territories(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """Tell whether a write of a Mission locale or an antenne may change territories."""
    fields = ("type", "statut", "latitude", "longitude", "departement", "parent_id")
    if not any((r or {}).get("type") in territories.TERRITORY_TYPES for r in (before, after)):
        return False
    return any((before or {}).get(f) != (after or {}).get(f) for f in fields)


def _claim_version(db: sqlite_utils.Database, sid: str, version: int | None, writes: bool) -> None:
    """Check the form's counter is still current and, when the form writes, move it (atomically)."""
    if version is None:
        raise EditConflict()
    ok = (
        store_structures.update_if_version(db, sid, {}, version)
        if writes
        else store_structures.version_of(db.conn, sid) == version
    )
    if not ok:
        raise EditConflict()


def set_status(
    db: sqlite_utils.Database, structure_id: str, statut: str, auteur: str, now: str, version: int
) -> bool:
    """Archive, restore (publish) or draft a structure, recording the change; False when unchanged.

    `version` is the edit counter the page was opened with: when anyone wrote the structure since,
    EditConflict is raised and nothing is written (one atomic UPDATE, like `save`); UnknownStructure
    when no structure has this id.
    """
    with db.atomic():
        before = store_structures.get_stored(db.conn, structure_id)
        if before is None:
            raise UnknownStructure(structure_id)
        if before["statut"] == statut:
            return False  # nothing written, so nothing anyone wrote meanwhile can be lost
        if not store_structures.update_if_version(
            db, structure_id, {"statut": statut, "modifie_le": now}, version
        ):
            raise EditConflict()
        store_history.record_change(
            db,
            structure_id=structure_id,
            action="modifie",
            avant=before,
            apres=store_structures.get_stored(db.conn, structure_id),
            auteur=auteur,
            quand=now,
        )
        if before["type"] in territories.TERRITORY_TYPES:
            territories.refresh(db)
    return True
