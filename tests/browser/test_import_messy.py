"""The messy file of issue 20 through the wizard in a real browser: every update shown field by field,
the near-duplicate asked about, nothing overwritten silently, the stored source kept.

Other parts of the issue (parent column, address cell, French hours, phones and e-mails, mixed
encodings) are checked on this same file by the tests of their own rules; this journey is extended
with them once they are merged.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import requests

from locator.admin import accounts
from locator.store import authdb
from locator.testing import serve_in_background
from tests.browser.conftest import open_context, run_axe

MESSY = Path(__file__).resolve().parents[1] / "data" / "import_messy.csv"
EMAIL, PASSWORD = "admin@example.fr", "un-mot-de-passe-admin-solide"
VICHY = "mission-locale-de-vichy-et-sa-region-03310"
THIERS_CIO = "cio-de-thiers-63430"


@pytest.fixture
def admin_site(built_store, tmp_path, tile_server):
    """A real server on a private copy of the région's store, with one admin account."""
    db = tmp_path / "locator.sqlite"
    shutil.copyfile(built_store, db)
    accounts.add_user(authdb.location(db), EMAIL, "admin", PASSWORD)
    with serve_in_background(db, env={"LOCATOR_TILE_URL": tile_server.url}) as base:
        yield base


def _structure(base: str, sid: str) -> dict:
    answer = requests.get(f"{base}/api/v1/structures/{sid}", timeout=60)
    assert answer.status_code == 200
    return answer.json()


def _published_names(base: str) -> set[str]:
    features = requests.get(base + "/api/v1/structures.geojson", timeout=60).json()["features"]
    return {f["properties"]["nom"] for f in features}


def test_messy_file_shows_each_change_asks_about_the_near_duplicate_and_overwrites_nothing_silently(
    browser, admin_site
):
    base = admin_site
    vichy_before = _structure(base, VICHY)
    thiers_before = _structure(base, THIERS_CIO)
    context, watch = open_context(browser)
    page = context.new_page()
    page.goto(base + "/admin/login")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/admin/")
    page.goto(base + "/admin/import")
    page.get_by_label(re.compile("Fichier CSV")).set_input_files(str(MESSY))
    page.get_by_role("button", name="Analyser le fichier").click()
    page.wait_for_url(re.compile(r".*/admin/import/[^/]+$"))
    preview = page.url

    # The near-name of Vichy: an update, shown field by field; its accent-less name is not taken.
    vichy = page.locator("#ligne-2")
    assert "mis à jour" in vichy.inner_text()
    site = vichy.locator('li[data-champ="site_web"]')
    assert site.locator("del").inner_text() == "http://www.missionlocale-vichy.fr"
    assert site.locator("ins").inner_text() == "https://www.missionlocale-vichy.fr"
    source = vichy.locator('li[data-champ="source"] ins').inner_text()
    assert source.startswith(vichy_before["source"]) and "fichier importé import_messy.csv" in source
    assert vichy.locator('li[data-champ="nom"]').count() == 0
    assert "« Mission locale de Vichy et sa région » gardé" in vichy.inner_text()
    # A row that only writes the stored CIO in capitals is « inchangé ».
    assert "inchangé" in page.locator("#ligne-3").inner_text()

    # « ML Vichy »: a probable duplicate, asked about, with what an update would change.
    near = page.locator("#ligne-4")
    assert "doublon probable" in near.inner_text()
    assert near.locator('li[data-champ="telephone"] ins').inner_text() == "04 70 30 15 99"
    assert "doublon probable" in page.locator("#resume").inner_text()
    assert run_axe(page) == []
    near.get_by_role("button", name=re.compile("Ne pas importer la ligne")).click()
    page.wait_for_url(re.compile(r".*#ligne-4$"))
    assert "Choix" in page.locator("#ligne-4").inner_text()
    assert "ne pas importer cette ligne" in page.locator("#ligne-4").inner_text()

    page.get_by_role("button", name="Confirmer l'import").click()
    page.wait_for_url(re.compile(r".*/admin/imports/\d+$"))
    assert page.url != preview

    vichy_after = _structure(base, VICHY)
    assert vichy_after["nom"] == vichy_before["nom"] == "Mission locale de Vichy et sa région"
    assert vichy_after["adresse"] == vichy_before["adresse"]
    assert vichy_after["telephone"] == vichy_before["telephone"]  # the near-duplicate's phone is not taken
    assert vichy_after["site_web"] == "https://www.missionlocale-vichy.fr"
    assert vichy_after["source"].startswith(vichy_before["source"] + "; fichier importé import_messy.csv (")
    assert vichy_after["date_maj"] == date.today().isoformat()
    assert _structure(base, THIERS_CIO) == thiers_before  # no real change: not even its date
    assert "ML Vichy" not in _published_names(base)
    assert watch.errors == [] and watch.outside == []
    context.close()
