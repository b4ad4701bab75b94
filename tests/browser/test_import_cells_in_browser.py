"""A mixed-encoding file with bad phones through the wizard in a real browser, then its public page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import analyse, log_in, open_context

MIXED = Path(__file__).resolve().parents[1] / "data" / "cellules_melangees.csv"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Riom, Thiers and Ambert are in the small store."""
    return small_built_store


def _row(page, ligne):
    return page.locator(f"#ligne-{ligne}")


def test_wizard_names_the_cp1252_line_repairs_mojibake_and_publishes_no_bad_phone(browser, admin_site):
    context, watch = open_context(browser)
    page = context.new_page()
    base = admin_site
    log_in(page, base)
    analyse(page, base, MIXED)

    assert "quelques caractères en Windows-1252" in page.content()
    assert "Windows-1252" in _row(page, 3).inner_text()
    assert "« Espace jeunes à Thiers »" in _row(page, 3).inner_text()
    assert "→ « Relais étudiants de Thiers »" in _row(page, 4).inner_text()
    for ligne, reason in ((6, "téléphone invalide"), (7, "formule de tableur"), (8, "courriel refusé")):
        assert "rejeté" in _row(page, ligne).inner_text()
        assert reason in _row(page, ligne).inner_text()

    page.get_by_role("button", name="Confirmer l’import").click()
    page.wait_for_url(re.compile(r".*/admin/imports/\d+$"))
    features = requests.get(base + "/api/v1/structures.geojson", timeout=60).json()["features"]
    mine = {f["properties"]["nom"]: f["properties"] for f in features}
    assert mine["Espace jeunes à Thiers"]["telephone"] == "+33473801122"
    assert not {"Point information jeunesse de Riom", "Permanence de Riom", "Accueil jeunes de Riom"} & set(
        mine
    )

    page.goto(base + f"/structures/{mine['Espace jeunes à Thiers']['id']}")
    call = page.get_by_role("link", name="Appeler le 04 73 80 11 22")
    assert call.get_attribute("href") == "tel:+33473801122"
    page.goto(base + f"/structures/{mine['Relais étudiants de Thiers']['id']}")
    assert (
        page.get_by_role("link", name="Appeler le +41 22 345 67 89").get_attribute("href")
        == "tel:+41223456789"
    )
    assert watch.errors == [] and watch.dialogs == []
    context.close()
