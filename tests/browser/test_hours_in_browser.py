"""French hours in a real browser: the wizard shows each hours cell as written and as read, and the
published page says open or closed from the converted hours, with the note as text (issue 20, item 3)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import analyse, log_in, open_context

# Round the clock: the page says « Ouvert 24 h/24 » whenever the test runs (the live server's clock is
# the real one); the test client tests fix the clock for « Ouvert maintenant » at a given instant.
FILE = (
    "type;nom;code_postal;commune;horaires\n"
    "cio;CIO toujours ouvert;63600;Ambert;tous les jours de 0h à minuit, sauf jours fériés\n"
    "cio;CIO sur rendez-vous;63600;Ambert;Sur rendez-vous\n"
    "cio;CIO des vacances;63600;Ambert;pendant les vacances scolaires\n"
)


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Ambert (63) is in the small store: the fast one will do."""
    return small_built_store


def test_the_wizard_converts_french_hours_and_the_public_page_reads_them(browser, admin_site, tmp_path):
    upload = tmp_path / "horaires.csv"
    upload.write_text(FILE, encoding="utf-8")
    context, watch = open_context(browser)
    page = context.new_page()
    base = admin_site
    log_in(page, base)
    analyse(page, base, upload)

    assert "→ Mo-Su 00:00-24:00; PH off" in page.locator("#ligne-2").inner_text()
    assert "note pour la page publique\u202f: « sur rendez-vous »" in page.locator("#ligne-3").inner_text()
    vacances = page.locator("#ligne-4").inner_text()
    assert "horaires non reconnus « pendant les vacances scolaires »" in vacances

    page.get_by_role("button", name="Confirmer l’import").click()
    page.wait_for_url(re.compile(r".*/admin/imports/\d+$"))
    assert "Import publié" in page.locator(".admin-messages").inner_text()

    api = page.request.get(base + "/api/v1/structures.geojson").json()["features"]
    ids = {f["properties"]["nom"]: f["properties"]["id"] for f in api}
    page.goto(f"{base}/structures/{ids['CIO toujours ouvert']}")
    assert page.locator(".statut-horaires").inner_text() == "Ouvert 24 h/24"
    page.goto(f"{base}/structures/{ids['CIO sur rendez-vous']}")
    assert page.locator(".horaires-note").inner_text() == "Horaires\u202f: sur rendez-vous"
    assert page.locator(".statut-horaires").count() == 0
    page.goto(f"{base}/structures/{ids['CIO des vacances']}")
    assert page.locator(".horaires-note").inner_text() == "Horaires\u202f: pendant les vacances scolaires"
    assert page.locator(".statut-horaires").count() == 0
    assert not (watch.outside or watch.dialogs or watch.errors or watch.csp)
    context.close()
