"""`locator import` on the DILA annuaire: 2022+ export, API exports, archives, the 2017 GeoJSON files."""

from __future__ import annotations

import bz2
import copy
import gzip
import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from import_helpers import DATA, dump, run_import, structure, warnings

from locator import config
from locator.cli import main
from locator.ingest import annuaire
from locator.store import structures as store_structures


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


RAW_2017 = Path(config.SEED).parent / "raw" / "dila_2017_betagouv_annuaire"
SAMPLE = DATA / "annuaire_2022_extrait.json"


def services() -> list[dict]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))["service"]


def test_keeps_the_mission_locale_and_cio_offices_of_the_region(store_copy):
    code, report, _ = run_import(store_copy, SAMPLE)
    assert code == 0, report
    assert report["genre"] == "annuaire"
    assert report["lus"] == 4  # the town hall and the Dijon office are left out
    assert report["crees"] == 1 and report["inchanges"] == 3
    assert "plus récentes que ce fichier" in warnings(report)[None]
    created = structure(store_copy, "antenne-mission-locale-rhone-sud-est-69199")
    assert created["type"] == "antenne_mission_locale"
    assert created["parent_id"] == "mission-locale-rhone-sud-est-69290"
    assert created["horaires_accueil"] == "Mo-Fr 09:00-12:30,14:00-17:30"
    assert created["date_maj"] == "2017-11-29" and created["origine"] == "annuaire"
    assert created["source"].startswith("DILA, Annuaire de l’administration")
    with sqlite3.connect(store_copy) as c:
        refs = dict(c.execute("SELECT valeur, structure_id FROM structure_refs").fetchall())
    assert refs["mission_locale-63430-01"] == "mission-locale-du-bassin-de-thiers-63430"
    assert refs["cio-63430-01"] == "cio-de-thiers-63430"  # the only CIO of Thiers, though renamed and moved
    assert refs["00000000-0000-4000-8000-000000000004"] == "cio-de-riom-63300"


def test_importing_the_annuaire_twice_changes_nothing(store_copy):
    run_import(store_copy, SAMPLE)
    with sqlite3.connect(store_copy) as c:
        before = [
            c.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("structures", "historique")
        ]
    code, report, _ = run_import(store_copy, SAMPLE)
    assert code == 0 and report["crees"] == 0 and report["mis_a_jour"] == 0
    with sqlite3.connect(store_copy) as c:
        assert before == [
            c.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("structures", "historique")
        ]


def test_a_newer_record_updates_the_office_with_its_opening_hours(store_copy, tmp_path):
    data = services()
    data[0]["date_modification"] = "03/02/2025 11:00:00"
    data[0]["telephone"] = [{"valeur": "04 73 80 49 00", "description": "accueil"}]
    path = tmp_path / "annuaire.json"
    path.write_text(json.dumps({"service": data}, ensure_ascii=False), encoding="utf-8")
    code, report, _ = run_import(store_copy, path)
    assert code == 0 and report["mis_a_jour"] == 1
    thiers = structure(store_copy, "mission-locale-du-bassin-de-thiers-63430")
    assert (
        thiers["horaires_accueil"]
        == "Mo 09:00-12:00,14:00-17:00; Tu 14:00-17:00; We-Fr 09:00-12:00,14:00-17:00"
    )
    assert thiers["telephone"] == "+33473804900"
    assert thiers["date_maj"] == "2025-02-03" and thiers["origine"] == "annuaire"
    assert thiers["nom"] == "Mission locale de Thiers" and thiers["type"] == "mission_locale"


def _api_export(data: list[dict]) -> list[dict]:
    """The API's JSON export: nested fields as JSON text."""
    out = copy.deepcopy(data)
    for record in out:
        for key in ("pivot", "adresse", "telephone", "site_internet", "plage_ouverture", "adresse_courriel"):
            if key in record and not isinstance(record[key], str):
                record[key] = json.dumps(record[key], ensure_ascii=False)
    return out


