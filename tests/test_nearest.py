"""nearest(): exact, ascending, ties by id, never missing a true neighbour (checked by brute force)."""

from __future__ import annotations

import random

import pytest

from locator import lookup
from locator.geo.distance import haversine_km
from locator.store import structures as store_structures
from locator.store.db import connect, writer


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


def brute_force(conn, lat, lon, types, limit, rayon=None):
    rows = store_structures.published(conn, types)
    scored = sorted(
        (haversine_km(lat, lon, s["latitude"], s["longitude"]), s["id"])
        for s in rows
        if s["latitude"] is not None
    )
    if rayon is not None:
        scored = [p for p in scored if p[0] <= rayon]
    return scored[:limit]


def test_nearest_mission_locale_of_ambert_is_livradois_forez(conn):
    ambert = lookup.commune_info(conn, "63003")
    (ml, d), *_ = lookup.nearest(conn, ambert["latitude"], ambert["longitude"], ["mission_locale"], 3)
    assert ml["nom"] == "Mission locale du Livradois-Forez"
    assert d < 1.0


@pytest.mark.parametrize("types", [None, ["mission_locale"], ["e2c"], ["cio", "psad"], ["epide"]])
def test_nearest_matches_brute_force_on_random_points(conn, types):
    rng = random.Random(84)
    for _ in range(150):
        # Most points in and around the région; some far away (overseas, other hemisphere).
        if rng.random() < 0.8:
            lat, lon = rng.uniform(43.5, 47.5), rng.uniform(1.5, 7.5)
        else:
            lat, lon = rng.uniform(-60, 70), rng.uniform(-180, 180)
        limit = rng.choice([1, 3, 5, 10, 25])
        got = [(round(d, 9), s["id"]) for s, d in lookup.nearest(conn, lat, lon, types, limit)]
        want = [(round(d, 9), i) for d, i in brute_force(conn, lat, lon, types, limit)]
        assert got == want, (lat, lon, types, limit)


def test_radius_limits_results_exactly(conn):
    rng = random.Random(63)
    for _ in range(100):
        lat, lon = rng.uniform(44, 47), rng.uniform(2, 7)
        rayon = rng.choice([1, 5, 20, 60])
        got = [(round(d, 9), s["id"]) for s, d in lookup.nearest(conn, lat, lon, None, 50, rayon)]
        want = [(round(d, 9), i) for d, i in brute_force(conn, lat, lon, None, 50, rayon)]
        assert got == want


def test_ties_are_broken_by_id(store_copy):
    db = writer(store_copy)
    rows = [
        {
            "id": f"tie-{c}",
            "type": "partenaire",
            "nom": f"Point {c}",
            "latitude": 10.0,
            "longitude": 10.0,
            "statut": "publie",
        }
        for c in "cab"
    ]
    with db.atomic():
        store_structures.upsert(db, rows, "2026-01-01")
    db.close()
    c = connect(store_copy)
    found = lookup.nearest(c, 10.0, 10.0, ["partenaire"], 3)
    assert [s["id"] for s, _ in found] == ["tie-a", "tie-b", "tie-c"]
    assert all(d == 0 for _, d in found)


def test_no_structure_of_a_type_gives_empty_list(conn):
    assert lookup.nearest(conn, 45.0, 3.0, ["mlds"], 5) == []


def test_drafts_and_archived_structures_are_not_served(store_copy):
    db = writer(store_copy)
    with db.atomic():
        db.execute(
            "UPDATE structures SET statut = 'archive' WHERE id = 'mission-locale-du-livradois-forez-63003'"
        )
    db.close()
    c = connect(store_copy)
    found = lookup.nearest(c, 45.5497, 3.7418, ["mission_locale"], 1)
    assert found[0][0]["id"] != "mission-locale-du-livradois-forez-63003"


def test_index_and_scan_paths_both_match_brute_force_on_a_dense_store(store_copy):
    # 1,500 "partenaire" sites (index path: more than SCAN_MAX) beside the seed's rare types (scan path).
    rng = random.Random(7)
    rows = [
        {
            "id": f"dense-{i:04d}",
            "type": "partenaire",
            "nom": f"Site {i}",
            "latitude": rng.uniform(44.1, 46.5),
            "longitude": rng.uniform(2.1, 7.2),
            "statut": "publie",
        }
        for i in range(1500)
    ]
    db = writer(store_copy)
    with db.atomic():
        store_structures.upsert(db, rows, "2026-01-01")
    db.close()
    assert lookup.SCAN_MAX < 1500
    c = connect(store_copy)
    for _ in range(200):
        lat, lon = rng.uniform(44, 46.6), rng.uniform(2, 7.3)
        types = rng.choice([["partenaire"], ["partenaire", "cio"], ["epide"], None])
        limit = rng.choice([1, 5, 12])
        got = [(round(d, 9), s["id"]) for s, d in lookup.nearest(c, lat, lon, types, limit)]
        want = [(round(d, 9), i) for d, i in brute_force(c, lat, lon, types, limit)]
        assert got == want, (lat, lon, types, limit)


def test_a_type_absent_from_the_store_answers_at_once_with_nothing(conn):
    assert lookup.nearest(conn, 45.0, 4.0, ["mlds"], 5) == []
    assert lookup.nearest(conn, 45.0, 4.0, ["mlds", "epide"], 5)[0][0]["type"] == "epide"


