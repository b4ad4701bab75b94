"""The phone map (390 px) after "Me localiser": the first view shows the answer; pins carry the buttons."""

from __future__ import annotations

import math
import re

from tests.browser.conftest import PHONE, map_ready, map_settled, open_context

# Place de Jaude, Clermont-Ferrand.
CLERMONT = {"latitude": 45.7772, "longitude": 3.0820, "accuracy": 30}


def _km(a, b) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _located_map(browser, site):
    context, watch = open_context(
        browser,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation=CLERMONT,
    )
    page = context.new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Me localiser").click()
    page.wait_for_url(re.compile(r"/recherche\?q=45\.77720%2C3\.08200"))
    map_ready(page)
    page.get_by_role("button", name="Carte", exact=True).click()
    map_settled(page)  # the view and the pins are read next: the map must be at rest
    return context, watch, page


STATE = """() => {
  const map = window.carte_leaflet, ids = window.carte_leaflet_reponse, view = map.getBounds();
  const pins = [];
  map.eachLayer(l => { if (l.options && l.options.structureId) pins.push({
      id: l.options.structureId, lat: l.getLatLng().lat, lon: l.getLatLng().lng,
      own_icon: !!(l._icon && l._icon.offsetParent), in_view: view.contains(l.getLatLng()) }); });
  const all = [];
  window.groupe_leaflet.eachLayer(l => all.push([l.getLatLng().lat, l.getLatLng().lng]));
  return {answer: ids, pins, clustered: all, centre: [map.getCenter().lat, map.getCenter().lng],
          view: [[view.getSouth(), view.getWest()], [view.getNorth(), view.getEast()]]};
}"""


def _answer_titles(page) -> list[str]:
    return page.evaluate(
        """() => { const ids = window.carte_leaflet_reponse, out = [];
                   window.carte_leaflet.eachLayer(l => { if (ids.includes(l.options.structureId)) {
                       out.push(l.options.title); } });
                   return out; }"""
    )


def test_first_phone_view_after_locating_shows_the_answer_and_no_far_outlier(site, browser):
    context, watch, page = _located_map(browser, site)
    state = page.evaluate(STATE)
    here = (CLERMONT["latitude"], CLERMONT["longitude"])
    # The answer: the Mission locale, its reception point, the nearest CIO, PSAD... each its own visible pin.
    assert len(state["answer"]) >= 3
    shown = {p["id"]: p for p in state["pins"]}
    for structure_id in state["answer"]:
        assert shown[structure_id]["own_icon"], f"{structure_id} is hidden in a cluster"
        assert shown[structure_id]["in_view"], f"{structure_id} is outside the first view"
    # Two answers at one address (the E2C and the lycée de la nouvelle chance) do not hide each other.
    boxes = [page.locator(f".epingle[title='{p}']").bounding_box() for p in _answer_titles(page)]
    corners = [(round(b["x"]), round(b["y"])) for b in boxes]
    assert len(set(corners)) == len(corners)
    # The view stays around Clermont-Ferrand: its centre is near, and no far structure is in it.
    assert _km(here, state["centre"]) < 15
    (south, west), (north, east) = state["view"]
    for lat, lon in state["clustered"] + [(p["lat"], p["lon"]) for p in state["pins"]]:
        if _km(here, (lat, lon)) > 60:
            assert not (south <= lat <= north and west <= lon <= east), f"far pin in view: {lat}, {lon}"
    # The user's position is drawn.
    assert page.locator(".epingle-lieu").count() == 1
    assert page.locator(".epingle-lieu").is_visible()
    assert watch.errors == []
    context.close()


def test_a_pin_popup_has_the_cards_call_and_itinerary_buttons_44_px_high(site, browser):
    context, watch, page = _located_map(browser, site)
    first = page.evaluate("window.carte_leaflet_reponse[0]")
    page.locator(".carte-leaflet .epingle[title^='1. ']").first.click()
    popup = page.locator(".leaflet-popup .popup")
    popup.wait_for()
    links = popup.locator(".popup-actions a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert any(h.startswith("tel:") for h in hrefs)
    assert any("openstreetmap.org/directions" in h for h in hrefs)
    card_hrefs = page.evaluate(
        "id => [...document.querySelectorAll("
        "`[data-fiche='${id}'] .actions-fiche a.action:not([data-site])`)].map(a => a.getAttribute('href'))",
        first,
    )
    assert hrefs == card_hrefs
    for i in range(links.count()):
        assert round(links.nth(i).bounding_box()["height"], 2) >= 44  # sub-pixel layout: 43.99997 is 44 px
    assert watch.errors == []
    context.close()


def test_a_pin_popup_says_if_the_place_is_open_now(site, phone):
    page, watch = phone
    page.goto(f"{site}/recherche?q=Ambert")  # the Mission locale of Ambert has hours in the browser store
    map_ready(page)
    card_status = page.locator(".bloc-ml .statut-horaires").inner_text()
    assert card_status.startswith(("Ouvert maintenant", "Fermé"))
    page.get_by_role("button", name="Carte", exact=True).click()
    page.locator(".carte-leaflet .epingle[title^='1. ']").first.click()
    popup = page.locator(".leaflet-popup .popup")
    popup.wait_for()
    assert popup.locator(".statut-horaires").inner_text() == card_status
    assert watch.errors == []
