"""Issues 11 and 19: /territoires in chromium — fitted to the région, one territory per Mission locale,
names on hover, focus and from a closer zoom, never two overlapping; a commune search that highlights
its territory; on a phone, words for touch and a tap that names without leaving; axe finds nothing
serious."""

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
    # Leaflet fades the names of the zoom before out (removed 200 ms later): wait until only these remain.
    expect(page.locator(".territoire-etiquette")).to_have_count(63)
    assert "Mission locale de Mâcon (hors région)" in page.locator(".territoire-etiquette").all_inner_texts()
    chablais.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/structures/mission-locale-du-chablais-74281")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("query", ["", "?commune=Ambert", "?commune=63600"])
def test_axe_finds_nothing_serious_on_the_territories_page(site, request, viewport, query):
    page, watch = request.getfixturevalue(viewport)
    page.goto(f"{site}/territoires{query}")
    page.wait_for_selector("#carte-territoires[data-pret]")
    assert run_axe(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert watch.errors == []


AMBERT_ML = "mission-locale-du-livradois-forez-63003"
THIERS_ML = "mission-locale-du-bassin-de-thiers-63430"

# The page position (x, y) of a territory's stored name position: a point inside it.
INSIDE = """([name, id]) => {
    const map = window[name];
    let found = null;
    map.eachLayer(l => {
        if (l.feature && l.feature.properties.id === id) {
            const e = l.feature.properties.etiquette;
            const p = map.latLngToContainerPoint([e.latitude, e.longitude]);
            const r = map.getContainer().getBoundingClientRect();
            found = [r.left + p.x, r.top + p.y];
        }
    });
    return found;
}"""

# The boxes of the names written on the map (shown: not hidden by the collision pass), inside it.
NAME_BOXES = """(shownOnly) => {
    const map = document.querySelector('#carte-territoires').getBoundingClientRect();
    return [...document.querySelectorAll('#carte-territoires .territoire-etiquette')]
        .filter(e => !shownOnly || getComputedStyle(e).visibility === 'visible')
        .map(e => e.getBoundingClientRect())
        .filter(b => b.right > map.left && b.left < map.right && b.bottom > map.top && b.top < map.bottom)
        .map(b => [b.left, b.top, b.right, b.bottom]);
}"""


def _overlapping(boxes):
    return [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_searching_a_commune_highlights_its_territory_and_names_its_mission_locale(site, request, viewport):
    page, watch = request.getfixturevalue(viewport)
    _ready(page, site)
    field = page.locator("#commune")
    field.fill("Ambert")
    option = page.locator('#commune-suggestions[data-requete="Ambert"] [role="option"]').first
    expect(option).to_contain_text("Ambert")
    if viewport == "phone":
        option.tap()
    else:
        field.press("ArrowDown")
        expect(field).to_have_attribute("aria-activedescendant", "commune-option-0")
        field.press("Enter")
    page.wait_for_url("**/territoires?commune=Ambert&code=63003")
    page.wait_for_selector(f'#carte-territoires[data-pret][data-choisi="{AMBERT_ML}"]')
    answer = page.locator("#territoire-trouve")
    expect(answer).to_contain_text("Sa Mission locale\u202f: Mission locale du Livradois-Forez")
    expect(answer.get_by_role("link", name="Mission locale du Livradois-Forez")).to_have_attribute(
        "href", f"/structures/{AMBERT_ML}"
    )
    chosen = page.locator("#carte-territoires path.territoire-choisi")
    expect(chosen).to_have_count(1)
    expect(chosen).to_have_attribute("aria-label", "Mission locale du Livradois-Forez")
    expect(page.locator(".territoire-etiquette-choisie")).to_have_text("Mission locale du Livradois-Forez")
    # The map is fitted to that territory: it is whole inside the map, and fills it one way.
    box = page.locator("#carte-territoires").bounding_box()
    shape = chosen.bounding_box()
    assert shape["x"] >= box["x"] - 1 and shape["x"] + shape["width"] <= box["x"] + box["width"] + 1
    assert max(shape["width"] / box["width"], shape["height"] / box["height"]) > 0.8
    assert watch.errors == [] and watch.outside == []


def test_the_search_works_without_script(site, browser):
    from tests.browser.conftest import open_context

    context, _watch = open_context(browser, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}/territoires")
    page.fill("#commune", "Thiers")
    page.get_by_role("button", name="Trouver son territoire").click()
    page.wait_for_url("**/territoires?commune=Thiers")
    expect(page.locator("#territoire-trouve")).to_contain_text("Mission locale du bassin de Thiers")
    context.close()


def test_on_a_phone_the_words_are_for_touch_and_a_tap_names_the_territory_without_leaving(site, phone):
    page, watch = phone
    page.goto(f"{site}/territoires?code=63430")
    page.wait_for_selector(f'#carte-territoires[data-pret][data-choisi="{THIERS_ML}"]')
    help_text = page.locator(".carte-aide").inner_text()
    assert "Touchez un territoire" in help_text
    assert "Survolez" not in help_text and "Tab" not in help_text
    page.locator("#carte-territoires").scroll_into_view_if_needed()
    name = page.get_attribute("[data-carte]", "data-carte")
    x, y = page.evaluate(INSIDE, [name, THIERS_ML])
    before = page.url
    page.touchscreen.tap(x, y)
    popup = page.locator(".territoire-popup")
    expect(popup).to_contain_text("Mission locale du bassin de Thiers")
    expect(popup.get_by_role("link", name="Voir la fiche de la Mission locale")).to_have_attribute(
        "href", f"/structures/{THIERS_ML}"
    )
    assert page.url == before  # the tap named the territory; it did not open another page
    popup.get_by_role("link").tap()
    page.wait_for_url(f"**/structures/{THIERS_ML}")
    assert watch.errors == []


def test_on_a_computer_the_words_are_for_mouse_and_keyboard(site, desktop):
    page, _watch = desktop
    _ready(page, site)
    help_text = page.locator(".carte-aide").inner_text()
    assert "Survolez un territoire" in help_text and "Touchez" not in help_text


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_no_two_names_shown_around_lyon_overlap_at_any_zoom(site, request, viewport):
    page, watch = request.getfixturevalue(viewport)
    _ready(page, site)
    name = page.get_attribute("[data-carte]", "data-carte")
    hidden_somewhere = False
    for zoom in (9, 10, 11):
        page.evaluate("([n, z]) => window[n].setView([45.76, 4.85], z, {animate: false})", [name, zoom])
        page.wait_for_function(
            "z => Number(document.getElementById('carte-territoires').dataset.zoom) === z", arg=zoom
        )
        shown = page.evaluate(NAME_BOXES, True)
        assert len(shown) >= 2, zoom  # Lyon's neighbours are named, not only one
        assert _overlapping(shown) == [], zoom
        written = page.evaluate(NAME_BOXES, False)
        hidden_somewhere |= bool(_overlapping(written))  # what the browser's pass had to hide
    assert hidden_somewhere  # around Lyon some names do not fit at some zoom: the check is not idle
    assert watch.errors == []
