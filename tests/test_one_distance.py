"""One distance per structure: every distance a page shows reads as the API's `distance_km` for the same
origin (the commune's reference point, or the position), in the one French rule of geo.distance."""

from __future__ import annotations

import re
from html import unescape

import pytest

from locator import create_app
from locator.geo.distance import in_words

CARD = re.compile(r'data-fiche="([^"]+)"[^>]*?data-distance="à ([^"]+)"', re.S)
SHOWN = re.compile(r'<strong class="distance">à ([^<]+)</strong>')
REASON_DISTANCE = re.compile(r"\((\d[\d,]* k?m)\), parmi")


@pytest.fixture(scope="module")
def client(national_store):
    return create_app({"DB": str(national_store), "TESTING": True, "SECRET_KEY": "test"}).test_client()


def _api_distances(client, where: dict[str, str], types: set[str]) -> dict[str, float]:
    found = {}
    for type_ in types:
        asked = {**where, "types": type_, "limit": 100}
        body = client.get("/api/v1/structures", query_string=asked).get_json()
        found.update({s["id"]: s["distance_km"] for s in body["results"]})
    return found


@pytest.mark.parametrize(
    ("page", "where"),
    [
        ("/communes/69383", {"commune": "69383"}),  # Lyon 3e: the reason once said 0,7 km, the card 1,9 km
        ("/recherche?q=Lyon+3e", {"commune": "69383"}),
        ("/communes/63430", {"commune": "63430"}),  # Thiers
        ("/communes/74010", {"commune": "74010"}),  # Annecy
        ("/recherche?q=Ambert", {"commune": "63003"}),
        ("/recherche?q=43100", {"commune": "43040"}),  # Brioude, by its postcode
        ("/recherche?q=45.7772,3.0870", {"lat": "45.7772", "lon": "3.0870"}),  # a position in Clermont
    ],
)
def test_every_distance_a_page_shows_is_the_apis(client, page, where):
    html = client.get(page).get_data(as_text=True)
    cards = CARD.findall(html)
    assert len(cards) >= 4
    types = set(re.findall(r'class="fiche fiche-([a-z0-9_]+)"', html))
    api = _api_distances(client, where, types)
    for structure_id, words in cards:
        assert structure_id in api, structure_id
        assert unescape(words) == in_words(api[structure_id]), structure_id
    # The cards' visible words are the same texts (one per card), and the reception point's reason too.
    assert [unescape(w) for w in SHOWN.findall(html)] == [unescape(w) for _id, w in cards]
    for said in REASON_DISTANCE.findall(html):
        assert said in {unescape(w) for _id, w in cards}
    assert "0,0 km" not in html
