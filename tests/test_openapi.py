"""The OpenAPI description matches the routes the app really serves."""

from __future__ import annotations

import re

import pytest


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_is_described_and_nothing_else(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    routes = {
        _openapi_path(r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/") or r.rule == "/healthz"
    }
    assert set(spec["paths"]) == routes


def test_described_parameters_are_accepted(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    names = {p["name"] for p in spec["paths"]["/api/v1/structures"]["get"]["parameters"]}
    assert names == {"commune", "lat", "lon", "departement", "q", "types", "limit", "rayon_km"}
    r = client.get("/api/v1/structures?commune=63003&types=cio&limit=2&rayon_km=200")
    assert r.status_code == 200


def test_every_get_route_answers_with_a_described_status(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    samples = {"code": "63003", "structure_id": "unknown-id"}
    for path, item in spec["paths"].items():
        url = re.sub(r"{(\w+)}", lambda m: samples[m.group(1)], path)
        r = client.get(url)
        assert str(r.status_code) in item["get"]["responses"], (path, r.status_code)
