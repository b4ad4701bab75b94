"""Issue 18 item 5: the shortcuts that make a big import fast give what the plain way gives.

New structures and their history are written in batches; a territory whose communes did not change
keeps its outline and unchanged territories keep their name positions; name positions are found by a
grid of the names already placed rather than by a look at every one of them.
"""

from __future__ import annotations

import gc
import random
import sqlite3
from contextlib import closing

import pytest
import shapely
from import_helpers import by_name, run_import, structure, write
from shapely.ops import polylabel

from locator import territories
from locator.geo import labels
from locator.geo.distance import haversine_km
from locator.ingest import importer, parents, pipeline
from locator.ingest.geocoders import OfflineGeocoder
from locator.store import db as store_db
from locator.store import scratch
from locator.store import structures as store_structures
from locator.store import territories as store_territories

AMBERT_ML = "mission-locale-du-livradois-forez-63003"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Four départements are enough: the fast tier."""
    return small_built_store


def test_a_file_longer_than_a_write_batch_is_stored_and_recorded_in_file_order(store_copy, tmp_path):
    rows = 2 * importer.WRITE_BATCH + 7
    body = "type;nom;adresse;code_insee\n" + "".join(
        f"partenaire;Permanence d’essai {i};{i + 1} rue de la République;63113\n" for i in range(rows)
    )
    code, report, out = run_import(store_copy, write(tmp_path, body))
    assert code == 0, out
    assert report["crees"] == rows
    with closing(sqlite3.connect(store_copy)) as c:
        recorded = c.execute(
            "SELECT h.structure_id, s.nom, s.latitude IS NOT NULL FROM historique h "
            "JOIN structures s ON s.id = h.structure_id WHERE h.import_id = ? ORDER BY h.id",
            (report["import_id"],),
        ).fetchall()
        indexed = c.execute(
            "SELECT COUNT(*) FROM structures_rtree r JOIN structures s ON s.pk = r.pk "
            "WHERE s.nom LIKE 'Permanence d’essai %'"
        ).fetchone()[0]
    assert [r[1] for r in recorded] == [f"Permanence d’essai {i}" for i in range(rows)]
    assert all(r[2] for r in recorded) and indexed == rows  # placed on the map, found by searches


def test_a_type_change_is_refused_once_the_same_file_gave_the_structure_an_antenne(store_copy, tmp_path):
    body = (
        "id;type;nom;code_insee;parent\n"
        f"antenne-d-essai-de-marsac;antenne;Antenne d’essai de Marsac;63210;{AMBERT_ML}\n"
        f"{AMBERT_ML};cio;Mission locale du Livradois-Forez;63003;\n"
    )
    code, report, out = run_import(store_copy, write(tmp_path, body))
    assert code == 0, out
    (refused,) = report["rejetes"]
    assert refused["ligne"] == 3
    assert any("changement de type refusé" in e for e in refused["erreurs"]), refused
    assert structure(store_copy, AMBERT_ML)["type"] == "mission_locale"
    assert structure(store_copy, "antenne-d-essai-de-marsac")["parent_id"] == AMBERT_ML


def _stored_territories(path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as c:
        return c.execute("SELECT * FROM territoires ORDER BY structure_id").fetchall()


def _refresh(path) -> None:
    db = store_db.writer(path)
    try:
        with db.atomic():
            territories.refresh(db, "84")
    finally:
        db.close()


def test_an_outline_is_drawn_again_only_when_its_communes_change_and_then_as_a_full_redraw_would(
    store_copy,
):
    with closing(sqlite3.connect(store_copy)) as c:
        ml = c.execute(
            "SELECT structure_id FROM territoires WHERE geometrie IS NOT NULL ORDER BY structure_id LIMIT 1"
        ).fetchone()[0]
        elsewhere = c.execute(  # a commune of another Mission locale's territory
            "SELECT code_insee FROM competences WHERE structure_id != ? ORDER BY code_insee LIMIT 1", (ml,)
        ).fetchone()[0]
        marker = '{"type":"MultiPolygon","coordinates":[]}'
        with c:  # what the stored outline is drawn from stays; the outline itself is replaced
            c.execute("UPDATE territoires SET geometrie = ? WHERE structure_id = ?", (marker, ml))
    _refresh(store_copy)
    with closing(store_db.connect(store_copy)) as c:
        assert store_territories.territory(c, ml)["geometrie"] == marker  # kept
    with closing(sqlite3.connect(store_copy)) as c, c:  # a coverage list now gives it that commune
        c.execute(
            "INSERT INTO couverture (code_insee, structure_id, source, date_maj) VALUES (?, ?, ?, ?)",
            (elsewhere, ml, "essai", "2026-12-04"),
        )
    _refresh(store_copy)
    redrawn = _stored_territories(store_copy)
    assert dict((r[0], r[1]) for r in redrawn)[ml] not in (marker, None)
    with closing(sqlite3.connect(store_copy)) as c, c:
        c.execute("DELETE FROM meta WHERE key = ?", (store_territories.DRAWN_FROM,))
    _refresh(store_copy)  # nothing known: every outline and name drawn from scratch
    assert _stored_territories(store_copy) == redrawn


def _place_looking_at_every_name(items, zoom=labels.REFERENCE_ZOOM):
    """The placing rule with each territory compared with every name placed before it."""
    planar = []
    for key, text, geometry in items:
        main = labels._largest(geometry)
        projected = shapely.transform(main, lambda a: labels._project_array(a, zoom))
        planar.append((key, labels.box_size(text), projected))
    planar.sort(key=lambda t: (t[2].area, t[0]))
    placed, out = [], {}
    for key, (w, h), polygon in planar:
        near = [
            g
            for x, y, pw, ph in placed
            if (
                g := shapely.box(x - (pw + w) / 2, y - (ph + h) / 2, x + (pw + w) / 2, y + (ph + h) / 2)
            ).intersects(polygon)
        ]
        spot = None
        if near:
            free = labels._largest(polygon.difference(shapely.union_all(near)))
            if free is not None and free.area > 0:
                spot = polylabel(free, tolerance=labels.TOLERANCE_PX)
        if spot is None:
            spot = polylabel(polygon, tolerance=labels.TOLERANCE_PX)
        placed.append((spot.x, spot.y, w, h))
        lon, lat = labels.to_degrees(spot.x, spot.y, zoom)
        out[key] = (lat, lon)
    return out


def test_names_placed_by_the_grid_are_where_a_look_at_every_name_puts_them():
    rng = random.Random(18)
    items = []
    for i in range(250):  # a crowded metropolis: small squares of every size, long and short names
        lat, lon = 45.70 + rng.uniform(0, 0.25), 4.75 + rng.uniform(0, 0.30)
        side = rng.uniform(0.004, 0.05)
        name = "Mission locale " + "de la vallée " * rng.randint(0, 3) + str(i)
        items.append((f"t{i}", name, shapely.box(lon, lat, lon + side, lat + side)))
    assert labels.place(items) == _place_looking_at_every_name(items)


@pytest.mark.parametrize("filter_bits", [scratch.FILTER_BITS, 16])
def test_a_scratch_map_answers_as_a_dict_would_whatever_its_filter_says(tmp_path, monkeypatch, filter_bits):
    # 16 bits: the filter says "maybe" for nearly every key, so the statements are taken as well.
    monkeypatch.setattr(scratch, "FILTER_BITS", filter_bits)
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    kept = scratch.Scratch(conn)
    model: dict[str, str] = {}
    rng = random.Random(7)
    for step in range(3000):
        key, value = f"k{rng.randrange(400)}", f"v{step}"
        op = rng.choice(["add", "claim", "get", "set", "setdefault"])
        if op == "add":
            kept.add(key, value)
            model.setdefault(key, value)
        elif op == "claim":
            earlier = model.get(key)
            model.setdefault(key, value)
            assert kept.claim(key, value) == earlier
        elif op == "get":
            assert kept.get(key) == model.get(key)
        elif op == "set":
            kept[key] = value
            model[key] = value
        else:
            assert kept.setdefault(key, value) == model.setdefault(key, value)
    assert all(kept.get(k) == v for k, v in model.items())
    kept.close()


def _suggested_looking_at_each(missions, departement, point, name, limit=parents.SUGGESTIONS):
    """The suggestion rule written plainly: every Mission locale measured and sorted."""
    wanted = parents.telling_words(name) if name else ""

    def key(m, by_name):
        alike = by_name and bool(wanted) and parents._alike(wanted, m["nom"]) >= parents.SUGGEST_SCORE
        placeless = point is None or m.get("latitude") is None or m.get("longitude") is None
        far = 0.0 if placeless else haversine_km(point[0], point[1], m["latitude"], m["longitude"])
        return (not alike, placeless, far, m["nom"])

    here = sorted((m for m in missions if m.get("departement") == departement), key=lambda m: key(m, True))
    found = here[:limit]
    if len(found) < limit:
        others = [m for m in missions if m.get("departement") != departement]
        found += sorted(others, key=lambda m: key(m, False))[: limit - len(found)]
    return [m["id"] for m in found]


def test_missions_suggested_for_an_antenne_are_those_the_plain_rule_ranks_first(store_copy):
    with closing(store_db.connect(store_copy)) as conn:
        missions = store_structures.published(conn, types=("mission_locale",))
    # One without a place, named as a placed one: the name's pull and the place's come in that order.
    missions.append({**missions[0], "id": "sans-lieu", "latitude": None})
    suggestions = parents.Suggestions(missions)
    rng = random.Random(3)
    departements = sorted({m["departement"] for m in missions}) + ["75", None]
    for _ in range(400):
        point = None if rng.random() < 0.1 else (rng.uniform(44.0, 46.5), rng.uniform(2.0, 7.0))
        departement = rng.choice(departements)
        name = rng.choice([None, missions[0]["nom"], "Mission locale du Livradois", "ML Riom", "Maison"])
        got = [m["id"] for m, _km in suggestions.suggest(departement, point, name)]
        assert got == _suggested_looking_at_each(missions, departement, point, name)


class _WatchingGeocoder(OfflineGeocoder):
    """The offline geocoder, noting how many objects the collector had set aside at each row it places;
    it breaks at row `breaks_at` when given (a failure in the middle of an import)."""

    def __init__(self, breaks_at: int | None = None):
        self.frozen: list[int] = []
        self.breaks_at = breaks_at

    def geocode(self, conn, adresse, code_postal, commune):
        self.frozen.append(gc.get_freeze_count())
        if len(self.frozen) == self.breaks_at:
            raise RuntimeError("panne au milieu du fichier")
        return super().geocode(conn, adresse, code_postal, commune)


def _addresses(tmp_path, rows: int):
    body = "type;nom;adresse;code_insee\n" + "".join(
        f"partenaire;Permanence suivie {i};{i + 1} rue de la République;63113\n" for i in range(rows)
    )
    return write(tmp_path, body)


def test_a_long_import_sets_what_it_keeps_aside_from_the_collector_and_gives_it_all_back(
    store_copy, tmp_path, monkeypatch
):
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 10)
    csv = _addresses(tmp_path, 45)
    geocoder = _WatchingGeocoder()
    assert gc.get_freeze_count() == 0
    with closing(store_db.writer(store_copy)) as db:
        report = importer.import_file(db, csv, geocoder=geocoder, parallel=False)
    assert report["crees"] == 45
    # Nothing set aside before the first chunk is done, then everything alive at each chunk's end.
    assert geocoder.frozen[0] == 0 and geocoder.frozen[-1] > 0
    assert gc.get_freeze_count() == 0


def test_an_import_that_breaks_gives_the_collector_back_what_it_set_aside(store_copy, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 10)
    geocoder = _WatchingGeocoder(breaks_at=35)
    with closing(store_db.writer(store_copy)) as db, pytest.raises(RuntimeError, match="panne"):
        importer.import_file(db, _addresses(tmp_path, 45), geocoder=geocoder, parallel=False)
    assert max(geocoder.frozen) > 0 and gc.get_freeze_count() == 0
    assert by_name(store_copy, "Permanence suivie 0") is None  # nothing written
