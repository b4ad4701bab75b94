"""The columns admins really write: parent columns under their French names, the parent found by name
or id and suggested from the row's own département by distance, an address cell that says its commune."""

from __future__ import annotations

import csv
import html
import io
import re
from contextlib import closing
from pathlib import Path

import pytest
from admin_helpers import csrf_token, text
from import_helpers import DATA, by_name, rejected, run_import, warnings, write

from locator import config
from locator.geo.addresses import Split, commune_tails, split
from locator.ingest.build import build
from locator.ingest.importer import plan_import
from locator.ingest.table import canonical, open_table
from locator.store.db import connect
from locator.store.structures import published

# The Ain (Ambérieu-en-Bugey), the Isère (Grenoble) and the Puy-de-Dôme (Riom, Arlanc): three
# départements with homonyms between them (Saint-Just: 01369 and 63371).
DEPARTEMENTS = ("01", "38", "63")
AMBERT_ML = "mission-locale-du-livradois-forez-63003"
RIOM_ML = "mission-locale-riom-limagne-combrailles-63300"
BUGEY_ML = "mission-locale-du-bugey-plaine-de-l-ain-01004"


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    """Every commune of three départements and their seed structures (built in seconds, read-only)."""
    seed_path = Path(config.SEED)
    if not seed_path.is_file():
        pytest.fail(f"seed file missing: {seed_path} (../shared must sit beside the repository)")
    folder = tmp_path_factory.mktemp("columns-store")
    with seed_path.open(encoding="utf-8", newline="") as f:
        lines = list(csv.reader(f))
    column = lines[0].index("departement")
    seed = folder / "structures.csv"
    with seed.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([lines[0], *(r for r in lines[1:] if r[column] in DEPARTEMENTS)])
    path = folder / "locator.sqlite"
    build(path, seed, say=lambda _m: None, departements=DEPARTEMENTS)
    return path


# -- parent columns ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "header",
    [
        "Mission locale de rattachement",
        "MISSION LOCALE DE RATTACHEMENT",
        "structure de rattachement",
        "ML de rattachement",
        "ML-de-rattachement :",
        "rattachement",
        "Structure mère",
        "ML référente",
        "Nom de la ML de rattachement",
        "Identifiant de la structure mère",
        "parent_id",
    ],
)
def test_parent_columns_are_read_under_their_usual_french_names(header):
    assert canonical(header) == "parent"


@pytest.mark.parametrize(
    "header",
    [
        "Mission locale",
        "Nom de la mission locale",
        "Date de rattachement",
        "Nom du référent",
        "Code commune de rattachement",
    ],
)
def test_a_bare_mission_locale_or_a_date_column_is_not_taken_for_the_parent(header):
    assert canonical(header) != "parent"


def test_a_bare_mission_locale_column_is_ignored_with_a_hint_naming_the_parent_column():
    table = open_table(b"type;nom;Mission locale;commune\n", 10_000)
    assert table.columns == ["type", "nom", None, "commune"]
    hint = next(w for w in table.warnings if "« Mission locale » inconnue" in w)
    assert "« Mission locale de rattachement »" in hint and "« nom »" in hint


def test_a_parent_column_by_its_french_name_attaches_the_antenne(store_copy, tmp_path):
    path = write(
        tmp_path,
        "Type;Nom;Code postal;Commune;Mission locale de rattachement\r\n"
        "antenne;Permanence d’Arlanc test;63220;Arlanc;Mission locale du Livradois-Forez\r\n",
    )
    code, report, _ = run_import(store_copy, path)
    assert code == 0 and report["crees"] == 1, report
    assert not any("inconnue" in w for w in warnings(report).get(None, "").split(" ; "))
    assert by_name(store_copy, "Permanence d’Arlanc test")["parent_id"] == AMBERT_ML


