"""« Signaler une erreur »: the public form's route, and the moderation queue of the admin area."""

from __future__ import annotations

import math
import time

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from ...admin import reports as report_checks
from ...admin.accounts import now_iso
from ...store import reports as store_reports
from ...store import structures as store_structures
from ...store import throttle
from ..store import get_conn
from . import bp, client_ip, public_bp, writer

# What the visitor says is wrong (value → label); "autre" lets them say anything.
FIELDS = {
    "adresse": "L’adresse ou la position sur la carte",
    "contact": "Le téléphone, le courriel ou le site",
    "horaires": "Les horaires",
    "fermee": "La structure a fermé ou déménagé",
    "autre": "Autre chose",
}
HONEYPOT = "site_internet"  # hidden from people; bots fill every field they see


def _published(structure_id: str) -> dict:
    structure = store_structures.get(get_conn(), structure_id)
    if structure is None or structure["statut"] != "publie":
        abort(404)
    return structure


def _form_page(structure: dict, status: int = 200, errors: dict | None = None, values: dict | None = None):
    return (
        render_template(
            "admin/signaler.html",
            structure=structure,
            fields=FIELDS,
            errors=errors or {},
            values=values or {},
        ),
        status,
    )


@public_bp.get("/structures/<structure_id>/signaler")
def report_form(structure_id: str):
    """The report form on a page of its own (the structure page includes the same form)."""
    return _form_page(_published(structure_id))


@public_bp.post("/structures/<structure_id>/signaler")
def report(structure_id: str):
    """Queue a report: no account, optional contact, throttled per address, honeypot-guarded."""
    structure = _published(structure_id)
    if request.form.get(HONEYPOT):
        # Looks like success to the bot; nothing is stored.
        return render_template("admin/signaler_merci.html", structure=structure)
    values, errors = report_checks.check(
        *((request.form.get(k) or "") for k in ("champ", "message", "contact")), fields=FIELDS
    )
    if errors:
        return _form_page(structure, 400, errors, values)
    key = f"signalement:{client_ip()}"
    limit = int(current_app.config["REPORTS_PER_IP_PER_HOUR"])
    now = time.time()
    retry = None
    with writer() as db, throttle.immediate(db):
        count, first, _last = throttle.recent(db.conn, key, now - 3600)
        if count >= limit:
            retry = max(1, math.ceil(first + 3600 - now))
        else:
            throttle.record(db, [key], now)
            store_reports.add(
                db, structure["id"], values["champ"], values["message"], values["contact"] or None, now_iso()
            )
    if retry is not None:
        page = render_template("admin/signaler_limite.html", structure=structure)
        return page, 429, {"Retry-After": str(retry)}
    return render_template("admin/signaler_merci.html", structure=structure)


@bp.get("/signalements")
def reports():
    """The moderation queue: new reports first, then the settled ones."""
    statut = request.args.get("statut", "nouveau")
    if statut not in store_reports.STATUSES:
        statut = "nouveau"
    conn = get_conn()
    return render_template(
        "admin/signalements.html",
        items=store_reports.queue(conn, statut),
        counts=store_reports.counts(conn),
        statut=statut,
        fields=FIELDS,
    )


def _settle(report_id: int, statut: str, done: str):
    with writer() as db, db.atomic():
        ok = store_reports.settle(db, report_id, statut, g.user["email"], now_iso())
    if ok:
        flash(done)
    else:
        flash("Ce signalement n’existe pas ou a déjà été traité.", "erreur")
    return redirect(url_for("admin.reports"))


@bp.post("/signalements/<int:report_id>/resoudre")
def report_resolve(report_id: int):
    """Mark a report resolved (the structure was fixed)."""
    return _settle(report_id, "resolu", f"Signalement n° {report_id} résolu.")


@bp.post("/signalements/<int:report_id>/rejeter")
def report_reject(report_id: int):
    """Mark a report rejected (nothing to fix)."""
    return _settle(report_id, "rejete", f"Signalement n° {report_id} rejeté.")
