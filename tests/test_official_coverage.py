"""Issue 17: the default store answers every commune of the région from the Missions locales network's
coverage list (the real file in ../shared/data), says so with the list's date, presents the Missions
locales of other régions as such, draws official territories, and shows seat addresses that differ."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import requests
from admin_helpers import text
from click.testing import CliRunner
from import_helpers import dump, run_import, write

from locator import config, lookup
from locator.cli import main
from locator.geo import names
from locator.ingest.importer import plan_import
from locator.store import coverage as store_coverage
from locator.store import db as store_db
from locator.store import history
from locator.store import territories as store_territories
from locator.store.db import connect, writer
from locator.store.schema import SCHEMA_VERSION

COUVERTURE = Path(config.COUVERTURE)
MACON = "mission-locale-de-macon-71270"
GUEUGNON = "mission-locale-de-gueugnon-71230"
NORD_ISERE = "mission-locale-nord-isere-38053"
BIEVRE = "mission-locale-de-la-bievre-38034"
LIVRADOIS = "mission-locale-du-livradois-forez-63003"
OFFICIAL = "la liste officielle, publiée par le réseau des Missions locales en janvier 2026"


def file_lines() -> list[dict[str, str]]:
    with COUVERTURE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def build_cli(db, *args: str, env: dict[str, str] | None = None) -> dict:
    result = CliRunner().invoke(main, ["build", "--db", str(db), "--json", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def methods(db) -> dict[str, int]:
    with sqlite3.connect(db) as c:
        return dict(c.execute("SELECT methode, COUNT(*) FROM competences GROUP BY methode").fetchall())


@pytest.fixture
def inferred_copy(inferred_store, tmp_path):
    """A private copy of the store built without the list (COUVERTURE='')."""
    path = tmp_path / "sans-liste.sqlite"
    shutil.copyfile(inferred_store, path)
    return path


def test_a_fresh_build_answers_every_line_of_the_file_with_the_mission_locale_it_names(conn):
    lines = file_lines()
    assert len(lines) == 4033
    # 0 rejected lines: every line's commune is in the list of the Mission locale it was given to.
    assert conn.execute("SELECT COUNT(*) FROM couverture").fetchone()[0] == 4033
    assert {r["methode"] for r in store_territories.competences(conn)} == {"couverture"}
    assert len(store_territories.competences(conn)) == 4025  # Lyon answers through its arrondissements
    for line in lines:
        answer = lookup.competent(conn, line["Code INSEE"], region="84", finder_url="x")
        ml = answer["mission_locale"]
        assert answer["methode"] == "couverture", line
        assert OFFICIAL in answer["raison"] and "pas encore import" not in answer["raison"]
        assert answer["liste"] == {
            "source": f"{store_coverage.NETWORK_SOURCE} : {COUVERTURE.name}",
            "date": "2026-01-01",
            "officielle": True,
        }
        # The Mission locale the file names is seated where its address columns say (Lyon: in one of
        # its arrondissements), but for la Bièvre, whose newer seat the directory does not know yet.
        if line["Code ML"] == "38034":
            assert ml["id"] == BIEVRE and ml["commune"] == "Beaurepaire"
        elif line["Ville ML"].startswith("Lyon - "):
            assert ml["id"] == "mission-locale-de-lyon-69387" and ml["code_postal"] == line["Code Postal ML"]
        else:
            assert names.normalize(ml["commune"]) == names.normalize(line["Ville ML"]), line


def test_the_reader_places_the_issue_s_lines_and_says_which_column(inferred_store):
    with connect(inferred_store) as c:
        report = plan_import(c, COUVERTURE, region="84").report()
    assert report["lus"] == 4033 and report["rejetes"] == []
    placed = {m["code_ml"]: (m["id"], m["trouvee_par"], m["communes"]) for m in report["missions_locales"]}
    assert len(placed) == 63
    assert placed["38509"] == (NORD_ISERE, "adresse", 121)  # « 38-ML LA TOUR DU PIN », seated in Bourgoin
    assert placed["71270"] == (MACON, "hors_region", 1)
    assert placed["71230"] == (GUEUGNON, "hors_region", 3)
    assert placed["69088"] == ("mission-locale-du-plateau-nord-val-de-saone-69286", "code", 21)
    assert placed["69199"] == ("mission-locale-rhone-sud-est-69290", "code", 15)
    assert placed["69382"] == ("mission-locale-de-lyon-69387", "code", 9)
    assert placed["38034"] == (BIEVRE, "code", 64)
    assert {how for _id, how, _n in placed.values()} == {"code", "adresse", "hors_region"}
    assert report["structures_creees"] == [GUEUGNON, MACON]


def test_a_mission_locale_of_another_region_is_presented_with_what_the_file_says_and_no_more(conn):
    macon = lookup.structure(conn, MACON)
    assert (macon["type"], macon["nom"], macon["adresse"], macon["code_postal"], macon["commune"]) == (
        "mission_locale",
        "Mission locale de Mâcon",
        "1000 av marechal de lattre de tassigny",
        "71000",
        "Mâcon",
    )
    assert macon["departement"] == "71" and macon["date_maj"] == "2026-01-01"
    assert macon["source"] == f"{store_coverage.NETWORK_SOURCE} : {COUVERTURE.name}"
    assert macon["telephone"] is None and macon["horaires_accueil"] is None and macon["courriel"] is None
    for code, ml in (("01370", MACON), ("03063", GUEUGNON), ("03086", GUEUGNON), ("03173", GUEUGNON)):
        answer = lookup.competent(conn, code, region="84", finder_url="x")
        assert answer["methode"] == "couverture" and answer["mission_locale"]["id"] == ml
        assert answer["mission_locale_hors_region"] is True
        assert (
            "Cette Mission locale est hors de la région (Saône-et-Loire, Bourgogne-Franche-Comté)"
            in (answer["raison"])
        )
    assert lookup.outside_region(conn, lookup.structure(conn, LIVRADOIS), "84") is None


def test_pages_and_api_say_official_outside_the_region_and_when(live_server):
    answer = requests.get(live_server + "/api/v1/communes/01370/mission-locale", timeout=60).json()
    assert answer["mission_locale"]["id"] == MACON and answer["mission_locale_hors_region"] is True
    page = requests.get(live_server + "/communes/01370", timeout=60).text
    assert "hors région (Saône-et-Loire, Bourgogne-Franche-Comté)" in page
    territoires = requests.get(live_server + "/territoires", timeout=60).text
    assert "61 Missions locales de la région, et 2 hors région qui couvrent 4 communes" in territoires
    assert (
        "Chaque commune de la région est rattachée à sa Mission locale par la liste des communes couvertes : "
        f"{OFFICIAL}." in territoires
    )
    assert "Missions locales d’autres régions" in territoires
    chablais = requests.get(live_server + "/structures/mission-locale-du-chablais-74281", timeout=60).text
    assert f"Ses communes sont celles de sa liste des communes couvertes : {OFFICIAL}." in chablais
    home = requests.get(live_server + "/", timeout=60).text
    assert "193 structures sont connues en Auvergne-Rhône-Alpes, et 2 hors de la région" in home
    # Nearest searches find the real, nearby Mission locale of Mâcon, said to be in its own département.
    near = requests.get(
        live_server + "/api/v1/structures", params={"commune": "01370", "types": "mission_locale"}, timeout=60
    ).json()["results"]
    assert near[0]["id"] == MACON and near[0]["departement"] == "71"


def test_territory_geojson_says_official_or_inferred_with_the_list_s_date(live_server):
    one = requests.get(live_server + f"/api/v1/structures/{MACON}/territoire.geojson", timeout=60).json()
    props = one["properties"]
    assert props["communes"] == 1 and props["hors_region"] is True
    assert (props["methode"], props["officiel"], props["date"]) == ("couverture", True, "2026-01-01")
    assert props["source"] == f"{store_coverage.NETWORK_SOURCE} : {COUVERTURE.name}"
    every = requests.get(live_server + "/api/v1/territoires.geojson", timeout=60).json()["features"]
    assert len(every) == 63
    assert {f["properties"]["methode"] for f in every} == {"couverture"}
    assert sum(f["properties"]["hors_region"] for f in every) == 2
    nord = next(f for f in every if f["properties"]["id"] == NORD_ISERE)["properties"]
    assert nord["communes"] == nord["par_couverture"] == 121


def test_territories_are_drawn_from_the_official_list(conn):
    """The outline of a Mission locale is the union of the communes the file lists for it."""
    import shapely

    rows = {r["structure_id"]: r for r in store_territories.territories(conn)}
    assert len(rows) == 63 and all(r["par_territoire_probable"] == 0 for r in rows.values())
    nord = shapely.from_geojson(store_territories.territory(conn, NORD_ISERE)["geometrie"])
    centre = conn.execute("SELECT latitude, longitude FROM communes WHERE code = '38509'").fetchone()
    assert nord.contains(shapely.Point(centre[1], centre[0]))  # La Tour-du-Pin, in Nord Isère's outline


def test_the_quality_page_lists_seat_addresses_that_differ_from_the_directory(admin_client):
    page = text(admin_client.get("/admin/qualite"))
    section = page.split('id="controle-sieges"')[1].split("</section>")[0]
    assert "Mission locale de la Bièvre" in section
    assert "Siège dans une autre commune" in section and "Saint-Étienne-de-Saint-Geoirs" in section
    assert "Beaurepaire" in section
    assert "Mission locale de Mâcon" not in section  # created from the file: the same seat
    export = admin_client.get("/admin/qualite/sieges.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(export.splitlines(), delimiter=";"))
    bievre = next(r for r in rows if r["id"] == BIEVRE)
    assert (bievre["commune"], bievre["commune_liste"], bievre["date_liste"]) == (
        "Beaurepaire",
        "Saint-Étienne-de-Saint-Geoirs",
        "2026-01-01",
    )
    assert rows[0]["id"] == BIEVRE  # another commune comes before another address


def test_build_imports_the_shared_list_by_default_and_not_when_the_setting_is_empty(inferred_copy, tmp_path):
    empty = tmp_path / "vide.sqlite"
    shutil.copyfile(inferred_copy, empty)
    report = build_cli(empty, env={"LOCATOR_COUVERTURE": ""})
    assert report["couverture"] is None and methods(empty) == {"territoire_probable": 4025}
    report = build_cli(empty, "--couverture", "")
    assert report["couverture"] is None and methods(empty) == {"territoire_probable": 4025}
    report = build_cli(inferred_copy)["couverture"]
    assert (report["lus"], report["importes"], report["rejetes"]) == (4033, 4033, [])
    assert report["structures_creees"] == [GUEUGNON, MACON]
    assert methods(inferred_copy) == {"couverture": 4025}
    before = dump(inferred_copy)
    again = build_cli(inferred_copy, "--couverture", str(COUVERTURE))["couverture"]
    assert (again["crees"], again["inchanges"], again["structures_creees"]) == (0, 4033, [])
    assert dump(inferred_copy) == before  # idempotent


def test_a_rebuild_keeps_a_list_an_admin_changed(store_copy, tmp_path):
    code, report, _ = run_import(store_copy, write(tmp_path, f"code_insee;id_structure\n63003;{LIVRADOIS}\n"))
    assert code == 0 and report["retires"] == 57
    report = build_cli(store_copy)["couverture"]
    with sqlite3.connect(store_copy) as c:
        assert store_coverage.codes_of(c, LIVRADOIS) == ["63003"]
    assert any(
        LIVRADOIS in m and "laissée telle quelle" in m
        for w in report["avertissements"]
        for m in w["messages"]
    )


def test_undoing_a_coverage_import_removes_the_missions_locales_it_created(inferred_copy):
    code, report, _ = run_import(inferred_copy, COUVERTURE)
    assert code == 0 and report["structures_creees"] == [GUEUGNON, MACON]
    with sqlite3.connect(inferred_copy) as c:
        assert store_coverage.codes_of(c, MACON) == ["01370"]
    db = writer(inferred_copy)
    try:
        history.undo_import(db, report["import_id"], auteur="admin", quand="2026-02-01T00:00:00+00:00")
    finally:
        db.close()
    with connect(inferred_copy) as c:
        assert lookup.structure(c, MACON) is None and store_coverage.codes_of(c, MACON) == []
        assert lookup.competent(c, "01370", region="84", finder_url="x")["methode"] == "territoire_probable"


def test_a_store_of_schema_5_gets_the_seat_table(store_copy):
    with sqlite3.connect(store_copy) as c:
        c.execute("DROP TABLE couverture_sieges")
        c.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    c.close()
    assert store_db.check(store_copy) is None
    store_db.migrate(store_copy)
    with sqlite3.connect(store_copy) as c:
        assert c.execute("SELECT COUNT(*) FROM couverture_sieges").fetchone()[0] == 0
        version = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        assert version == SCHEMA_VERSION
    c.close()