def test_a_parent_written_loosely_is_matched_among_the_missions_locales_and_said(store_copy, tmp_path):
    path = write(
        tmp_path,
        "type;nom;code_postal;commune;ML de rattachement\n"
        "antenne;Permanence de Volvic test;63530;Volvic;ML Riom Limagne et Combrailles\n"
        "antenne;Permanence de Cunlhat test;63590;Cunlhat;mission locale livradois forest\n",
    )
    code, report, _ = run_import(store_copy, path)
    assert code == 0 and report["crees"] == 2, report
    assert by_name(store_copy, "Permanence de Volvic test")["parent_id"] == RIOM_ML
    assert by_name(store_copy, "Permanence de Cunlhat test")["parent_id"] == AMBERT_ML
    notes = warnings(report)
    assert "lue comme « Mission locale Riom Limagne Combrailles »" in notes[2]
    assert "lue comme « Mission locale du Livradois-Forez »" in notes[3]


def test_a_parent_given_by_its_id_attaches_the_antenne(store_copy, tmp_path):
    path = write(
        tmp_path,
        "type;nom;code_postal;commune;structure mère\n"
        f"antenne;Permanence de Lagnieu test;01150;Lagnieu;{BUGEY_ML}\n",
    )
    code, report, _ = run_import(store_copy, path)
    assert code == 0 and report["crees"] == 1, report
    assert by_name(store_copy, "Permanence de Lagnieu test")["parent_id"] == BUGEY_ML


# -- an address cell that says its commune -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "street", "postcode", "commune"),
    [
        ("4 place Sanville 01500 Ambérieu-en-Bugey", "4 place Sanville", "01500", "Ambérieu-en-Bugey"),
        ("3 av. Jean Jaurès - 38000 GRENOBLE", "3 av. Jean Jaurès", "38000", "GRENOBLE"),
        ("BP 12, 63201 Riom Cedex", "BP 12", "63201", "Riom Cedex"),
        ("7 rue du Colombier, CS 20063", "7 rue du Colombier, CS 20063", None, None),  # a box, no postcode
        ("12 rue de l’Hôtel de Ville, Riom", "12 rue de l’Hôtel de Ville, Riom", None, None),
    ],
)
def test_an_address_is_cut_at_its_last_postcode(text, street, postcode, commune):
    assert split(text) == Split(street, postcode, commune)


def test_the_commune_at_the_end_of_an_address_is_read_after_a_comma_or_as_its_last_words():
    street = "12 rue de l’Hôtel de Ville"
    assert commune_tails(f"{street}, Riom")[0] == (street, "Riom", True)
    assert (street, "Riom", False) in commune_tails(f"{street} Riom")
    assert commune_tails("12 rue de Lyon") == []  # a street named after a town is no commune


ADDRESSES = (
    "type;nom;adresse\n"
    "antenne;Permanence de Riom test;12 rue de l'Hôtel de Ville, Riom\n"
    "antenne;Permanence d’Ambérieu test;4 place Sanville 01500 Ambérieu-en-Bugey\n"
    "cio;CIO de Grenoble test;3 av. Jean Jaurès - 38000 GRENOBLE\n"
    "antenne;Permanence de Saint-Just test;Place de la Mairie, Saint-Just\n"
    "antenne;Permanence sans commune test;12 rue de Lyon\n"
)


def test_a_lone_address_cell_gives_the_postcode_and_commune_and_the_row_is_placed(store_copy, tmp_path):
    code, report, _ = run_import(store_copy, write(tmp_path, ADDRESSES))
    assert code == 0 and report["crees"] == 3, report
    places = {
        nom: tuple(by_name(store_copy, nom)[k] for k in ("adresse", "code_postal", "commune", "code_insee"))
        for nom in ("Permanence de Riom test", "Permanence d’Ambérieu test", "CIO de Grenoble test")
    }
    assert places == {
        "Permanence de Riom test": ("12 rue de l'Hôtel de Ville", "63200", "Riom", "63300"),
        "Permanence d’Ambérieu test": ("4 place Sanville", "01500", "Ambérieu-en-Bugey", "01004"),
        "CIO de Grenoble test": ("3 av. Jean Jaurès", "38000", "Grenoble", "38185"),
    }
    riom = by_name(store_copy, "Permanence de Riom test")
    assert riom["precision_geocodage"] == "commune"
    assert (riom["latitude"], riom["longitude"]) == (45.893902, 3.11519)  # Riom's reference point
    assert "lus dans l’adresse\u202f: 63200 Riom" in warnings(report)[2]
    assert "centre de la commune (adresse non géocodée hors ligne)" in warnings(report)[2]


