"""Issue 11: /territoires in chromium — one labelled territory per Mission locale, and the list."""

from __future__ import annotations

import os


def test_territories_page_draws_one_labelled_territory_per_mission_locale(site, desktop):
    page, _watch = desktop
    response = page.goto(f"{site}/territoires")
    assert response.status == 200
    page.wait_for_selector("#carte-territoires[data-pret]", timeout=20000)
    assert page.locator("#carte-territoires").get_attribute("data-pret") == "61"
    assert page.locator("#carte-territoires path.leaflet-interactive").count() == 61
    labels = page.locator(".territoire-etiquette").all_inner_texts()
    assert len(labels) == 61 and "Mission locale du Chablais" in labels
    assert page.locator("table.tableau-territoires tbody tr").count() == 61
    if os.environ.get("LOCATOR_SCREENSHOT"):
        page.screenshot(path=os.environ["LOCATOR_SCREENSHOT"], full_page=False)
