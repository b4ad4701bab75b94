"""CORS: the public API is callable from other sites' pages; pages and /admin are not."""

from __future__ import annotations

import pytest


def test_api_answers_carry_cors_for_any_origin(client):
    r = client.get("/api/v1/structures?commune=63003&limit=2", headers={"Origin": "https://lycee.example.fr"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    bad = client.get("/api/v1/structures?limit=abc", headers={"Origin": "https://lycee.example.fr"})
    assert bad.status_code == 400 and bad.headers["Access-Control-Allow-Origin"] == "*"


def test_api_preflight_is_allowed(client):
    r = client.options(
        "/api/v1/lieux?q=amb",
        headers={
            "Origin": "https://mairie.example.fr",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept",
        },
    )
    assert r.status_code in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in r.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("url", ["/", "/recherche?q=Ambert", "/admin/login", "/healthz"])
def test_pages_and_admin_carry_no_cors(client, url):
    r = client.get(url, headers={"Origin": "https://lycee.example.fr"})
    assert "Access-Control-Allow-Origin" not in r.headers