def test_an_address_naming_homonym_communes_is_refused_with_the_candidates(store_copy, tmp_path):
    _code, report, _ = run_import(store_copy, write(tmp_path, ADDRESSES))
    bad = rejected(report)
    assert "plusieurs communes s’appellent « Saint-Just »" in bad[5]
    assert "Saint-Just (Ain, 01369)" in bad[5] and "Saint-Just (Puy-de-Dôme, 63371)" in bad[5]
    assert "aucun lieu" in bad[6] and "12 rue de Lyon" in bad[6]
    assert by_name(store_copy, "Permanence de Saint-Just test") is None


# -- suggestions for a missing or unknown parent --------------------------------------------------------
SUGGESTED = re.compile(r"« ([^»]+) » à ([0-9,]+) km")


def _suggested(note: str) -> list[tuple[str, float]]:
    return [
        (nom, float(d.replace(",", "."))) for nom, d in SUGGESTED.findall(note.split("les plus proches")[1])
    ]


def test_an_antenne_without_parent_is_told_its_departements_missions_locales_by_distance(
    store_copy, tmp_path
):
    path = write(
        tmp_path,
        "type;nom;code_postal;commune;Mission locale de rattachement\n"
        "antenne;Permanence d’Arlanc test;63220;Arlanc;\n"
        "antenne;Permanence d’Arlanc bis test;63220;Arlanc;Mission locale Auvergne\n",
    )
    _code, report, _ = run_import(store_copy, path)
    notes = warnings(report)
    assert "antenne sans Mission locale de rattachement" in notes[2]
    assert "structure parente « Mission locale Auvergne » introuvable" in notes[3]
    # Arlanc (63): Ambert's Mission locale, 15 km away, then Issoire's and Thiers's; none of the Ain or Isère.
    with closing(connect(store_copy)) as conn:
        departement = {m["nom"]: m["departement"] for m in published(conn, types=("mission_locale",))}
    for note in (notes[2], notes[3]):
        found = _suggested(note)
        assert [nom for nom, _d in found] == [
            "Mission locale du Livradois-Forez",
            "Mission locale du Val d'Allier",
            "Mission locale du bassin de Thiers",
        ]
        assert {departement[nom] for nom, _d in found} == {"63"}
        assert [d for _n, d in found] == sorted(d for _n, d in found) and found[0][1] == 15


def test_a_name_alike_in_another_departement_is_never_suggested_before_the_rows_own(store_copy, tmp_path):
    path = write(
        tmp_path,
        "type;nom;code_postal;commune;ML de rattachement\n"
        "antenne;Permanence de Nantua test;01130;Nantua;Mission locale de Grenoble Sud\n",
    )
    _code, report, _ = run_import(store_copy, path)
    note = warnings(report)[2]
    assert "« Mission locale de Grenoble Sud » introuvable" in note
    found = _suggested(note)
    assert [nom for nom, _d in found][0] == "Mission locale d'Oyonnax Gex Bellegarde"  # 12 km from Nantua
    assert "Grenoble" not in note.split("les plus proches")[1]
    assert by_name(store_copy, "Permanence de Nantua test")["parent_id"] is None


