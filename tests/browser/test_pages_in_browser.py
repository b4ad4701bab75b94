"""The public pages in a real browser (Debian chromium, Playwright) against a real gunicorn server."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    AMBERT_ML,
    PHONE,
    XSS_ID,
    XSS_NAME,
    XSS_SHOWN,
    map_ready,
    open_context,
    run_axe,
    suggestions_for,
)

ANNECY_ML = "Mission locale du bassin annécien"
AMBERT_ML_NAME = "Mission locale du Livradois-Forez"

# Every public page kind, with the states the tests care about.
PUBLIC_PAGES = [
    "/",
    "/recherche",
    "/recherche?q=Ambert",
    "/recherche?q=Lyon%203e",
    "/recherche?q=Annecy-le-Vieux",
    "/recherche?q=Saint-Julien",
    "/recherche?q=zzqxw",
    "/recherche?q=45.5506,3.7381",
    "/communes/63003",
    "/communes/74011",
    "/departements/63",
    f"/structures/{AMBERT_ML}",
    "/structures/inconnue",
    "/communes/99999",
]


def _ml_heading(page) -> str:
    return page.locator(".bloc-ml h2").inner_text()


@pytest.mark.parametrize(
    ("query", "ml", "reason"),
    [
        # Issue 17: the official list, said with its date (issue 11's inferred answer: test_territories).
        (
            "Ambert",
            AMBERT_ML_NAME,
            "Ambert figure dans la liste des communes couvertes par la Mission locale du Livradois-Forez : "
            "la liste officielle, publiée par le réseau des Missions locales en janvier 2026.",
        ),
        ("Lyon 3e", "Mission locale de Lyon", "Lyon 3e Arrondissement fait partie de Lyon."),
        ("Annecy-le-Vieux", ANNECY_ML, "Annecy-le-Vieux est une commune déléguée d’Annecy"),
    ],
)
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_search_gives_the_two_level_answer(site, request, viewport, query, ml, reason):
    page, watch = request.getfixturevalue(viewport)
    page.goto(f"{site}/recherche?q={query}")
    heading = _ml_heading(page)
    assert re.match(r"1\.?\s", heading)
    assert "Votre Mission locale\u202f:" in heading
    assert ml in heading
    assert reason in page.locator(".bloc-ml .raison").inner_text()
    # then its nearest reception point, then the nearest of the other kinds, each with a distance
    assert "Son lieu d’accueil le plus proche" in page.locator("main").inner_text()
    others = page.locator("#titre-autres ~ .fiche")
    assert others.count() >= 3
    assert "Le CIO le plus proche" in page.locator("#titre-autres").locator("..").inner_text()
    for i in range(others.count()):
        assert re.search(r"à \d+(,\d)? (km|m)", others.nth(i).locator(".distance").inner_text())
    assert page.locator(".bloc-ml a[href^='tel:+33']").count() == 1
    assert (
        page.locator(".bloc-ml a:has-text('Itinéraire')")
        .get_attribute("href")
        .startswith("https://www.openstreetmap.org/directions?route=")
    )
    assert "Information de" in page.locator(".bloc-ml .source").inner_text()
    assert watch.errors == [] and watch.outside == []


def test_hours_are_said_in_plain_french(site, desktop):
    page, _watch = desktop
    page.goto(f"{site}/structures/{AMBERT_ML}")
    text = page.locator(".horaires").inner_text()
    assert "Du lundi au vendredi : 8 h 30 – 12 h et 13 h 30 – 17 h" in text
    assert "Samedi : 9 h – 12 h" in text
    assert "Fermé les jours fériés" in text


def test_typing_and_picking_a_suggestion_with_the_keyboard(site, desktop):
    page, watch = desktop
    page.goto(site + "/")
    box = page.get_by_role("combobox", name="Commune, code postal, département ou nom d’une structure")
    box.press_sequentially("annecy-le-v", delay=30)
    # A slow machine may answer a shorter text first: the list is read once it answers the whole one.
    listbox = suggestions_for(page, "annecy-le-v")
    listbox.get_by_role("option").first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert "proposé" in page.locator("#q-annonce").inner_text()
    box.press("ArrowDown")
    first = listbox.get_by_role("option").first
    assert first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert "Annecy-le-Vieux est une commune déléguée d’Annecy" in first.inner_text()
    box.press("Enter")
    page.wait_for_url(re.compile(r"/recherche\?"))
    args = parse_qs(urlsplit(page.url).query)
    assert args["commune"] == ["74010"]
    assert ANNECY_ML in _ml_heading(page)
    assert (
        "Annecy-le-Vieux est une commune déléguée d’Annecy" in page.locator(".bloc-ml .raison").inner_text()
    )
    # the URL is the search: opened again, it gives the same answer
    page.goto(page.url)
    assert ANNECY_ML in _ml_heading(page)
    assert watch.errors == []


def test_clicking_a_suggestion_and_escape_closing_the_list(site, desktop):
    page, _watch = desktop
    page.goto(site + "/")
    box = page.get_by_role("combobox")
    box.press_sequentially("Amber", delay=30)
    suggestions_for(page, "Amber")
    option = page.get_by_role("option", name=re.compile(r"^Ambert\b"))
    option.wait_for()
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    assert page.locator("#q-suggestions").is_hidden()
    box.press("ArrowDown")
    assert box.get_attribute("aria-expanded") == "true"
    option.click()
    page.wait_for_url(re.compile(r"commune=63003"))
    assert AMBERT_ML_NAME in _ml_heading(page)


def test_a_departement_suggestion_lists_its_structures(site, desktop):
    page, _watch = desktop
    page.goto(site + "/")
    box = page.get_by_role("combobox")
    box.press_sequentially("Puy-de-D", delay=30)
    suggestions_for(page, "Puy-de-D")
    page.get_by_role("option", name=re.compile("Puy-de-Dôme")).first.click()
    page.wait_for_url(re.compile(r"/departements/63$"))
    assert page.locator("h1").inner_text().startswith("Puy-de-Dôme (63)")
    assert page.locator(".fiche").count() >= 5


def test_geolocation_granted_answers_around_the_position(site, browser):
    context, watch = open_context(
        browser,
        permissions=["geolocation"],
        geolocation={"latitude": 45.5506, "longitude": 3.7381, "accuracy": 40},
    )
    page = context.new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Me localiser").click()
    page.wait_for_url(re.compile(r"/recherche\?q=45\.55060%2C3\.73810"))
    assert page.locator("h1").inner_text().startswith("Autour de votre position")
    assert "Ambert" in page.locator("h1").inner_text()
    assert AMBERT_ML_NAME in _ml_heading(page)
    assert "de votre position" in page.locator("main").inner_text()
    assert watch.outside == []
    context.close()


def test_geolocation_refused_is_explained_and_the_box_stays_usable(site, browser):
    context, _watch = open_context(browser)  # no permission granted: the browser refuses
    page = context.new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Me localiser").click()
    message = page.locator("[data-message]")
    message.filter(has_text="pas autorisé la localisation").wait_for()
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("Thiers")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=Thiers"))
    assert "Votre Mission locale" in _ml_heading(page)
    context.close()


def test_imprecise_geolocation_is_explained_before_going_on(site, browser):
    context, _watch = open_context(
        browser,
        permissions=["geolocation"],
        geolocation={"latitude": 45.76, "longitude": 4.84, "accuracy": 25000},
    )
    page = context.new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Me localiser").click()
    message = page.locator("[data-message]")
    message.filter(has_text="imprécise").wait_for()
    assert "25 km" in message.inner_text()
    assert urlsplit(page.url).path == "/"
    message.get_by_role("link").click()
    page.wait_for_url(re.compile(r"precision=25000"))
    assert "approximative" in page.locator(".note").inner_text()
    context.close()


def test_list_and_map_follow_each_other(site, desktop):
    page, watch = desktop
    page.goto(f"{site}/recherche?q=Ambert")
    map_ready(page)
    card = page.locator(f"[data-fiche='{AMBERT_ML}']")
    # hovering a card lights its pin (or the cluster that holds it)
    card.hover()
    expect(page.locator(".leaflet-marker-icon.actif")).to_have_count(1)
    page.mouse.move(5, 5)
    expect(page.locator(".leaflet-marker-icon.actif")).to_have_count(0)
    # "Voir sur la carte" zooms to the pin, opens its popup and gives it the focus
    card.get_by_role("button", name=re.compile("Voir sur la carte")).click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert AMBERT_ML_NAME in popup.inner_text()
    pin = page.locator(".epingle[title='1. Mission locale du Livradois-Forez']")
    expect(pin).to_be_focused()
    # a pin opens its card: highlighted and focused in the list
    page.keyboard.press("Escape")
    page.locator(f"[data-fiche='{AMBERT_ML}'] h2 a").focus()
    pin.click()
    expect(card).to_have_class(re.compile(r"\bactif\b"))
    expect(card).to_be_focused()
    assert watch.errors == []


def test_keyboard_only_path_from_home_to_a_pin(site, desktop):
    page, _watch = desktop
    page.goto(site + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.type("Ambert", delay=30)
    suggestions_for(page, "Ambert")
    page.get_by_role("option").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"commune=63003"))
    map_ready(page)
    # every pin or cluster on the map is reachable with Tab and has a name
    reached = None
    for _ in range(150):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "(() => { const e = document.activeElement;"
            " return {pin: e.classList.contains('leaflet-marker-icon'),"
            " name: e.title || e.textContent.trim()}; })()"
        )
        if info["pin"]:
            reached = info
            break
    assert reached is not None and reached["name"]
    zoom = "window[document.querySelector('[data-carte]').dataset.carte].getZoom()"
    before = page.evaluate(zoom)
    page.keyboard.press("Enter")
    # Enter on a pin opens its popup and focuses its card; on a cluster it zooms in
    page.wait_for_function(
        f"(z) => document.querySelector('.leaflet-popup-content') !== null || {zoom} > z", arg=before
    )


def test_axe_harness_reports_a_real_violation(site, desktop):
    page, _watch = desktop
    page.goto(site + "/")
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/favicon.svg\">')"
    )
    assert "image-alt" in [v["id"] for v in run_axe(page)]


def test_phone_has_no_sideways_scroll_big_targets_and_a_map_switch(site, phone):
    page, watch = phone
    for query in ("Ambert", "Lyon 3e", "Annecy-le-Vieux"):
        page.goto(f"{site}/recherche?q={query}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        small = page.evaluate(
            """() => [...document.querySelectorAll(
                    'main .action, main .bouton, main .bouton-bascule, main input[type=text], main summary')]
                .filter(e => e.offsetParent !== null)
                .map(e => [e.textContent.trim().slice(0, 30), e.getBoundingClientRect().height,
                           e.getBoundingClientRect().width])
                .filter(([, h, w]) => h < 44 || w < 44)"""
        )
        assert small == []
    map_ready(page)
    assert page.locator("#carte").is_hidden()
    page.get_by_role("button", name="Carte", exact=True).click()
    assert page.locator("#carte").is_visible() and page.locator("#liste").is_hidden()
    assert page.get_by_role("button", name="Carte", exact=True).get_attribute("aria-pressed") == "true"
    box = page.locator(".carte-leaflet").bounding_box()
    assert box["width"] > 300 and box["height"] > 300
    page.get_by_role("button", name="Liste", exact=True).click()
    assert page.locator("#liste").is_visible()
    assert watch.errors == []


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_axe_finds_nothing_serious(site, request, viewport, path):
    page, _watch = request.getfixturevalue(viewport)
    page.goto(site + path)
    if page.locator("[data-carte]").count():
        map_ready(page)
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert run_axe(page) == []


def test_no_request_leaves_127_0_0_1_and_tiles_are_local(site, desktop, tile_server):
    page, watch = desktop
    before = len(tile_server.requests)
    for path in PUBLIC_PAGES:
        page.goto(site + path)
        page.wait_for_load_state("networkidle")
    page.goto(site + "/")
    page.wait_for_selector("[data-carte][data-charge]")
    loaded = page.get_attribute("[data-carte]", "data-charge")
    total = page.evaluate(
        "fetch('/api/v1/structures.geojson').then(r => r.json()).then(c => c.features.length)"
    )
    assert loaded == str(total) and total > 150
    page.get_by_role("combobox").press_sequentially("Lyon", delay=20)
    suggestions_for(page, "Lyon")
    page.get_by_role("option").first.wait_for()
    assert watch.outside == []
    assert len(tile_server.requests) > before


def test_a_hostile_name_stays_text_in_the_list_the_map_and_the_popups(site, desktop):
    page, watch = desktop
    page.goto(f"{site}/recherche?q=Ambert")
    map_ready(page)
    card = page.locator(f"[data-fiche='{XSS_ID}']")
    assert XSS_SHOWN in card.locator(".fiche-titre").inner_text()
    assert "<script>alert(2)</script>" in card.locator(".adresse").inner_text()
    assert card.locator("a[href^='javascript']").count() == 0
    card.get_by_role("button", name=re.compile("Voir sur la carte")).click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert XSS_SHOWN in popup.inner_text()
    # the pin itself (its tooltip and its words for screen readers) carries the name as typed
    title, spoken = page.evaluate(
        """(id) => {
        let el = null;
        // answer pins sit on the map itself, the others in the cluster
        const box = document.querySelector('[data-carte]');
        [window[box.dataset.carte], window[box.dataset.cluster]].forEach(layers => layers.eachLayer(m => {
            if (m.options.structureId === id && m.getElement()) { el = m.getElement(); }
        }));
        return [el.title, el.querySelector('.visually-hidden').textContent];
    }""",
        XSS_ID,
    )
    assert title.endswith(". " + XSS_SHOWN) and spoken == title
    # the région map builds its popups from the API's GeoJSON: text there too
    page.goto(site + "/")
    page.wait_for_selector("[data-carte][data-charge]")
    # zoom to the pin without animation (a moving map may drop markercluster's callbacks), then open it
    opened = """(name) => {
        const box = document.querySelector('[data-carte]');
        const map = window[box.dataset.carte], c = window[box.dataset.cluster];
        let found = null;
        c.eachLayer(m => { if (m.options.title === name) { found = m; } });
        map.setView(found.getLatLng(), map.getMaxZoom(), {animate: false});
        if (!found._map) { return false; }
        found.openPopup();
        return true;
    }"""
    page.wait_for_function(opened, arg=XSS_NAME)
    page.locator(".leaflet-popup-content").wait_for()
    assert XSS_NAME in page.locator(".leaflet-popup-content").inner_text()
    assert page.locator("img[src='x']").count() == 0
    assert watch.dialogs == [] and watch.errors == []


def test_the_fiche_prints_without_map_or_menus(site, desktop):
    page, _watch = desktop
    page.goto(f"{site}/structures/{AMBERT_ML}")
    assert page.get_by_role("button", name="Imprimer cette fiche").is_visible()
    page.emulate_media(media="print")
    assert page.locator(".zone-carte").is_hidden()
    assert page.locator(".site-entete").is_hidden()
    assert page.locator("[data-imprimer]").is_hidden()
    assert "Appeler le 04 73 82 05 88" in page.locator(".fiche-principale").inner_text()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
