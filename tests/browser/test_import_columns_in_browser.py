"""The columns admins write, in a real browser: a spreadsheet whose parents sit in a « Mission Locale de
rattachement » column and whose places are only address cells goes through the wizard to the public API."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from tests.browser.conftest import analyse, log_in, open_context, run_axe

ADMIN_FILE = Path(__file__).resolve().parents[1] / "data" / "colonnes_admin.csv"
AMBERT_ML = "mission-locale-du-livradois-forez-63003"


def _published(base: str) -> dict[str, dict]:
    features = requests.get(base + "/api/v1/structures.geojson", timeout=60).json()["features"]
    return {f["properties"]["nom"]: f["properties"] for f in features}


def test_parents_and_addresses_of_an_admins_file_are_read_in_the_wizard_and_published(browser, admin_site):
    context, watch = open_context(browser)
    page = context.new_page()
    base = admin_site
    log_in(page, base)
    analyse(page, base, ADMIN_FILE)
    row = {n: page.locator(f"#ligne-{n}").inner_text() for n in range(2, 9)}
    assert "lue comme « Mission locale du Livradois-Forez »" in row[2]
    assert "lus dans l’adresse\u202f: 63200 Riom" in row[3]
    assert "lus dans l’adresse\u202f: 01500 Ambérieu-en-Bugey" in row[4]
    assert re.search(r"les plus proches\u202f: « Mission locale du Livradois-Forez » à \d+ km", row[6])
    assert "plusieurs communes s’appellent « Saint-Just »" in row[7]
    assert run_axe(page) == []

    # The homonym: the admin picks the Puy-de-Dôme's Saint-Just among the candidates.
    page.get_by_role("link", name="Corriger la ligne 7").click()
    page.get_by_label(re.compile(r"Saint-Just \(63371\)")).check()
    page.get_by_role("button", name=re.compile("Appliquer la correction")).click()
    page.wait_for_url(re.compile(r".*#ligne-7$"))
    assert "nouveau" in page.locator("#ligne-7").inner_text()

    page.get_by_role("button", name="Confirmer l’import").click()
    page.wait_for_url(re.compile(r".*/admin/imports/\d+$"))
    published = _published(base)
    riom = published["Permanence de Riom centre (essai)"]
    assert (riom["adresse"], riom["code_postal"], riom["code_insee"]) == (
        "12 rue de l'Hôtel de Ville",
        "63200",
        "63300",
    )
    assert published["Permanence d'Arlanc (essai)"]["parent_id"] == AMBERT_ML
    assert published["Permanence de Saint-Just (essai)"]["code_insee"] == "63371"
    assert published["Antenne d'Ambérieu (essai)"]["code_insee"] == "01004"
    assert watch.errors == [] and watch.dialogs == [] and watch.outside == []
    context.close()
