"""Structures in the admin area: the list (every status), the form, archive and restore."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from ... import phones
from ...admin import editing
from ...admin.accounts import now_iso
from ...hours import form as hours_form
from ...store import communes as store_communes
from ...store import coverage as store_coverage
from ...store import history as store_history
from ...store import listing
from ...store import structures as store_structures
from ...store.schema import STATUSES, STRUCTURE_TYPES
from .. import params
from ..store import get_conn
from . import bp, tile_settings, writer

PAGE_SIZE = 50
# Words of the list's search box used, each once: every word is three LIKE scans of the table.
SEARCH_WORDS = 8


@bp.get("/structures")
def structures():
    """Structures of every status, searchable by name, commune or id, filtered by status/type/département."""
    q = (request.args.get("q") or "").strip()[:200]
    statut = request.args.get("statut") if request.args.get("statut") in STATUSES else None
    type_ = request.args.get("type") if request.args.get("type") in STRUCTURE_TYPES else None
    departement = (request.args.get("departement") or "").strip()[:3] or None
    page = params.page(request.args)
    total, rows = listing.structures(
        get_conn(),
        list(dict.fromkeys(q.split()))[:SEARCH_WORDS],
        statut,
        type_,
        departement,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render_template(
        "admin/structures.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        q=q,
        statut=statut,
        type_=type_,
        departement=departement,
        statuses=STATUSES,
        types=STRUCTURE_TYPES,
    )


def _form_values(structure: dict | None) -> dict[str, str]:
    """The form's text values for a stored structure (empty for a new one)."""
    values = {k: "" if (structure or {}).get(k) is None else str(structure[k]) for k in editing.FORM_FIELDS}
    if values["telephone"]:  # stored in E.164, typed and read the French way
        values["telephone"] = phones.display(values["telephone"]) or values["telephone"]
    return values


def _render_form(
    structure: dict | None,
    values: dict[str, str],
    *,
    status: int = 200,
    checked: editing.Checked | None = None,
    week: hours_form.Week | None = None,
    hours_text: str | None = None,
    coverage_text: str = "",
    parent_id: str | None = None,
    statut: str = "publie",
    loaded_at: str | None = None,
    errors: list[str] | None = None,
):
    conn = get_conn()
    sid = structure["id"] if structure else None
    if week is None and hours_text is None:
        week = hours_form.parse(values.get("horaires_accueil"))
        if week is None:
            hours_text = values.get("horaires_accueil") or ""
    return (
        render_template(
            "admin/structure_form.html",
            structure=structure,
            values=values,
            checked=checked,
            errors=(errors or []) + (checked.errors if checked else []),
            warnings=checked.warnings if checked else [],
            candidates=checked.candidates if checked else [],
            week=week,
            hours_text=hours_text,
            day_names=hours_form.DAY_NAMES,
            slots=range(hours_form.SLOTS),
            coverage_text=coverage_text,
            parents=[p for p in listing.parents(conn) if p["id"] != sid],
            parent_id=parent_id,
            statut=statut,
            loaded_at=loaded_at,
            types=STRUCTURE_TYPES,
            changes=store_history.changes_of_structure(conn, sid) if sid else [],
            tiles=tile_settings(),
        ),
        status,
    )


def _coverage_text(conn, codes: list[str]) -> str:
    communes = {c["code"]: c["nom"] for c in store_communes.get_many(conn, codes)}
    return "\n".join(f"{c} {communes.get(c, '')}".strip() for c in codes)


@bp.get("/structures/nouvelle")
def structure_new():
    """An empty structure form."""
    return _render_form(None, _form_values(None), statut="brouillon")


def _stored_form(structure_id: str, status: int = 200, errors: list[str] | None = None):
    """The form of the structure as stored now (its current version), with these errors on top."""
    conn = get_conn()
    structure = store_structures.get_stored(conn, structure_id)
    if structure is None:
        abort(404)
    return _render_form(
        structure,
        _form_values(structure),
        status=status,
        coverage_text=_coverage_text(conn, store_coverage.codes_of(conn, structure_id)),
        parent_id=structure.get("parent_id"),
        statut=structure["statut"] if structure["statut"] != "archive" else "archive",
        loaded_at=str(store_structures.version_of(conn, structure_id)),
        errors=errors,
    )


