"""Bad input in a URL or body gets a 400/404 with a French message, never a 500 (issue point 10)."""

from __future__ import annotations

import pytest
import requests
from admin_helpers import csrf_token, text


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/structures?commune=63003&limit=²",
        "/api/v1/structures.geojson?commune=63003&limit=²",
        "/api/v1/communes?q=Ambert&limit=²",
        "/api/v1/lieux?q=Ambert&limit=²",
        "/api/v1/structures?commune=63003&limit=99999999999999999999999",
    ],
)
def test_a_limit_that_is_not_ascii_digits_is_a_400(live_server, path):
    r = requests.get(live_server + path, timeout=30)
    assert r.status_code == 400
    assert "limit doit être un entier" in r.json()["erreur"]


def test_a_superscript_precision_is_ignored_not_a_500(live_server):
    r = requests.get(live_server + "/recherche?q=Ambert&lat=45.55&lon=3.74&precision=²", timeout=30)
    assert r.status_code == 200


def test_a_next_with_a_line_break_is_not_followed(admin_client):
    r = admin_client.get("/admin/login?next=/admin/%0d%0aX")
    assert r.status_code == 302
    assert r.headers["Location"] == "/admin/"


def test_a_huge_page_number_shows_the_first_page(admin_client):
    assert admin_client.get("/admin/structures?page=99999999999999999999").status_code == 200


def test_a_huge_id_in_a_path_is_a_404(admin_client):
    r = admin_client.get("/admin/imports/99999999999999999999")
    assert r.status_code == 404
    assert "n’existe pas" in text(r)


def test_a_deeply_nested_json_body_is_a_400(admin_client):
    token = csrf_token(admin_client, "/admin/import")
    r = admin_client.post(
        "/admin/import/jeton/lignes/2/position.json",
        data="[" * 100_000,
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 404)


@pytest.mark.parametrize("body", ["[" * 100_000, '{"latitude":' * 20_000, "[" * 100_000 + "]" * 100_000])
def test_a_deeply_nested_json_body_on_a_real_pending_import_is_a_french_400(admin_client, body):
    from test_admin_imports import start

    token = start(admin_client)  # a real upload: the route gets past its token and row checks
    r = admin_client.post(
        f"/admin/import/{token}/lignes/5/position.json",
        data=body,
        headers={"X-CSRFToken": csrf_token(admin_client, f"/admin/import/{token}")},
        content_type="application/json",
    )
    assert r.status_code == 400
    assert "latitude et longitude" in r.get_json()["erreur"]
