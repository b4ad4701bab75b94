"""No silent overwrite (issue 20 item 1): per-field diffs, probable duplicates asked about, stored text
kept when the file only changes its form, the stored source kept, and the date moved only by a change.

Built on the messy file of the issue (tests/data/import_messy.csv) and the real seed rows of Vichy (03)
and Thiers (63).
"""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from admin_helpers import csrf_token, post_form, text
from click.testing import CliRunner
from import_helpers import DATA, content_rows, duplicates, run_import, structure, warnings, write

from locator import config
from locator.cli import main
from locator.ingest.build import build
from locator.ingest.dedupe import same_but_for_form

MESSY = DATA / "import_messy.csv"
VICHY = "mission-locale-de-vichy-et-sa-region-03310"
THIERS_CIO = "cio-de-thiers-63430"
DEPARTEMENTS = ("03", "63")


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    """Allier and Puy-de-Dôme: real communes and their seed structures (Vichy's Mission locale among them)."""
    seed_path = Path(config.SEED)
    if not seed_path.is_file():
        pytest.fail(f"seed file missing: {seed_path} (../shared must sit beside the repository)")
    folder = tmp_path_factory.mktemp("allier-puy-de-dome")
    lines = seed_path.read_text(encoding="utf-8").splitlines()
    header = next(csv.reader(lines[:1]))
    column = header.index("departement")
    seed = folder / "structures.csv"
    with seed.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *(r for r in csv.reader(lines[1:]) if r[column] in DEPARTEMENTS)])
    path = folder / "locator.sqlite"
    build(path, seed, say=lambda _m: None, departements=DEPARTEMENTS)
    return path


def dump(db: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db) as conn:
        return {t: content_rows(conn, t) for t in ("structures", "structure_refs", "couverture")}


def by_ligne(items: list[dict]) -> dict[int, dict]:
    return {i["ligne"]: i for i in items}


# -- the rule on text -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stored", "new"),
    [
        ("Mission locale de Vichy et sa région", "Mission Locale de Vichy et sa Region"),
        ("9 PLACE DE L'HOTEL DE VILLE", "9 place de l’Hôtel de Ville"),
        ("04 43 57 20 20", "04.43.57.20.20"),
    ],
)
def test_texts_differing_by_case_accents_or_punctuation_only_are_the_same_but_for_form(stored, new):
    assert same_but_for_form(stored, new)


@pytest.mark.parametrize(
    ("stored", "new"),
    [
        ("Mission locale de Vichy et sa région", "ML Vichy"),
        ("http://www.missionlocale-vichy.fr", "https://www.missionlocale-vichy.fr"),
        ("04 70 30 15 30", "04 70 30 15 31"),
        ("CIO de Thiers", "CIO de Thiers"),  # equal: nothing to keep
        (None, "CIO de Thiers"),
    ],
)
def test_texts_that_really_differ_are_not_taken_for_a_change_of_form(stored, new):
    assert not same_but_for_form(stored, new)


# -- the command line -------------------------------------------------------------------------------
def test_dry_run_json_carries_each_changed_field_old_and_new_and_writes_nothing(store_copy):
    before = dump(store_copy)
    code, report, _ = run_import(store_copy, MESSY, "--dry-run")
    assert code == 0 and dump(store_copy) == before
    vichy = by_ligne(report["changements"])[2]
    assert vichy["id"] == VICHY
    fields = {c["champ"]: (c["avant"], c["apres"]) for c in vichy["champs"]}
    assert fields["site_web"] == ("http://www.missionlocale-vichy.fr", "https://www.missionlocale-vichy.fr")
    assert "nom" not in fields and "adresse" not in fields  # accents and case only: the stored text stays
    old_source, new_source = fields["source"]
    assert new_source == f"{old_source}; fichier importé import_messy.csv ({date.today().isoformat()})"
    assert fields["date_maj"][1] == date.today().isoformat()
    said = warnings(report)[2]
    assert "« Mission locale de Vichy et sa région » gardé" in said and "Region" in said


def test_an_accent_only_name_never_replaces_the_stored_one_and_the_source_is_kept(store_copy):
    before = structure(store_copy, VICHY)
    code, report, _ = run_import(store_copy, MESSY)
    assert code == 0, report
    after = structure(store_copy, VICHY)
    assert after["nom"] == "Mission locale de Vichy et sa région" == before["nom"]
    assert after["adresse"] == before["adresse"]
    assert after["site_web"] == "https://www.missionlocale-vichy.fr"
    assert after["source"].startswith(before["source"] + "; fichier importé import_messy.csv (")
    assert after["date_maj"] == date.today().isoformat() != before["date_maj"]


