"""The import wizard: upload a CSV, preview every row on a list and a map, fix rows, confirm, report.

Nothing reaches the published directory before the confirmation: the upload, its fixes and its plan
wait in the accounts file (store/pending.py), under a random token bound to the admin who uploaded
it. Every request reads only the page of the plan it shows; the confirmation reads it a page at a time.
"""

from __future__ import annotations

import math
import secrets
import time
from contextlib import closing

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from ... import wording
from ...admin import wizard
from ...ingest.importer import PlanStale, apply_rows
from ...ingest.table import FileProblem
from ...store import db as store_db
from ...store import imports as store_imports
from ...store import pending as store_pending
from ...store.schema import STRUCTURE_TYPES
from .. import limits, params
from ..formatting import TYPE_LABELS
from ..negotiation import wants_json
from ..store import get_auth_conn, get_conn
from . import auth_writer, bp, tile_settings, writer

PENDING_HOURS = 24  # an upload not confirmed within this delay is forgotten
PAGE_ROWS = 100
FILTERS = store_pending.FILTERS


def _max_bytes() -> int:
    """The wizard keeps a plan of every row: its files stay smaller than those of `locator import`."""
    return limits.upload_max_bytes(current_app.config)


def _too_many_pending() -> tuple[str, int] | None:
    """Return (French message, status) when this account or the site has too many uploads waiting."""
    config, since = current_app.config, time.time() - PENDING_HOURS * 3600
    mine = store_pending.count(get_auth_conn(), since, g.user["email"])
    if mine >= int(config["WIZARD_PENDING_PER_USER"]):
        return (
            f"Vous avez déjà {wording.count(mine, 'import')} en attente de confirmation : confirmez-les ou "
            "abandonnez-les (depuis leur aperçu) avant d’envoyer un autre fichier. Ils sont oubliés "
            f"après {PENDING_HOURS} h.",
            429,
        )
    if store_pending.count(get_auth_conn(), since) >= int(config["WIZARD_PENDING_TOTAL"]):
        return (
            "Trop d’imports attendent une confirmation sur le site : réessayez quand certains auront été "
            "confirmés ou abandonnés.",
            503,
        )
    return None


def _load(token: str) -> dict:
    since = time.time() - PENDING_HOURS * 3600
    found = store_pending.get(get_auth_conn(), token, g.user["email"], since)
    if found is None:
        abort(404)
    return found


def _upload_page(error: str | None = None, status: int = 200):
    since = time.time() - PENDING_HOURS * 3600
    return render_template(
        "admin/import_envoi.html",
        error=error,
        max_mo=f"{_max_bytes() / (1024 * 1024):g}",
        waiting=store_pending.of_account(get_auth_conn(), g.user["email"], since),
    ), status


def _plan(item_id: int, contenu: bytes, fichier: str, reglages: dict, known: dict | None = None) -> dict:
    """Plan the upload into a new version of its stored plan (see wizard.plan_upload); its summary."""
    # A connection of its own: the plan's working maps live in its TEMP tables, dropped with it.
    conn = store_db.connect(current_app.config["DB"], scratch=True)
    try:
        with auth_writer() as auth:
            settings = current_app.config
            return wizard.plan_upload(conn, auth, item_id, contenu, fichier, reglages, settings, known)
    finally:
        conn.close()


def _forget(token: str) -> None:
    """Drop an upload and sweep the rows of the plans nobody reads any more."""
    with auth_writer() as auth:
        with auth.atomic():
            store_pending.drop(auth, token)
        store_pending.sweep(auth)


@bp.errorhandler(store_pending.PlanGone)
def _gone(_err: store_pending.PlanGone):
    """The upload was confirmed or abandoned (in another tab) while this request used it."""
    message = "Cet import n’est plus en attente : il a été confirmé ou abandonné entre-temps."
    if wants_json():
        return jsonify({"erreur": message}), 404
    flash(message, "erreur")
    return redirect(url_for("admin.import_upload"))


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
        return _upload_page(f"Le fichier dépasse {_max_bytes() / (1024 * 1024):g} Mo : découpez-le.", 413)
    problem = wizard.sniff(contenu, current_app.config)
    if problem:
        return _upload_page(problem, 400)
    statut = "brouillon" if request.form.get("statut") == "brouillon" else "publie"
    reglages = wizard.new_reglages(statut, hors_region=request.form.get("hors_region") == "oui")
    filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200] or "fichier.csv"
    token = secrets.token_urlsafe(24)
    now = time.time()
    with auth_writer() as auth, auth.atomic():
        item_id = store_pending.put(
            auth, token, g.user["email"], now, filename, contenu, reglages, now - PENDING_HOURS * 3600
        )
    try:
        _plan(item_id, contenu, filename, reglages)
    except FileProblem as err:
        _forget(token)
        return _upload_page(str(err), 400)
    except BaseException:
        _forget(token)
        raise
    return redirect(url_for("admin.import_preview", token=token))