def test_point_answer_gives_the_nearest_of_each_kind_and_no_mission_locale_as_its_own(conn):
    lat, lon = 45.0, 3.2  # a point given by hand, in no known commune for this answer
    answer = lookup.point_answer(conn, lat, lon, ["cio", "e2c"])
    assert answer["commune"] is None and answer["methode"] == "inconnue"
    assert answer["mission_locale"] is None and "aucune Mission locale" in answer["raison"]
    assert [a["type"] for a in answer["autres"]] == ["cio", "e2c"]
    for other in answer["autres"]:
        expected = brute_force(conn, lat, lon, [other["type"]], 1)[0]
        assert (other["distance_km"], other["structure"]["id"]) == pytest.approx(expected)


def test_two_level_lists_the_other_kinds_like_the_point_answer(conn):
    ambert = lookup.commune_info(conn, "63003")
    answer = lookup.two_level(conn, "63003", others=["cio", "psad"])
    at_centre = lookup.nearest_of_each(conn, ambert["latitude"], ambert["longitude"], ["cio", "psad"])
    shown = [{k: a[k] for k in ("type", "structure", "distance_km")} for a in answer["autres"]]
    assert shown == at_centre and at_centre


def test_piles_on_town_halls_stay_exact_and_follow_every_write(store_copy):
    # What the offline geocoder makes of address-only rows: 600 sites on Thiers' town hall, 300 on Ambert's.
    c = connect(store_copy)
    halls = [lookup.commune_info(c, code) for code in ("63430", "63003")]
    c.close()
    rng = random.Random(12)
    rows = [
        {
            "id": f"pile-{rng.randrange(10**6):06d}-{i}",
            "type": rng.choice(["partenaire", "cio"]),
            "nom": f"Permanence {i}",
            "latitude": halls[i % 3 == 2]["latitude"],
            "longitude": halls[i % 3 == 2]["longitude"],
            "statut": "publie",
        }
        for i in range(900)
    ]
    db = writer(store_copy)
    with db.atomic():
        store_structures.upsert(db, rows, "2026-01-01")
        # Archiving one and moving another off the pile must leave the index exact.
        db.execute("UPDATE structures SET statut = 'archive' WHERE id = ?", (rows[0]["id"],))
        db.execute("UPDATE structures SET latitude = latitude + 0.01 WHERE id = ?", (rows[3]["id"],))
        db.execute("DELETE FROM structures WHERE id = ?", (rows[6]["id"],))
    db.close()
    c = connect(store_copy)
    thiers = halls[0]
    at = (thiers["latitude"], thiers["longitude"])
    piled = c.execute("SELECT SUM(n), COUNT(*) FROM positions WHERE latitude = ? AND longitude = ?", at)
    published = c.execute(
        "SELECT COUNT(*), COUNT(DISTINCT type) FROM structures WHERE statut = 'publie' "
        "AND latitude = ? AND longitude = ?",
        at,
    )
    assert tuple(piled.fetchone()) == tuple(published.fetchone())  # one index entry per type, counted
    for hall in halls:
        for dlat in (0.0, 0.003, -0.2):
            for types in (None, ["partenaire"], ["cio"], ["cio", "mission_locale"]):
                for limit in (1, 5, 40):
                    lat, lon = hall["latitude"] + dlat, hall["longitude"]
                    got = [(round(d, 9), s["id"]) for s, d in lookup.nearest(c, lat, lon, types, limit)]
                    want = [(round(d, 9), i) for d, i in brute_force(c, lat, lon, types, limit)]
                    assert got == want, (hall["code"], dlat, types, limit)


def test_an_open_connection_sees_writes_to_a_pile_it_has_already_read(store_copy):
    # The first rows of each position are cached per connection (the index path, no type filter):
    # a commit elsewhere must show at once.
    c = connect(store_copy)
    hall = lookup.commune_info(c, "63430")
    at = (hall["latitude"], hall["longitude"])
    rows = [
        {
            "id": f"pile-{i:03d}",
            "type": "partenaire",
            "nom": f"Permanence {i}",
            "latitude": at[0],
            "longitude": at[1],
            "statut": "publie",
        }
        for i in range(10, 30)
    ]

    def check():
        for limit in (1, 5):
            got = [(round(d, 9), s["id"]) for s, d in lookup.nearest(c, *at, None, limit)]
            assert got == [(round(d, 9), i) for d, i in brute_force(c, *at, None, limit)]

    db = writer(store_copy)
    with db.atomic():
        store_structures.upsert(db, rows, "2026-01-01")
    check()
    with db.atomic():  # a smaller id joins the pile, the first one leaves it
        store_structures.upsert(db, [dict(rows[0], id="pile-001")], "2026-01-02")
        db.execute("UPDATE structures SET statut = 'archive' WHERE id = 'pile-010'")
    check()
    assert lookup.nearest(c, *at, None, 1)[0][0]["id"] == "pile-001"
    found = lookup.nearest(c, *at, None, 1)[0][0]
    found["nom"] = "changed by a caller"
    assert lookup.nearest(c, *at, None, 1)[0][0]["nom"] == "Permanence 10"
    db.close()
    c.close()
