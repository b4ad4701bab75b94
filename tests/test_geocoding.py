"""Geocoders: offline (commune centre) and BAN through geopy's real client, against a fake local server."""

from __future__ import annotations

import json
import socket
import sqlite3
import struct
import threading
import time
import urllib.request
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


# Query fragment → answer features.
ANSWERS = {
    "20 rue des Docteurs-Dumas": [
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
    "Rue des Tanneries": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [3.5501, 45.8561]},
            "properties": {"label": "Rue des Tanneries 63300 Thiers", "score": 0.71, "type": "street",
                           "citycode": "63430"},
        }
    ],
    "Chemin perdu": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [3.55, 45.85]},
            "properties": {"label": "Chemin 63300 Thiers", "score": 0.21, "type": "street",
                           "citycode": "63430"},
        }
    ],
    "Avenue de Lyon": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [4.85, 45.76]},
            "properties": {"label": "Avenue de Lyon 69003 Lyon", "score": 0.9, "type": "street",
                           "citycode": "69383"},
        }
    ],
    "Impasse introuvable": [],
    "12 rue de l'Hôtel de Ville 63200 Riom": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [3.112861, 45.894137]},
            "properties": {"label": "12 Rue de l’Hôtel de Ville 63200 Riom", "score": 0.95,
                           "type": "housenumber", "citycode": "63300", "postcode": "63200"},
        }
    ],
}  # fmt: skip
NEVER_ANSWERED = ("Place du sommeil",)


# The kernel's receive time of a request (SO_TIMESTAMPNS, inherited by accepted sockets): when the client
# sent it, however late a busy machine lets the fake server read it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


class FakeBan:
    """A small address server answering /search like the BAN does, recording what it was asked.

    `requests` holds (when the client sent it, query); a query in NEVER_ANSWERED is never answered (the
    client must time out); `settle()` waits until every connection made so far has been read.
    """

    def __init__(self):
        self.requests: list[tuple[float, str]] = []
        self.accepted: list[int] = []  # client ports, in the order connections were accepted
        self.read: set[int] = set()  # client ports whose request the server has read
        self.closing = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self):
                data, ancillary, _flags, _addr = self.request.recvmsg(
                    1, socket.CMSG_SPACE(16), socket.MSG_PEEK
                )
                self.sent_at = time.time()
                for level, kind, raw in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        seconds, nanoseconds = struct.unpack("qq", raw[:16])
                        self.sent_at = seconds + nanoseconds / 1e9
                super().setup()

            def do_GET(self):  # noqa: N802 (http.server's name)
                url = urlparse(self.path)
                owner.read.add(self.client_address[1])
                if url.path == "/ping":  # settle()'s own request
                    self.send_response(204)
                    self.end_headers()
                    return
                query = parse_qs(url.query).get("q", [""])[0]
                owner.requests.append((self.sent_at, query))
                features = next((f for k, f in ANSWERS.items() if k in query), [])
                if url.path != "/geocodage/search":
                    self.send_response(404)
                    self.end_headers()
                    return
                if any(k in query for k in NEVER_ANSWERED):
                    owner.closing.wait(120)  # until the test ends (a safety net): the client gives up first
                    return
                body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def process_request(self, request, client_address):
                owner.accepted.append(client_address[1])
                super().process_request(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.port = self.server.server_address[1]
        self.domain = f"127.0.0.1:{self.port}/geocodage"
        # shutdown() waits for the next poll: 50 ms, not the default half second per test
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def settle(self, timeout: float = 60) -> None:
        """Wait until the server has read every request sent to it so far (a safety net of `timeout`).

        Connections are accepted in the order they were made: once our own /ping is answered, every
        earlier one was accepted; then each must have been read.
        """
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=timeout):  # noqa: S310
            pass
        earlier = list(self.accepted)
        deadline = time.monotonic() + timeout
        while not set(earlier) <= self.read:
            assert time.monotonic() < deadline, "the fake BAN never read some requests"
            time.sleep(0.01)  # polling step

    def close(self):
        self.closing.set()
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
    # A timeout of 60 s is a safety net: on a busy machine the fake server answers late, not never.
    return BanGeocoder(domain=ban.domain, scheme="http", **{"rate": 40.0, "timeout": 60.0, **kw})


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
    g = geocoder(ban, timeout=0.1)  # never answered: the client times out, however fast or slow
    notes = [g.geocode(conn, f"{n} Place du sommeil", "63300", thiers).note for n in range(3)]
    ban.settle()  # every request sent so far has reached the server (geopy may retry a timed-out one)
    asked = len(ban.requests)
    notes += [g.geocode(conn, f"{n} Place du sommeil", "63300", thiers).note for n in range(3, 5)]
    ban.settle()
    assert all("centre de la commune" in n for n in notes)
    assert "délai dépassé" in notes[0]
    assert "indisponible" in notes[4]
    assert {q for _t, q in ban.requests} == {f"{n} Place du sommeil 63300 Thiers" for n in range(3)}
    assert len(ban.requests) == asked


