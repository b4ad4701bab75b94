"""The admin area (/admin): login, accounts, import wizard, structures, history, reports, data quality.

Every route needs a live session (pages redirect to the login, JSON answers 401) except the login
itself; account management needs the admin role (403 otherwise). Forms carry a CSRF token
(Flask-WTF's CSRFProtect, installed by create_app); writes go through a writer connection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError

from ...admin import accounts
from ...store import authdb
from ...store import db as store_db
from ..negotiation import wants_json
from ..security import content_security_policy
from ..store import get_auth_conn

if TYPE_CHECKING:  # sqlite-utils is heavy: the writer connection brings it in
    import sqlite_utils

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Public side of the admin: the « Signaler une erreur » form posted from structure pages.
public_bp = Blueprint("signaler", __name__)

# Endpoints reachable without a session.
OPEN_ENDPOINTS = {"admin.login"}
SESSION_KEY = "admin_jeton"


def safe_next(target: str | None) -> str | None:
    """Return `target` when it is a path of the admin area on this site, else None (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or "\\" in target:
        return None
    if not target.isprintable():  # CR/LF would split the Location header
        return None
    return target


def client_ip() -> str:
    """Return the caller's address (the forwarded one behind PROXY_COUNT trusted proxies)."""
    return request.remote_addr or "inconnue"


def writer() -> sqlite_utils.Database:
    """Open the store's writer connection for one request (`with writer() as db:` closes it)."""
    return store_db.writer(current_app.config["DB"], float(current_app.config["WRITE_WAIT_SECONDS"]))


def auth_writer() -> sqlite_utils.Database:
    """Open the accounts file's writer connection for one request (accounts, sessions, pending uploads)."""
    return authdb.writer(current_app.config["AUTH_DB"], float(current_app.config["WRITE_WAIT_SECONDS"]))


def auth_file() -> str:
    """The accounts file of the app (setting AUTH_DB, resolved by create_app)."""
    return current_app.config["AUTH_DB"]


def tile_settings() -> dict:
    """Return the map tile layer (url, attribution, max_zoom) the public pages use too."""
    from .. import maps

    return maps.tile_layer(current_app.config)


def security_headers(response):
    """Headers of every admin and report page: no framing, no caching, scripts from this site only."""
    from .. import maps

    tiles = maps.tile_origin(tile_settings()["url"])
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = content_security_policy(
        script="'self'", tiles=tiles, base_uri="'none'", frame_ancestors="'none'"
    )
    return response


def role_required(role: str) -> Callable:
    """Refuse (403) a route to accounts without this role."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.user["role"] != role:
                if wants_json():
                    return jsonify({"erreur": "Réservé aux administrateurs."}), 403
                message = "Cette page est réservée aux comptes administrateurs."
                return render_template("admin/interdit.html", message=message), 403
            return view(*args, **kwargs)

        return wrapped

    return decorate


@bp.before_request
def _require_session():
    g.user = None
    token = session.get(SESSION_KEY)
    if token:
        g.user = accounts.session_user(get_auth_conn(), token)
        if g.user is None:
            session.pop(SESSION_KEY, None)
    if request.endpoint in OPEN_ENDPOINTS or g.user is not None:
        return None
    if wants_json():
        return jsonify({"erreur": "Connexion requise."}), 401
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("admin.login", next=safe_next(target)))


bp.after_request(security_headers)
public_bp.after_request(security_headers)


@bp.context_processor
def _user():
    return {"user": g.get("user")}


def _csrf_error(err: CSRFError):
    message = "Le formulaire a expiré ou ne vient pas de ce site : rechargez la page et recommencez."
    if wants_json():
        return jsonify({"erreur": message}), 400
    return render_template("erreur.html", status=400, message=message), 400


def init_app(app: Flask) -> None:
    """Register the admin blueprints and the CSRF error page."""
    from . import auth, history, imports, labels, quality, reports, structures  # noqa: F401  (routes register on import)

    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    app.register_error_handler(CSRFError, _csrf_error)
    app.jinja_env.globals["signaler_champs"] = reports.FIELDS
    app.jinja_env.filters["change_label"] = history.change_label
    app.jinja_env.filters["change_diff"] = history.change_diff
    app.jinja_env.filters["heure_paris"] = history.paris_time  # every stored UTC time an admin page shows
    labels.register(app)
