"""Geocoders: offline (commune centre) and BAN through geopy's real client, against a fake local server."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from import_helpers import by_name, run_import, warnings, write

from locator.ingest.geocoders import BanGeocoder, OfflineGeocoder, make
from locator.store import communes
from locator.store.db import connect


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


# Query fragment → (answer features, seconds to wait before answering).
ANSWERS = {
    "20 rue des Docteurs-Dumas": (
        [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [3.546395, 45.857971]},
                "properties": {
                    "label": "20 Rue des Docteurs Dumas 63300 Thiers",
                    "score": 0.93,
                    "type": "housenumber",
                    "citycode": "63430",
                    "postcode": "63300",
                },
            }
        ],
        0,
    ),
    "Rue des Tanneries": (
        [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [3.5501, 45.8561]},
                "properties": {"label": "Rue des Tanneries 63300 Thiers", "score": 0.71, "type": "street",
                               "citycode": "63430"},
            }
        ],
        0,
    ),
    "Chemin perdu": (
        [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [3.55, 45.85]},
                "properties": {"label": "Chemin 63300 Thiers", "score": 0.21, "type": "street",
                               "citycode": "63430"},
            }
        ],
        0,
    ),
    "Avenue de Lyon": (
        [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [4.85, 45.76]},
                "properties": {"label": "Avenue de Lyon 69003 Lyon", "score": 0.9, "type": "street",
                               "citycode": "69383"},
            }
        ],
        0,
    ),
    "Place du sommeil": ([], 2.0),
    "Impasse introuvable": ([], 0),
}  # fmt: skip


class FakeBan:
    """A small address server answering /search like the BAN does, recording what it was asked."""

    def __init__(self):
        self.requests: list[tuple[float, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                url = urlparse(self.path)
                query = parse_qs(url.query).get("q", [""])[0]
                owner.requests.append((time.monotonic(), query))
                features, delay = next(((f, d) for k, (f, d) in ANSWERS.items() if k in query), ([], 0))
                if url.path != "/geocodage/search":
                    self.send_response(404)
                    self.end_headers()
                    return
                time.sleep(delay)
                body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.domain = f"127.0.0.1:{self.server.server_address[1]}/geocodage"
        # shutdown() waits for the next poll: 50 ms, not the default half second per test
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ban():
    server = FakeBan()
    yield server
    server.close()


@pytest.fixture
def thiers(conn):
    return communes.get(conn, "63430")


def geocoder(ban, **kw) -> BanGeocoder:
    return BanGeocoder(domain=ban.domain, scheme="http", **{"rate": 40.0, "timeout": 0.5, **kw})


def test_offline_geocoder_gives_the_commune_centre(conn, thiers):
    found = OfflineGeocoder().geocode(conn, "20 rue des Docteurs-Dumas", "63300", thiers)
    assert (found.latitude, found.longitude, found.precision) == (
        thiers["latitude"],
        thiers["longitude"],
        "commune",
    )


def test_ban_answer_gives_the_address_point(ban, conn, thiers):
    g = geocoder(ban)
    found = g.geocode(conn, "20 rue des Docteurs-Dumas BP 12", "63300", thiers)
    assert (found.latitude, found.longitude, found.precision, found.note) == (
        45.857971,
        3.546395,
        "adresse",
        None,
    )
    assert ban.requests[-1][1] == "20 rue des Docteurs-Dumas 63300 Thiers"  # BP stripped before asking
    street = g.geocode(conn, "Rue des Tanneries", "63300", thiers)
    assert street.precision == "rue"


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("Chemin perdu", "score trop faible (0,21)"),
        ("Avenue de Lyon", "hors du département 63"),
        ("Impasse introuvable", "introuvable"),
    ],
)
def test_untrusted_answers_fall_back_to_the_commune_and_say_why(ban, conn, thiers, address, why):
    found = geocoder(ban).geocode(conn, address, "63300", thiers)
    assert (found.latitude, found.longitude, found.precision) == (
        thiers["latitude"],
        thiers["longitude"],
        "commune",
    )
    assert why in found.note and "centre de la commune" in found.note


def test_timeouts_fall_back_and_stop_asking_after_three(ban, conn, thiers):
    g = geocoder(ban, timeout=0.1)  # the answer takes 2 s: any short delay times out
    notes = [g.geocode(conn, f"{n} Place du sommeil", "63300", thiers).note for n in range(3)]
    asked = len(ban.requests)  # geopy's HTTP adapter retries a timed-out request itself
    notes += [g.geocode(conn, f"{n} Place du sommeil", "63300", thiers).note for n in range(3, 5)]
    assert all("centre de la commune" in n for n in notes)
    assert "délai dépassé" in notes[0]
    assert "indisponible" in notes[4]
    assert {q for _t, q in ban.requests} == {f"{n} Place du sommeil 63300 Thiers" for n in range(3)}
    assert len(ban.requests) == asked


def test_requests_are_spaced_under_the_rate_limit(ban, conn, thiers):
    g = geocoder(ban, rate=5.0)
    for n in range(4):
        g.geocode(conn, f"{n} Rue des Tanneries", "63300", thiers)
    times = [t for t, _q in ban.requests]
    assert len(times) == 4
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.18


def test_a_row_without_an_address_is_not_sent(ban, conn, thiers):
    found = geocoder(ban).geocode(conn, None, "63300", thiers)
    assert found.precision == "commune" and ban.requests == []


def test_make_builds_the_configured_geocoder():
    assert isinstance(make("offline", {}), OfflineGeocoder)
    settings = {"BAN_DOMAIN": "127.0.0.1:9/x", "BAN_SCHEME": "http", "BAN_MIN_SCORE": 0.6}
    g = make("ban", {**settings, "BAN_RATE": 10, "BAN_TIMEOUT": 1})
    assert g.client.geocode_api == "http://127.0.0.1:9/x/search" and g.min_score == 0.6
    with pytest.raises(ValueError):
        make("google", {})


def test_make_hands_an_online_geocoder_the_answers_already_had():
    settings = {"BAN_DOMAIN": "127.0.0.1:9/x", "BAN_SCHEME": "http", "BAN_MIN_SCORE": 0.5}
    known = {"20 rue des docteurs-dumas 63300 thiers": {"latitude": 45.85, "longitude": 3.54}}
    g = make("ban", {**settings, "BAN_RATE": 10, "BAN_TIMEOUT": 1}, known)
    assert g.pending == known
    assert isinstance(make("offline", settings, known), OfflineGeocoder)


def test_import_with_ban_caches_answers_in_the_store(ban, store_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_BAN_DOMAIN", ban.domain)
    monkeypatch.setenv("LOCATOR_BAN_SCHEME", "http")
    text = "type;nom;adresse;code_postal;commune\n"
    text += "antenne;Permanence des Docteurs-Dumas;20 rue des Docteurs-Dumas;63300;Thiers\n"
    text += "antenne;Permanence du chemin perdu;Chemin perdu;63300;Thiers\n"
    path = write(tmp_path, text)
    code, report, _ = run_import(store_copy, path, "--geocoder", "ban")
    assert code == 0 and report["crees"] == 2
    assert "score trop faible" in warnings(report)[3]
    row = by_name(store_copy, "Permanence des Docteurs-Dumas")
    assert (row["latitude"], row["longitude"], row["precision_geocodage"]) == (45.857971, 3.546395, "adresse")
    asked = len(ban.requests)
    assert asked == 2
    with sqlite3.connect(store_copy) as c:
        assert c.execute("SELECT COUNT(*) FROM geocodage_cache").fetchone()[0] == 2
    # A second file with the same addresses: answered from the store, no request.
    path2 = write(tmp_path, text.replace("Permanence", "Point"), name="g.csv")
    code, report, _ = run_import(store_copy, path2, "--geocoder", "ban")
    assert code == 0 and report["crees"] == 2
    assert len(ban.requests) == asked
    assert by_name(store_copy, "Point des Docteurs-Dumas")["precision_geocodage"] == "adresse"


def test_dry_run_with_ban_keeps_no_cache(ban, store_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_BAN_DOMAIN", ban.domain)
    monkeypatch.setenv("LOCATOR_BAN_SCHEME", "http")
    path = write(
        tmp_path, "type;nom;adresse;code_postal;commune\nantenne;P;20 rue des Docteurs-Dumas;63300;Thiers\n"
    )
    code, _report, _ = run_import(store_copy, path, "--geocoder", "ban", "--dry-run")
    assert code == 0
    c = connect(store_copy)
    assert c.execute("SELECT COUNT(*) FROM geocodage_cache").fetchone()[0] == 0
    c.close()