def test_requests_are_spaced_under_the_rate_limit(ban, conn, thiers):
    g = geocoder(ban, rate=5.0)
    called = []
    for n in range(4):
        called.append(time.time())
        g.geocode(conn, f"{n} Rue des Tanneries", "63300", thiers)
    sent = {q: t for t, q in ban.requests}
    assert len(sent) == 4
    # Request n+1 left the client at least 1/rate after request n was started, itself after the call
    # for it. Read from the kernel's receive times and the calls' own times, the check holds however
    # busy the machine is: a late fake server cannot make two requests look closer than they were.
    for n in range(3):
        assert sent[f"{n + 1} Rue des Tanneries 63300 Thiers"] - called[n] >= 0.2 - 1e-3, (n, sent, called)


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
    monkeypatch.setenv("LOCATOR_BAN_TIMEOUT", "60")  # a safety net: the fake server answers at once
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
    monkeypatch.setenv("LOCATOR_BAN_TIMEOUT", "60")  # a safety net: the fake server answers at once
    path = write(
        tmp_path, "type;nom;adresse;code_postal;commune\nantenne;P;20 rue des Docteurs-Dumas;63300;Thiers\n"
    )
    code, _report, _ = run_import(store_copy, path, "--geocoder", "ban", "--dry-run")
    assert code == 0
    c = connect(store_copy)
    assert c.execute("SELECT COUNT(*) FROM geocodage_cache").fetchone()[0] == 0
    c.close()


def test_a_lone_address_cell_is_sent_to_the_ban_as_street_postcode_and_commune(
    ban, store_copy, tmp_path, monkeypatch
):
    monkeypatch.setenv("LOCATOR_BAN_DOMAIN", ban.domain)
    monkeypatch.setenv("LOCATOR_BAN_SCHEME", "http")
    monkeypatch.setenv("LOCATOR_BAN_TIMEOUT", "60")  # a safety net: the fake server answers at once
    path = write(tmp_path, "type;nom;adresse\nantenne;Permanence de Riom;12 rue de l'Hôtel de Ville, Riom\n")
    code, report, _ = run_import(store_copy, path, "--geocoder", "ban")
    assert code == 0 and report["crees"] == 1, report
    assert [q for _t, q in ban.requests] == ["12 rue de l'Hôtel de Ville 63200 Riom"]
    row = by_name(store_copy, "Permanence de Riom")
    assert (row["adresse"], row["code_postal"], row["code_insee"]) == (
        "12 rue de l'Hôtel de Ville",
        "63200",
        "63300",
    )
    assert (row["latitude"], row["longitude"], row["precision_geocodage"]) == (45.894137, 3.112861, "adresse")
    note = warnings(report)[2]
    assert "lus dans l’adresse\u202f: 63200 Riom" in note and "centre de la commune" not in note
