"""Placing a file's points in their communes in bulk gives the answers of the one-point look-up, with
GeoPandas (offline jobs) as with Shapely (the wizard).

Real communes of the small store (Haute-Loire, Puy-de-Dôme, Rhône, Haute-Savoie): their centres, Lyon's
arrondissements, a pile of rows on one point, rows sorted by commune, and a name several communes share.
"""

from __future__ import annotations

import random

import pytest
import shapely

from locator.geo.distance import haversine_km
from locator.ingest.geocoders import OfflineGeocoder
from locator.ingest.place import PlaceResolver
from locator.places.communes import commune_at
from locator.store import communes as store_communes
from locator.store.db import connect

AMBERT = "63003"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """The small store is enough: the fast tier."""
    return small_built_store


@pytest.fixture(params=[False, True], ids=["shapely-wizard", "geopandas-offline"])
def resolver(conn, request):
    """Both engines: Shapely (the wizard, in a web worker) and GeoPandas (`locator import`, the build)."""
    return PlaceResolver(conn, OfflineGeocoder(), 2.0, offline=request.param)


def _centres(conn, departement: str) -> list[tuple[str, float, float]]:
    rows = conn.execute(
        "SELECT code, latitude, longitude FROM communes WHERE departement = ? AND latitude IS NOT NULL "
        "ORDER BY code",
        (departement,),
    )
    return [tuple(r) for r in rows]


def test_points_alone_get_the_commune_the_one_point_look_up_gives(conn, resolver):
    rng = random.Random(63)
    points = []
    for _code, lat, lon in _centres(conn, "63") + _centres(conn, "69"):
        points.append((lat, lon))
        points.append((lat + rng.uniform(-0.02, 0.02), lon + rng.uniform(-0.02, 0.02)))
    places = resolver.resolve_many([{"latitude": lat, "longitude": lon} for lat, lon in points])
    assert len(places) == len(points) > 1000
    for (lat, lon), place in zip(points, places, strict=True):
        expected = commune_at(conn, lat, lon)
        if expected is None:
            assert place.commune is None and place.errors == [
                "le point ne tombe dans aucune commune française"
            ]
        else:
            assert place.commune["code"] == expected["code"], (lat, lon)
            assert (place.latitude, place.longitude) == (round(lat, 6), round(lon, 6))


def test_a_point_in_lyon_gets_its_arrondissement_not_the_city(conn, resolver):
    arrondissements = [c for c in _centres(conn, "69") if c[0].startswith("6938")]
    assert len(arrondissements) == 9
    places = resolver.resolve_many([{"latitude": lat, "longitude": lon} for _c, lat, lon in arrondissements])
    assert [p.commune["code"] for p in places] == [c[0] for c in arrondissements]


def test_a_pile_of_rows_on_one_point_is_placed_like_a_single_row(conn, resolver):
    (lat, lon) = conn.execute("SELECT latitude, longitude FROM communes WHERE code = ?", (AMBERT,)).fetchone()
    far = lat + 0.1  # 11 km north of Ambert's centre: outside its contour, farther than 2 km
    inside = {"code_insee": AMBERT, "latitude": lat, "longitude": lon}
    outside = {"code_insee": AMBERT, "latitude": far, "longitude": lon}
    alone = [PlaceResolver(conn, OfflineGeocoder(), 2.0).resolve(dict(r)) for r in (inside, outside)]
    piled = resolver.resolve_many([dict(inside) for _ in range(400)] + [dict(outside) for _ in range(400)])
    assert all(p == alone[0] for p in piled[:400]) and all(p == alone[1] for p in piled[400:])
    assert alone[0].precision == "source" and not alone[0].warnings
    (warning,) = alone[1].warnings
    assert warning.startswith("le point est à ") and "non retenu" in warning
    # the point is not kept: the offline geocoder puts the row on Ambert's centre, 11.1 km south of it
    assert alone[1].precision == "commune"
    assert haversine_km(alone[1].latitude, alone[1].longitude, far, lon) == pytest.approx(11.12, abs=0.05)
    distance_km = float(warning.split(" km")[0].rsplit(" ", 1)[1].replace(",", "."))
    assert 2.0 < distance_km < 11.12


def test_rows_sorted_by_commune_keep_their_order_and_their_own_commune(conn, resolver):
    rows = []
    for code, lat, lon in _centres(conn, "43")[:60]:
        rows += [{"code_insee": code, "latitude": lat, "longitude": lon} for _ in range(5)]
    places = resolver.resolve_many(rows)
    assert [p.commune["code"] for p in places] == [r["code_insee"] for r in rows]
    one_by_one = [PlaceResolver(conn, OfflineGeocoder(), 2.0).resolve(dict(r)) for r in rows[::5]]
    assert places[::5] == one_by_one