def test_the_commune_picked_among_homonyms_places_the_address_row(built_store):
    with closing(connect(built_store)) as conn:
        asked = plan_import(conn, ADDRESSES.encode(), "adresses.csv")
        row = next(r for r in asked.lignes if r.ligne == 5)
        assert {c["code_insee"] for c in row.communes_candidates} == {"01369", "63371"}
        chosen = plan_import(
            conn, ADDRESSES.encode(), "adresses.csv", options={"choix_communes": {5: "63371"}}
        )
        row = next(r for r in chosen.lignes if r.ligne == 5)
    assert row.action == "nouveau", row.erreurs
    assert (row.structure["adresse"], row.structure["code_insee"]) == ("Place de la Mairie", "63371")


def test_an_address_repeating_the_postcode_and_commune_of_their_columns_is_stored_as_its_street(
    store_copy, tmp_path
):
    path = write(
        tmp_path,
        "type;nom;adresse;code_postal;ville\n"
        "cio;Point jeunes de Riom test;12 rue de l'Hôtel de Ville 63200 Riom;63200;Riom\n"
        "cio;CIO d’Arlanc test;Place de la mairie 63220 Arlanc;;Arlanc\n"
        "cio;Point jeunes de Thiers test;1 rue Durolle 63300 Thiers;63200;Riom\n",
    )
    code, report, _ = run_import(store_copy, path)
    assert code == 0 and report["crees"] == 3, report
    riom, arlanc = by_name(store_copy, "Point jeunes de Riom test"), by_name(store_copy, "CIO d’Arlanc test")
    assert (riom["adresse"], riom["code_postal"], riom["code_insee"]) == (
        "12 rue de l'Hôtel de Ville",
        "63200",
        "63300",
    )
    assert (arlanc["adresse"], arlanc["code_postal"], arlanc["code_insee"]) == (
        "Place de la mairie",
        "63220",
        "63010",
    )
    # The address says Thiers, the columns Riom: the columns decide and the address is kept as written.
    assert by_name(store_copy, "Point jeunes de Thiers test")["adresse"] == "1 rue Durolle 63300 Thiers"


# -- the admin's file, through the command line and the wizard ------------------------------------------
ADMIN_FILE = DATA / "colonnes_admin.csv"


def test_the_admins_file_finds_every_parent_and_places_every_address_it_can(store_copy):
    code, report, _ = run_import(store_copy, ADMIN_FILE)
    assert code == 0 and report["crees"] == 5, report
    parents = {
        nom: by_name(store_copy, nom)["parent_id"]
        for nom in (
            "Permanence d'Arlanc (essai)",
            "Permanence de Riom centre (essai)",
            "Antenne d'Ambérieu (essai)",
        )
    }
    assert parents == {
        "Permanence d'Arlanc (essai)": AMBERT_ML,
        "Permanence de Riom centre (essai)": RIOM_ML,
        "Antenne d'Ambérieu (essai)": BUGEY_ML,
    }
    assert by_name(store_copy, "CIO de Grenoble (essai)")["code_insee"] == "38185"
    assert by_name(store_copy, "Permanence de Saint-Anthème (essai)")["code_insee"] == "63319"
    assert set(rejected(report)) == {7, 8}


