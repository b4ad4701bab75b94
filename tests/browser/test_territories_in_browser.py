"""Issue 11: /territoires in chromium — fitted to the région, one territory per Mission locale, names on
hover, focus and from a closer zoom, and the list; axe finds nothing serious."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import run_axe

# The union of the territories' drawn boxes, as a share of the map's width and height.
SPAN = """() => {
    const map = document.querySelector('#carte-territoires').getBoundingClientRect();
    const boxes = [...document.querySelectorAll('#carte-territoires path.leaflet-interactive')]
        .map(p => p.getBoundingClientRect());
    const left = Math.min(...boxes.map(b => b.left)), right = Math.max(...boxes.map(b => b.right));
    const top = Math.min(...boxes.map(b => b.top)), bottom = Math.max(...boxes.map(b => b.bottom));
    return [(right - left) / map.width, (bottom - top) / map.height,
            left >= map.left - 1 && right <= map.right + 1 && top >= map.top - 1 && bottom <= map.bottom + 1];
}"""


def _ready(page, site):
    response = page.goto(f"{site}/territoires")
    assert response.status == 200
    page.wait_for_selector("#carte-territoires[data-pret]")


def test_territories_page_opens_fitted_to_the_region_with_one_territory_per_mission_locale(site, desktop):
    page, watch = desktop
    _ready(page, site)
    # The région's 61 Missions locales, and the 2 of Bourgogne-Franche-Comté that the coverage list
    # gives 4 communes of the région (issue 17), in a table apart.
    assert page.locator("#carte-territoires").get_attribute("data-pret") == "63"
    assert page.locator("#carte-territoires path.leaflet-interactive").count() == 63
    width, height, inside = page.evaluate(SPAN)
    assert inside and max(width, height) > 0.9  # the whole région, filling the map one way
    assert page.locator("table:has(#titre-liste-territoires) tbody tr").count() == 61
    assert page.locator("table:has(#titre-liste-hors-region) tbody tr").count() == 2
    # The list's columns line up: every name starts where its header starts.
    lefts = page.evaluate(
        "() => [...document.querySelectorAll('table:has(#titre-liste-territoires) tr > :first-child')]"
        ".map(c => Math.round(c.getBoundingClientRect().left + parseFloat(getComputedStyle(c).paddingLeft)))"
    )
    assert len(set(lefts)) == 1
    assert watch.errors == []
    if os.environ.get("LOCATOR_SCREENSHOT"):
        page.screenshot(path=os.environ["LOCATOR_SCREENSHOT"], full_page=False)


def test_territory_names_show_on_hover_and_focus_and_stay_from_a_closer_zoom(site, desktop):
    page, _watch = desktop
    _ready(page, site)
    assert page.locator("#carte-territoires").get_attribute("data-etiquettes") == "survol"
    assert page.locator(".territoire-etiquette").count() == 0  # 61 names at once would be unreadable
    chablais = page.locator('#carte-territoires path[aria-label="Mission locale du Chablais"]')
    chablais.hover()
    expect(page.locator(".territoire-etiquette")).to_have_text(["Mission locale du Chablais"])
    page.mouse.move(0, 0)
    chablais.focus()
    expect(page.locator(".territoire-etiquette")).to_have_text(["Mission locale du Chablais"])
    box = page.locator("#carte-territoires")
    for _ in range(3):
        # A click during a zoom animation is dropped by Leaflet: each waits for the previous zoom's end.
        before = float(box.get_attribute("data-zoom"))
        page.locator(".leaflet-control-zoom-in").click()
        page.wait_for_function(
            "z => Number(document.getElementById('carte-territoires').dataset.zoom) > z", arg=before
        )
    page.wait_for_selector('#carte-territoires[data-etiquettes="permanentes"]')
    assert page.locator(".territoire-etiquette").count() == 63
    assert "Mission locale de Mâcon (hors région)" in page.locator(".territoire-etiquette").all_inner_texts()
    chablais.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/structures/mission-locale-du-chablais-74281")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_axe_finds_nothing_serious_on_the_territories_page(site, request, viewport):
    page, watch = request.getfixturevalue(viewport)
    _ready(page, site)
    assert run_axe(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert watch.errors == []
