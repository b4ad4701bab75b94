"""Admin accounts: CLI, password hashing, login/logout, cookies, lockout, roles."""

from __future__ import annotations

import sqlite3

import pytest
from admin_helpers import ADMIN, EDITOR, Clock, accounts_file, csrf_token, login, make_app, post_form, text
from click.testing import CliRunner

from locator.cli import main


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need four départements only: the small store (fast tier)."""
    return small_built_store


def _hash_of(db, email):
    conn = sqlite3.connect(accounts_file(db))
    try:
        row = conn.execute("SELECT mot_de_passe FROM utilisateurs WHERE email = ?", (email,)).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def test_cli_adds_lists_changes_and_removes_accounts(store_copy):
    runner = CliRunner()
    db = str(store_copy)
    r = runner.invoke(
        main,
        ["user", "add", "Chef@Region.fr", "--role", "admin", "--password-stdin", "--db", db],
        input="correct-horse-battery\n",
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        main,
        ["user", "add", "saisie@region.fr", "--role", "editeur", "--password-stdin", "--db", db],
        input="autre-mot-de-passe-long\n",
    )
    assert r.exit_code == 0, r.output
    listed = runner.invoke(main, ["user", "list", "--db", db]).output
    assert "chef@region.fr\tadmin" in listed and "saisie@region.fr\tediteur" in listed
    before = _hash_of(db, "saisie@region.fr")
    r = runner.invoke(
        main,
        ["user", "set-password", "saisie@region.fr", "--password-stdin", "--db", db],
        input="un-tout-nouveau-mot-de-passe\n",
    )
    assert r.exit_code == 0, r.output
    assert _hash_of(db, "saisie@region.fr") != before
    assert runner.invoke(main, ["user", "remove", "saisie@region.fr", "--db", db]).exit_code == 0
    assert "saisie@region.fr" not in runner.invoke(main, ["user", "list", "--db", db]).output


def test_cli_prompts_for_the_password_twice(store_copy):
    r = CliRunner().invoke(
        main,
        ["user", "add", "a@b.fr", "--role", "editeur", "--db", str(store_copy)],
        input="mot-de-passe-saisi\nmot-de-passe-saisi\n",
    )
    assert r.exit_code == 0, r.output
    assert "mot-de-passe-saisi" not in r.output  # hidden input


def test_cli_refuses_short_password_duplicate_and_last_admin(store_copy):
    runner = CliRunner()
    db = str(store_copy)
    r = runner.invoke(
        main, ["user", "add", "a@b.fr", "--role", "admin", "--password-stdin", "--db", db], input="court\n"
    )
    assert r.exit_code == 1 and "12 caractères" in r.output
    args = ["user", "add", "a@b.fr", "--role", "admin", "--password-stdin", "--db", db]
    assert runner.invoke(main, args, input="assez-long-maintenant\n").exit_code == 0
    r = runner.invoke(main, args, input="assez-long-maintenant\n")
    assert r.exit_code == 1 and "existe déjà" in r.output
    r = runner.invoke(main, ["user", "remove", "a@b.fr", "--db", db])
    assert r.exit_code == 1 and "dernier compte admin" in r.output
    r = runner.invoke(
        main, ["user", "add", "x@b.fr", "--role", "chef", "--password-stdin", "--db", db], input="x" * 20
    )
    assert r.exit_code == 2  # usage error: unknown role


def test_password_is_stored_as_a_salted_scrypt_hash(admin_store):
    stored = _hash_of(admin_store, ADMIN[0])
    assert stored.startswith("scrypt:32768:8:1$")
    assert ADMIN[1] not in stored
    other = _hash_of(admin_store, EDITOR[0])
    assert stored.split("$")[1] != other.split("$")[1]  # distinct salts


def test_login_opens_a_session_and_logout_ends_it_even_for_a_copied_cookie(admin_app):
    client = admin_app.test_client()
    r = login(client, *ADMIN)
    assert r.status_code == 302 and r.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    stolen = client.get_cookie("session").value
    r = post_form(client, "/admin/logout")
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin/login")
    assert client.get("/admin/").status_code == 302
    replay = admin_app.test_client()
    replay.set_cookie("session", stolen)
    r = replay.get("/admin/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin/login")


def test_wrong_password_and_unknown_account_get_the_same_answer(admin_app):
    client = admin_app.test_client()
    wrong = login(client, ADMIN[0], "pas-le-bon-mot-de-passe")
    unknown = login(client, "personne@example.fr", "pas-le-bon-mot-de-passe")
    assert wrong.status_code == unknown.status_code == 401
    assert "Adresse ou mot de passe incorrect." in wrong.get_data(as_text=True)
    assert "Adresse ou mot de passe incorrect." in unknown.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(admin_app):
    client = admin_app.test_client()
    r = login(client, *ADMIN)
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_when_the_setting_says_https(admin_store):
    app = make_app(admin_store, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    r = login(client, *ADMIN)
    assert "Secure" in r.headers["Set-Cookie"]


def test_account_locks_after_repeated_failures_with_429_and_retry_after(admin_store):
    app = make_app(admin_store, LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_LOCKOUT_SECONDS=600)
    client = app.test_client()
    for _ in range(3):
        assert login(client, ADMIN[0], "mauvais-mot-de-passe").status_code == 401
    r = login(client, ADMIN[0], ADMIN[1])  # even the right password waits
    assert r.status_code == 429
    assert 590 <= int(r.headers["Retry-After"]) <= 600
    assert "Trop d’essais manqués" in text(r)
    assert client.get("/admin/").status_code == 302
    # Another account from the same address is not locked by this one's failures.
    assert login(app.test_client(), *EDITOR).status_code == 302


def test_lockout_is_shared_by_every_worker(admin_store):
    """Two app instances (two workers) on one store see the same failures."""
    first = make_app(admin_store, LOGIN_FAILURES_PER_ACCOUNT=2)
    second = make_app(admin_store, LOGIN_FAILURES_PER_ACCOUNT=2)
    assert login(first.test_client(), ADMIN[0], "mauvais-1-mot-de-passe").status_code == 401
    assert login(second.test_client(), ADMIN[0], "mauvais-2-mot-de-passe").status_code == 401
    assert login(first.test_client(), *ADMIN).status_code == 429
    assert login(second.test_client(), *ADMIN).status_code == 429


def test_lockout_ends_after_its_delay(admin_store):
    clock = Clock()
    app = make_app(admin_store, LOGIN_FAILURES_PER_ACCOUNT=2, LOGIN_LOCKOUT_SECONDS=900, CLOCK=clock)
    client = app.test_client()
    login(client, ADMIN[0], "mauvais-mot-de-passe-1")
    login(client, ADMIN[0], "mauvais-mot-de-passe-2")
    assert login(client, *ADMIN).status_code == 429
    clock.advance(899)
    assert login(client, *ADMIN).status_code == 429
    clock.advance(2)
    assert login(client, *ADMIN).status_code == 302


def test_one_address_guessing_many_accounts_is_locked(admin_store):
    app = make_app(admin_store, LOGIN_FAILURES_PER_IP=4, LOGIN_FAILURES_PER_ACCOUNT=100)
    client = app.test_client()
    for i in range(4):
        assert login(client, f"inconnu{i}@example.fr", "mauvais-mot-de-passe").status_code == 401
    assert login(client, *EDITOR).status_code == 429
    other_address = app.test_client()
    token = csrf_token(other_address)
    r = other_address.post(
        "/admin/login",
        data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": token},
        environ_base={"REMOTE_ADDR": "127.0.0.2"},
    )
    assert r.status_code == 302


def test_success_clears_the_account_failures(admin_store):
    app = make_app(admin_store, LOGIN_FAILURES_PER_ACCOUNT=3)
    client = app.test_client()
    login(client, ADMIN[0], "mauvais-mot-de-passe-1")
    login(client, ADMIN[0], "mauvais-mot-de-passe-2")
    assert login(client, *ADMIN).status_code == 302
    post_form(client, "/admin/logout")
    login(client, ADMIN[0], "mauvais-mot-de-passe-3")
    login(client, ADMIN[0], "mauvais-mot-de-passe-4")
    assert login(client, *ADMIN).status_code == 302


def test_login_redirects_back_only_inside_the_admin_area(admin_app):
    client = admin_app.test_client()
    r = client.get("/admin/signalements?statut=resolu")
    assert r.status_code == 302
    assert r.headers["Location"] == "/admin/login?next=/admin/signalements?statut%3Dresolu"
    r = login(client, *ADMIN, next="/admin/signalements?statut=resolu")
    assert r.headers["Location"] == "/admin/signalements?statut=resolu"
    for evil in ("https://evil.example/admin", "//evil.example/admin", "/\\evil.example", "/recherche"):
        c = admin_app.test_client()
        r = login(c, *ADMIN, next=evil)
        assert r.headers["Location"] == "/admin/", evil


def test_editor_gets_403_on_every_account_route(editor_client):
    assert editor_client.get("/admin/comptes").status_code == 403
    for path, data in [
        ("/admin/comptes/ajouter", {"email": "x@y.fr", "role": "admin", "password": "un-mot-de-passe-long"}),
        ("/admin/comptes/role", {"email": "editeur@example.fr", "role": "admin"}),
        ("/admin/comptes/mot-de-passe", {"email": "admin@example.fr", "password": "un-mot-de-passe-long"}),
        ("/admin/comptes/supprimer", {"email": "admin@example.fr"}),
    ]:
        assert post_form(editor_client, path, data).status_code == 403, path
    assert (
        "Comptes"
        not in editor_client.get("/admin/").get_data(as_text=True).split("<main")[1].split("</nav>")[0]
    )


def test_editor_cannot_promote_itself(admin_app, editor_client, admin_store):
    post_form(editor_client, "/admin/comptes/role", {"email": EDITOR[0], "role": "admin"})
    conn = sqlite3.connect(accounts_file(admin_store))
    assert (
        conn.execute("SELECT role FROM utilisateurs WHERE email = ?", (EDITOR[0],)).fetchone()[0] == "editeur"
    )


def test_admin_manages_accounts_in_the_browser_forms(admin_client, admin_app):
    r = post_form(
        admin_client,
        "/admin/comptes/ajouter",
        {"email": "Nouvelle@Region.fr", "role": "editeur", "password": "un-mot-de-passe-long"},
    )
    assert r.status_code == 302
    page = admin_client.get("/admin/comptes").get_data(as_text=True)
    assert "nouvelle@region.fr" in page and "Compte créé" in page
    post_form(admin_client, "/admin/comptes/role", {"email": "nouvelle@region.fr", "role": "admin"})
    assert login(admin_app.test_client(), "nouvelle@region.fr", "un-mot-de-passe-long").status_code == 302
    post_form(admin_client, "/admin/comptes/supprimer", {"email": "nouvelle@region.fr"})
    assert login(admin_app.test_client(), "nouvelle@region.fr", "un-mot-de-passe-long").status_code == 401
    r = post_form(
        admin_client,
        "/admin/comptes/ajouter",
        {"email": "pas-une-adresse", "role": "editeur", "password": "x" * 12},
    )
    assert r.status_code == 302
    assert "Adresse électronique invalide." in text(admin_client.get("/admin/comptes"))


def test_password_change_ends_the_account_sessions(admin_app, admin_store):
    first = admin_app.test_client()
    assert login(first, *EDITOR).status_code == 302
    second = admin_app.test_client()
    assert login(second, *EDITOR).status_code == 302
    r = post_form(
        second,
        "/admin/mon-compte",
        {
            "actuel": EDITOR[1],
            "nouveau": "encore-un-autre-mot-de-passe",
            "confirmation": "encore-un-autre-mot-de-passe",
        },
    )
    assert r.status_code == 302
    assert first.get("/admin/").status_code == 302
    assert login(admin_app.test_client(), EDITOR[0], "encore-un-autre-mot-de-passe").status_code == 302


def test_own_password_change_needs_the_current_one(editor_client):
    r = post_form(
        editor_client,
        "/admin/mon-compte",
        {
            "actuel": "faux-mot-de-passe",
            "nouveau": "encore-un-autre-mot-de-passe",
            "confirmation": "encore-un-autre-mot-de-passe",
        },
    )
    assert r.status_code == 400
    assert "Le mot de passe actuel est incorrect." in r.get_data(as_text=True)


def _login_from(app, address, email, password, client=None):
    client = client or app.test_client()
    token = csrf_token(client)
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failures_from_another_address_do_not_lock_the_admin_out(admin_store):
    app = make_app(admin_store, LOGIN_FAILURES_PER_ACCOUNT=3)
    for i in range(6):
        _login_from(app, "203.0.113.9", ADMIN[0], f"mauvais-mot-de-passe-{i}")
    assert _login_from(app, "203.0.113.9", *ADMIN).status_code == 429  # the guesser's address waits
    assert _login_from(app, "198.51.100.7", *ADMIN).status_code == 302  # the admin's does not


def test_a_known_browser_logs_in_while_strangers_lock_its_address(admin_store):
    app = make_app(admin_store, LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_IP=5)
    browser = app.test_client()
    assert _login_from(app, "192.0.2.10", *ADMIN, client=browser).status_code == 302  # known from now on
    post_form(browser, "/admin/logout")
    for i in range(8):  # someone behind the same address (a shared office NAT) guesses
        _login_from(app, "192.0.2.10", ADMIN[0], f"mauvais-mot-de-passe-{i}")
    assert _login_from(app, "192.0.2.10", *ADMIN).status_code == 429
    assert _login_from(app, "192.0.2.10", *ADMIN, client=browser).status_code == 302


def test_a_known_browser_still_counts_its_own_failures(admin_store):
    app = make_app(admin_store, LOGIN_FAILURES_PER_ACCOUNT=2)
    browser = app.test_client()
    assert login(browser, *ADMIN).status_code == 302
    post_form(browser, "/admin/logout")
    login(browser, ADMIN[0], "mauvais-mot-de-passe-1")
    login(browser, ADMIN[0], "mauvais-mot-de-passe-2")
    assert login(browser, *ADMIN).status_code == 429


def test_each_new_lockout_lasts_twice_longer(admin_store):
    clock = Clock()
    app = make_app(
        admin_store,
        LOGIN_FAILURES_PER_ACCOUNT=2,
        LOGIN_WINDOW_SECONDS=900,
        LOGIN_LOCKOUT_SECONDS=900,
        CLOCK=clock,
    )
    client = app.test_client()
    login(client, ADMIN[0], "mauvais-mot-de-passe-1")
    login(client, ADMIN[0], "mauvais-mot-de-passe-2")
    assert int(login(client, *ADMIN).headers["Retry-After"]) == 900
    clock.advance(901)
    login(client, ADMIN[0], "mauvais-mot-de-passe-3")
    login(client, ADMIN[0], "mauvais-mot-de-passe-4")
    assert int(login(client, *ADMIN).headers["Retry-After"]) == 1800


def test_own_password_guesses_are_throttled_like_login(editor_client, admin_store):
    wrong = {"actuel": "faux-mot-de-passe", "nouveau": "x" * 14, "confirmation": "x" * 14}
    for _ in range(5):
        assert post_form(editor_client, "/admin/mon-compte", wrong).status_code == 400
    right = {**wrong, "actuel": EDITOR[1]}
    r = post_form(editor_client, "/admin/mon-compte", right)
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 900
    assert "Trop d’essais manqués" in text(r)


def _unlock(db, *args):
    return CliRunner().invoke(main, ["user", "unlock", *args, "--db", str(db)])


def test_cli_unlock_lifts_an_account_lockout_from_every_address_and_known_browser(admin_store):
    app = make_app(admin_store, LOGIN_FAILURES_PER_ACCOUNT=3)
    browser = app.test_client()
    assert _login_from(app, "192.0.2.10", *ADMIN, client=browser).status_code == 302  # a known browser
    post_form(browser, "/admin/logout")
    for i in range(3):
        _login_from(app, "192.0.2.10", ADMIN[0], f"mauvais-mot-de-passe-{i}", client=browser)
        _login_from(app, "203.0.113.9", ADMIN[0], f"mauvais-mot-de-passe-{i}")
    assert _login_from(app, "192.0.2.10", *ADMIN, client=browser).status_code == 429
    assert _login_from(app, "203.0.113.9", *ADMIN).status_code == 429
    r = _unlock(admin_store, ADMIN[0].upper())
    assert r.exit_code == 0, r.output
    assert f"Blocage levé pour {ADMIN[0]}" in r.output
    assert _login_from(app, "192.0.2.10", *ADMIN, client=browser).status_code == 302
    assert _login_from(app, "203.0.113.9", *ADMIN).status_code == 302


def test_cli_unlock_lifts_an_address_lockout_only_when_asked(admin_store):
    app = make_app(admin_store, LOGIN_FAILURES_PER_IP=4)
    for i in range(4):  # one address guessing several accounts: the address itself is locked
        _login_from(app, "198.51.100.4", f"compte-{i}@example.fr", "mauvais-mot-de-passe")
    assert _login_from(app, "198.51.100.4", *ADMIN).status_code == 429
    assert _unlock(admin_store, ADMIN[0]).exit_code == 0
    assert _login_from(app, "198.51.100.4", *ADMIN).status_code == 429
    r = _unlock(admin_store, ADMIN[0], "--adresse", "198.51.100.4")
    assert r.exit_code == 0 and "et pour l’adresse 198.51.100.4" in r.output
    assert _login_from(app, "198.51.100.4", *ADMIN).status_code == 302


def test_cli_unlock_of_an_unknown_account_says_so(admin_store):
    r = _unlock(admin_store, "personne@example.fr")
    assert r.exit_code == 1 and "Aucun compte personne@example.fr" in r.output
