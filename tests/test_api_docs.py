"""Issue 19 item 6: the API explains itself — /api/v1/ lists its endpoints (a page for a browser, JSON
for a client), /api/v1/docs shows the OpenAPI document with a viewer the app serves itself, the
document is valid OpenAPI 3, and the footer links to the readable page."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """No data needed beyond a working store: the small store (fast tier)."""
    return small_built_store


def test_the_openapi_document_is_valid_openapi_3(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)  # raises, naming the first fault, when the document breaks the specification


def test_the_validator_refuses_a_broken_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    spec["paths"]["/api/v1/communes"]["get"]["parameters"][0]["in"] = "ailleurs"
    with pytest.raises(Exception, match="ailleurs"):
        validate(spec)


@pytest.mark.parametrize("accept", [None, "application/json", "*/*"])
def test_the_api_root_lists_every_described_endpoint_as_json_for_clients(client, accept):
    spec = client.get("/api/v1/openapi.json").get_json()
    r = client.get("/api/v1/", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = r.get_json()
    assert [e["chemin"] for e in body["endpoints"]] == list(spec["paths"])
    structures = next(e for e in body["endpoints"] if e["chemin"] == "/api/v1/structures")
    assert structures["methode"] == "GET" and "rayon_km" in structures["parametres"]
    assert body["documentation"] == "/api/v1/docs" and body["openapi"] == "/api/v1/openapi.json"


def test_the_api_root_is_a_page_for_a_browser(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    r = client.get("/api/v1/", headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200 and r.mimetype == "text/html"
    body = r.get_data(as_text=True)
    listed = re.findall(r"<code>GET ([^<]+)</code>", body)
    assert listed == list(spec["paths"])
    assert 'href="/api/v1/docs"' in body and 'href="/api/v1/openapi.json"' in body
    assert f"Les {len(listed)} adresses de l’API" in body


def test_the_docs_page_runs_only_files_the_app_serves(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    body = r.get_data(as_text=True)
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>", body)
    sources = [re.search(r'src="([^"]+)"', s).group(1) for s in scripts]  # every script has a src
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in sources
    assert "/static/js/api-docs.js" in sources
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', body)
    for url in sources + styles:
        assert url.startswith("/static/"), url
        assert client.get(url).status_code == 200, url
    assert 'data-openapi="/api/v1/openapi.json"' in body


def test_the_footer_links_to_the_readable_docs_not_the_raw_document(client):
    body = client.get("/").get_data(as_text=True)
    footer = body[body.index('<footer class="site-pied">') :]
    assert 'href="/api/v1/docs"' in footer and "openapi.json" not in footer
