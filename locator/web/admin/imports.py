"""The import wizard: upload a CSV, preview every row on a list and a map, fix rows, confirm, report.

Nothing reaches the published directory before the confirmation: the upload and its fixes wait in
the store's `imports_en_attente` table, under a random token bound to the admin who uploaded it.
"""

from __future__ import annotations

import secrets
import time

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from ...admin import wizard
from ...ingest.importer import ImportPlan, PlanStale, apply_import
from ...ingest.table import FileProblem
from ...store import imports as store_imports
from ...store import pending as store_pending
from ...store.schema import STRUCTURE_TYPES
from .. import limits, params
from ..formatting import TYPE_LABELS
from ..store import get_conn
from . import bp, tile_settings, writer

PENDING_HOURS = 24  # an upload not confirmed within this delay is forgotten
PAGE_ROWS = 100
FILTERS = ("tous", "rejete", "nouveau", "mis_a_jour", "inchange", "corrigees")


def _max_bytes() -> int:
    """The wizard keeps a plan of every row: its files stay smaller than those of `locator import`."""
    return limits.upload_max_bytes(current_app.config)


def _too_many_pending() -> tuple[str, int] | None:
    """Return (French message, status) when this account or the site has too many uploads waiting."""
    config, since = current_app.config, time.time() - PENDING_HOURS * 3600
    mine = store_pending.count(get_conn(), since, g.user["email"])
    if mine >= int(config["WIZARD_PENDING_PER_USER"]):
        return (
            f"Vous avez déjà {mine} import(s) en attente de confirmation : confirmez-les ou "
            "abandonnez-les (depuis leur aperçu) avant d'envoyer un autre fichier. Ils sont oubliés "
            f"après {PENDING_HOURS} h.",
            429,
        )
    if store_pending.count(get_conn(), since) >= int(config["WIZARD_PENDING_TOTAL"]):
        return (
            "Trop d'imports attendent une confirmation sur le site : réessayez quand certains auront été "
            "confirmés ou abandonnés.",
            503,
        )
    return None


def _load(token: str) -> dict:
    found = store_pending.get(get_conn(), token, g.user["email"], time.time() - PENDING_HOURS * 3600)
    if found is None:
        abort(404)
    return found


def _upload_page(error: str | None = None, status: int = 200):
    since = time.time() - PENDING_HOURS * 3600
    return render_template(
        "admin/import_envoi.html",
        error=error,
        max_mo=f"{_max_bytes() / (1024 * 1024):g}",
        waiting=store_pending.of_account(get_conn(), g.user["email"], since),
    ), status


@bp.get("/import")
def import_upload():
    """Step 1: choose a CSV file (same format and size limit as `locator import`)."""
    return _upload_page()


@bp.post("/import")
def import_start():
    """Read the file, plan it (nothing is written to the directory) and show the preview."""
    upload = request.files.get("fichier")
    if upload is None or not upload.filename:
        return _upload_page("Choisissez un fichier CSV.", 400)
    busy = _too_many_pending()
    if busy:
        return _upload_page(*busy)
    contenu = upload.read(_max_bytes() + 1)
    if len(contenu) > _max_bytes():
        return _upload_page(f"Le fichier dépasse {_max_bytes() / (1024 * 1024):g} Mo : découpez-le.", 413)
    problem = wizard.sniff(contenu, current_app.config)
    if problem:
        return _upload_page(problem, 400)
    statut = "brouillon" if request.form.get("statut") == "brouillon" else "publie"
    reglages = wizard.new_reglages(statut, hors_region=request.form.get("hors_region") == "oui")
    filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200] or "fichier.csv"
    plan = wizard.plan(get_conn(), contenu, filename, reglages, current_app.config)
    if plan.erreur:
        return _upload_page(plan.erreur, 400)
    token = secrets.token_urlsafe(24)
    now = time.time()
    with writer() as db, db.atomic():
        store_pending.put(
            db,
            token,
            g.user["email"],
            now,
            filename,
            contenu,
            reglages,
            plan.to_dict(),
            now - PENDING_HOURS * 3600,
        )
    return redirect(url_for("admin.import_preview", token=token))