@bp.get("/structures/<structure_id>")
def structure_edit(structure_id: str):
    """The form of one structure (every field, hours, parent, coverage), with its history."""
    return _stored_form(structure_id)


NO_VERSION = (
    "Le formulaire ne dit pas quelle version de la fiche vous avez ouverte : rechargez la page "
    "et refaites vos changements."
)


def _form_version(text: str | None) -> int | None:
    """The edit counter a form sent back (a small whole number), or None when missing or malformed."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 16 else None


def _submit(structure: dict | None):
    form = request.form
    values = {k: form.get(k, "") for k in editing.FORM_FIELDS}
    statut = form.get("statut", "brouillon")
    if statut not in ("publie", "brouillon") and not (structure and statut == structure["statut"]):
        statut = "brouillon"
    parent_id = form.get("parent_id") or None
    coverage_text = form.get("couverture", "")
    loaded_at = form.get("version") if structure else None
    errors: list[str] = []
    version = _form_version(loaded_at) if structure else None
    if structure and version is None:
        errors.append(NO_VERSION)
    week = None
    hours_text = None
    # Text mode, or hours written out in the table mode's text box: read as imports read them.
    if form.get("horaires_mode") == "texte" or form.get("horaires_texte", "").strip():
        hours_text = form.get("horaires_texte", "")
        values["horaires_accueil"] = hours_text
        try:
            values["horaires_accueil"], note = hours_form.read_text(hours_text)
        except hours_form.HoursError as err:
            errors.append(str(err))
        else:
            if note and note not in (values.get("horaires_note") or ""):
                values["horaires_note"] = "\n".join(n for n in (values.get("horaires_note"), note) if n)
    else:
        try:
            week = hours_form.from_form(form)
            values["horaires_accueil"] = hours_form.format_week(week) or ""
        except hours_form.HoursError as err:
            errors.append(str(err))
            week = week or hours_form.Week()
    checked = editing.check(
        get_conn(),
        values,
        structure,
        statut=statut,
        parent_id=parent_id,
        coverage_text=coverage_text,
        verified_today=bool(form.get("verifie")),
        choix_commune=form.get("choix_commune") or None,
    )
    keep = {
        "week": week,
        "hours_text": hours_text,
        "coverage_text": coverage_text,
        "parent_id": parent_id,
        "statut": statut,
        "loaded_at": loaded_at,
    }
    if errors or checked.structure is None:
        return _render_form(structure, values, status=400, checked=checked, errors=errors, **keep)
    try:
        with writer() as db:
            sid = editing.save(db, checked, g.user["email"], now_iso(), version)
    except editing.EditConflict as err:
        return _render_form(structure, values, status=409, checked=checked, errors=[str(err)], **keep)
    flash("Fiche enregistrée." if checked.action != "inchange" else "Aucun changement.")
    for warning in checked.warnings:
        flash(warning, "avertissement")
    return redirect(url_for("admin.structure_edit", structure_id=sid))


@bp.post("/structures/nouvelle")
def structure_create():
    """Create a structure from the form (checked like an import row)."""
    return _submit(None)


@bp.post("/structures/<structure_id>")
def structure_save(structure_id: str):
    """Save the form of a stored structure (checked like an import row, recorded in the history)."""
    structure = store_structures.get_stored(get_conn(), structure_id)
    if structure is None:
        abort(404)
    return _submit(structure)


def _status(structure_id: str, statut: str, done: str):
    version = _form_version(request.form.get("version"))
    if version is None:
        return _stored_form(structure_id, status=400, errors=[NO_VERSION])
    try:
        with writer() as db:
            changed = editing.set_status(db, structure_id, statut, g.user["email"], now_iso(), version)
    except editing.UnknownStructure:
        abort(404)
    except editing.EditConflict as err:
        return _stored_form(structure_id, status=409, errors=[str(err)])
    flash(done if changed else "Rien à changer.")
    return redirect(url_for("admin.structure_edit", structure_id=structure_id))


@bp.post("/structures/<structure_id>/archiver")
def structure_archive(structure_id: str):
    """Archive a structure: it leaves the public pages and the API, its history stays."""
    return _status(structure_id, "archive", "Structure archivée : elle n’est plus publiée.")


@bp.post("/structures/<structure_id>/restaurer")
def structure_restore(structure_id: str):
    """Publish an archived structure again."""
    return _status(structure_id, "publie", "Structure restaurée : elle est de nouveau publiée.")
