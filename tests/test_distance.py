"""Great-circle distances between real town halls, checked against independent computations."""

from __future__ import annotations

import math

import pytest
from geographiclib.geodesic import Geodesic
from pyproj import Geod

from locator.geo.distance import EARTH_RADIUS_KM, bbox_around, haversine_km, in_words
from locator.store import communes

# The exact geodesic on a sphere of the same radius, from an independent library (GeographicLib).
SPHERE = Geodesic(EARTH_RADIUS_KM * 1000, 0)
WGS84 = Geod(ellps="WGS84")

PAIRS = [
    ("63003", "63430"),  # Ambert – Thiers
    ("63003", "43157"),  # Ambert – Le Puy-en-Velay
    ("69383", "74010"),  # Lyon 3e – Annecy
    ("69123", "75056"),  # Lyon – Paris
    ("63113", "97411"),  # Clermont-Ferrand – Saint-Denis (La Réunion): 9,000 km
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_town_hall_distance_matches_sphere_geodesic(conn, a, b):
    ca, cb = communes.get(conn, a), communes.get(conn, b)
    ours = haversine_km(ca["latitude"], ca["longitude"], cb["latitude"], cb["longitude"])
    exact = SPHERE.Inverse(ca["latitude"], ca["longitude"], cb["latitude"], cb["longitude"])["s12"] / 1000
    assert ours == pytest.approx(exact, abs=1e-6)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_town_hall_distance_within_half_percent_of_ellipsoid(conn, a, b):
    ca, cb = communes.get(conn, a), communes.get(conn, b)
    ours = haversine_km(ca["latitude"], ca["longitude"], cb["latitude"], cb["longitude"])
    _, _, metres = WGS84.inv(ca["longitude"], ca["latitude"], cb["longitude"], cb["latitude"])
    assert ours == pytest.approx(metres / 1000, rel=0.005)


def test_ambert_thiers_is_about_37_km_as_the_crow_flies(conn):
    ca, cb = communes.get(conn, "63003"), communes.get(conn, "63430")
    assert 37.0 < haversine_km(ca["latitude"], ca["longitude"], cb["latitude"], cb["longitude"]) < 37.6


def test_antipodes_are_half_a_circumference_apart():
    assert haversine_km(45.0, 3.0, -45.0, -177.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)


@pytest.mark.parametrize("lat", [0.0, 45.77, 70.0, -33.9])
@pytest.mark.parametrize("radius", [0.5, 10.0, 250.0, 3000.0])
def test_bbox_holds_every_point_of_the_circle(lat, radius):
    min_lat, max_lat, min_lon, max_lon = bbox_around(lat, 3.08, radius)
    for azimuth in range(0, 360, 5):
        line = SPHERE.Direct(lat, 3.08, azimuth, radius * 1000 * (1 - 1e-12))
        assert min_lat <= line["lat2"] <= max_lat
        assert min_lon <= line["lon2"] <= max_lon or (min_lon, max_lon) == (-180.0, 180.0)


def test_bbox_spans_every_longitude_near_a_pole():
    assert bbox_around(89.5, 10.0, 100)[2:] == (-180.0, 180.0)


@pytest.mark.parametrize(
    ("km", "words"),
    [
        (0.0, "10 m"),  # never "0 m" nor "0,0 km"
        (0.004, "10 m"),
        (0.44, "440 m"),
        (0.405, "410 m"),
        (0.994, "990 m"),
        (0.995, "1,0 km"),  # 995 m would round to "1000 m": said in kilometres
        (1.88, "1,9 km"),
        (4.25, "4,3 km"),  # halves go up, whatever the float below
        (9.949, "9,9 km"),
        (9.95, "10 km"),  # never "10,0 km"
        (63.7, "64 km"),
        (125.2, "125 km"),
    ],
)
def test_distances_read_with_one_french_rule(km, words):
    assert in_words(km) == words


def test_the_apis_rounded_distance_reads_like_the_exact_one(conn):
    # The API gives distance_km to the metre: a page's words and the API's figure must never disagree.
    lyon = communes.get(conn, "69383")
    for code in ("69123", "69381", "63430", "74010", "43157"):
        c = communes.get(conn, code)
        d = haversine_km(lyon["latitude"], lyon["longitude"], c["latitude"], c["longitude"])
        assert in_words(round(d, 3)) == in_words(d)
    for metres in range(0, 12_000, 1):
        d = metres / 1000 + 0.0004999
        assert in_words(round(d, 3)) == in_words(d)
