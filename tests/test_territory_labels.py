"""Issue 19 item 5: each territory's name has a stored position, inside it and clear of the other names
(computed offline, schema 7), sent with the territories' GeoJSON; a store of schema 6 gets them."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
import shapely
from shapely.ops import polylabel
from store_helpers import as_version

from locator import territories
from locator.geo import labels
from locator.store import territories as store_territories
from locator.store.schema import SCHEMA_VERSION

LYON = (45.764, 4.836)


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Four départements, the Rhône's crowded metropolis among them: the small store (fast tier)."""
    return small_built_store


def _territories(conn) -> list[tuple[str, str, object, tuple[float, float]]]:
    """(id, label text, outline, stored label position) of every drawn territory."""
    rows = conn.execute(
        "SELECT t.structure_id, s.nom, t.geometrie, t.etiquette_latitude, t.etiquette_longitude "
        "FROM territoires t JOIN structures s ON s.id = t.structure_id WHERE t.geometrie IS NOT NULL"
    ).fetchall()
    return [(r[0], r[1], shapely.from_geojson(r[2]), (r[3], r[4])) for r in rows]


def _boxes(entries, positions, zoom):
    out = []
    for key, text, _shape, _stored in entries:
        lat, lon = positions[key]
        out.append((*labels.to_pixels(lon, lat, zoom), *labels.box_size(text)))
    return out


def _near_lyon(entries, km=40):
    from locator.geo.distance import haversine_km

    return [e for e in entries if haversine_km(*LYON, *e[3]) < km]


def test_every_territory_has_its_name_inside_it(conn):
    entries = _territories(conn)
    assert len(entries) > 20
    for key, _text, shape, (lat, lon) in entries:
        assert lat is not None and lon is not None, key
        assert shape.contains(shapely.Point(lon, lat)), key


def test_names_around_lyon_do_not_overlap_where_the_plain_poles_would(conn):
    entries = _near_lyon(_territories(conn))
    assert len(entries) >= 8  # Lyon, Villeurbanne, Vaulx-en-Velin, Vénissieux, Bron…
    stored = {key: pos for key, _t, _s, pos in entries}
    poles = {}
    for key, _text, shape, _pos in entries:
        pole = polylabel(max(shapely.get_parts(shape), key=lambda g: g.area), tolerance=0.0005)
        poles[key] = (pole.y, pole.x)
    zoom = labels.REFERENCE_ZOOM
    assert labels.overlaps(_boxes(entries, poles, zoom))  # each name at its own pole: they collide
    assert labels.overlaps(_boxes(entries, stored, zoom)) == []
    assert labels.overlaps(_boxes(entries, stored, zoom + 1)) == []  # closer, still clear


def test_the_territories_geojson_carries_each_name_s_position(client, conn):
    body = client.get("/api/v1/territoires.geojson").get_json()
    stored = {key: pos for key, _t, _s, pos in _territories(conn)}
    assert len(body["features"]) == len(stored)
    for feature in body["features"]:
        spot = feature["properties"]["etiquette"]
        assert (spot["latitude"], spot["longitude"]) == stored[feature["properties"]["id"]]


def test_a_store_of_schema_6_gets_its_name_positions_when_brought_up_to_date(store_copy, built_store):
    as_version(store_copy, "6")
    with closing(sqlite3.connect(store_copy)) as c:
        columns = {r[1] for r in c.execute("PRAGMA table_info(territoires)")}
    assert "etiquette_latitude" not in columns
    done = territories.migrate(store_copy, "84")
    assert done is not None and done["territoires"] > 20
    with closing(sqlite3.connect(store_copy)) as c, closing(sqlite3.connect(built_store)) as fresh:
        assert (
            c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == SCHEMA_VERSION
        )
        assert store_territories.unlabelled(c) == 0
        sql = "SELECT structure_id, etiquette_latitude, etiquette_longitude FROM territoires ORDER BY 1"
        assert c.execute(sql).fetchall() == fresh.execute(sql).fetchall()
    assert territories.migrate(store_copy, "84") is None  # nothing left to do


def test_the_label_box_grows_with_its_text():
    short, long = (
        labels.box_size("Mission locale de Lyon"),
        labels.box_size("Mission locale Rhône Sud (MIFIVA)"),
    )
    assert long[0] > short[0] and long[1] == short[1]
    x, y = labels.to_pixels(4.836, 45.764)
    lon, lat = labels.to_degrees(x, y)
    assert lon == pytest.approx(4.836) and lat == pytest.approx(45.764)
