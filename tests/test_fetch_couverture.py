"""`locator fetch couverture` against a local HTTP server: checked, last good copy kept, imported in one
transaction, territories recomputed; a bad download changes nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest
import requests
from click.testing import CliRunner
from http_helpers import serve_routes
from import_helpers import DATA, dump

from locator.cli import main
from locator.testing import serve_in_background


@pytest.fixture(scope="module")
def built_store(inferred_store):
    """A store without a coverage list (COUVERTURE=''), that the fetched list then fills."""
    return inferred_store


SAMPLE = (DATA / "couverture_ml_extrait.csv").read_bytes()  # 150 lines, 149 communes of Auvergne and Lyon
HEADER = SAMPLE.split(b"\n", 1)[0] + b"\n"
AMBERT = "63003"  # listed for the Mission locale du Livradois-Forez
LIVRADOIS = "mission-locale-du-livradois-forez-63003"


ROUTES = {
    "/couverture.csv": (200, SAMPLE, len(SAMPLE)),
    "/coupe.csv": (200, SAMPLE[:3000], len(SAMPLE)),  # connection lost mid-file
    "/tronque.csv": (200, SAMPLE[:3000], 3000),  # a complete answer holding a fifth of the file
    "/panne.html": (200, b"<html><body>Maintenance</body></html>", 37),
}


@pytest.fixture
def server(built_store, monkeypatch):
    """Serves the sample, the ways a download goes wrong, a file of another région and a national one."""
    # The extract holds 150 communes; a real national file holds about 35,000.
    monkeypatch.setenv("LOCATOR_COUVERTURE_MIN_COMMUNES", "100")
    with sqlite3.connect(built_store) as c:
        paca = c.execute(
            "SELECT code, nom FROM communes WHERE region = '93' AND type = 'COM' ORDER BY code LIMIT 150"
        ).fetchall()
    outside = HEADER + "".join(f"{code};{nom};13055S00;13-ML MARSEILLE;Non\n" for code, nom in paca).encode()
    france = SAMPLE + outside[len(HEADER) :]  # like the national file: the région and others
    routes = {**ROUTES, "/paca.csv": (200, outside, len(outside)), "/france.csv": (200, france, len(france))}
    with serve_routes(routes, "text/csv; charset=utf-8") as base:
        yield base


def fetch(db, url: str, folder, *args: str):
    result = CliRunner().invoke(
        main, ["fetch", "couverture", "--db", str(db), "--url", url, "--dir", str(folder), "--json", *args]
    )
    assert "Traceback" not in result.output
    return result


def answers(db) -> list:
    with sqlite3.connect(db) as c:
        return (
            c.execute("SELECT * FROM competences ORDER BY 1").fetchall()
            + c.execute("SELECT * FROM territoires ORDER BY 1").fetchall()
        )


def stored(db, code: str) -> tuple:
    with sqlite3.connect(db) as c:
        sql = "SELECT structure_id, methode FROM competences WHERE code_insee = ?"
        return c.execute(sql, (code,)).fetchone()


def test_fetch_couverture_imports_the_list_and_the_api_answers_couverture(server, store_copy, tmp_path):
    assert stored(store_copy, AMBERT) == (LIVRADOIS, "territoire_probable")
    folder = tmp_path / "couverture"
    result = fetch(store_copy, server + "/couverture.csv", folder)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["genre"] == "couverture" and report["crees"] == 150 and report["rejetes"] == []
    assert report["telechargement"] == {"communes": 149, "communes_region": 149, "lignes_autres_regions": 0}
    assert report["territoires"]["sans_reponse"] == 0 and report["territoires"]["communes"] > 4000
    assert (folder / "couverture.csv").read_bytes() == SAMPLE
    assert sorted(p.name for p in folder.iterdir()) == ["couverture.csv"]
    assert stored(store_copy, AMBERT) == (LIVRADOIS, "couverture")
    with serve_in_background(store_copy) as base:
        ambert = requests.get(base + f"/api/v1/communes/{AMBERT}/mission-locale", timeout=60).json()
        assert ambert["methode"] == "couverture"
        assert ambert["mission_locale"]["id"] == LIVRADOIS
        territory = requests.get(base + f"/api/v1/structures/{LIVRADOIS}/territoire.geojson", timeout=60)
        assert territory.json()["properties"]["par_couverture"] == 59


def test_a_national_file_imports_the_region_s_lines_only(server, store_copy, tmp_path):
    result = fetch(store_copy, server + "/france.csv", tmp_path / "couverture")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["telechargement"] == {"communes": 299, "communes_region": 149, "lignes_autres_regions": 150}
    assert report["crees"] == 150 and report["rejetes"] == []  # no line of Provence reported as unknown
    assert stored(store_copy, AMBERT) == (LIVRADOIS, "couverture")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/coupe.csv", "incomplet"),
        ("/tronque.csv", "tronqué"),
        ("/panne.html", "pas une liste de communes couvertes"),
        ("/absent.csv", "répondu 404"),
        ("/paca.csv", "aucune commune de la région 84"),
    ],
)
def test_a_bad_download_keeps_the_last_good_copy_and_the_store(server, store_copy, tmp_path, path, message):
    folder = tmp_path / "couverture"
    assert fetch(store_copy, server + "/couverture.csv", folder).exit_code == 0
    before = (dump(store_copy), answers(store_copy))
    result = fetch(store_copy, server + path, folder)
    assert result.exit_code == 1
    assert message in result.stderr and "dernière copie valide est gardée" in result.stderr, result.stderr
    assert (folder / "couverture.csv").read_bytes() == SAMPLE
    assert sorted(p.name for p in folder.iterdir()) == ["couverture.csv"]
    assert (dump(store_copy), answers(store_copy)) == before


def test_a_bad_first_download_writes_nothing(server, store_copy, tmp_path):
    before = (dump(store_copy), answers(store_copy))
    result = fetch(store_copy, server + "/tronque.csv", tmp_path / "couverture")
    assert result.exit_code == 1 and "dernière copie" not in result.stderr
    assert not (tmp_path / "couverture").exists() or not any((tmp_path / "couverture").iterdir())
    assert (dump(store_copy), answers(store_copy)) == before


def test_dry_run_downloads_and_checks_but_writes_nothing_in_the_store(server, store_copy, tmp_path):
    before = (dump(store_copy), answers(store_copy))
    result = fetch(store_copy, server + "/couverture.csv", tmp_path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["crees"] == 150
    assert (dump(store_copy), answers(store_copy)) == before
    assert stored(store_copy, AMBERT) == (LIVRADOIS, "territoire_probable")


def test_refused_scheme(store_copy, tmp_path):
    result = fetch(store_copy, "file:///etc/passwd", tmp_path)
    assert result.exit_code == 1 and "http ou https" in result.stderr
