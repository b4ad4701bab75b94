"""Issue 11: every commune of the région has one Mission locale, by the rule; territories are stored."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
import requests
import shapely
from click.testing import CliRunner
from store_helpers import as_version

from locator import lookup
from locator.cli import main
from locator.geo.distance import haversine_km
from locator.store import territories as store_territories
from locator.testing import serve_in_background


def _naive(conn, departement: str, lat: float, lon: float) -> str | None:
    """The rule written the slow, obvious way: every published site of the département's Missions locales."""
    rows = conn.execute(
        "SELECT id, latitude, longitude FROM structures WHERE type = 'mission_locale' AND statut = 'publie' "
        "AND departement = ? AND latitude IS NOT NULL",
        (departement,),
    ).fetchall()
    best = None
    for ml_id, mlat, mlon in rows:
        sites = [(mlat, mlon, ml_id)] + conn.execute(
            "SELECT latitude, longitude, id FROM structures WHERE parent_id = ? AND statut = 'publie' "
            "AND type IN ('mission_locale', 'antenne_mission_locale') AND latitude IS NOT NULL",
            (ml_id,),
        ).fetchall()
        for slat, slon, sid in sites:
            key = (haversine_km(lat, lon, slat, slon), ml_id, sid)
            best = key if best is None or key < best else best
    return best[1] if best else None


def test_every_commune_of_the_region_gets_the_rule_s_answer(conn):
    stored = store_territories.competences(conn)
    communes = {c["code"]: c for c in store_territories.region_communes(conn, "84")}
    assert len(stored) == len(communes) > 4000
    for row in stored:
        c = communes[row["code_insee"]]
        assert row["methode"] == "territoire_probable"  # no coverage list in the seed
        assert row["structure_id"] == _naive(conn, c["departement"], c["latitude"], c["longitude"]), c["code"]


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


def test_douvaine_s_reason_names_the_site_and_its_distance(conn):
    raison = lookup.competent(conn, "74105")["raison"]
    assert raison.startswith("La Mission locale du Chablais reçoit à Douvaine, à 0,")
    assert raison.endswith("la liste officielle des communes couvertes n'est pas encore importée.")


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


def _as_schema_4(path) -> None:
    """Turn a store into one built before territories existed (schema 4), exactly as it was made."""
    as_version(path, "4")


def test_a_store_of_schema_4_is_served_with_its_territories(store_copy):
    _as_schema_4(store_copy)
    with serve_in_background(store_copy) as base:
        r = requests.get(
            base + "/api/v1/structures/mission-locale-du-chablais-74281/territoire.geojson", timeout=10
        )
        assert r.status_code == 200 and r.json()["properties"]["communes"] > 10
        douvaine = requests.get(base + "/api/v1/communes/74105/mission-locale", timeout=10).json()
        assert douvaine["mission_locale"]["id"] == "mission-locale-du-chablais-74281"
        page = requests.get(base + "/territoires", timeout=10).text
        assert page.count('<tr><td><a href="/structures/') == 61


def test_a_restored_backup_of_schema_4_gets_its_territories(store_copy, tmp_path):
    old = tmp_path / "ancienne.sqlite"
    shutil.copyfile(store_copy, old)
    _as_schema_4(old)
    result = CliRunner().invoke(main, ["restore", str(old), "--db", str(store_copy), "--yes"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store_copy) as c:
        assert c.execute("SELECT COUNT(*) FROM competences").fetchone()[0] > 4000
        assert c.execute("SELECT COUNT(*) FROM territoires").fetchone()[0] == 61
    c.close()
