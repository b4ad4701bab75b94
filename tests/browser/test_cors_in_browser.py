"""A partner's page on another origin calls the API from the browser (fetch), like geo.api.gouv.fr."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PARTNER_PAGE = (
    b"<!doctype html><html lang='fr'><title>Lyc\xc3\xa9e partenaire</title><p>Partenaire</p></html>"
)


class _Partner(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(PARTNER_PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture
def partner():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Partner)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


FETCH = """async (url) => {
  try {
    const r = await fetch(url, {headers: {Accept: 'application/json'}});
    return {status: r.status, body: await r.json()};
  } catch (e) { return {blocked: String(e)}; }
}"""


def test_a_page_on_another_origin_reads_the_api_with_fetch(site, desktop, partner):
    page, watch = desktop
    page.goto(partner + "/")
    assert page.evaluate("location.origin") != site
    answer = page.evaluate(FETCH, f"{site}/api/v1/communes?q=Ambert&limit=1")
    assert answer.get("status") == 200, answer
    assert answer["body"]["results"][0]["code"] == "63003"
    # a custom header makes the browser send a preflight first: it is allowed too
    preflighted = page.evaluate(
        """async (url) => { const r = await fetch(url, {headers: {'If-None-Match': '"x"'}});
                           return r.status; }""",
        f"{site}/api/v1/structures?commune=63003&limit=1",
    )
    assert preflighted == 200
    # an error stays readable: the French message reaches the partner's page
    bad = page.evaluate(FETCH, f"{site}/api/v1/structures?limit=abc")
    assert bad.get("status") == 400 and "erreur" in bad["body"]
    assert watch.errors == []


def test_another_origin_cannot_read_the_pages(site, desktop, partner):
    page, _watch = desktop
    page.goto(partner + "/")
    blocked = page.evaluate(
        "async (url) => { try { await fetch(url); return 'read'; } catch (e) { return 'blocked'; } }",
        f"{site}/recherche?q=Ambert",
    )
    assert blocked == "blocked"