def test_contours_read_for_the_named_communes_and_for_every_commune_answer_alike(conn, resolver):
    # Offline, a chunk of rows naming their commune decodes those communes' contours only; a row known by
    # its point alone loads every commune's, which the next chunks use: the answers are the same.
    named = [
        {"code_insee": code, "latitude": lat + 0.045, "longitude": lon}  # 5 km north of the centre
        for code, lat, lon in _centres(conn, "63")[:160]
    ]
    alone = [{"latitude": lat, "longitude": lon} for _c, lat, lon in _centres(conn, "43")[:5]]
    before = resolver.resolve_many([dict(r) for r in named[:80]])
    resolver.resolve_many([dict(r) for r in alone])
    after = resolver.resolve_many([dict(r) for r in named])  # 80 communes met before, 80 not
    one_by_one = [PlaceResolver(conn, OfflineGeocoder(), 2.0).resolve(dict(r)) for r in named]
    assert before + after[80:] == one_by_one and after == one_by_one
    kept = [p.precision == "source" for p in one_by_one]
    assert 20 < kept.count(True) < 140  # points in their commune or near it, and points too far from it
    if resolver.offline:  # a wrong contour would only cost a distance: each one decoded is checked
        contours = store_communes.contours_of(conn, [r["code_insee"] for r in named])
        assert all(resolver._shapes[c].equals(shapely.from_wkb(w)) for c, w in contours.items())


def test_a_name_several_communes_share_is_settled_by_the_point(built_store):
    conn = connect(built_store)
    try:
        shared = conn.execute(
            "SELECT nom FROM communes WHERE type = 'COM' GROUP BY nom HAVING COUNT(*) > 1 "
            "ORDER BY nom LIMIT 1"
        ).fetchone()[0]
        homonyms = conn.execute(
            "SELECT code, latitude, longitude FROM communes WHERE nom = ? ORDER BY code", (shared,)
        ).fetchall()
        rows = [{"commune": shared, "latitude": lat, "longitude": lon} for _code, lat, lon in homonyms]
        places = PlaceResolver(conn, OfflineGeocoder(), 2.0).resolve_many(rows * 3)
        assert [p.commune["code"] for p in places] == [h[0] for h in homonyms] * 3
        without_point = PlaceResolver(conn, OfflineGeocoder(), 2.0).resolve({"commune": shared})
        assert without_point.errors and len(without_point.candidates) == len(homonyms)
    finally:
        conn.close()


CHILD = """
import sys
from pathlib import Path
from locator.ingest.importer import import_file, plan_rows
from locator.store.db import connect, writer

store, csv, how = sys.argv[1:]
if how == "wizard":  # what the admin wizard runs inside a web worker
    conn = connect(store, scratch=True)
    _plan, rows = plan_rows(conn, Path(csv))
    actions = [r.action for r in rows]
else:  # locator import
    db = writer(store)
    actions = ["nouveau"] * import_file(db, Path(csv))["crees"]
print(actions.count("nouveau"), "geopandas" in sys.modules)
"""


@pytest.mark.parametrize("how, loaded", [("wizard", "False"), ("cli", "True")])
def test_geopandas_places_the_points_of_locator_import_and_never_loads_in_the_wizard(
    store_copy, tmp_path, how, loaded
):
    import subprocess
    import sys

    csv = tmp_path / "points.csv"
    csv.write_text(
        "type;nom;code_insee;latitude;longitude\n"
        "cio;CIO d’essai d’Ambert;63003;45,5497;3,7417\n"
        "partenaire;Point d’essai de Lyon;;45,7640;4,8357\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(store_copy), str(csv), how],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["2", loaded]


def test_a_commune_name_written_differently_is_read_as_the_commune_its_postcode_serves(resolver):
    # 63800 serves Pérignat-sur-Allier (63273), Cournon…: « Pérignat-ès-Allier » means the first.
    (place,) = resolver.resolve_many([{"code_postal": "63800", "commune": "Pérignat-ès-Allier"}])
    assert place.commune["code"] == "63273" and place.code_postal == "63800" and not place.errors
    assert place.warnings[0] == (
        "commune « Pérignat-ès-Allier » lue comme Pérignat-sur-Allier (63273), "
        "que dessert le code postal 63800"
    )
    assert not any("ne dessert pas" in w for w in place.warnings)