@bp.get("/import/<token>")
def import_preview(token: str):
    """Step 2: every row with its action and reasons, on a list and a map; fix, then confirm."""
    item = _load(token)
    voir = request.args.get("voir", "tous")
    if voir not in FILTERS:
        voir = "tous"
    page = params.page(request.args)
    conn = get_auth_conn()
    pages = max(1, math.ceil(store_pending.count_rows(conn, item, voir) / PAGE_ROWS))
    rows = store_pending.rows(conn, item, voir, (page - 1) * PAGE_ROWS, PAGE_ROWS)
    return render_template(
        "admin/import_apercu.html",
        token=token,
        item=item,
        counts=item["resume"]["comptes"],
        file_warnings=item["resume"]["avertissements"],
        rows=[wizard.view(r, item["reglages"]) for r in rows],
        voir=voir,
        page=page,
        pages=pages,
        fixed=store_pending.count_rows(conn, item, "corrigees"),
        points=item["resume"].get("points", 0),
        map_points=int(current_app.config["WIZARD_MAP_POINTS"]),
        tiles=tile_settings(),
    )


class _BadBox(ValueError):
    """A `bbox` parameter that is not four finite numbers west,south,east,north."""


def _box() -> tuple[float, float, float, float] | None:
    """The map's view (`bbox=west,south,east,north`, degrees) as (min_lat, min_lon, max_lat, max_lon)."""
    text = request.args.get("bbox")
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text[:200].split(","))
    except ValueError:
        raise _BadBox from None
    if not all(math.isfinite(v) for v in (west, south, east, north)) or south > north or west > east:
        raise _BadBox
    return south, west, north, east


@bp.get("/import/<token>/carte.json")
def import_map(token: str):
    """The rows that have a point, as GeoJSON, for the preview map: WIZARD_MAP_POINTS at most (those in
    the map's view when `bbox` is given), with how many there are in all."""
    item = _load(token)
    limit = int(current_app.config["WIZARD_MAP_POINTS"])
    try:
        box = _box()
    except _BadBox:
        return jsonify({"erreur": "bbox : quatre nombres attendus (ouest,sud,est,nord)."}), 400
    records, total = store_pending.points(get_auth_conn(), item, limit, box)
    features = [wizard.feature(r) for r in records]
    return jsonify({"type": "FeatureCollection", "features": features, "total": total, "limite": limit})


def _row(item: dict, ligne: int) -> dict:
    found = store_pending.row(get_auth_conn(), item, ligne)
    if found is None:
        abort(404)
    return found


def _replan(item: dict, reglages: dict) -> dict:
    """Plan the upload again with these fixes; return its new summary."""
    contenu = store_pending.content(get_auth_conn(), item)
    return _plan(item["id"], contenu, item["fichier"], reglages, item["resume"].get("geocache"))


@bp.get("/import/<token>/lignes/<int:ligne>")
def import_row(token: str, ligne: int):
    """The fix form of one row: every column of the file, the commune choice, the point on a map."""
    item = _load(token)
    row = _row(item, ligne)
    raw = row.get("brut") or {}
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
    raw = row.get("brut") or {}
    sent = {k: request.form[k] for k in wizard.FIXABLE if k in request.form}  # a field not sent stays
    reglages = wizard.fix(item["reglages"], ligne, sent, raw)
    choice = request.form.get("choix_commune") or None
    allowed = {c["code_insee"] for c in row.get("communes_candidates") or []}
    allowed.add(item["reglages"]["choix_communes"].get(str(ligne)))
    if choice and choice not in allowed:
        flash(f"Ligne {ligne} : choisissez une des communes proposées.", "erreur")
        return redirect(url_for("admin.import_row", token=token, ligne=ligne))
    if "choix_commune" in request.form:
        reglages = wizard.pick_commune(reglages, ligne, choice)
    _replan(item, reglages)
    row = _row(item, ligne)
    label = wizard.ACTION_LABELS.get(row["action"], row["action"])
    if row["action"] == "rejete":
        flash(f"Ligne {ligne} : toujours rejetée ({'; '.join(row.get('erreurs') or [])}).", "erreur")
        return redirect(url_for("admin.import_row", token=token, ligne=ligne))
    flash(f"Ligne {ligne} corrigée : {label}.")
    return redirect(url_for("admin.import_preview", token=token, _anchor=f"ligne-{ligne}"))


@bp.post("/import/<token>/lignes/<int:ligne>/doublon")
def import_row_duplicate(token: str, ligne: int):
    """Decide what a probable duplicate is (update the stored structure, keep both, skip), plan again."""
    item = _load(token)
    row = _row(item, ligne)
    choix = request.form.get("choix")
    if not row.get("doublon") or choix not in wizard.DUPLICATE_CHOICES:
        flash(f"Ligne {ligne} : choisissez une des trois réponses proposées.", "erreur")
        return redirect(url_for("admin.import_preview", token=token, _anchor=f"ligne-{ligne}"))
    _replan(item, wizard.choose_duplicate(item["reglages"], ligne, choix))
    row = _row(item, ligne)
    label = wizard.ACTION_LABELS.get(row["action"], row["action"])
    flash(f"Ligne {ligne} : choix « {wizard.DUPLICATE_CHOICES[choix]} » retenu ({label}).")
    return redirect(url_for("admin.import_preview", token=token, _anchor=f"ligne-{ligne}"))


