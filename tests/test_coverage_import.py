"""Coverage lists (commune → Mission locale) into `couverture`; the API then answers by coverage."""

from __future__ import annotations

import sqlite3

import pytest
import requests
from import_helpers import DATA, dump, rejected, run_import, warnings, write

from locator.store import coverage as store_coverage
from locator.store import history, imports
from locator.store.db import writer
from locator.testing import serve_in_background


@pytest.fixture(scope="module")
def built_store(inferred_store):
    """A store without a coverage list (COUVERTURE=''), that the imported lists then fill."""
    return inferred_store


SAMPLE = DATA / "couverture_ml_extrait.csv"


def covered(db, sid: str) -> list[str]:
    with sqlite3.connect(db) as c:
        return store_coverage.codes_of(c, sid)


@pytest.mark.server
def test_network_file_fills_coverage_and_the_api_answers_by_coverage(store_copy):
    code, report, _ = run_import(store_copy, SAMPLE)
    assert code == 0, report
    assert report["genre"] == "couverture" and report["crees"] == 150 and report["rejetes"] == []
    assert "63003" in covered(store_copy, "mission-locale-du-livradois-forez-63003")
    assert covered(store_copy, "mission-locale-de-lyon-69387") == ["69123"]
    with serve_in_background(store_copy) as base:
        ambert = requests.get(base + "/api/v1/communes/63003/mission-locale", timeout=60).json()
        assert ambert["methode"] == "couverture"
        assert ambert["mission_locale"]["id"] == "mission-locale-du-livradois-forez-63003"
        assert "liste des communes couvertes" in ambert["raison"]
        # Augerolles is listed for two Missions locales: both are kept and said.
        augerolles = requests.get(base + "/api/v1/communes/63016/mission-locale", timeout=60).json()
        assert augerolles["methode"] == "couverture"
        assert {m["id"] for m in augerolles["missions_locales"]} == {
            "mission-locale-du-livradois-forez-63003",
            "mission-locale-du-bassin-de-thiers-63430",
        }
        # Lyon 3e is covered through Lyon (69123), the code the network uses.
        lyon3 = requests.get(base + "/api/v1/communes/69383/mission-locale", timeout=60).json()
        assert (
            lyon3["methode"] == "couverture"
            and lyon3["mission_locale"]["id"] == "mission-locale-de-lyon-69387"
        )
        clermont = requests.get(base + "/api/v1/communes/63113/mission-locale", timeout=60).json()
        assert clermont["methode"] == "territoire_probable"  # not in the file (issue 11: was plus_proche)


def test_coverage_import_is_idempotent_and_undoable(store_copy):
    code, report, _ = run_import(store_copy, SAMPLE)
    before = dump(store_copy)
    code, again, _ = run_import(store_copy, SAMPLE)
    assert code == 0 and again["crees"] == 0 and again["inchanges"] == 150
    after = dump(store_copy)
    assert before[:3] == after[:3] and before[4] == after[4]  # structures, coverage, refs, history
    db = writer(store_copy)
    try:
        changes = history.changes_of_import(db.conn, report["import_id"])
        assert {c["objet"] for c in changes} == {"couverture"} and len(changes) == 6
        history.undo_import(db, report["import_id"], auteur="admin", quand="2026-01-01T00:00:00+00:00")
        assert imports.get(db.conn, report["import_id"])["annule_le"]
    finally:
        db.close()
    assert covered(store_copy, "mission-locale-du-livradois-forez-63003") == []


def test_a_new_list_replaces_the_old_one_of_that_mission_locale_only(store_copy, tmp_path):
    run_import(store_copy, SAMPLE)
    text = "\ufeffCode INSEE;Nom Commune;Code ML;Nom Officiel ML;Commune présente sur plusieurs ML\n"
    text += (
        "63003;Ambert;63003S00;63-ML LIVRADOIS FOREZ;Non\n63010;Arlanc;63003S00;63-ML LIVRADOIS FOREZ;Non\n"
    )
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0 and report["retires"] == 57
    assert covered(store_copy, "mission-locale-du-livradois-forez-63003") == ["63003", "63010"]
    assert len(covered(store_copy, "mission-locale-du-bassin-de-thiers-63430")) == 37


def test_bad_coverage_lines_are_reported(store_copy, tmp_path):
    text = "\ufeffCode INSEE;Nom Commune;Code ML;Nom Officiel ML;Commune présente sur plusieurs ML\n"
    text += "63003;Ambert;63003S00;63-ML LIVRADOIS FOREZ;Oui\n"  # only one ML in the file
    text += "99999;Nulle part;63003S00;63-ML LIVRADOIS FOREZ;Non\n"
    text += "63430;Thiers;99999S00;99-ML INCONNUE;Non\n"
    text += "74011;Annecy-le-Vieux;74010S00;74-ML ANNECY;Non\n"  # former commune → Annecy
    text += "63430;Ambert;63430S00;63-ML THIERS;Non\n"  # name does not match the code
    text += "63430;;;;\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0
    bad = rejected(report)
    assert "99999 inconnu" in bad[3]
    assert "introuvable" in bad[4] and "99-ML INCONNUE" in bad[4]
    assert "manquante" in bad[7]
    notes = warnings(report)
    assert "plusieurs ML" in notes[2]
    assert "ancienne commune" in notes[5]
    assert "ne correspond pas" in notes[6]
    assert covered(store_copy, "mission-locale-du-bassin-annecien-74010") == ["74010"]


def test_plain_structure_id_lists_are_read_too(store_copy, tmp_path):
    # Issue 16: only published Missions locales receive coverage; a PSAD's lines are refused, said why.
    brioude = "mission-locale-du-bassin-d-emploi-de-brioude-43040"
    psad = "psad-de-brioude-co-animee-par-le-cio-et-la-mission-locale-de-brioude-43040"
    text = f"code_insee;id_structure\n43040;{brioude}\n43157;{brioude}\n43040;{psad}\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0 and report["crees"] == 2
    assert covered(store_copy, brioude) == [
        "43040",
        "43157",
    ]
    assert "n’est pas une Mission locale publiée" in rejected(report)[4]
    assert covered(store_copy, psad) == []