def test_the_wizard_preview_shows_the_parent_found_the_address_read_and_the_nearest_missions(admin_client):
    token = csrf_token(admin_client, "/admin/import")
    r = admin_client.post(
        "/admin/import",
        data={
            "csrf_token": token,
            "statut": "publie",
            "fichier": (io.BytesIO(ADMIN_FILE.read_bytes()), "a.csv"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302, text(r)[-2000:]
    page = text(admin_client.get(r.headers["Location"]))
    rows = {n: _row_text(page, n) for n in range(2, 9)}
    assert "« ML Livradois Forez » lue comme « Mission locale du Livradois-Forez »" in rows[2]
    assert "lus dans l’adresse\u202f: 63220 Arlanc" in rows[2]
    assert "lus dans l’adresse\u202f: 63200 Riom" in rows[3]
    assert "lus dans l’adresse\u202f: 01500 Ambérieu-en-Bugey" in rows[4]
    assert "« Mission locale du Livradois-Forez » à" in rows[6] and "les plus proches" in rows[6]
    assert "Saint-Just (Ain, 01369)" in rows[7] and "Saint-Just (Puy-de-Dôme, 63371)" in rows[7]
    assert "aucun lieu" in rows[8]
    assert "inconnue" not in page.split('id="ligne-2"')[0]  # every column read, the parent's included


def _row_text(page: str, ligne: int) -> str:
    found = re.search(rf'<tr id="ligne-{ligne}".*?</tr>', page, re.S)
    assert found, f"line {ligne} missing"
    return html.unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", found.group(0))))


def test_a_commune_misspelt_after_a_comma_is_read_and_said_but_a_building_is_not(store_copy, tmp_path):
    path = write(
        tmp_path,
        "type;nom;adresse\n"
        "cio;CIO de Bugey test;4 place Sanville, Amberieu-en-Bujey\n"
        "cio;CIO du bâtiment test;4 place Sanville, Bâtiment B\n",
    )
    _code, report, _ = run_import(store_copy, path)
    assert by_name(store_copy, "CIO de Bugey test")["code_insee"] == "01004"
    assert "commune « Amberieu-en-Bujey » de l’adresse lue comme Ambérieu-en-Bugey" in warnings(report)[2]
    assert "aucun lieu" in rejected(report)[3]


def test_a_parent_given_by_the_id_of_a_row_further_down_the_file_attaches_the_antenne(store_copy, tmp_path):
    path = write(
        tmp_path,
        "id;type;nom;code_postal;commune;ML de rattachement\n"
        ";antenne;Permanence de Viverols test;63840;Viverols;ml-essai-haut-forez\n"
        "ml-essai-haut-forez;mission_locale;Mission locale d’essai du Haut-Forez;63220;Arlanc;\n",
    )
    code, report, _ = run_import(store_copy, path)
    assert code == 0 and report["crees"] == 2, report
    assert by_name(store_copy, "Permanence de Viverols test")["parent_id"] == "ml-essai-haut-forez"


def test_the_commune_at_the_end_of_an_address_is_cut_off_and_picks_among_a_postcodes_communes(
    store_copy, tmp_path
):
    path = write(
        tmp_path,
        "type;nom;adresse;code_postal;commune\n"
        "cio;Point jeunes de Riom virgule test;12 rue de l'Hôtel de Ville, Riom;;Riom\n"
        "cio;CIO de Saint-Just test;Place de la Mairie, Saint-Just;63600;\n",
    )
    code, report, _ = run_import(store_copy, path)
    assert code == 0 and report["crees"] == 2, report
    riom = by_name(store_copy, "Point jeunes de Riom virgule test")
    assert (riom["adresse"], riom["code_insee"]) == ("12 rue de l'Hôtel de Ville", "63300")
    saint_just = by_name(store_copy, "CIO de Saint-Just test")  # 63600 serves Ambert and nine others
    assert (saint_just["adresse"], saint_just["code_insee"]) == ("Place de la Mairie", "63371")


def test_a_row_with_its_point_and_an_address_cell_says_what_the_address_gave(store_copy, tmp_path):
    path = write(
        tmp_path,
        "type;nom;adresse;latitude;longitude\n"
        "cio;Point jeunes de Riom point test;12 rue de l'Hôtel de Ville 63200 Riom;45,894137;3,112861\n",
    )
    code, report, _ = run_import(store_copy, path)
    assert code == 0 and report["crees"] == 1, report
    row = by_name(store_copy, "Point jeunes de Riom point test")
    assert (row["adresse"], row["code_insee"], row["precision_geocodage"]) == (
        "12 rue de l'Hôtel de Ville",
        "63300",
        "source",
    )
    assert (row["latitude"], row["longitude"]) == (45.894137, 3.112861)
    note = warnings(report)[2]
    assert "lus dans l’adresse\u202f: 63200 Riom" in note and "centre de la commune" not in note
