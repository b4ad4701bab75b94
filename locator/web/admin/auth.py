"""Login, logout, the admin home page and account management (admins only)."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for

from ... import accounts
from ...store import reports as store_reports
from ...store import structures as store_structures
from ...store import users as store_users
from ..store import get_conn
from . import SESSION_KEY, bp, client_ip, role_required, safe_next


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
    try:
        user = accounts.login(
            get_conn(), current_app.config["DB"], email, request.form.get("password", ""), client_ip(), rules
        )
    except accounts.LockedOut as locked:
        minutes = max(1, round(locked.retry_after / 60))
        error = f"Trop d'essais manqués : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."
        page = render_template("admin/login.html", next=next_url, error=error, email=email)
        return page, 429, {"Retry-After": str(locked.retry_after)}
    if user is None:
        error = "Adresse ou mot de passe incorrect."
        return render_template("admin/login.html", next=next_url, error=error, email=email), 401
    token = accounts.open_session(
        current_app.config["DB"], user["email"], current_app.config["ADMIN_SESSION_HOURS"]
    )
    session.clear()  # a fresh session: nothing from before the login survives (fixation)
    session[SESSION_KEY] = token
    return redirect(next_url or url_for("admin.home"))


@bp.post("/logout")
def logout():
    """End the session here and in the store."""
    accounts.close_session(current_app.config["DB"], session[SESSION_KEY])
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
        "admin/comptes.html", accounts=store_users.list_all(get_conn()), roles=accounts.ROLES
    )


def _account_action(action, *args, done: str):
    try:
        action(current_app.config["DB"], *args)
    except accounts.AccountError as err:
        flash(str(err), "erreur")
    else:
        flash(done)
    return redirect(url_for("admin.users"))


@bp.post("/comptes/ajouter")
@role_required("admin")
def user_add():
    """Create an account with an initial password."""
    email = request.form.get("email", "")
    return _account_action(
        accounts.add_user,
        email,
        request.form.get("role", ""),
        request.form.get("password", ""),
        done=f"Compte créé : {email.strip().lower()}.",
    )


@bp.post("/comptes/role")
@role_required("admin")
def user_role():
    """Change an account's role."""
    email = request.form.get("email", "")
    return _account_action(
        accounts.set_role, email, request.form.get("role", ""), done=f"Rôle changé : {email.strip().lower()}."
    )


@bp.post("/comptes/mot-de-passe")
@role_required("admin")
def user_password():
    """Give an account a new password (its sessions end)."""
    email = request.form.get("email", "")
    return _account_action(
        accounts.set_password,
        email,
        request.form.get("password", ""),
        done=f"Mot de passe changé : {email.strip().lower()}.",
    )


@bp.post("/comptes/supprimer")
@role_required("admin")
def user_remove():
    """Delete an account."""
    email = request.form.get("email", "")
    if email.strip().lower() == g.user["email"]:
        flash("Vous ne pouvez pas supprimer votre propre compte.", "erreur")
        return redirect(url_for("admin.users"))
    return _account_action(accounts.remove_user, email, done=f"Compte supprimé : {email.strip().lower()}.")


@bp.route("/mon-compte", methods=["GET", "POST"])
def own_password():
    """Change one's own password (the current one is asked again)."""
    if request.method == "GET":
        return render_template("admin/mon_compte.html")
    if not accounts.verify_password(get_conn(), g.user["email"], request.form.get("actuel", "")):
        return render_template("admin/mon_compte.html", error="Le mot de passe actuel est incorrect."), 400
    if request.form.get("nouveau", "") != request.form.get("confirmation", ""):
        return render_template(
            "admin/mon_compte.html", error="Les deux nouveaux mots de passe diffèrent."
        ), 400
    try:
        accounts.set_password(current_app.config["DB"], g.user["email"], request.form.get("nouveau", ""))
    except accounts.AccountError as err:
        return render_template("admin/mon_compte.html", error=str(err)), 400
    session.clear()
    flash("Mot de passe changé : reconnectez-vous.")
    return redirect(url_for("admin.login"))