@bp.get("/import/<token>")
def import_preview(token: str):
    """Step 2: every row with its action and reasons, on a list and a map; fix, then confirm."""
    item = _load(token)
    plan = ImportPlan.from_dict(item["plan"])
    raw = wizard.raw_rows(item["contenu"], _max_bytes(), current_app.config)
    rows = wizard.rows_view(item["plan"], item["reglages"], raw)
    voir = request.args.get("voir", "tous")
    if voir not in FILTERS:
        voir = "tous"
    if voir == "corrigees":
        shown = [r for r in rows if r["corrigee"]]
    elif voir != "tous":
        shown = [r for r in rows if r["action"] == voir]
    else:
        shown = rows
    page = params.page(request.args)
    pages = max(1, -(-len(shown) // PAGE_ROWS))
    return render_template(
        "admin/import_apercu.html",
        token=token,
        item=item,
        counts=plan.counts(),
        file_warnings=plan.avertissements,
        rows=shown[(page - 1) * PAGE_ROWS : page * PAGE_ROWS],
        voir=voir,
        page=page,
        pages=pages,
        fixed=sum(1 for r in rows if r["corrigee"]),
        tiles=tile_settings(),
    )


@bp.get("/import/<token>/carte.json")
def import_map(token: str):
    """The rows that have a point, as GeoJSON, for the preview map."""
    item = _load(token)
    raw = wizard.raw_rows(item["contenu"], _max_bytes(), current_app.config)
    return jsonify(wizard.features(item["plan"], raw, item["reglages"]))


def _row(item: dict, ligne: int) -> dict:
    for r in item["plan"]["lignes"]:
        if r["ligne"] == ligne and r["action"] != "vide":
            return r
    abort(404)


def _replan(token: str, item: dict, reglages: dict) -> ImportPlan:
    plan = wizard.plan(
        get_conn(),
        item["contenu"],
        item["fichier"],
        reglages,
        current_app.config,
        item["plan"].get("geocache"),
    )
    with writer() as db, db.atomic():
        store_pending.update(db, token, reglages, plan.to_dict())
    return plan


@bp.get("/import/<token>/lignes/<int:ligne>")
def import_row(token: str, ligne: int):
    """The fix form of one row: every column of the file, the commune choice, the point on a map."""
    item = _load(token)
    row = _row(item, ligne)
    raw = wizard.raw_rows(item["contenu"], _max_bytes(), current_app.config).get(ligne, {})
    values = {k: raw.get(k, "") for k in wizard.FIXABLE}
    values.update(item["reglages"]["corrections"].get(str(ligne), {}))
    values["type"] = wizard.type_of(values.get("type")) or values.get("type", "")
    return render_template(
        "admin/import_ligne.html",
        token=token,
        row=row,
        values=values,
        raw=raw,
        fields=wizard.FIXABLE,
        types=[(t, TYPE_LABELS[t][0]) for t in STRUCTURE_TYPES],
        chosen=item["reglages"]["choix_communes"].get(str(ligne)),
        libelle=wizard.ACTION_LABELS.get(row["action"], row["action"]),
        tiles=tile_settings(),
    )


@bp.post("/import/<token>/lignes/<int:ligne>")
def import_row_fix(token: str, ligne: int):
    """Apply a row's fixes (fields, point, commune), plan the file again, back to the preview."""
    item = _load(token)
    row = _row(item, ligne)
    raw = wizard.raw_rows(item["contenu"], _max_bytes(), current_app.config).get(ligne, {})
    sent = {k: request.form[k] for k in wizard.FIXABLE if k in request.form}  # a field not sent stays
    reglages = wizard.fix(item["reglages"], ligne, sent, raw)
    choice = request.form.get("choix_commune") or None
    allowed = {c["code_insee"] for c in row.get("communes_candidates") or []}
    allowed.add(item["reglages"]["choix_communes"].get(str(ligne)))
    if choice and choice not in allowed:
        flash(f"Ligne {ligne} : choisissez une des communes proposées.", "erreur")
        return redirect(url_for("admin.import_row", token=token, ligne=ligne))
    if "choix_commune" in request.form:
        reglages = wizard.pick_commune(reglages, ligne, choice)
    plan = _replan(token, item, reglages)
    row = next(r for r in plan.lignes if r.ligne == ligne)
    label = wizard.ACTION_LABELS.get(row.action, row.action)
    if row.action == "rejete":
        flash(f"Ligne {ligne} : toujours rejetée ({'; '.join(row.erreurs)}).", "erreur")
        return redirect(url_for("admin.import_row", token=token, ligne=ligne))
    flash(f"Ligne {ligne} corrigée : {label}.")
    return redirect(url_for("admin.import_preview", token=token, _anchor=f"ligne-{ligne}"))


@bp.post("/import/<token>/lignes/<int:ligne>/position.json")
def import_row_point(token: str, ligne: int):
    """Move a row's point (a pin dragged on the map): JSON {latitude, longitude} → the row re-planned."""
    item = _load(token)
    _row(item, ligne)
    data = request.get_json(silent=True) or {}
    try:
        lat, lon = float(data["latitude"]), float(data["longitude"])
    except (KeyError, TypeError, ValueError):
        return jsonify({"erreur": "latitude et longitude (nombres) attendues."}), 400
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return jsonify({"erreur": "Coordonnées impossibles."}), 400
    raw = wizard.raw_rows(item["contenu"], _max_bytes(), current_app.config).get(ligne, {})
    reglages = wizard.fix(item["reglages"], ligne, {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"}, raw)
    plan = _replan(token, item, reglages)
    row = next(r for r in plan.lignes if r.ligne == ligne)
    label = wizard.ACTION_LABELS.get(row.action, row.action)
    flash(f"Ligne {ligne} : position corrigée ({label}).", "erreur" if row.action == "rejete" else "message")
    return jsonify(
        {
            "ligne": ligne,
            "action": row.action,
            "libelle": wizard.ACTION_LABELS.get(row.action, row.action),
            "erreurs": row.erreurs,
            "avertissements": row.avertissements,
            "structure": row.structure,
            "comptes": plan.counts(),
        }
    )


def _already_confirmed(plan: ImportPlan):
    """A second confirmation of the same upload: to the import the first one made, nothing imported again."""
    done = store_imports.latest_of(get_conn(), plan.sha256, g.user["email"])
    flash("Cet import a déjà été confirmé (double clic ?) : il n'a été importé qu'une fois.")
    if done is None:
        return redirect(url_for("admin.import_upload"))
    return redirect(url_for("admin.import_detail", import_id=done["id"]))


@bp.post("/import/<token>/confirmer")
def import_confirm(token: str):
    """Step 3: write the previewed plan in one transaction, then show the import's report."""
    item = _load(token)
    plan = ImportPlan.from_dict(item["plan"])
    try:
        # The upload is claimed in the import's own transaction: of two confirmations, one imports.
        with writer() as db, db.atomic():
            claimed = store_pending.drop(db, token)
            report = apply_import(db, plan, auteur=g.user["email"]) if claimed else None
    except PlanStale as err:
        _replan(token, item, item["reglages"])
        flash(f"{err} L'aperçu a été recalculé : vérifiez-le puis confirmez de nouveau.", "erreur")
        return redirect(url_for("admin.import_preview", token=token))
    except FileProblem as err:
        flash(str(err), "erreur")
        return redirect(url_for("admin.import_preview", token=token))
    if report is None:
        return _already_confirmed(plan)
    if report.get("aucun_changement"):
        flash("Aucun changement : les données sont déjà à jour ; aucun import n'est ajouté à l'historique.")
        return redirect(url_for("admin.history"))
    flash(
        f"Import publié : {report['crees']} créée(s), {report['mis_a_jour']} mise(s) à jour, "
        f"{len(report['rejetes'])} ligne(s) rejetée(s) non importée(s)."
    )
    return redirect(url_for("admin.import_detail", import_id=report["import_id"]))


@bp.post("/import/<token>/abandonner")
def import_drop(token: str):
    """Forget an upload without importing anything."""
    _load(token)
    with writer() as db, db.atomic():
        store_pending.drop(db, token)
    flash("Import abandonné : rien n'a été modifié.")
    return redirect(url_for("admin.import_upload"))
