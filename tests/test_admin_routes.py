"""Every admin route, taken from the app's URL map: no access without a session, no POST without CSRF.

Also: HTML typed into any field comes out escaped in every admin list.
"""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest
from admin_helpers import ADMIN, csrf_token, login, make_app, post_form
from werkzeug.routing import IntegerConverter

from locator.admin import accounts
from locator.store import authdb


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


SAMPLE = {"int": "1", "default": "x"}
PAYLOAD = '<img src=x onerror="alert(1)">'


def admin_routes(app):
    """(url, method, rule) for every method of every rule of the admin and report blueprints."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("admin.", "signaler.")):
            continue
        url = rule.rule
        for arg, converter in rule._converters.items():  # noqa: SLF001 (the map's own description)
            kind = "int" if isinstance(converter, IntegerConverter) else "default"
            url = url.replace(f"<int:{arg}>", SAMPLE[kind]).replace(
                f"<{arg}>", "positions" if arg == "check" else SAMPLE[kind]
            )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((url, method, rule))
    return out


@pytest.fixture(scope="module")
def routes(built_store):
    return admin_routes(make_app(built_store))


def test_the_url_map_holds_every_admin_feature(routes):
    paths = {url for url, _m, _r in routes}
    assert len(paths) >= 30
    for expected in (
        "/admin/login",
        "/admin/comptes",
        "/admin/import",
        "/admin/historique",
        "/admin/qualite",
        "/admin/signalements",
        "/admin/structures/x",
        "/admin/imports/1/annuler",
    ):
        assert expected in paths


def test_anonymous_visitors_are_sent_to_the_login_or_get_401_json(admin_app, routes):
    client = admin_app.test_client()
    token = csrf_token(client)  # a real session with a valid token: still no account
    checked = 0
    for url, method, rule in routes:
        if rule.endpoint == "admin.login" or rule.endpoint.startswith("signaler."):
            continue
        if method == "GET":
            r = client.get(url)
        else:
            r = client.post(url, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        if url.endswith(".json"):
            assert r.status_code == 401, (method, url, r.status_code)
            assert r.get_json() == {"erreur": "Connexion requise."}
        else:
            assert r.status_code == 302, (method, url, r.status_code)
            assert r.headers["Location"].startswith("/admin/login"), (method, url)
        checked += 1
    assert checked >= 30


def test_posts_without_a_csrf_token_are_refused_with_400(admin_client, routes):
    """Logged in as admin, a cross-site POST (another Origin, no token) changes nothing."""
    checked = 0
    for url, method, _rule in routes:
        if method != "POST":
            continue
        r = admin_client.post(
            url,
            data={"email": "x@y.fr", "role": "admin"},
            headers={"Origin": "https://evil.example", "Referer": "https://evil.example/"},
        )
        assert r.status_code == 400, (url, r.status_code)
        checked += 1
    assert checked >= 15
    assert admin_client.get("/admin/").status_code == 200  # the session survived


def test_anonymous_posts_without_csrf_token_are_400_too(admin_app, routes):
    client = admin_app.test_client()
    for url, method, _rule in routes:
        if method == "POST":
            assert client.post(url, data={}).status_code == 400, url


def test_admin_answers_are_not_cached_nor_framed(admin_client):
    r = admin_client.get("/admin/")
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "script-src 'self';" in r.headers["Content-Security-Policy"]


def _seed_hostile_content(app, client, db):
    """Put HTML into every list the admin shows: a structure, a report, an account, an import."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM structures WHERE id = 'cio-de-thiers-63430'").fetchone())
    row.pop("pk")
    row.update(
        id="hostile-63430",
        nom=f"CIO {PAYLOAD}",
        commune=f"Thiers {PAYLOAD}",
        date_maj=None,
        adresse=f"1 rue {PAYLOAD}",
        latitude=None,
        longitude=None,
        type="antenne_mission_locale",
    )
    with conn:
        conn.execute(
            f"INSERT INTO structures ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        conn.execute(
            "UPDATE structures SET nom = ? WHERE id = 'cio-de-thiers-63430'", (f"CIO de Thiers {PAYLOAD}",)
        )
    conn.close()
    visitor = app.test_client()
    token = csrf_token(visitor, "/structures/cio-de-thiers-63430/signaler")
    r = visitor.post(
        "/structures/cio-de-thiers-63430/signaler",
        data={"csrf_token": token, "champ": "autre", "message": PAYLOAD, "contact": "x@example.fr"},
    )
    assert r.status_code == 200
    # Contacts and account emails are checked now; stores written before may still hold such text.
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE signalements SET contact = ?", (PAYLOAD,))
    conn.close()
    conn = sqlite3.connect(authdb.location(db))
    with conn:
        conn.execute(
            "INSERT INTO utilisateurs (email, role, mot_de_passe, cree_le) VALUES (?, 'editeur', ?, '2024')",
            ("<img/src=x>@example.fr", accounts.hash_password("mot-de-passe-assez-long")),
        )
    conn.close()
    token = csrf_token(client, "/admin/import")
    csv_text = f"type;nom;commune;code_postal\ncio;Nouveau {PAYLOAD};Thiers;63300\n".encode()
    r = client.post(
        "/admin/import",
        data={"csrf_token": token, "statut": "publie", "fichier": (io.BytesIO(csv_text), f"x{PAYLOAD}.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    preview = r.headers["Location"]
    r = post_form(client, preview + "/confirmer", page=preview)
    return preview, r.headers["Location"]


def test_html_typed_anywhere_is_escaped_in_every_admin_list(admin_app, admin_client, admin_store):
    # A preview is checked too (it is gone once confirmed): a rejected row shows what the file says.
    token = csrf_token(admin_client, "/admin/import")
    r = admin_client.post(
        "/admin/import",
        data={
            "csrf_token": token,
            "statut": "publie",
            "fichier": (io.BytesIO(f"type;nom;commune\nbureau;{PAYLOAD};Thiers\n".encode()), "a.csv"),
        },
        content_type="multipart/form-data",
    )
    pages = [r.headers["Location"]]
    _preview, detail = _seed_hostile_content(admin_app, admin_client, admin_store)
    pages += [
        "/admin/structures",
        "/admin/structures?q=CIO",
        "/admin/structures/hostile-63430",
        "/admin/structures/cio-de-thiers-63430",
        "/admin/signalements",
        "/admin/historique",
        detail,
        "/admin/qualite",
        "/admin/comptes",
    ]
    for path in pages:
        r = admin_client.get(path)
        assert r.status_code == 200, path
        body = r.get_data(as_text=True)
        assert PAYLOAD not in body and "<img/src=x>" not in body, path
        assert "&lt;img" in body, path
    csv_body = admin_client.get("/admin/qualite/positions.csv").get_data(as_text=True)
    names = [row[1] for row in csv.reader(io.StringIO(csv_body.lstrip("\ufeff")), delimiter=";")]
    assert f"CIO {PAYLOAD}" in names  # CSV is data, not HTML: kept as typed (and formula-safe)


def test_login_page_is_reachable_and_logout_needs_post(admin_app):
    client = admin_app.test_client()
    assert client.get("/admin/login").status_code == 200
    assert client.get("/admin/logout").status_code == 405
    login(client, *ADMIN)
    assert client.get("/admin/logout").status_code == 405
    assert client.get("/admin/").status_code == 200


def test_json_callers_get_401_json_even_on_pages(admin_app):
    r = admin_app.test_client().get("/admin/structures", headers={"Accept": "application/json"})
    assert r.status_code == 401 and r.get_json()["erreur"] == "Connexion requise."
