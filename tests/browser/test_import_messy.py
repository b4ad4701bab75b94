"""The messy file of issue 20 through the wizard in a real browser: every update shown field by field,
the near-duplicate asked about, nothing overwritten silently, the stored source kept; the parent column
read, the address cell placed, French hours converted and driving the open-now status of the public
page, garbled accents repaired, formula-looking phones and e-mails refused; and a UTF-8 file with one
Windows-1252 line read line by line.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import requests

from locator.hours import opening_hours
from tests.browser.conftest import analyse, log_in, open_context, run_axe

MESSY = Path(__file__).resolve().parents[1] / "data" / "import_messy.csv"
MIXED = MESSY.with_name("import_mixed_encoding.csv")
LIVRADOIS = "mission-locale-du-livradois-forez-63003"
VICHY = "mission-locale-de-vichy-et-sa-region-03310"
THIERS_CIO = "cio-de-thiers-63430"


def _structure(base: str, sid: str) -> dict:
    answer = requests.get(f"{base}/api/v1/structures/{sid}", timeout=60)
    assert answer.status_code == 200
    return answer.json()


def _published(base: str) -> dict[str, dict]:
    features = requests.get(base + "/api/v1/structures.geojson", timeout=60).json()["features"]
    return {f["properties"]["nom"]: f["properties"] for f in features}


def _published_names(base: str) -> set[str]:
    return set(_published(base))


def test_messy_file_shows_each_change_asks_about_the_near_duplicate_and_overwrites_nothing_silently(
    browser, admin_site
):
    base = admin_site
    vichy_before = _structure(base, VICHY)
    thiers_before = _structure(base, THIERS_CIO)
    context, watch = open_context(browser)
    page = context.new_page()
    log_in(page, base)
    preview = analyse(page, base, MESSY)

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

    # The parent column is read and the French hours are shown converted.
    arlanc = page.locator("#ligne-5").inner_text()
    assert "Tu 09:00-12:00" in arlanc and "mardi 9h-12h" in arlanc
    assert "parent vide" not in arlanc and "introuvable" not in arlanc
    # The address-only row is placed from its cell, and says how.
    riom = page.locator("#ligne-6").inner_text()
    assert "aucun lieu" not in riom and "Mo-Fr 08:30-17:00" in riom
    assert "code postal et commune lus dans l’adresse" in riom and "63200 Riom" in riom
    # Formula-looking phone and e-mail: row errors, not data; the out-of-région row refused.
    assert "téléphone refusé" in page.locator("#ligne-7").inner_text()
    assert "courriel refusé" in page.locator("#ligne-8").inner_text()
    assert "hors de la région" in page.locator("#ligne-9").inner_text()
    # Garbled accents in a cell: repaired, and the row says what was changed.
    garbled = page.locator("#ligne-10").inner_text()
    assert "accents mal encodés, réparés" in garbled and "« Point écoute jeunes de Thiers »" in garbled
    assert run_axe(page) == []
    near.get_by_role("button", name=re.compile("Ne pas importer la ligne")).click()
    page.wait_for_url(re.compile(r".*#ligne-4$"))
    assert "Choix" in page.locator("#ligne-4").inner_text()
    assert "ne pas importer cette ligne" in page.locator("#ligne-4").inner_text()

    page.get_by_role("button", name="Confirmer l’import").click()
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
    published = _published(base)
    assert "ML Vichy" not in published
    assert "Point écoute jeunes de Thiers" in published
    antenne = next(
        v for k, v in published.items() if k.startswith("Permanence Mission locale d") and "Arlanc" in k
    )
    assert antenne["parent_id"] == LIVRADOIS and antenne["horaires_accueil"] == "Tu 09:00-12:00"
    platform = published["Plateforme de raccrochage de Riom"]
    assert (platform["code_insee"], platform["code_postal"]) == ("63300", "63200")
    assert platform["horaires_accueil"] == "Mo-Fr 08:30-17:00"
    everything = requests.get(base + "/api/v1/structures.geojson", timeout=60).text
    assert "evil.example" not in everything and "cmd@evil" not in everything and "HYPERLINK" not in everything

    # The public page: the converted hours drive the open-now status (read at the page's own instant).
    before = opening_hours.status(platform["horaires_accueil"])["texte"]
    page.goto(f"{base}/structures/{platform['id']}")
    shown = page.locator(".statut-horaires").first.inner_text()
    after = opening_hours.status(platform["horaires_accueil"])["texte"]
    assert shown in (before, after), shown
    assert shown.startswith(("Ouvert maintenant", "Fermé"))

    # A UTF-8 file with one Windows-1252 line: read as UTF-8, that line named with its text as published.
    analyse(page, base, MIXED)
    flagged = page.locator("#ligne-6").inner_text()
    assert "Windows-1252" in flagged and "Accueil d’été de Riom" in flagged
    assert "Espace info jeunes de Châtel-Guyon" in page.locator("#ligne-3").inner_text()
    assert "Ã" not in page.content()
    assert watch.errors == [] and watch.outside == []
    context.close()