def test_a_row_that_only_changes_the_form_is_unchanged_and_keeps_its_date(store_copy):
    before = structure(store_copy, THIERS_CIO)
    code, report, _ = run_import(store_copy, MESSY)
    assert code == 0
    assert structure(store_copy, THIERS_CIO) == before  # « CIO DE THIERS », « 04.43.57.20.20 »
    assert report["inchanges"] == 1 and 3 not in by_ligne(report["changements"])
    assert "« CIO de Thiers » gardé" in warnings(report)[3]


def test_a_phone_stored_the_older_way_is_the_same_number_not_a_change(store_copy, tmp_path):
    with sqlite3.connect(store_copy) as c:  # a row imported before phones were stored as E.164
        c.execute("UPDATE structures SET telephone = '04 43 57 20 20' WHERE id = ?", (THIERS_CIO,))
    c.close()
    before = structure(store_copy, THIERS_CIO)
    content = "type;nom;code_postal;commune;telephone\nCIO;CIO de Thiers;63300;Thiers;+33 4 43 57 20 20\n"
    code, report, _ = run_import(store_copy, write(tmp_path, content))
    assert code == 0 and report["inchanges"] == 1 and report["changements"] == []
    assert structure(store_copy, THIERS_CIO) == before


def test_a_fuzzy_name_is_a_probable_duplicate_and_never_an_automatic_update(store_copy):
    before = structure(store_copy, VICHY)
    code, report, _ = run_import(store_copy, MESSY)
    assert code == 0
    assert report["doublons"] == 1 and "doublon probable" in duplicates(report)[4]
    entry = by_ligne(report["doublons_probables"])[4]
    assert entry["id"] == VICHY and entry["nom_fichier"] == "ML Vichy"
    proposed = {c["champ"]: c["apres"] for c in entry["champs"]}
    assert proposed["nom"] == "ML Vichy" and proposed["telephone"] == "+33470301599"
    after = structure(store_copy, VICHY)
    assert after["telephone"] == before["telephone"] == "+33470301530"
    with sqlite3.connect(store_copy) as c:
        assert c.execute("SELECT COUNT(*) FROM structures WHERE nom = 'ML Vichy'").fetchone()[0] == 0


def test_a_file_of_probable_duplicates_only_imports_nothing(store_copy, tmp_path):
    before = dump(store_copy)
    code, report, _ = run_import(
        store_copy, write(tmp_path, "type;nom;code_postal;commune\nML;ML Vichy;03200;Vichy\n")
    )
    assert code == 1 and report["importes"] == 0 and report["doublons"] == 1
    assert dump(store_copy) == before


def test_names_that_differ_by_a_number_are_two_offices_not_a_probable_duplicate(store_copy, tmp_path):
    first = "type;nom;code_postal;commune\nAntenne;Permanence 1 quartier Centre;63300;Thiers\n"
    assert run_import(store_copy, write(tmp_path, first, name="a.csv"))[0] == 0
    second = "type;nom;code_postal;commune\nAntenne;Permanence 12 quartier Centre;63300;Thiers\n"
    second += "Antenne;Permanence quartier Centre;63300;Thiers\n"
    second += "Antenne;Permanence 1 quartier du Centre;63300;Thiers\n"  # same number: asked about
    code, report, _ = run_import(store_copy, write(tmp_path, second, name="b.csv"))
    assert code == 0 and report["crees"] == 2 and report["doublons"] == 1
    assert "Permanence 1 quartier Centre" in duplicates(report)[4]