def _tar_bz2(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        info = tarfile.TarInfo("dataset/annuaire.json")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


@pytest.mark.parametrize("shape", ["api_list", "api_results", "tar_bz2", "gzip", "bz2"])
def test_every_shape_of_the_export_gives_the_same_result(store_copy, tmp_path, shape):
    plain = SAMPLE.read_bytes()
    payload = {
        "api_list": lambda: json.dumps(_api_export(services())).encode(),
        "api_results": lambda: json.dumps({"total_count": 6, "results": _api_export(services())}).encode(),
        "tar_bz2": lambda: _tar_bz2(plain),
        "gzip": lambda: gzip.compress(plain),
        "bz2": lambda: bz2.compress(plain),
    }[shape]()
    path = tmp_path / f"annuaire.{shape}"
    path.write_bytes(payload)
    code, report, _ = run_import(store_copy, path)
    assert code == 0, report
    assert (report["lus"], report["crees"], report["inchanges"]) == (4, 1, 3)
    created = structure(store_copy, "antenne-mission-locale-rhone-sud-est-69199")
    assert created["horaires_accueil"] == "Mo-Fr 09:00-12:30,14:00-17:30"


def test_the_2017_files_are_read_in_their_own_format(store_copy):
    code, report, _ = run_import(store_copy, RAW_2017 / "63_mission_locale.json")
    assert code == 0 and report["lus"] == 6 and report["crees"] == 0  # all six already in the seed
    code, report, _ = run_import(store_copy, RAW_2017 / "63_cio.json")
    assert code == 0
    assert report["crees"] == 1  # Clermont-Ferrand Nord: closed since, absent from the 2022 list
    nord = store_structures.in_commune(sqlite3.connect(store_copy), "63113", ("cio",))
    assert len(nord) == 2


def test_old_format_opening_hours_with_single_objects_and_lists():
    features = json.loads((RAW_2017 / "63_mission_locale.json").read_text(encoding="utf-8"))["features"]
    thiers = next(f for f in features if f["properties"]["id"] == "mission_locale-63430-01")
    issoire = next(f for f in features if f["properties"]["id"] == "mission_locale-63178-01")
    assert annuaire.opening_hours_old(thiers["properties"]["Ouverture"]) == (
        "Mo 09:00-12:00,14:00-17:00; Tu 14:00-17:00; We-Fr 09:00-12:00,14:00-17:00"
    )
    assert annuaire.opening_hours_old(issoire["properties"]["Ouverture"]) == "Mo-Fr 08:30-12:00,13:30-17:00"


def test_new_format_opening_hours_keep_comments_as_osm_comments():
    plages = [
        {
            "nom_jour_debut": "Mercredi",
            "nom_jour_fin": "Mercredi",
            "valeur_heure_debut_1": "13:30:00",
            "valeur_heure_fin_1": "17:00:00",
            "commentaire": 'sur "rendez-vous"',
        },
        {"nom_jour_debut": "Samedi", "nom_jour_fin": "", "valeur_heure_debut_1": "09:00:00"},
    ]
    assert annuaire.opening_hours_new(plages) == 'We 13:30-17:00 "sur rendez-vous"'
    assert annuaire.opening_hours_new(json.dumps(plages)) == 'We 13:30-17:00 "sur rendez-vous"'
    assert annuaire.opening_hours_new("pas du JSON") is None


@pytest.mark.national  # builds the whole geography itself
def test_without_the_seed_the_domains_tell_sieges_from_antennes(tmp_path):
    db = tmp_path / "s.sqlite"
    result = CliRunner().invoke(main, ["build", "--db", str(db), "--seed", str(tmp_path / "absent.csv")])
    assert result.exit_code == 0
    code, report, _ = run_import(db, RAW_2017 / "01_mission_locale.json")
    assert code == 0 and report["crees"] == 9
    with sqlite3.connect(db) as c:
        rows = {r[0]: (r[1], r[2]) for r in c.execute("SELECT nom, type, parent_id FROM structures")}
    # mlobg.fr: Oyonnax (the largest commune) is the siège, Gex and Bellegarde its antennes.
    assert rows["Mission locale d'Oyonnax"] == ("mission_locale", None)
    assert rows["Mission locale de Gex"] == ("antenne_mission_locale", "mission-locale-d-oyonnax-01283")
    assert rows["Mission locale de Trévoux"][0] == "antenne_mission_locale"
    assert rows["Mission locale de Miribel"] == (
        "mission_locale",
        None,
    )  # no mail, no site: said in a warning
    notes = warnings(report)
    assert any("vérifiez" in m for m in notes.values())


def test_truncated_or_foreign_json_is_refused_and_the_store_is_unchanged(store_copy, tmp_path):
    before = dump(store_copy)
    truncated = tmp_path / "tronque.json"
    truncated.write_bytes(SAMPLE.read_bytes()[:3000])
    code, report, _ = run_import(store_copy, truncated)
    assert code == 1 and "tronqué" in report["erreur"]
    foreign = tmp_path / "autre.json"
    foreign.write_text('{"type": "autre", "valeur": 3}', encoding="utf-8")
    code, report, _ = run_import(store_copy, foreign)
    assert code == 1 and "Annuaire de l’administration" in report["erreur"]
    nothing = tmp_path / "hors_region.json"
    nothing.write_text(json.dumps({"service": services()[4:]}), encoding="utf-8")
    code, report, _ = run_import(store_copy, nothing)
    assert code == 1 and "Aucune Mission locale ni aucun CIO de la région 84" in report["erreur"]
    assert dump(store_copy) == before
