"""« Signaler une erreur »: the public form, its brakes (CSRF, honeypot, throttle), the moderation queue."""

from __future__ import annotations

import re
import sqlite3

import pytest
from admin_helpers import csrf_token, make_app, post_form, text


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


AMBERT_ML = "mission-locale-du-livradois-forez-63003"
FORM = f"/structures/{AMBERT_ML}/signaler"


def _reports(db):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM signalements ORDER BY id")]
    finally:
        conn.close()


def _send(client, **fields):
    token = csrf_token(client, FORM)
    data = {"champ": "horaires", "message": "Fermé le mercredi depuis janvier.", "csrf_token": token}
    data.update(fields)
    return client.post(FORM, data=data)


def test_form_page_carries_the_fields_a_csrf_token_and_a_hidden_honeypot(admin_app):
    page = text(admin_app.test_client().get(FORM))
    assert "Signaler une erreur" in page and "Mission locale du Livradois-Forez" in page
    assert re.search(r'name="csrf_token" value="[^"]+"', page)
    assert 'name="site_internet"' in page and 'tabindex="-1"' in page
    assert 'for="signaler-message"' in page and 'id="signaler-message"' in page


def test_visitor_report_is_queued_without_an_account(admin_app, admin_store):
    r = _send(admin_app.test_client(), contact="parent@example.fr")
    assert r.status_code == 200
    assert "Merci" in text(r)
    [report] = _reports(admin_store)
    assert report["structure_id"] == AMBERT_ML
    assert report["champ"] == "horaires" and report["statut"] == "nouveau"
    assert report["message"] == "Fermé le mercredi depuis janvier."
    assert report["contact"] == "parent@example.fr"


def test_report_without_csrf_token_is_refused(admin_app, admin_store):
    r = admin_app.test_client().post(FORM, data={"champ": "autre", "message": "x"})
    assert r.status_code == 400
    assert _reports(admin_store) == []


def test_honeypot_looks_accepted_but_stores_nothing(admin_app, admin_store):
    r = _send(admin_app.test_client(), site_internet="http://spam.example")
    assert r.status_code == 200 and "Merci" in text(r)
    assert _reports(admin_store) == []


def test_missing_message_comes_back_with_the_error_and_the_input_kept(admin_app, admin_store):
    r = _send(admin_app.test_client(), message="  ", contact="<b>moi</b>")
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Décrivez l’erreur" in page
    assert "&lt;b&gt;moi&lt;/b&gt;" in page and "<b>moi</b>" not in page
    assert _reports(admin_store) == []


def test_unknown_or_archived_structure_gets_404(admin_app, admin_store):
    client = admin_app.test_client()
    assert client.get("/structures/nexiste-pas/signaler").status_code == 404
    conn = sqlite3.connect(admin_store)
    with conn:
        conn.execute("UPDATE structures SET statut = 'archive' WHERE id = ?", (AMBERT_ML,))
    conn.close()
    assert client.get(FORM).status_code == 404


def test_reports_are_throttled_per_address(admin_store):
    app = make_app(admin_store, REPORTS_PER_IP_PER_HOUR=2)
    client = app.test_client()
    assert _send(client).status_code == 200
    assert _send(client).status_code == 200
    r = _send(client)
    assert r.status_code == 429
    assert 3500 <= int(r.headers["Retry-After"]) <= 3600
    assert len(_reports(admin_store)) == 2
    token = csrf_token(client, FORM)
    other = client.post(
        FORM,
        data={"champ": "autre", "message": "Autre adresse", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "127.0.0.9"},
    )
    assert other.status_code == 200


def test_admins_work_through_the_queue(admin_app, admin_client, admin_store):
    visitor = admin_app.test_client()
    _send(visitor, message="<script>alert('x')</script> le numéro a changé", champ="contact")
    _send(visitor, message="Rien à voir", champ="autre")
    page = admin_client.get("/admin/signalements")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(" in body and "<script>alert(" not in body
    assert f'href="/admin/structures/{AMBERT_ML}"' in body
    first, second = (r["id"] for r in _reports(admin_store))
    assert post_form(admin_client, f"/admin/signalements/{first}/resoudre").status_code == 302
    assert post_form(admin_client, f"/admin/signalements/{second}/rejeter").status_code == 302
    statuses = {r["id"]: (r["statut"], r["traite_par"]) for r in _reports(admin_store)}
    assert statuses == {first: ("resolu", "admin@example.fr"), second: ("rejete", "admin@example.fr")}
    assert "Aucun signalement ici." in text(admin_client.get("/admin/signalements"))
    assert "Rien à voir" in text(admin_client.get("/admin/signalements?statut=rejete"))
    r = post_form(admin_client, f"/admin/signalements/{first}/rejeter")
    assert "déjà été traité" in text(admin_client.get(r.headers["Location"]))


def test_public_structure_page_carries_the_report_form(admin_app):
    page = admin_app.test_client().get(f"/structures/{AMBERT_ML}")
    assert page.status_code == 200
    body = text(page)
    assert "Signaler une erreur" in body
    assert f'action="/structures/{AMBERT_ML}/signaler"' in body
    assert re.search(r'name="csrf_token" value="[^"]+"', body)
