"""Search by structure as well as by place: suggestions, the search page, and a place outside the région."""

from __future__ import annotations

import pytest

from locator import lookup


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Mission locale de Thiers", "mission-locale-du-bassin-de-thiers-63430"),
        ("CIO Vichy", "cio-de-vichy-03095"),
        ("cio de thi", "cio-de-thiers-63430"),
        ("Tillion", "plateforme-de-decouverte-et-d-insertion-professionnelle-lycee-germaine-tillion-t-63430"),
    ],
)
def test_structures_are_found_by_their_name_whatever_the_accents(conn, query, expected):
    assert lookup.structures_named(conn, query)[0]["id"] == expected


def test_e2c_finds_every_ecole_de_la_2e_chance(conn):
    found = lookup.structures_named(conn, "E2C", limit=20)
    assert len(found) >= 8 and {s["type"] for s in found} == {"e2c"}


def test_a_town_name_alone_does_not_list_the_structures_located_there(conn):
    assert lookup.structures_named(conn, "Ambert") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [("CIO Vichy", "CIO de Vichy"), ("E2C", "E2C Sud Auvergne"), ("Tillion", "Germaine Tillion")],
)
def test_suggestions_list_matching_structures_under_their_own_key(client, query, expected):
    body = client.get("/api/v1/lieux", query_string={"q": query}).get_json()
    assert any(expected in s["nom"] for s in body["structures"])
    assert all(s["url"] == f"/structures/{s['id']}" for s in body["structures"])


def test_suggestions_for_a_town_keep_places_first_and_no_structure(client):
    body = client.get("/api/v1/lieux", query_string={"q": "Ambert"}).get_json()
    assert body["results"][0]["code"] == "63003" and body["structures"] == []


@pytest.mark.parametrize(
    ("query", "link"),
    [
        ("E2C", "/structures/e2c-sud-auvergne-site-d-aurillac-15014"),
        (
            "Tillion",
            "/structures/plateforme-de-decouverte-et-d-insertion-professionnelle-lycee-germaine-tillion-t-63430",
        ),
        ("CIO Vichy", "/structures/cio-de-vichy-03095"),
    ],
)
def test_the_search_page_shows_structures_named_so(client, query, link):
    page = client.get("/recherche", query_string={"q": query}).get_data(as_text=True)
    assert "dont le nom correspond à « " in page
    assert f'href="{link}"' in page


def test_a_query_matching_only_a_commune_outside_the_region_says_so(client):
    page = client.get("/recherche", query_string={"q": "Test"}).get_data(as_text=True)
    assert "« Test » ne correspond à aucune commune d’Auvergne-Rhône-Alpes" in page
    assert "La Teste-de-Buch" in page and "Gironde" in page


def test_a_commune_of_the_region_gets_no_outside_note(client):
    page = client.get("/recherche", query_string={"q": "Ambert"}).get_data(as_text=True)
    assert "hors de la région" not in page
