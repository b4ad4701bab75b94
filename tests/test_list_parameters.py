"""List and text parameters are bounded and de-duplicated before any work: a client cannot make a
request cost more by repeating or padding what it sends (issue 16, point 1)."""

from __future__ import annotations

import pytest
import requests
from admin_helpers import make_app, text
from flask import template_rendered

from locator import lookup
from locator.store import db as store_db
from locator.store import structures as store_structures
from locator.store.schema import STRUCTURE_TYPES

AMBERT = (45.5497, 3.7417)
AMBERT_ML = "mission-locale-du-livradois-forez-63003"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Four départements are enough: the small store (fast tier)."""
    return small_built_store


def _statements(conn, call) -> list[str]:
    """Run `call` and return the SQL statements it sent to SQLite, in order."""
    sent: list[str] = []
    conn.set_trace_callback(sent.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    return sent


@pytest.mark.parametrize("types", [["cio"], ["cio", "mission_locale"], list(lookup.OTHER_TYPES)])
def test_nearest_does_the_same_work_for_a_type_repeated_thousands_of_times(conn, types):
    once = lambda: lookup.nearest(conn, *AMBERT, types=types, limit=100, rayon_km=20000)  # noqa: E731
    repeated = lambda: lookup.nearest(conn, *AMBERT, types=types * 5000, limit=100, rayon_km=20000)  # noqa: E731
    expected = once()
    _statements(conn, once)  # the caches are warm: what follows is the work of one request
    assert repeated() == expected
    assert _statements(conn, repeated) == _statements(conn, once)


def test_listings_by_type_send_each_type_once_to_sqlite(conn):
    for call in (
        lambda: lookup.published(conn, ["cio"] * 3000),
        lambda: lookup.in_departement(conn, "63", ["cio", "psad"] * 3000),
        lambda: lookup.by_name(conn, ["mission"] * 50, ["mission_locale"] * 3000, 10),
    ):
        sent = _statements(conn, call)  # as SQLite ran them: the values written in
        assert sent and max(s.count("'cio'") + s.count("'mission_locale'") for s in sent) == 1


def test_a_type_repeated_in_the_api_answers_as_given_once(client):
    once = client.get("/api/v1/structures?commune=63003&types=cio,mission_locale&limit=20").json
    repeated = client.get(
        "/api/v1/structures?commune=63003&types=cio,cio,mission_locale,cio&types=cio&limit=20"
    ).json
    assert repeated["results"] == once["results"]
    assert {s["type"] for s in once["results"]} == {"cio", "mission_locale"}


@pytest.mark.parametrize("path", ["/api/v1/structures?lat=45.55&lon=3.74&", "/api/v1/structures.geojson?"])
def test_a_padded_type_list_is_a_french_400_from_the_api(client, path):
    r = client.get(path + "types=" + ",".join(["cio"] * 60))  # 239 characters: every type fits in 83
    assert r.status_code == 400
    assert r.json["erreur"].startswith("Le paramètre types est trop long (200 caractères au plus)")


@pytest.mark.parametrize(
    "url",
    ["/recherche?q=Ambert&types=", "/communes/63003?types=", "/departements/63?types="],
)
def test_a_padded_type_list_is_a_french_400_page(client, url):
    r = client.get(url + ",".join(["cio"] * 60))
    assert r.status_code == 400
    assert r.mimetype == "text/html"
    assert "Le paramètre types est trop long (200 caractères au plus)" in text(r)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/structures?lat=45.55&lon=3.74&",
        "/api/v1/lieux?q=Ambert&",
        "/recherche?q=Ambert&",
        f"/structures/{AMBERT_ML}?",
    ],
)
def test_a_query_string_of_too_many_fields_is_refused_in_french(client, url):
    r = client.get(url + "&".join(f"x{i}=1" for i in range(40)))
    assert r.status_code == 400
    assert "Trop de paramètres dans l’adresse demandée (32 au plus)" in text(r)


def test_a_query_string_too_long_is_a_french_414_before_it_is_parsed(client):
    r = client.get("/api/v1/lieux?q=" + "a" * 5000)
    assert r.status_code == 414
    assert r.json["erreur"] == "L’adresse demandée est trop longue : 4096 octets de paramètres au plus."
    page = client.get("/recherche?q=" + "a" * 5000)
    assert page.status_code == 414 and "trop longue" in text(page)


def test_honest_queries_fit_the_bounds(client):
    every_type = "&".join(f"types={t}" for t in lookup.RECEPTION_TYPES + lookup.OTHER_TYPES)
    accents = "Saint-Étienne-de-Saint-Geoirs " * 6  # 180 characters, 6 bytes a percent-encoded é
    r = client.get(f"/recherche?q={accents.strip()}&{every_type}&precision=30&commune=")
    assert r.status_code == 200
    r = client.get("/api/v1/structures?commune=63003&types=" + ",".join(STRUCTURE_TYPES))
    assert r.status_code == 200


def test_the_admin_search_reads_each_word_once_and_at_most_eight(admin_client):
    # Nine distinct words, the last matching nothing: were it read, nothing would be found.
    words = "mission mission locale du mission livradois forez 63003 ion oca zzzz"
    found = text(admin_client.get(f"/admin/structures?q={words}"))
    assert "Mission locale du Livradois-Forez" in found


@pytest.mark.server
def test_a_type_list_of_160_kb_is_refused_at_once_over_http(live_server):
    url = live_server + "/api/v1/structures.geojson?types=" + ",".join(["cio"] * 40_000)
    r = requests.get(url, timeout=30)
    assert r.status_code == 414
    assert "trop longue" in r.json()["erreur"]
    assert requests.get(live_server + "/healthz", timeout=30).status_code == 200


def _renders(app) -> list[str]:
    """Collect the names of the templates the app renders from now on."""
    names: list[str] = []
    template_rendered.connect(lambda _app, template, context: names.append(template.name), app, weak=False)
    return names


def test_parameters_a_page_does_not_read_do_not_force_a_new_render(built_store):
    app = make_app(built_store)
    renders = _renders(app)
    client = app.test_client()
    first = text(client.get("/departements/63?types=cio,psad"))
    for url in (
        "/departements/63?types=psad&types=cio",
        "/departements/63?types=cio,psad,cio&n=1",
        "/departements/63?utm_source=lettre&types=+psad+,cio",
    ):
        assert text(client.get(url)) == first
    assert renders == ["departement.html"]
    client.get("/departements/63?types=cio")  # another page: rendered
    assert renders == ["departement.html"] * 2


def test_the_geojson_of_every_structure_is_built_once_until_the_store_changes(store_copy):
    app = make_app(store_copy)
    client = app.test_client()
    first = client.get("/api/v1/structures.geojson?types=mission_locale,cio")
    assert first.mimetype == "application/geo+json"
    features = first.json["features"]
    assert {f["properties"]["type"] for f in features} == {"mission_locale", "cio"}
    again = client.get("/api/v1/structures.geojson?types=cio&types=mission_locale,cio&limit=3")
    assert again.data == first.data
    assert list(app.extensions["locator_directory"].bodies) == [("cio", "mission_locale")]
    writer = store_db.writer(store_copy)
    ml = store_structures.get(writer.conn, AMBERT_ML)
    with writer.conn:
        store_structures.upsert(writer, [{**ml, "nom": "Mission locale renommée"}], "2026-11-29T00:00:00")
    writer.conn.close()
    names = {f["properties"]["nom"] for f in client.get("/api/v1/structures.geojson").json["features"]}
    assert "Mission locale renommée" in names and "Mission locale du Livradois-Forez" not in names


def test_a_long_noisy_text_is_searched_by_runs_no_longer_than_a_name(conn, monkeypatch):
    from locator.places import resolve as resolve_module

    probes: list[str] = []
    real = resolve_module._position
    monkeypatch.setattr(resolve_module, "_position", lambda idx, key: probes.append(key) or real(idx, key))
    lookup.resolve(conn, "l’" * 100)  # 100 words: every run of them was 4,950 probes of up to 99 words
    runs = [k for k in probes if set(k) <= {"l"}]
    assert len(runs) <= 100 * resolve_module.MAX_NAME_WORDS
    # The whole text is looked up as it is (a name glued): runs longer than a name, never.
    assert len([k for k in runs if len(k) > resolve_module.MAX_NAME_WORDS]) <= 2
    assert lookup.resolve(conn, "mairie l’ l’ l’ l’ de la commune d’Ambert 63600")[0]["code"] == "63003"


def test_a_text_full_of_postcodes_looks_up_three_of_them(conn):
    text = " ".join(f"63{n:03d}" for n in range(100, 940, 20))  # 42 postcodes in 200 characters
    sent = _statements(conn, lambda: lookup.resolve(conn, text))
    assert 1 <= sum("FROM codes_postaux WHERE code_postal" in s for s in sent) <= 3
