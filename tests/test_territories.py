"""Issue 11: every commune of the région has one Mission locale, by the rule; territories are stored."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import requests
import shapely
from click.testing import CliRunner
from store_helpers import as_version
from territory_helpers import naive_answer

from locator import config, lookup
from locator.cli import main
from locator.ingest.build import build
from locator.store import territories as store_territories
from locator.store.schema import SCHEMA_VERSION
from locator.testing import serve_in_background


@pytest.fixture(scope="module")
def built_store(inferred_store):
    """Issue 11's inference: the national store built with COUVERTURE='' (no coverage list)."""
    return inferred_store


SEED = Path(config.SEED)


def test_every_commune_of_the_region_gets_the_rule_s_answer(conn):
    stored = store_territories.competences(conn)
    communes = {c["code"]: c for c in store_territories.region_communes(conn, "84")}
    assert len(stored) == len(communes) > 4000
    votes: dict = {}
    for row in stored:
        c = communes[row["code_insee"]]
        assert row["methode"] == "territoire_probable"  # no coverage list in the seed
        assert row["structure_id"] == naive_answer(conn, c["code"], votes), c["code"]
    assert len(votes) > 50  # many intercommunalities where no Mission locale receives: a vote


@pytest.mark.parametrize(
    ("commune", "ml"),
    [
        ("74105", "mission-locale-du-chablais-74281"),  # Douvaine: the Chablais receives there
        ("03103", "mission-locale-de-moulins-et-sa-region-03190"),  # Le Donjon → Moulins, not Vichy
        ("03053", "mission-locale-de-moulins-et-sa-region-03190"),  # Chantelle → Moulins, not Vichy
        ("69010", "mission-locale-nord-ouest-rhone-69243"),  # L'Arbresle
        ("69171", "mission-locale-nord-ouest-rhone-69243"),  # Sain-Bel
        ("69112", "mission-locale-nord-ouest-rhone-69243"),  # Lentilly
    ],
)
def test_the_issue_s_communes_get_the_mission_locale_that_receives_near_them(conn, commune, ml):
    answer = lookup.competent(conn, commune)
    assert answer["methode"] == "territoire_probable"
    assert answer["mission_locale"]["id"] == ml
    assert store_territories.competence(conn, commune)["structure_id"] == ml


@pytest.mark.parametrize("commune", ["38189", "38087", "38316"])  # Heyrieux, Chasse-sur-Rhône, Pont-de-Chéruy
def test_isere_communes_stay_with_an_isere_mission_locale(conn, commune):
    assert lookup.competent(conn, commune)["mission_locale"]["departement"] == "38"


def test_douvaine_s_reason_names_its_intercommunality_the_site_and_says_it_is_inferred(conn):
    raison = lookup.competent(conn, "74105")["raison"]
    assert raison.startswith(
        "Douvaine fait partie de la communauté d'agglomération Thonon Agglomération, où la Mission "
        "locale du Chablais est la seule Mission locale à recevoir (elle reçoit à Douvaine, à "
    )
    assert "territoire probable, déduit des lieux d’accueil" in raison
    assert "pas encore importée" not in raison
    ambert = lookup.competent(conn, "63003")["raison"]  # from tests/test_api.py before issue 17
    assert ambert.startswith(
        "Ambert fait partie de la communauté de communes Ambert Livradois Forez, où la Mission locale du "
        "Livradois-Forez est la seule Mission locale à recevoir (elle reçoit à Ambert, à "
    )


def test_a_commune_where_no_mission_locale_receives_says_how_its_intercommunality_voted(conn):
    # Heyrieux: no site in Collines Isère Nord Communauté; most of its communes are nearest to Nord-Isère.
    answer = lookup.competent(conn, "38189")
    assert answer["methode"] == "territoire_probable"
    assert answer["mission_locale"]["id"] == "mission-locale-nord-isere-38053"
    assert re.match(
        r"Heyrieux fait partie de la communauté de communes Collines Isère Nord Communauté, où aucune "
        r"Mission locale ne reçoit ; pour (\d+) de ses (\d+) communes, la Mission locale du département qui "
        r"reçoit le plus près est la Mission locale Nord Isère \(pour Heyrieux : à ",
        answer["raison"],
    )


def test_a_commune_of_a_metropolis_goes_to_the_nearest_of_the_missions_locales_receiving_there(conn):
    raison = lookup.competent(conn, "38185")["raison"]
    assert raison.startswith(
        "Grenoble fait partie de l’intercommunalité Grenoble-Alpes-Métropole, où reçoivent 6 Missions "
        "locales ; la plus proche est la Mission locale de Grenoble, qui reçoit à Grenoble, à "
    )


