"""The admin journey in a real browser: log in, upload a messy spreadsheet, fix rows (a pin dragged on
the map, a commune picked, a field edited), publish, find it in the history, undo it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import ADMIN_EMAIL as EMAIL
from tests.browser.conftest import ADMIN_PASSWORD as PASSWORD
from tests.browser.conftest import analyse, log_in, open_context, run_axe

MESSY = Path(__file__).resolve().parents[1] / "data" / "import_desordre.csv"


def _published_names(base) -> set[str]:
    features = requests.get(base + "/api/v1/structures.geojson", timeout=60).json()["features"]
    return {f["properties"]["nom"] for f in features}


def _drag(page, element, dx, dy):
    """Drag an element with the mouse, as a person does (press, move in steps, release)."""
    element.hover()  # waits until the element is visible and still (not carried by a moving map)
    box = element.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=8)
    page.mouse.up()


def _row(page, ligne):
    return page.locator(f"#ligne-{ligne}")


def test_admin_takes_a_messy_spreadsheet_to_published_and_back(browser, admin_site):
    context, watch = open_context(browser)
    page = context.new_page()
    base = admin_site
    assert "Permanence de Cunlhat" not in _published_names(base)

    log_in(page, base)
    preview = analyse(page, base, MESSY)
    assert "Rien n’est encore publié" in page.locator("#resume").inner_text()
    assert "rejeté" in _row(page, 2).inner_text() and "Cunlhat" in _row(page, 2).inner_text()
    assert "rejeté" in _row(page, 6).inner_text()
    assert "hors de France" in _row(page, 5).inner_text()
    assert "Permanence de Cunlhat" not in _published_names(base)  # nothing published by the preview

    # Fix 1: the pin of line 5 (put at Le Puy's centre: its point was outside France). Dragged on the
    # overview map, far from Le Puy: the row is planned again and says the point is not trusted...
    pin = page.locator('.leaflet-marker-icon[data-ligne="5"]')
    pin.wait_for()
    page.locator("#carte-import").scroll_into_view_if_needed()
    with page.expect_response(re.compile(r".*/lignes/5/position\.json$")) as answer:
        _drag(page, pin, 40, 25)
    assert answer.value.status == 200
    page.locator(".message", has_text="Ligne 5 : position corrigée").wait_for()
    assert "corrigée" in _row(page, 5).inner_text() and "non retenu" in _row(page, 5).inner_text()
    # ...so the admin opens the row, where the map is zoomed on the pin, and drags it into Le Puy.
    page.get_by_role("link", name="Corriger la ligne 5").click()
    page.locator("#carte-fiche").scroll_into_view_if_needed()
    page.get_by_label("Latitude").fill("45.0436")
    page.get_by_label("Longitude").fill("3.8855")
    marker = page.locator("#carte-fiche .leaflet-marker-icon")
    # The map follows the typed point (an animated pan): the pin is dragged once the map is at rest.
    page.wait_for_function("() => !document.querySelector('#carte-fiche .leaflet-pan-anim')")
    page.evaluate("document.getElementById('carte-fiche').scrollIntoView()")
    _drag(page, marker, 30, -20)
    moved = {
        "latitude": float(page.get_by_label("Latitude").input_value()),
        "longitude": float(page.get_by_label("Longitude").input_value()),
    }
    assert moved != {"latitude": 45.0436, "longitude": 3.8855}
    page.get_by_role("button", name=re.compile("Appliquer la correction")).click()
    page.wait_for_url(re.compile(r".*#ligne-5$"))
    assert "nouveau" in _row(page, 5).inner_text() and "non retenu" not in _row(page, 5).inner_text()

    # Fix 2: pick the commune of line 2 among those its postcode serves.
    page.get_by_role("link", name="Corriger la ligne 2").click()
    page.get_by_label("Cunlhat (63132)").check()
    page.get_by_role("button", name=re.compile("Appliquer la correction")).click()
    page.wait_for_url(re.compile(r".*/admin/import/[^/]+#ligne-2$"))
    assert "nouveau" in _row(page, 2).inner_text() and "63132" in _row(page, 2).inner_text()

    # Fix 3: edit a field of line 6 (an unknown type).
    page.get_by_role("link", name="Corriger la ligne 6").click()
    page.get_by_label("Type", exact=True).select_option("cio")  # a choice list since issue 12
    page.get_by_role("button", name=re.compile("Appliquer la correction")).click()
    page.wait_for_url(re.compile(r".*#ligne-6$"))
    assert "nouveau" in _row(page, 6).inner_text()
    assert run_axe(page) == []

    page.get_by_role("button", name="Confirmer l’import").click()
    page.wait_for_url(re.compile(r".*/admin/imports/\d+$"))
    import_url = page.url
    assert "Import publié" in page.locator(".admin-messages").inner_text()
    published = _published_names(base)
    assert {"Permanence de Cunlhat", "Bureau d'accueil d'Annecy", "Dispositif relais du Puy"} <= published
    relais = next(
        f
        for f in requests.get(base + "/api/v1/structures.geojson", timeout=60).json()["features"]
        if f["properties"]["nom"] == "Dispositif relais du Puy"
    )
    assert relais["geometry"]["coordinates"] == [
        pytest.approx(moved["longitude"], abs=1e-6),
        pytest.approx(moved["latitude"], abs=1e-6),
    ]

    page.get_by_role("link", name="Historique").first.click()
    import_id = import_url.rsplit("/", 1)[1]
    page.get_by_role("link", name=f"Import n° {import_id}").click()
    page.wait_for_url(import_url)
    page.get_by_label(re.compile("Je confirme.: annuler l.import")).check()  # required since issue 12
    page.get_by_role("button", name="Annuler cet import").click()
    page.locator(".admin-messages", has_text="remises dans leur état précédent").wait_for()
    published = _published_names(base)
    assert "Permanence de Cunlhat" not in published and "Dispositif relais du Puy" not in published
    assert page.get_by_text("Cet import a été annulé").is_visible()

    assert watch.errors == [] and watch.dialogs == []
    assert watch.outside == []
    assert preview != import_url
    context.close()


def test_admin_pages_pass_axe_and_the_login_form_works_with_the_keyboard(browser, admin_site):
    context, watch = open_context(browser)
    page = context.new_page()
    page.goto(admin_site + "/admin/login")
    assert run_axe(page) == []
    page.keyboard.press("Tab")  # skip link
    page.get_by_label("Adresse électronique").focus()
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(admin_site + "/admin/")
    for path in (
        "/admin/structures",
        "/admin/structures/mission-locale-du-livradois-forez-63003",
        "/admin/qualite",
        "/admin/signalements",
        "/admin/historique",
        "/admin/comptes",
        "/admin/import",
    ):
        page.goto(admin_site + path)
        assert run_axe(page) == [], path
    assert watch.errors == [] and watch.outside == []
    context.close()
