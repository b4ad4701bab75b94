"""Public pages through the Flask client: answers, errors in French, escaping, headers, weight."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from locator import create_app
from locator.store import db as store_db
from locator.store import structures as store_structures


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need four départements only: the small store (fast tier)."""
    return small_built_store


AMBERT_ML = "mission-locale-du-livradois-forez-63003"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "/recherche?q=Ambert",
            'Votre Mission locale : <a href="/structures/mission-locale-du-livradois-forez-63003">',
        ),
        ("/recherche?q=Lyon+3e", "Mission locale de Lyon</a>"),
        ("/recherche?q=Annecy-le-Vieux", "Annecy-le-Vieux est une commune déléguée d’Annecy."),
        ("/communes/74011", "Annecy-le-Vieux est une commune déléguée d’Annecy."),
        ("/communes/63003", "Mission locale du Livradois-Forez"),
        ("/communes/43157", "reçoit au Puy-en-Velay, à "),  # issue 11: was "la plus proche"
    ],
)
def test_answer_pages_say_the_mission_locale_and_why(client, url, expected):
    r = client.get(url)
    assert r.status_code == 200
    assert expected in text(r)
    assert "Son lieu d’accueil le plus proche" in text(r)
    assert "Le CIO le plus proche" in text(r)


@pytest.fixture
def region_client(national_store):
    """A client on the national store (five communes of the région are named Beaulieu)."""
    return create_app({"DB": str(national_store), "TESTING": True, "SECRET_KEY": "test"}).test_client()


def test_an_ambiguous_name_offers_the_candidates_with_shareable_links(region_client):
    client = region_client
    r = client.get("/recherche?q=Beaulieu")  # five communes of the région bear this name
    assert r.status_code == 200
    assert "Plusieurs lieux correspondent" in text(r)
    links = re.findall(r'href="(/recherche\?[^"]+)"', text(r))
    assert len(links) >= 5
    chosen = client.get(links[0].replace("&amp;", "&"))
    assert "Votre Mission locale" in text(chosen)
    assert parse_qs(urlsplit(links[0].replace("&amp;", "&")).query)["commune"] == [
        "43021"
    ]  # the most populous one


def test_a_postcode_of_several_communes_asks_which_one(client):
    r = client.get("/recherche?q=63600")
    assert "Plusieurs lieux" in text(r)
    assert "Ambert" in text(r) and "Saint-Ferréol-des-Côtes" in text(r)


def test_a_departement_search_goes_to_its_list(client):
    r = client.get("/recherche?q=Puy-de-D%C3%B4me&types=cio")
    assert r.status_code == 302
    assert r.headers["Location"] == "/departements/63?types=cio"
    page = client.get(r.headers["Location"])
    assert page.status_code == 200
    assert "CIO de Thiers" in text(page) and "Mission locale du Livradois-Forez" not in text(page)


def test_a_point_answers_around_it(client):
    r = client.get("/recherche?q=45.5506,3.7381")
    assert r.status_code == 200
    assert "Autour de votre position" in text(r)
    assert "Mission locale du Livradois-Forez" in text(r)
    assert "de votre position" in text(r)


@pytest.mark.parametrize(
    "url",
    [
        "/communes/13055",  # Marseille
        "/communes/21231",  # Dijon
        "/communes/75056",  # Paris
        "/communes/2A004",  # Ajaccio
        "/recherche?q=Marseille",
        "/recherche?q=Dijon",
        "/recherche?q=48.8566,2.3522",  # a position in Paris ("Me localiser")
    ],
)
def test_outside_the_region_no_mission_locale_is_presented_as_yours(region_client, url):
    body = text(region_client.get(url))  # the national store: the communes outside the région exist
    assert "Votre Mission locale" not in body and "Son lieu d’accueil" not in body
    said = body.index("est hors de la région Auvergne-Rhône-Alpes")
    assert 'class="fiche' not in body[:said]  # said before any list
    assert "Trouver sa Mission locale dans l’annuaire national" in body


