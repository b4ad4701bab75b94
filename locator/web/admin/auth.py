"""Login, logout, the admin home page and account management (admins only)."""

from __future__ import annotations

import secrets

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ...admin import accounts
from ...store import reports as store_reports
from ...store import structures as store_structures
from ...store import users as store_users
from ..store import get_auth_conn, get_conn
from . import SESSION_KEY, auth_file, bp, client_ip, role_required, safe_next

# A browser where an account logged in: its own lockout counter, so strangers cannot lock it out.
DEVICE_COOKIE = "locator_appareil"


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="appareil-connu")


def known_device(email: str) -> str | None:
    """Return the device id of this browser's signed cookie when it vouches for this account."""
    days = float(current_app.config["LOGIN_KNOWN_DEVICE_DAYS"])
    try:
        data = _devices().loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=days * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("compte") != email.strip().lower():
        return None
    return str(data.get("appareil") or "") or None


def _remember_device(response, email: str, device: str | None):
    """Sign this browser as known for the account (renewed at each login)."""
    value = _devices().dumps({"compte": email, "appareil": device or secrets.token_urlsafe(16)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(float(current_app.config["LOGIN_KNOWN_DEVICE_DAYS"]) * 86400),
        path="/admin",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Lax",
    )
    return response


def _locked_message(retry_after: int) -> str:
    minutes = max(1, round(retry_after / 60))
    return f"Trop d’essais manqués : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Login form; throttled per account and per address (429 with Retry-After while locked)."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.user:
            return redirect(next_url or url_for("admin.home"))
        return render_template("admin/login.html", next=next_url)
    email = request.form.get("email", "")
    rules = accounts.Throttling.from_config(current_app.config)
    device = known_device(email)
    password = request.form.get("password", "")
    try:
        user = accounts.login(get_auth_conn(), auth_file(), email, password, client_ip(), rules, device)
    except accounts.LockedOut as locked:
        error = _locked_message(locked.retry_after)
        page = render_template("admin/login.html", next=next_url, error=error, email=email)
        return page, 429, {"Retry-After": str(locked.retry_after)}
    if user is None:
        error = "Adresse ou mot de passe incorrect."
        return render_template("admin/login.html", next=next_url, error=error, email=email), 401
    token = accounts.open_session(auth_file(), user["email"], current_app.config["ADMIN_SESSION_HOURS"])
    session.clear()  # a fresh session: nothing from before the login survives (fixation)
    session[SESSION_KEY] = token
    return _remember_device(redirect(next_url or url_for("admin.home")), user["email"], device)


@bp.post("/logout")
def logout():
    """End the session here and in the store."""
    accounts.close_session(auth_file(), session[SESSION_KEY])
    session.clear()
    flash("Vous êtes déconnecté.")
    return redirect(url_for("admin.login"))


@bp.get("/")
def home():
    """The admin home: what needs attention."""
    conn = get_conn()
    counts = store_structures.count_by_status(conn)
    return render_template("admin/home.html", counts=counts, reports=store_reports.counts(conn))


@bp.get("/comptes")
@role_required("admin")
def users():
    """Accounts list with the forms to add, change and remove them."""
    return render_template(
        "admin/comptes.html", accounts=store_users.list_all(get_auth_conn()), roles=accounts.ROLES
    )


def _account_action(action, *args, done: str):
    """Run an account action; `done` says what was done to the account "{}" (its email as stored)."""
    try:
        email = action(auth_file(), *args)
    except accounts.AccountError as err:
        flash(str(err), "erreur")
    else:
        flash(done.format(email))
    return redirect(url_for("admin.users"))


@bp.post("/comptes/ajouter")
@role_required("admin")
def user_add():
    """Create an account with an initial password."""
    return _account_action(
        accounts.add_user,
        request.form.get("email", ""),
        request.form.get("role", ""),
        request.form.get("password", ""),
        done="Compte créé : {}.",
    )


@bp.post("/comptes/role")
@role_required("admin")
def user_role():
    """Change an account's role."""
    email = request.form.get("email", "")
    return _account_action(accounts.set_role, email, request.form.get("role", ""), done="Rôle changé : {}.")


@bp.post("/comptes/mot-de-passe")
@role_required("admin")
def user_password():
    """Give an account a new password (its sessions end)."""
    email = request.form.get("email", "")
    return _account_action(
        accounts.set_password, email, request.form.get("password", ""), done="Mot de passe changé : {}."
    )


@bp.post("/comptes/supprimer")
@role_required("admin")
def user_remove():
    """Delete an account."""
    email = request.form.get("email", "")
    try:
        own = accounts.account_key(email) == g.user["email"]
    except accounts.AccountError:
        own = False  # no such account: remove_user says so
    if own:
        flash("Vous ne pouvez pas supprimer votre propre compte.", "erreur")
        return redirect(url_for("admin.users"))
    return _account_action(accounts.remove_user, email, done="Compte supprimé : {}.")


@bp.route("/mon-compte", methods=["GET", "POST"])
def own_password():
    """Change one's own password (the current one is asked again)."""
    if request.method == "GET":
        return render_template("admin/mon_compte.html")
    rules = accounts.Throttling.from_config(current_app.config)
    try:
        ok = accounts.check_current_password(
            get_auth_conn(), auth_file(), g.user["email"], request.form.get("actuel", ""), rules
        )
    except accounts.LockedOut as locked:
        page = render_template("admin/mon_compte.html", error=_locked_message(locked.retry_after))
        return page, 429, {"Retry-After": str(locked.retry_after)}
    if not ok:
        return render_template("admin/mon_compte.html", error="Le mot de passe actuel est incorrect."), 400
    if request.form.get("nouveau", "") != request.form.get("confirmation", ""):
        return render_template(
            "admin/mon_compte.html", error="Les deux nouveaux mots de passe diffèrent."
        ), 400
    try:
        accounts.set_password(auth_file(), g.user["email"], request.form.get("nouveau", ""))
    except accounts.AccountError as err:
        return render_template("admin/mon_compte.html", error=str(err)), 400
    session.clear()
    flash("Mot de passe changé : reconnectez-vous.")
    return redirect(url_for("admin.login"))
