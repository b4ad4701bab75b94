"""Serving: security headers, HTTP caching, compression and rate limits, over a real server."""

from __future__ import annotations

import gzip
import http.client
import json

import pytest
import requests

from locator.testing import SlowClients, healthz_seconds, serve_in_background


def test_pages_and_api_carry_security_headers(client):
    for path in ("/", "/api/v1/communes?q=Ambert", "/healthz", "/nope"):
        r = client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp
        assert "frame-ancestors 'self'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_frame_ancestors_is_a_setting(built_store):
    from locator import create_app

    app = create_app(
        {"DB": str(built_store), "SECRET_KEY": "t", "FRAME_ANCESTORS": "'self' https://partenaire.example"}
    )
    csp = app.test_client().get("/").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://partenaire.example" in csp


def test_api_answers_are_revalidated_by_etag(live_server):
    url = live_server + "/api/v1/structures?commune=63003&limit=3"
    first = requests.get(url, timeout=60)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert "max-age=" in first.headers["Cache-Control"] and "public" in first.headers["Cache-Control"]
    again = requests.get(url, headers={"If-None-Match": etag}, timeout=60)
    assert again.status_code == 304
    assert again.content == b""
    other = requests.get(
        live_server + "/api/v1/structures?commune=63430&limit=3", headers={"If-None-Match": etag}, timeout=60
    )
    assert other.status_code == 200


def test_compressed_answers_are_revalidated_too(live_server):
    url = live_server + "/api/v1/structures.geojson"
    first = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=60)
    assert first.headers["Content-Encoding"] == "gzip"
    again = requests.get(
        url, headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]}, timeout=60
    )
    assert again.status_code == 304


def test_large_answers_are_compressed_when_the_client_accepts_it(live_server):
    url = live_server + "/api/v1/structures.geojson"
    raw = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=60, stream=True)
    body = raw.raw.read()
    assert "Content-Encoding" not in raw.headers
    zipped = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=60, stream=True)
    assert zipped.headers["Content-Encoding"] == "gzip"
    packed = zipped.raw.read()
    assert len(packed) < len(body) / 4
    assert gzip.decompress(packed) == body


def test_health_and_errors_are_not_cached(client):
    assert "no-store" in client.get("/healthz").headers["Cache-Control"]
    assert "ETag" not in client.get("/api/v1/communes/99999").headers


# Counters are sliding windows aligned on the clock: a test whose requests straddled the end of a
# one-minute window would see the old window's weight drop and one request too many accepted. A
# one-day window makes that vanishingly rare, however slow the machine runs the requests.
FIVE_A_DAY = "5 per day"
DAY_S = 24 * 3600


@pytest.mark.server
def test_api_rate_limit_answers_429_with_retry_after(built_store):
    with serve_in_background(built_store, env={"LOCATOR_RATE_LIMIT_API": FIVE_A_DAY}) as base:
        codes = [requests.get(base + "/api/v1/communes?q=Thiers", timeout=60).status_code for _ in range(7)]
        assert codes[:5] == [200] * 5
        assert codes[5:] == [429, 429]
        r = requests.get(base + "/api/v1/communes?q=Thiers", timeout=60)
        assert r.status_code == 429
        assert r.json()["erreur"]
        assert 0 < int(r.headers["Retry-After"]) <= DAY_S
        assert requests.get(base + "/healthz", timeout=60).status_code == 200  # health is never limited


AMBERT_ML = "mission-locale-du-livradois-forez-63003"


