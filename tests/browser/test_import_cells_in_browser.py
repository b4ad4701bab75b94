"""A mixed-encoding file with bad phones through the wizard in a real browser, then its public page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import requests

from locator.admin import accounts
from locator.store import authdb
from locator.testing import serve_in_background
from tests.browser.conftest import open_context

MIXED = Path(__file__).resolve().parents[1] / "data" / "cellules_melangees.csv"
EMAIL, PASSWORD = "admin@example.fr", "un-mot-de-passe-admin-solide"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Riom, Thiers and Ambert are in the small store."""
    return small_built_store


@pytest.fixture
def admin_site(built_store, tmp_path, tile_server):
    """A real gunicorn server on a private store with one admin account; tiles from the local server."""
    db = tmp_path / "locator.sqlite"
    shutil.copyfile(built_store, db)
    accounts.add_user(authdb.location(db), EMAIL, "admin", PASSWORD)
    with serve_in_background(db, env={"LOCATOR_TILE_URL": tile_server.url}) as base:
        yield base


def _row(page, ligne):
    return page.locator(f"#ligne-{ligne}")


def test_wizard_names_the_cp1252_line_repairs_mojibake_and_publishes_no_bad_phone(browser, admin_site):
    context, watch = open_context(browser)
    page = context.new_page()
    base = admin_site
    page.goto(base + "/admin/import")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/admin/import")
    page.get_by_label(re.compile("Fichier CSV")).set_input_files(str(MIXED))
    page.get_by_role("button", name="Analyser le fichier").click()
    page.wait_for_url(re.compile(r".*/admin/import/[^/]+$"))

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