@bp.post("/import/<token>/lignes/<int:ligne>/position.json")
def import_row_point(token: str, ligne: int):
    """Move a row's point (a pin dragged on the map): JSON {latitude, longitude} → the row re-planned."""
    item = _load(token)
    row = _row(item, ligne)
    data = request.get_json(silent=True) or {}
    try:
        lat, lon = float(data["latitude"]), float(data["longitude"])
    except (KeyError, TypeError, ValueError):
        return jsonify({"erreur": "latitude et longitude (nombres) attendues."}), 400
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return jsonify({"erreur": "Coordonnées impossibles."}), 400
    raw = row.get("brut") or {}
    reglages = wizard.fix(item["reglages"], ligne, {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"}, raw)
    resume = _replan(item, reglages)
    row = _row(item, ligne)
    label = wizard.ACTION_LABELS.get(row["action"], row["action"])
    kind = "erreur" if row["action"] == "rejete" else "message"
    flash(f"Ligne {ligne} : position corrigée ({label}).", kind)
    return jsonify(
        {
            "ligne": ligne,
            "action": row["action"],
            "libelle": label,
            "erreurs": row.get("erreurs") or [],
            "avertissements": row.get("avertissements") or [],
            "structure": row.get("structure"),
            "comptes": resume["comptes"],
        }
    )


def _already_confirmed(token: str, sha256: str):
    """A second confirmation of the same upload: to the import the first one made, nothing imported again."""
    done = store_imports.of_upload(get_conn(), token) or store_imports.latest_of(
        get_conn(), sha256, g.user["email"]
    )
    flash("Cet import a déjà été confirmé (double clic ?) : il n’a été importé qu’une fois.")
    if done is None:
        return redirect(url_for("admin.import_upload"))
    return redirect(url_for("admin.import_detail", import_id=done["id"]))


def _confirmed_before(token: str):
    """A confirmation arriving once the first one has imported and forgotten the upload (a double click on
    a busy server): to that import, as when both arrive together; a 404 for anyone else's upload."""
    done = store_imports.of_upload(get_conn(), token)
    if done is None or done.get("auteur") != g.user["email"]:
        abort(404)
    flash("Cet import a déjà été confirmé (double clic ?) : il n’a été importé qu’une fois.")
    return redirect(url_for("admin.import_detail", import_id=done["id"]))


@bp.post("/import/<token>/confirmer")
def import_confirm(token: str):
    """Step 3: write the previewed plan in one transaction, reading it a page at a time, then report."""
    since = time.time() - PENDING_HOURS * 3600
    item = store_pending.get(get_auth_conn(), token, g.user["email"], since)
    if item is None:
        return _confirmed_before(token)
    plan = wizard.header_of(item)
    try:
        # The import records the upload's token in its own transaction: of two confirmations, one imports.
        with writer() as db, db.atomic():
            if store_imports.of_upload(db.conn, token) is not None:
                report = None
            else:
                with closing(store_pending.all_rows(get_auth_conn(), item)) as records:
                    rows = (wizard.plan_row(r) for r in records)
                    report = apply_rows(
                        db, plan, item["resume"]["comptes"], rows, auteur=g.user["email"], jeton=token
                    )
    except PlanStale as err:
        _replan(item, item["reglages"])
        flash(f"{err} L’aperçu a été recalculé : vérifiez-le puis confirmez de nouveau.", "erreur")
        return redirect(url_for("admin.import_preview", token=token))
    except FileProblem as err:
        flash(str(err), "erreur")
        return redirect(url_for("admin.import_preview", token=token))
    except store_pending.PlanGone:
        return _already_confirmed(token, plan.sha256)
    if report is None:
        return _already_confirmed(token, plan.sha256)
    _forget(token)
    if report.get("aucun_changement"):
        flash("Aucun changement : les données sont déjà à jour ; aucun import n’est ajouté à l’historique.")
        return redirect(url_for("admin.history"))
    flash(
        f"Import publié : {wording.count(report['crees'], 'créée')}, "
        f"{wording.count(report['mis_a_jour'], 'mise à jour', 'mises à jour')}, "
        + wording.count(
            len(report["rejetes"]) + report.get("rejetes_non_listes", 0),
            "ligne rejetée non importée",
            "lignes rejetées non importées",
        )
        + _duplicates_left(report.get("doublons", 0))
        + "."
    )
    return redirect(url_for("admin.import_detail", import_id=report["import_id"]))


def _duplicates_left(n: int) -> str:
    """The end of the confirmation's message for the probable duplicates not imported (none: nothing)."""
    if not n:
        return ""
    return f", {n} doublon probable non importé" if n == 1 else f", {n} doublons probables non importés"


@bp.post("/import/<token>/abandonner")
def import_drop(token: str):
    """Forget an upload without importing anything."""
    _load(token)
    _forget(token)
    flash("Import abandonné : rien n’a été modifié.")
    return redirect(url_for("admin.import_upload"))