def test_a_far_type_gets_no_card_and_the_answer_says_who_else_helps(client):
    body = text(client.get("/communes/74010"))  # Annecy: the région's only PSAD (Brioude) is 224 km away
    assert "Aucune PSAD connue à moins de 60 km." in body
    assert "PSAD de Brioude" not in body and "La PSAD la plus proche" not in body
    assert 'class="fiche fiche-psad' not in body
    # the Mission locale and the CIO shown are who runs the platforms
    assert "La Mission locale et le CIO ci-dessus travaillent avec la plateforme de suivi" in body


def test_no_card_beyond_its_types_distance_threshold(client):
    # Thiers: the PSAD is 64 km away (threshold 60 km), an EPIDE 113 km (150 km): one gone, one kept.
    body = text(client.get("/recherche?q=Thiers"))
    assert "PSAD de Brioude" not in body and "Aucune PSAD connue à moins de 60 km." in body
    assert "Le centre EPIDE le plus proche" in body


@pytest.mark.parametrize(
    "url", ["/recherche?q=Marseille", "/recherche?q=Dijon", "/recherche?q=48.8566,2.3522"]
)
def test_outside_the_region_it_is_said_once_and_nothing_far_is_listed(region_client, url):
    body = text(region_client.get(url))
    assert body.count("hors de la région") == 1
    assert 'class="fiche' not in body  # every structure of the région is beyond its type's threshold
    assert "Encore à proximité" not in body and "Itinéraire" not in body


def test_type_filter_keeps_only_the_chosen_kinds(client):
    r = client.get("/recherche?q=Ambert&types=cio")
    body = text(r)
    assert "Le CIO le plus proche" in body
    assert "Votre Mission locale" not in body
    assert 'data-type="Mission locale"' not in body


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/structures/nexiste-pas", 404, "Cette structure n’existe pas"),
        ("/communes/99999", 404, "Aucune commune n’a le code INSEE 99999"),
        ("/communes/%3Cscript%3E", 404, "n’est pas un code de commune"),
        ("/departements/99", 404, "Aucun département n’a le code"),
        ("/recherche?q=Ambert&types=%3Cb%3E", 400, "Type de structure inconnu"),
        ("/recherche?q=Ambert&commune=00000", 404, "Aucune commune n’a le code INSEE 00000"),
        ("/page/qui/nexiste/pas", 404, "Cette page n’existe pas"),
    ],
)
def test_unknown_things_get_a_french_error_page(client, url, status, message):
    r = client.get(url)
    assert r.status_code == status
    body = text(r)
    assert message in body
    assert '<html lang="fr">' in body
    assert "<script>" not in body and "<b>" not in body


@pytest.mark.parametrize("url", ["/recherche", "/recherche?q=", "/recherche?q=%20%20", "/recherche?q=zzqxwv"])
def test_no_query_or_nothing_found_gives_a_helpful_page(client, url):
    r = client.get(url)
    assert r.status_code == 200
    assert "Lyon 3e" in text(r) and 'role="search"' in text(r)


@pytest.fixture
def hostile_client(store_copy):
    db = store_db.writer(store_copy)
    s = store_structures.get(db.conn, AMBERT_ML)
    hostile = {
        **s,
        "id": "hostile-63003",
        "type": "cio",
        "nom": "<img src=x onerror=alert(1)>",
        "site_web": "javascript:alert(1)",
        "courriel": '"><script>alert(1)</script>',
        "latitude": 45.5462,
        "longitude": 3.7441,
    }
    with db.conn:
        store_structures.upsert(db, [hostile], "2026-01-01T00:00:00")
    db.conn.close()
    app = create_app({"DB": str(store_copy), "TESTING": True, "SECRET_KEY": "test"})
    return app.test_client()


@pytest.mark.parametrize("url", ["/recherche?q=Ambert", "/structures/hostile-63003", "/departements/63"])
def test_hostile_data_is_escaped_in_pages_and_map(hostile_client, url):
    body = text(hostile_client.get(url))
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "<img src=x" not in body
    assert "javascript:" not in body
    assert "<script>alert" not in body