@pytest.mark.server
def test_html_pages_rate_limit_answers_a_french_429_page_with_retry_after(built_store):
    """Public pages and the report form share one per-address counter; static, health and admin do not."""
    with serve_in_background(built_store, env={"LOCATOR_RATE_LIMIT_PAGES": FIVE_A_DAY}) as base:
        paths = ["/", "/recherche?q=Ambert", "/communes/63003", f"/structures/{AMBERT_ML}"]
        paths += [f"/structures/{AMBERT_ML}/signaler", "/departements/63"]
        codes = [requests.get(base + p, timeout=60).status_code for p in paths]
        assert codes == [200] * 5 + [429]
        r = requests.get(base + "/recherche?q=Thiers", timeout=60)
        assert r.status_code == 429
        assert r.headers["Content-Type"].startswith("text/html")
        assert "Trop de demandes" in r.text and "Traceback" not in r.text
        assert 0 < int(r.headers["Retry-After"]) <= DAY_S
        posted = requests.post(base + f"/structures/{AMBERT_ML}/signaler", data={"a": "b"}, timeout=60)
        assert posted.status_code == 429  # counted before the form (and its CSRF token) is looked at
        for free in ("/healthz", "/static/favicon.svg", "/admin/login", "/api/v1/communes?q=Thiers"):
            assert requests.get(base + free, timeout=60).status_code == 200, free


SLOW_CLIENTS = 16  # four times the threads of the test server's one worker


@pytest.mark.server
def test_slow_clients_do_not_take_the_serving_threads(built_store):
    """Clients trickling their headers (a line a second, never done) leave /healthz answering.

    Each probe is answered while every slow client is still connected and still sending; how fast is
    measured by scripts/slow_clients_drill.py (a busy machine makes it slower, never unanswered).
    """
    # No request deadline within the test, however slow the machine: only the design keeps threads free.
    with serve_in_background(built_store, env={"LOCATOR_REQUEST_SECONDS": "300"}) as base:
        attack = SlowClients(base.port, every=(1.0, 1.0), reopen=False).start()
        try:
            attack.open(["127.0.0.1"] * SLOW_CLIENTS)
            seconds = []
            for _ in range(4):
                sent = attack.lines
                assert attack.wait_for(lambda a, sent=sent: a.lines >= sent + SLOW_CLIENTS, 60)
                seconds.append(healthz_seconds(base.port, "127.0.0.2", 60))
                assert seconds[-1] is not None, f"/healthz unanswered with {SLOW_CLIENTS} slow clients"
                assert attack.open_now == SLOW_CLIENTS and attack.closed == 0  # all of them still there
            print(f"/healthz with {SLOW_CLIENTS} slow clients: {[round(s, 3) for s in seconds]} s")
        finally:
            attack.stop()


# Paths the router answers with a redirect (a missing trailing slash, doubled slashes) and where to.
REDIRECTS = {"/admin": "/admin/", "//admin": "/admin/", "/communes//63003": "/communes/63003"}
REDIRECTS["/admin//structures"] = "/admin/structures"


def _get_raw(port: int, path: str, headers: dict[str, str]) -> tuple[int, str | None, str]:
    """GET `path` exactly as written (no client normalises it); return (status, Location, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheader("Location"), r.read().decode()
    finally:
        conn.close()


def test_a_forged_host_header_is_refused_and_never_redirected_to(live_server):
    for path, target in REDIRECTS.items():
        status, location, body = _get_raw(live_server.port, path, {"Host": "evil.example"})
        assert (status, location) == (400, None), (path, status, location)
        assert "Ce site ne répond pas sous ce nom." in body
        status, location, _body = _get_raw(live_server.port, path, {"Host": f"127.0.0.1:{live_server.port}"})
        assert (status, location) == (308, target), path  # the site's own name: a path on the site
    status, _location, body = _get_raw(live_server.port, "/api/v1/communes/63003", {"Host": "evil.example"})
    assert status == 400 and json.loads(body)["erreur"] == "Ce site ne répond pas sous ce nom."


@pytest.mark.server
def test_redirects_stay_on_the_site_whatever_the_host_header(built_store):
    """With the host check off (TRUSTED_HOSTS empty), behind a proxy, no redirect names another host."""
    env = {"LOCATOR_TRUSTED_HOSTS": "", "LOCATOR_PROXY_COUNT": "1"}
    with serve_in_background(built_store, env=env) as base:
        for path, target in REDIRECTS.items():
            for headers in (
                {"Host": "evil.example"},
                {"Host": "127.0.0.1", "X-Forwarded-Host": "evil.example"},
            ):
                status, location, _body = _get_raw(base.port, path, headers)
                assert (status, location) == (308, target), (path, headers, status, location)
