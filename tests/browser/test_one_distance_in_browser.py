"""The map's popups say the distance the card and the API say: one distance per structure."""

from __future__ import annotations

import pytest
import requests

from locator.geo.distance import in_words
from tests.browser.conftest import map_ready

OPEN_POPUP = """(id) => {
    let found = null;
    window.carte_leaflet.eachLayer(l => { if (l.options && l.options.structureId === id) { found = l; } });
    if (!found) { return null; }
    found.openPopup();
    const popup = found.getPopup(), element = popup && popup.getElement();
    const box = element && element.querySelector('.popup-type');
    return box ? box.textContent : null;
}"""


@pytest.mark.parametrize(("query", "code"), [("Lyon 3e", "69383"), ("Thiers", "63430")])
def test_each_answer_pins_popup_says_the_apis_distance(site, desktop, query, code):
    page, watch = desktop
    page.goto(f"{site}/recherche?q={query}")
    map_ready(page)
    ids = page.evaluate("window.carte_leaflet_reponse")
    assert len(ids) >= 3
    cards = {i: page.get_attribute(f'[data-fiche="{i}"]', "data-distance") for i in ids}
    types = {page.get_attribute(f'[data-fiche="{i}"]', "class").split("fiche-")[1].split()[0] for i in ids}
    api = {}
    for type_ in types:
        asked = {"commune": code, "types": type_, "limit": 100}
        body = requests.get(f"{site}/api/v1/structures", params=asked, timeout=60).json()
        api.update({s["id"]: s["distance_km"] for s in body["results"]})
    for structure_id in ids:
        said = page.evaluate(OPEN_POPUP, structure_id)
        expected = "à " + in_words(api[structure_id])
        assert cards[structure_id] == expected
        assert said is not None and said.endswith(" · " + expected), (structure_id, said)
    assert watch.errors == []