def test_the_61_territories_cover_the_region_without_overlap(conn):
    rows = store_territories.territories(conn)
    assert len(rows) == 61
    assert sum(r["communes"] for r in rows) == len(store_territories.competences(conn))
    shapes = [
        shapely.from_geojson(store_territories.territory(conn, r["structure_id"])["geometrie"]) for r in rows
    ]
    assert all(s.geom_type == "MultiPolygon" and s.is_valid for s in shapes)
    total = shapely.union_all(shapes).area
    # Simplified outlines may overlap along shared borders by a sliver, never by a commune.
    assert sum(s.area for s in shapes) == pytest.approx(total, rel=0.01)


def test_territory_geojson_endpoint(client):
    r = client.get("/api/v1/structures/mission-locale-du-chablais-74281/territoire.geojson")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    body = json.loads(r.data)
    assert body["type"] == "Feature" and body["geometry"]["type"] == "MultiPolygon"
    props = body["properties"]
    assert props["communes"] == props["par_territoire_probable"] + props["par_couverture"] > 10
    assert props["population"] > 100000
    missing = client.get("/api/v1/structures/cio-d-ambert-63003/territoire.geojson")
    assert missing.status_code == 404 and "Mission locale" in missing.get_json()["erreur"]


def test_territories_page_lists_every_mission_locale(client):
    body = client.get("/territoires").get_data(as_text=True)
    assert body.count('<tr><td><a href="/structures/') == 61
    assert "Mission locale du Chablais" in body


def _as_schema_5(path) -> None:
    """Turn a store into one built before intercommunalities were stored (schema 5, an older reference)."""
    as_version(path, "5")
    with sqlite3.connect(path) as c:
        c.execute("UPDATE meta SET value = 'an-older-reference' WHERE key = 'reference_checksum'")
    c.close()


def _as_schema_4(path) -> None:
    """Turn a store into one built before territories existed (schema 4), exactly as it was made."""
    as_version(path, "4")


def test_a_store_of_schema_5_is_served_then_gets_its_intercommunalities_at_the_next_build(
    store_copy, built_store
):
    _as_schema_5(store_copy)
    with serve_in_background(store_copy) as base:
        # Until the next build no commune has an intercommunality: each is decided alone.
        douvaine = requests.get(base + "/api/v1/communes/74105/mission-locale", timeout=60).json()
        assert douvaine["mission_locale"]["id"] == "mission-locale-du-chablais-74281"
        assert douvaine["raison"].startswith(
            "La Mission locale du Chablais est la Mission locale du département qui reçoit le plus près "
            "de Douvaine : à Douvaine, à "
        )
    build(store_copy, SEED, say=lambda _m: None)
    with sqlite3.connect(store_copy) as c, sqlite3.connect(built_store) as fresh:
        assert (
            c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == SCHEMA_VERSION
        )
        assert c.execute("SELECT COUNT(*) FROM epci").fetchone()[0] > 100
        sql = "SELECT code_insee, structure_id, methode FROM competences ORDER BY 1"
        assert c.execute(sql).fetchall() == fresh.execute(sql).fetchall()
    c.close()
    fresh.close()


def test_a_store_of_schema_4_is_served_with_its_territories(store_copy):
    _as_schema_4(store_copy)
    with serve_in_background(store_copy) as base:
        r = requests.get(
            base + "/api/v1/structures/mission-locale-du-chablais-74281/territoire.geojson", timeout=60
        )
        assert r.status_code == 200 and r.json()["properties"]["communes"] > 10
        douvaine = requests.get(base + "/api/v1/communes/74105/mission-locale", timeout=60).json()
        assert douvaine["mission_locale"]["id"] == "mission-locale-du-chablais-74281"
        page = requests.get(base + "/territoires", timeout=60).text
        assert page.count('<tr><td><a href="/structures/') == 61


@pytest.mark.parametrize("older", [_as_schema_4, _as_schema_5])
def test_a_restored_backup_of_an_older_schema_gets_its_territories(store_copy, tmp_path, older):
    old = tmp_path / "ancienne.sqlite"
    shutil.copyfile(store_copy, old)
    older(old)
    result = CliRunner().invoke(main, ["restore", str(old), "--db", str(store_copy), "--yes"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store_copy) as c:
        assert c.execute("SELECT COUNT(*) FROM competences").fetchone()[0] > 4000
        assert c.execute("SELECT COUNT(*) FROM territoires").fetchone()[0] == 61
    c.close()


def test_a_territory_search_for_a_commune_of_another_region_points_to_the_national_finder(client, app):
    body = client.get("/territoires?commune=Dijon").get_data(as_text=True)
    answer = body[
        body.index('id="territoire-trouve"') : body.index("</section>", body.index('id="territoire-trouve"'))
    ]
    assert "Dijon (21)" in answer and "hors de la région" in answer
    assert "Sa Mission locale" not in answer and "data-mission-locale" not in answer
    assert f'href="{app.config["NATIONAL_FINDER_URL"]}"' in answer
