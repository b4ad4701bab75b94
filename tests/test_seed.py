"""`locator build` runs the seed through the import pipeline: counts, links, dates, positions, re-runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from import_helpers import DATA, run_import

from locator import config
from locator.cli import main
from locator.geo.geometry import distance_to_contour_km
from locator.store import history
from locator.store import structures as store_structures
from locator.store.db import writer


@pytest.fixture(scope="module")
def built_store(inferred_store):
    """The seed alone: the national store built with COUVERTURE='' (the list adds structures)."""
    return inferred_store


ML_PER_DEPARTEMENT = {
    "01": 3, "03": 3, "07": 3, "15": 2, "26": 5, "38": 11,
    "42": 5, "43": 3, "63": 6, "69": 12, "73": 4, "74": 4,
}  # fmt: skip


def test_every_mission_locale_by_departement(conn):
    rows = conn.execute(
        "SELECT departement, COUNT(*) FROM structures WHERE type = 'mission_locale' AND statut = 'publie' "
        "GROUP BY departement"
    ).fetchall()
    assert dict(rows) == ML_PER_DEPARTEMENT
    assert sum(ML_PER_DEPARTEMENT.values()) == 61


def test_every_seed_row_is_stored_with_its_types(conn):
    counts = dict(conn.execute("SELECT type, COUNT(*) FROM structures GROUP BY type").fetchall())
    assert counts == {
        "mission_locale": 61,
        "antenne_mission_locale": 68,
        "cio": 47,
        "e2c": 10,
        "epide": 1,
        "psad": 1,
        "dispositif": 5,
    }


def test_antennes_are_linked_to_their_mission_locale(conn):
    linked = conn.execute(
        "SELECT a.id, p.type FROM structures a JOIN structures p ON p.id = a.parent_id "
        "WHERE a.type = 'antenne_mission_locale'"
    ).fetchall()
    assert len(linked) == 55  # SOURCES.md: parent_name given on evidence for 55 of 68
    assert {t for _id, t in linked} == {"mission_locale"}
    villeurbanne = store_structures.children(conn, "mission-locale-de-villeurbanne-69266")
    assert [c["id"] for c in villeurbanne] == ["antenne-mission-locale-de-villeurbanne-69266"]


def test_rows_carry_their_source_and_the_vintage_of_that_source(conn):
    rows = conn.execute("SELECT type, source, date_maj, origine FROM structures").fetchall()
    assert all(r[1] for r in rows)
    assert {r[3] for r in rows} == {"seed"}
    antennes = {r[2] for r in rows if r[0] == "antenne_mission_locale"}
    assert antennes == {"2017-12-12"}  # the 2017 DILA snapshot
    assert {r[2] for r in rows if r[0] in ("mission_locale", "cio")} == {"2022-05-25"}  # SPRO map data
    dated_by_url = conn.execute(
        "SELECT date_maj FROM structures WHERE source LIKE '%lepetitreporterdu73.com/2021/11/%'"
    ).fetchone()
    assert dated_by_url[0] == "2021-11-01"


def test_positions_are_kept_from_the_source_or_placed_at_the_town_hall(conn):
    rows = conn.execute(
        "SELECT s.id, s.latitude, s.longitude, s.precision_geocodage, c.contour, c.latitude, c.longitude "
        "FROM structures s JOIN communes c ON c.code = s.code_insee"
    ).fetchall()
    assert all(r[1] is not None for r in rows)
    by_precision = {}
    for r in rows:
        by_precision.setdefault(r[3], []).append(r)
    assert set(by_precision) == {"source", "commune"}
    for r in by_precision["commune"]:
        assert (r[1], r[2]) == (r[5], r[6])  # the commune's checked centre
    # No point far from its commune: the contour check moved the one that was (Saint-Fons, 2.9 km out).
    assert max(distance_to_contour_km(r[4], r[1], r[2]) for r in rows if r[4]) <= 2.0
    saint_fons = store_structures.get_stored(conn, "antenne-mission-locale-de-saint-fons-69199")
    assert saint_fons["precision_geocodage"] == "commune"


def test_lyon_rows_keep_their_arrondissement_and_say_lyon(conn):
    lyon = store_structures.get_stored(conn, "mission-locale-de-lyon-69387")
    assert lyon["code_insee"] == "69387" and lyon["commune"] == "Lyon" and lyon["departement"] == "69"


def test_rebuilding_keeps_what_an_admin_changed_and_deleted(store_copy, tmp_path):
    # An admin import changes the Mission locale de Thiers; an admin deletes the CIO de Riom.
    code, _report, _ = run_import(store_copy, DATA / "permanences_cp1252.csv")
    assert code == 0
    db = writer(store_copy)
    with db.atomic():
        before = store_structures.get_stored(db.conn, "cio-de-riom-63300")
        store_structures.delete(db, "cio-de-riom-63300")
        history.record_change(
            db,
            structure_id="cio-de-riom-63300",
            action="supprime",
            avant=before,
            apres=None,
            auteur="admin",
            quand="2026-01-01T00:00:00+00:00",
        )
    db.close()
    result = CliRunner().invoke(main, ["build", "--db", str(store_copy), "--couverture", "", "--json"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store_copy) as c:
        c.row_factory = sqlite3.Row
        thiers = store_structures.get_stored(c, "mission-locale-du-bassin-de-thiers-63430")
        assert thiers["telephone"] == "+33473804970" and thiers["origine"] == "import"
        assert store_structures.get_stored(c, "cio-de-riom-63300") is None
        assert c.execute("SELECT COUNT(*) FROM structures WHERE origine = 'seed'").fetchone()[0] == 193 - 3


def test_rebuilding_updates_rows_still_from_the_seed(store_copy, tmp_path):
    seed = tmp_path / "seed.csv"
    text = Path(config.SEED).read_text(encoding="utf-8")
    seed.write_text(text.replace("04 73 80 49 69", "04 73 80 49 99"), encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--db", str(store_copy), "--seed", str(seed), "--json"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store_copy) as c:
        phone = c.execute(
            "SELECT telephone FROM structures WHERE id = 'mission-locale-du-bassin-de-thiers-63430'"
        ).fetchone()[0]
    assert phone == "+33473804999"
