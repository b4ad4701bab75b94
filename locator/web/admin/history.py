"""History: every import and edit (who, when, before/after), and undoing an import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from ... import phones, territories
from ...admin.accounts import now_iso
from ...store import history as store_history
from ...store import imports as store_imports
from ...store import listing
from ..store import get_conn
from . import bp, writer

# Columns that change with every write and say nothing to a reader.
_QUIET = {"modifie_le", "cree_le", "origine"}


PARIS = ZoneInfo("Europe/Paris")


def paris_time(value: str | None) -> str:
    """Show a stored UTC time (ISO 8601) as the admins read it: « 29/01/2026 à 15:04 », Paris time."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)  # not a time we wrote: shown as it is
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store writes UTC
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def change_label(change: dict[str, Any]) -> str:
    """Say in French what a recorded change did."""
    action, before, after = change["action"], change.get("avant"), change.get("apres")
    if change["objet"] == "couverture":
        return "Communes couvertes" if action != "annule" else "Communes couvertes (annulation d'import)"
    if action == "annule":
        return "Annulation d'import"
    if action == "cree" or before is None:
        return "Création"
    if action == "supprime" or after is None:
        return "Suppression"
    if before.get("statut") != after.get("statut"):
        return {"archive": "Archivage", "publie": "Publication", "brouillon": "Mise en brouillon"}.get(
            after.get("statut"), "Modification"
        )
    return "Modification"


def change_diff(change: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Return (field, before, after) for each field a change touched (coverage: codes added/removed)."""
    before, after = change.get("avant"), change.get("apres")
    if change["objet"] == "couverture":
        old = {r[0] for r in before or []}
        new = {r[0] for r in after or []}
        out = []
        if new - old:
            out.append(("communes ajoutées", None, ", ".join(sorted(new - old))))
        if old - new:
            out.append(("communes retirées", ", ".join(sorted(old - new)), None))
        return out
    if before is None or after is None:
        return []
    return [
        (k, _shown(k, before.get(k)), _shown(k, after.get(k)))
        for k in after
        if k not in _QUIET and before.get(k) != after.get(k)
    ]


def _shown(key: str, value: Any) -> Any:
    """A stored value as the admins read it (a phone in E.164 shown « 04 73 38 00 00 »)."""
    return phones.display(value) if key == "telephone" else value


@bp.get("/historique")
def history():
    """The imports, newest first, and the latest changes made by hand."""
    conn = get_conn()
    return render_template(
        "admin/historique.html",
        imports=store_imports.recent(conn, 50),
        changes=listing.recent_changes(conn, 100, manual_only=True),
    )


@bp.get("/imports/<int:import_id>")
def import_detail(import_id: int):
    """One import: its report, every change it made, and what later work would block its undo."""
    conn = get_conn()
    record = store_imports.get(conn, import_id)
    if record is None:
        abort(404)
    return render_template(
        "admin/import_detail.html",
        record=record,
        changes=store_history.changes_of_import(conn, import_id),
        blocked=None if record["annule_le"] else store_history.undo_blockers(conn, import_id),
    )


@bp.post("/imports/<int:import_id>/annuler")
def import_undo(import_id: int):
    """Undo an import; with `dependants=annuler` (box ticked) also the later work depending on it."""
    with_dependants = request.form.get("dependants") == "annuler"
    if request.form.get("confirmer") != "oui":
        flash(
            "Cochez la case de confirmation pour annuler l’import"
            + (" et les changements faits depuis." if with_dependants else "."),
            "erreur",
        )
        return redirect(url_for("admin.import_detail", import_id=import_id))
    try:
        with writer() as db:
            count = store_history.undo_import(
                db,
                import_id,
                g.user["email"],
                now_iso(),
                with_dependants=with_dependants,
                then=lambda d: territories.refresh(d, current_app.config["REGION"]),
            )
    except (store_history.UndoConflict, store_history.UnknownImport, store_history.AlreadyUndone) as err:
        flash(str(err), "erreur")
    else:
        fiches = "fiche remise" if count == 1 else "fiches remises"
        flash(f"Import n° {import_id} annulé : {count} {fiches} dans leur état précédent.")
    return redirect(url_for("admin.import_detail", import_id=import_id))
