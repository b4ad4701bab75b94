"""GeoPackage exports (CLI and API) read back with GeoPandas, and the analysts' GeoDataFrames.

The API's files are written by a child process (a web worker never loads GeoPandas) and kept in a
cache directory until the store's published rows change.
"""

from __future__ import annotations

import sqlite3

import geopandas
import pyogrio
import pytest
from admin_helpers import new_app
from click.testing import CliRunner

from locator.cli import main
from locator.geo.distance import haversine_km
from locator.publish import frames
from locator.store.db import writer

# The seed's 193 rows and the 2 Missions locales of other régions the coverage list names.
PUBLISHED = 195
AMBERT = "63003"
AMBERT_ML = "mission-locale-du-livradois-forez-63003"


def _stored(db, sid: str) -> tuple[float, float]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT latitude, longitude FROM structures WHERE id = ?", (sid,)).fetchone()


def _centre(db, code: str) -> tuple[float, float]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT latitude, longitude FROM communes WHERE code = ?", (code,)).fetchone()


def _territories(db) -> int:
    with sqlite3.connect(db) as c:
        return c.execute(
            "SELECT COUNT(*) FROM territoires t JOIN structures s ON s.id = t.structure_id "
            "WHERE s.statut = 'publie'"
        ).fetchone()[0]


def _check_structures_layer(frame: geopandas.GeoDataFrame, db, published: int) -> None:
    assert frame.crs.to_epsg() == 4326
    assert len(frame) == published
    ambert = frame[frame["id"] == AMBERT_ML].iloc[0]
    lat, lon = _stored(db, AMBERT_ML)
    # x is the longitude, y the latitude; the Mission locale is in Ambert, under 1 km from its centre
    assert (ambert.geometry.x, ambert.geometry.y) == pytest.approx((lon, lat), abs=1e-6)
    assert haversine_km(ambert.geometry.y, ambert.geometry.x, *_centre(db, AMBERT)) < 1.0
    assert ambert["code_insee"] == AMBERT and ambert["type"] == "mission_locale"


def test_cli_writes_a_geopackage_with_structures_and_territories(built_store, tmp_path):
    out = tmp_path / "annuaire.gpkg"
    result = CliRunner().invoke(
        main, ["export", "--db", str(built_store), "--format", "gpkg", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"{PUBLISHED} structure(s)" in result.stderr
    layers = dict(map(tuple, pyogrio.list_layers(out)))
    assert layers == {"structures": "Point", "territoires": "MultiPolygon"}
    _check_structures_layer(geopandas.read_file(out, layer="structures"), built_store, PUBLISHED)
    territories = geopandas.read_file(out, layer="territoires")
    assert territories.crs.to_epsg() == 4326 and len(territories) == _territories(built_store)
    livradois = territories[territories["structure_id"] == AMBERT_ML].iloc[0]
    assert livradois.geometry.contains(
        geopandas.points_from_xy([_centre(built_store, AMBERT)[1]], [_centre(built_store, AMBERT)[0]])[0]
    )
    assert not list(tmp_path.glob(".*"))  # the partial file was renamed, nothing left beside


def test_cli_geopackage_needs_an_output_file_and_says_so_in_french(built_store, tmp_path):
    result = CliRunner().invoke(main, ["export", "--db", str(built_store), "--format", "gpkg"])
    assert result.exit_code == 2 and "ajoutez --output" in result.stderr
    result = CliRunner().invoke(
        main,
        [
            "export",
            "--db",
            str(built_store),
            "--format",
            "gpkg",
            "--output",
            str(tmp_path / "absent" / "a.gpkg"),
        ],
    )
    assert result.exit_code == 1 and "impossible d’écrire" in result.stderr
    assert "Traceback" not in result.output


def test_api_geopackages_are_cached_until_the_store_changes(store_copy, tmp_path):
    cache = tmp_path / "exports"
    app = new_app({"DB": str(store_copy), "TESTING": True, "SECRET_KEY": "t", "EXPORT_CACHE_DIR": str(cache)})
    client = app.test_client()
    first = client.get("/api/v1/structures.gpkg")
    assert first.status_code == 200 and first.mimetype == "application/geopackage+sqlite3"
    assert "filename=structures.gpkg" in first.headers["Content-Disposition"]
    (written,) = cache.glob("structures-*.gpkg")
    _check_structures_layer(geopandas.read_file(written), store_copy, PUBLISHED)
    again = client.get("/api/v1/structures.gpkg", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert list(cache.glob("structures-*.gpkg")) == [written]

    with writer(store_copy) as db, db.conn:
        db.execute("UPDATE structures SET statut = 'brouillon' WHERE id = ?", (AMBERT_ML,))
    changed = client.get("/api/v1/structures.gpkg", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    (renewed,) = cache.glob("structures-*.gpkg")  # the stale file is gone
    assert renewed != written
    frame = geopandas.read_file(renewed)
    assert len(frame) == PUBLISHED - 1 and AMBERT_ML not in set(frame["id"])

    territories = client.get("/api/v1/territoires.gpkg")
    assert territories.status_code == 200
    (layer_file,) = cache.glob("territoires-*.gpkg")
    frame = geopandas.read_file(layer_file)
    assert frame.crs.to_epsg() == 4326 and len(frame) == _territories(store_copy)
    assert AMBERT_ML not in set(frame["structure_id"])  # unpublished: its territory is left out too


def test_api_says_in_french_when_the_geopackage_cannot_be_written(built_store, tmp_path):
    blocked = tmp_path / "fichier"
    blocked.write_text("not a directory")
    app = new_app(
        {"DB": str(built_store), "TESTING": True, "SECRET_KEY": "t", "EXPORT_CACHE_DIR": str(blocked)}
    )
    r = app.test_client().get("/api/v1/territoires.gpkg")
    assert r.status_code == 503 and "GeoPackage" in r.get_json()["erreur"]


def test_frames_give_structures_territories_and_communes_with_their_mission_locale(built_store):
    structures = frames.structures(built_store)
    _check_structures_layer(structures, built_store, PUBLISHED)
    territories = frames.territories(built_store)
    assert territories.crs.to_epsg() == 4326 and len(territories) == _territories(built_store)
    communes = frames.communes(built_store)
    assert communes.crs.to_epsg() == 4326
    ambert = communes.loc[AMBERT]
    assert ambert["nom"] == "Ambert" and ambert["mission_locale"] == AMBERT_ML
    assert ambert["methode"] == "couverture"
    # the Mission locale's point lies in its commune's contour, and in its territory
    point = structures.loc[AMBERT_ML].geometry
    assert ambert.geometry.contains(point) and territories.loc[AMBERT_ML].geometry.contains(point)
    # the README's example: dissolving communes by Mission locale gives one shape per territory
    dissolved = communes.dropna(subset=["mission_locale"]).dissolve("mission_locale")
    assert set(dissolved.index) == set(communes["mission_locale"].dropna())
    assert dissolved.loc[AMBERT_ML].geometry.area == pytest.approx(
        territories.loc[AMBERT_ML].geometry.area, rel=0.05
    )