def test_the_plain_report_names_probable_duplicates_and_each_update(store_copy):
    result = CliRunner().invoke(main, ["import", str(MESSY), "--db", str(store_copy), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 doublon probable non importé" in result.output
    assert "ligne 4\u202f: doublon probable de « Mission locale de Vichy et sa région »" in result.output
    assert (
        "ligne 2 à mettre à jour (mission-locale-de-vichy-et-sa-region-03310)\u202f: site_web "
        "« http://www.missionlocale-vichy.fr » → « https://www.missionlocale-vichy.fr »"
    ) in result.output


def test_undoing_the_messy_import_restores_every_row_exactly(store_copy):
    before = dump(store_copy)
    code, report, _ = run_import(store_copy, MESSY)
    assert code == 0 and dump(store_copy) != before
    result = CliRunner().invoke(main, ["undo", str(report["import_id"]), "--db", str(store_copy), "--yes"])
    assert result.exit_code == 0, result.output
    assert dump(store_copy) == before


# -- the wizard ---------------------------------------------------------------------------------------
def upload(client, content: bytes, name: str = "import_messy.csv") -> str:
    token = csrf_token(client, "/admin/import")
    data = {"csrf_token": token, "statut": "publie", "fichier": (io.BytesIO(content), name)}
    r = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert r.status_code == 302, text(r)[-2000:]
    return r.headers["Location"].rsplit("/", 1)[1]


def choose(client, token: str, ligne: int, choix: str):
    page = f"/admin/import/{token}"
    return post_form(client, f"{page}/lignes/{ligne}/doublon", {"choix": choix}, page=page)


def confirm(client, token: str):
    page = f"/admin/import/{token}"
    return post_form(client, f"{page}/confirmer", page=page)


def test_the_preview_shows_old_and_new_values_and_asks_about_the_near_duplicate(admin_client, admin_store):
    before = dump(admin_store)
    token = upload(admin_client, MESSY.read_bytes())
    page = text(admin_client.get(f"/admin/import/{token}"))
    assert dump(admin_store) == before
    assert "1 doublon probable" in page
    vichy = page[page.index('id="ligne-2"') : page.index('id="ligne-3"')]
    assert "http://www.missionlocale-vichy.fr" in vichy and "https://www.missionlocale-vichy.fr" in vichy
    assert "« Mission locale de Vichy et sa région » gardé" in vichy
    near = page[page.index('id="ligne-4"') : page.index('id="ligne-5"')]
    assert "doublon probable" in near and "Mission locale de Vichy et sa région" in near
    assert "Oui : mettre à jour la fiche" in near and "Non : garder les deux" in near
    assert "04 70 30 15 99" in near  # what an update would change, before the admin decides
    row_page = text(admin_client.get(f"/admin/import/{token}/lignes/4"))
    assert "Oui : mettre à jour la fiche" in row_page and "04 70 30 15 99" in row_page


def test_keeping_both_creates_a_second_structure_and_skipping_imports_nothing_of_the_row(
    admin_client, admin_store
):
    token = upload(admin_client, MESSY.read_bytes())
    r = choose(admin_client, token, 4, "garder")
    assert r.status_code == 302
    page = text(admin_client.get(f"/admin/import/{token}"))
    near = page[page.index('id="ligne-4"') : page.index('id="ligne-5"')]
    assert "nouveau" in near and "Choix : garder les deux" in near
    choose(admin_client, token, 4, "ignorer")
    page = text(admin_client.get(f"/admin/import/{token}"))
    near = page[page.index('id="ligne-4"') : page.index('id="ligne-5"')]
    assert "doublon probable" in near and "Choix : ne pas importer cette ligne" in near
    r = confirm(admin_client, token)
    assert r.status_code == 302
    assert "1 doublon probable non importé" in text(admin_client.get(r.headers["Location"]))
    with sqlite3.connect(admin_store) as c:
        assert c.execute("SELECT COUNT(*) FROM structures WHERE nom = 'ML Vichy'").fetchone()[0] == 0
    assert structure(admin_store, VICHY)["telephone"] == "+33470301530"


def test_an_update_chosen_for_a_near_duplicate_is_written_and_undone_exactly(admin_client, admin_store):
    before = dump(admin_store)
    content = "type;nom;code_postal;commune;telephone\nML;ML Vichy;03200;Vichy;04 70 30 15 99\n"
    token = upload(admin_client, content.encode(), "ml.csv")
    assert choose(admin_client, token, 2, "bogus").status_code == 302  # refused: nothing decided
    assert "doublon probable" in text(admin_client.get(f"/admin/import/{token}"))
    choose(admin_client, token, 2, "mettre_a_jour")
    page = text(admin_client.get(f"/admin/import/{token}"))
    assert "mis à jour" in page and "Choix : mettre à jour cette fiche" in page
    r = confirm(admin_client, token)
    import_id = int(r.headers["Location"].rsplit("/", 1)[1])
    after = structure(admin_store, VICHY)
    assert after["telephone"] == "+33470301599" and after["nom"] == "ML Vichy"
    assert "fichier importé ml.csv" in after["source"]
    detail = f"/admin/imports/{import_id}"
    post_form(admin_client, f"{detail}/annuler", {"confirmer": "oui"}, page=detail)
    assert dump(admin_store) == before