def test_pages_tell_the_browser_to_load_nothing_from_elsewhere_but_tiles(client):
    r = client.get("/recherche?q=Ambert")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "img-src 'self' data: https://tile.openstreetmap.org" in csp
    # no inline script left to allow: the map comes as JSON data that the browser does not run
    scripts = re.findall(r"<script([^>]*)>", text(r))
    assert scripts and all(
        'src="/static/' in s or s == ' type="application/json" data-carte-donnees="carte_leaflet"'
        for s in scripts
    )
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_a_search_page_weighs_less_than_500_kb_before_tiles(client):
    r = client.get("/recherche?q=Lyon+3e")
    body = text(r)
    total = len(r.data)
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+\.(?:js|css))"', body)
    assert any("leaflet.js" in a for a in assets) and any("site.css" in a for a in assets)
    for asset in set(assets):
        response = client.get(asset)
        assert response.status_code == 200, asset
        total += len(response.data)
        response.close()
    assert total < 500_000
    assert not re.search(r'(?:src|href)="https?://', re.sub(r"<a [^>]+>", "", body))


@pytest.mark.parametrize("url", ["/recherche?q=Ambert", "/communes/63003", "/departements/63"])
def test_a_cached_page_shows_a_change_committed_after_it_was_served(store_copy, url):
    app = create_app({"DB": str(store_copy), "TESTING": True, "SECRET_KEY": "test"})
    client = app.test_client()
    assert "Mission locale du Livradois-Forez" in text(client.get(url))
    assert "Mission locale du Livradois-Forez" in text(client.get(url))  # served again, now from the cache
    writer = store_db.writer(store_copy)
    ml = store_structures.get(writer.conn, AMBERT_ML)
    with writer.conn:
        store_structures.upsert(
            writer, [{**ml, "nom": "Mission locale Renommée d’Ambert"}], "2026-11-29T00:00:00"
        )
    writer.conn.close()
    page = text(client.get(url))
    assert "Mission locale Renommée d’Ambert" in page
    assert "Mission locale du Livradois-Forez" not in page


@pytest.mark.parametrize(
    "url", ["/recherche?q=Ambert", "/recherche?q=Thiers", "/communes/63003", "/communes/69383"]
)
def test_answer_pages_use_plain_words_plurals_and_no_sources_in_cards(client, url):
    page = text(client.get(url))
    assert "connu(s)" not in page and "siège" not in page.lower().split("<main", 1)[1].replace("sièges", "")
    assert re.search(r"parmi (1 lieu connu|\d+ lieux connus)\.", page)
    assert "Source :" not in page
    # one "c'est quoi ?" per type shown, on its first card
    assert page.count("<strong>Mission locale, c’est quoi ?") == 1
    assert page.count("<strong>CIO – Centre d’information et d’orientation, c’est quoi ?") == 1


def test_the_structure_page_keeps_its_sources_and_says_what_it_is(client):
    page = text(client.get(f"/structures/{AMBERT_ML}"))
    assert "Source :" in page
    assert "Mission locale, c’est quoi ?" in page


def test_home_page_says_what_each_type_is_and_the_description_promises_no_hours(client):
    page = text(client.get("/"))
    for name in ("Mission locale", "CIO", "PSAD", "École de la 2e chance", "EPIDE", "Dispositif local"):
        assert f"<dt>{name}" in page
    description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)
    assert "horaires" not in description


def test_a_card_with_hours_says_if_it_is_open_and_the_cached_page_expires_then(store_copy):
    writer = store_db.writer(store_copy)
    ml = store_structures.get(writer.conn, AMBERT_ML)
    with writer.conn:
        store_structures.upsert(
            writer,
            [{**ml, "horaires_accueil": "Mo-Fr 08:30-12:00,13:30-17:00; PH off"}],
            "2026-11-29T00:00:00",
        )
    writer.conn.close()
    app = create_app({"DB": str(store_copy), "TESTING": True, "SECRET_KEY": "test"})
    page = text(app.test_client().get("/communes/63003"))
    assert re.search(r'class="statut-horaires statut-(ouvert|ferme)">(Ouvert maintenant|Fermé)', page)
    kept = [page.until for page in app.extensions["locator_pages"].pages.values()]
    assert kept and kept[0] is not None  # the status changes at a known moment: the page is kept until then
