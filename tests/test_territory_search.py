"""Issue 19 item 5: /territoires finds a commune's territory and names its Mission locale, as a plain
form that needs no script; ambiguous, unknown, foreign and hostile searches get a clear answer."""

from __future__ import annotations

import html
import re

import pytest

from locator import lookup

AMBERT_ML = "mission-locale-du-livradois-forez-63003"
NNBSP = "\u202f"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Ambert, Thiers, Lyon: the small store (fast tier)."""
    return small_built_store


def _answer(body: str) -> str:
    """The answer block of the page, as text."""
    m = re.search(r'<section class="bloc territoire-trouve".*?</section>', body, re.S)
    assert m, "no answer block"
    text = html.unescape(re.sub(r"<[^>]+>", "", m.group(0)))
    return re.sub(r"[ \n\t]+", " ", text)  # the narrow no-break spaces stay


def _map_data(body: str) -> str:
    m = re.search(r'<script type="application/json" data-carte-donnees="[^"]+">(.*?)</script>', body, re.S)
    assert m
    return m.group(1)


def test_the_page_offers_a_commune_search_that_works_without_script(client):
    body = client.get("/territoires").get_data(as_text=True)
    form = re.search(r"<form[^>]*data-territoire-recherche[^>]*>", body).group(0)
    assert 'action="/territoires"' in form and 'method="get"' in form
    assert '<label for="commune"' in body and 'id="commune" name="commune"' in body
    assert 'id="territoire-trouve"' not in body  # no search, no answer


def test_a_commune_names_its_mission_locale_with_a_link_and_the_map_highlights_it(client):
    body = client.get("/territoires?commune=ambert").get_data(as_text=True)
    text = _answer(body)
    assert "Ambert (63)" in text and f"Sa Mission locale{NNBSP}: Mission locale du Livradois-Forez" in text
    assert f'<a href="/structures/{AMBERT_ML}" data-mission-locale="{AMBERT_ML}">' in body
    assert f'"choisi": "{AMBERT_ML}"' in _map_data(body)


def test_a_misspelt_name_or_an_arrondissement_finds_its_commune(client):
    assert "Mission locale du bassin de Thiers" in _answer(
        client.get("/territoires?commune=tiers").get_data(as_text=True)
    )
    lyon = _answer(client.get("/territoires?commune=Lyon+3e").get_data(as_text=True))
    assert "Lyon 3e Arrondissement (69)" in lyon and "Mission locale de Lyon" in lyon


def test_a_postcode_of_several_communes_asks_which_one_then_answers_it(client):
    body = client.get("/territoires?commune=63600").get_data(as_text=True)
    text = _answer(body)
    assert "Plusieurs communes répondent" in text and "Sa Mission locale" not in text
    assert "choisi" not in _map_data(body) or '"choisi": null' in _map_data(body)
    link = re.search(r'<a href="(/territoires\?commune=La\+Forie&amp;code=63161)">La Forie \(63\)</a>', body)
    assert link
    picked = client.get(html.unescape(link.group(1))).get_data(as_text=True)
    assert "La Forie (63)" in _answer(picked) and "Mission locale du Livradois-Forez" in _answer(picked)


def test_an_unknown_commune_says_so_and_the_page_still_works(client):
    r = client.get("/territoires?commune=Zzyzx")
    assert r.status_code == 200
    assert f"Aucune commune ne répond à «{NNBSP}Zzyzx{NNBSP}»" in _answer(r.get_data(as_text=True))
    empty = client.get("/territoires?commune=+")
    assert empty.status_code == 200 and 'id="territoire-trouve"' not in empty.get_data(as_text=True)


def test_a_hostile_search_is_shown_as_typed_and_runs_nothing(client):
    hostile = "<script>alert(1)</script>{{ 7*7 }}"
    body = client.get("/territoires", query_string={"commune": hostile}).get_data(as_text=True)
    assert "<script>alert(1)" not in body and "49" not in _answer(body)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in body


def test_a_code_that_is_also_a_postcode_asks_which_then_the_chosen_code_answers(client):
    # 63430 is Thiers' INSEE code and the postcode of Pont-du-Château: typed, it is ambiguous.
    text = _answer(client.get("/territoires?commune=63430").get_data(as_text=True))
    assert "Plusieurs communes répondent" in text and "Thiers (63)" in text and "Pont-du-Château (63)" in text
    chosen = _answer(client.get("/territoires?commune=63430&code=63430").get_data(as_text=True))
    assert "Thiers (63)" in chosen and "Mission locale du bassin de Thiers" in chosen


def test_the_search_answer_is_the_api_s_answer(client, conn):
    for code in ("63003", "63430", "69383", "74281", "43157"):
        api = client.get(f"/api/v1/communes/{code}/mission-locale").get_json()
        found = lookup.territory_search(conn, code, code, region="84")
        assert found["reponse"]["mission_locale"]["id"] == api["mission_locale"]["id"]
        body = client.get(f"/territoires?code={code}").get_data(as_text=True)
        assert f'data-mission-locale="{api["mission_locale"]["id"]}"' in body
