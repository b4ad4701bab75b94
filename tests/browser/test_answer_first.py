"""The answer first on a phone (390 × 844): the Mission locale's name, address and call button on the first
screen whatever the place's shape; the map's answer pins on the screen; « Me localiser » names the commune."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE, map_ready, map_settled, open_context

SCREEN = PHONE["height"]

# Places of different shapes: a big city, an arrondissement, a commune whose name is also structures'
# names, a village of a few hundred people, a commune déléguée, a postcode picking one commune, one of
# several homonyms (as the choice page links it), mountain communes, a suburb, a position.
PLACES = [
    "/recherche?q=Lyon",
    "/recherche?q=Lyon+3e",
    "/recherche?q=Thiers",
    "/recherche?q=Valcivi%C3%A8res",
    "/recherche?q=Annecy-le-Vieux",
    "/recherche?q=43100",
    "/recherche?q=Saint-Priest&commune=07288",
    "/recherche?q=Chamonix-Mont-Blanc",
    "/recherche?q=Villeurbanne",
    "/recherche?q=45.7772,3.0870",
]


@pytest.mark.parametrize("url", PLACES + ["/communes/74011", "/communes/69383", "/communes/63430"])
def test_the_mission_locales_name_address_and_call_button_are_on_the_first_phone_screen(site, phone, url):
    page, watch = phone
    page.goto(site + url)
    card = page.locator(".bloc-ml .fiche").first
    name = card.locator(".fiche-titre a")
    address = card.locator(".adresse")
    call = card.locator("a[href^='tel:']")
    assert call.count() == 1, "the Mission locale has a phone number to call"
    for part in (name, address, call):
        box = part.bounding_box()
        assert box is not None and box["y"] >= 0
        assert box["y"] + box["height"] <= SCREEN, f"{part} ends at {box['y'] + box['height']:.0f} px"
    assert "Appeler" in call.inner_text()
    assert watch.errors == []


def test_structures_named_like_the_commune_come_after_its_answer(site, phone):
    page, _watch = phone
    page.goto(site + "/recherche?q=Thiers")  # the CIO de Thiers, the Mission locale du bassin de Thiers…
    answer = page.locator(".bloc-ml").bounding_box()
    named = page.locator(".structures-trouvees").bounding_box()
    assert named is not None and answer["y"] < named["y"]


def test_outside_the_region_the_national_finder_is_on_the_first_phone_screen(site, phone):
    page, _watch = phone
    page.goto(site + "/recherche?q=Marseille")
    link = page.get_by_role("link", name="Trouver sa Mission locale dans l’annuaire national")
    box = link.bounding_box()
    assert box is not None and box["y"] + box["height"] <= SCREEN


MAP_PLACES = ["/recherche?q=Valcivi%C3%A8res", "/recherche?q=Thiers", "/recherche?q=Lyon+3e"]


@pytest.mark.parametrize("url", MAP_PLACES)
def test_in_map_mode_the_answer_pins_are_on_the_first_screen(site, phone, url):
    page, _watch = phone
    page.goto(site + url)
    map_ready(page)
    page.get_by_role("button", name="Carte", exact=True).click()
    map_settled(page)
    boxes = page.evaluate(
        """() => { const ids = window.carte_leaflet_reponse, out = [];
                   window.carte_leaflet.eachLayer(l => {
                       if (l.options && ids.includes(l.options.structureId) && l._icon) {
                           const r = l._icon.getBoundingClientRect();
                           out.push([l.options.structureId, r.top, r.bottom]); } });
                   return out; }"""
    )
    assert len(boxes) >= 2  # the Mission locale and the nearest others within the first view's radius
    for structure_id, top, bottom in boxes:
        assert top >= 0 and bottom <= SCREEN, f"{structure_id}: {top:.0f}–{bottom:.0f} px"


def test_after_locating_the_box_names_the_commune_not_coordinates(site, browser):
    context, _watch = open_context(
        browser,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": 45.7772, "longitude": 3.0820, "accuracy": 30},  # place de Jaude
    )
    page = context.new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Me localiser").click()
    page.wait_for_url(re.compile(r"/recherche\?q=45\.77720%2C3\.08200"))
    box = page.get_by_role("combobox")
    assert box.input_value() == "Autour de votre position\u202f: Clermont-Ferrand"
    assert not re.search(r"\d+\.\d+", box.input_value())
    # Sent again as it stands, the box asks for the commune it names.
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"q=Autour"))
    assert page.locator("h1").inner_text().startswith("Clermont-Ferrand")
    context.close()
