"""`locator build`: every French commune, names with articles, former communes, postcodes; idempotent."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from locator.cli import main
from locator.store import communes


def test_every_current_commune_and_arrondissement_is_stored(conn):
    n_com = conn.execute("SELECT COUNT(*) FROM communes WHERE type = 'COM'").fetchone()[0]
    n_arm = conn.execute("SELECT COUNT(*) FROM communes WHERE type = 'ARM'").fetchone()[0]
    assert n_com > 34_800
    assert n_arm == 45  # Paris 20, Marseille 16, Lyon 9


def test_names_are_rebuilt_with_their_article(conn):
    assert communes.get(conn, "43157")["nom"] == "Le Puy-en-Velay"
    assert communes.get(conn, "63003")["nom"] == "Ambert"


def test_arrondissements_take_their_city_departement_and_postcodes(conn):
    lyon3 = communes.get(conn, "69383")
    assert lyon3["departement"] == "69" and lyon3["region"] == "84"
    assert lyon3["commune_parent"] == "69123"
    assert "69003" in communes.postcodes_of(conn, "69383")
    assert {"69001", "69009"} <= set(communes.postcodes_of(conn, "69123"))


def test_a_postcode_covers_several_communes(conn):
    assert {"63003", "63341"} <= set(communes.by_postcode(conn, "63600"))


def test_former_communes_point_to_the_current_commune(conn):
    olds = {o["nom"]: o for o in communes.anciennes_of(conn, "74010")}
    assert olds["Annecy-le-Vieux"]["type"] == "COMD"
    assert olds["Annecy-le-Vieux"]["code"] == "74011"


def test_far_away_town_halls_are_not_trusted_as_centres(conn):
    # Three town-hall points of the package lie 300–450 km from their commune.
    for code in ("01082", "73281", "15096"):
        c = communes.get(conn, code)
        assert c["centre"] == "surface"
        assert c["departement"] == code[:2]


def test_every_centre_lies_in_its_own_contour_or_near_it(conn):
    from locator.geo.geometry import distance_to_contour_km

    rows = conn.execute(
        "SELECT code, latitude, longitude, contour FROM communes WHERE contour IS NOT NULL"
    ).fetchall()
    far = [r[0] for r in rows if distance_to_contour_km(r[3], r[1], r[2]) > 1.0]
    assert far == []


def test_point_falls_in_the_right_commune(conn):
    from locator.lookup import commune_at

    assert commune_at(conn, 45.7772, 3.0870)["code"] == "63113"  # place de Jaude, Clermont-Ferrand
    assert commune_at(conn, 45.7597, 4.8422)["code"] == "69383"  # Lyon 3e (Part-Dieu area)
    assert commune_at(conn, 45.5497, 3.7418)["code"] == "63003"  # Ambert
    assert commune_at(conn, 0.0, 0.0) is None  # Gulf of Guinea


def test_building_twice_changes_nothing(store_copy):
    before = _dump(store_copy)
    result = CliRunner().invoke(main, ["build", "--db", str(store_copy), "--json"])
    assert result.exit_code == 0, result.output
    assert _dump(store_copy) == before


@pytest.mark.national  # builds the whole geography itself
def test_missing_seed_builds_geography_and_says_so(tmp_path):
    db = tmp_path / "s.sqlite"
    result = CliRunner().invoke(main, ["build", "--db", str(db), "--seed", str(tmp_path / "absent.csv")])
    assert result.exit_code == 0
    assert "introuvable" in result.output
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*) FROM communes").fetchone()[0] > 34_000
        assert c.execute("SELECT COUNT(*) FROM structures").fetchone()[0] == 0


def _dump(path):
    with sqlite3.connect(path) as c:
        return [
            c.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
            for t in ("structures", "noms", "codes_postaux", "anciennes_communes", "couverture")
        ] + [c.execute("SELECT code, nom, latitude, longitude FROM communes ORDER BY code").fetchall()]


def test_a_partial_geography_never_passes_for_the_full_one():
    """A small test store's checksum differs, so the next full build replaces its communes."""
    from locator.ingest import reference

    assert reference.checksum(["63", "69"]) != reference.checksum()
    assert reference.checksum(["69", "63"]) == reference.checksum(["63", "69"])


def test_a_build_stopped_halfway_leaves_no_store_to_serve_and_the_next_one_builds_it(tmp_path, monkeypatch):
    from locator import territories
    from locator.ingest.build import build
    from locator.store.db import check

    path = tmp_path / "locator.sqlite"

    def stopped(*_args, **_kwargs):
        raise KeyboardInterrupt  # Ctrl-C during the first `make run`'s build

    with monkeypatch.context() as patch:
        patch.setattr(territories, "refresh", stopped)
        with pytest.raises(KeyboardInterrupt):
            build(path, None, say=lambda _m: None, departements={"43"})
    assert not path.exists()  # `make run` builds it again instead of serving half a store
    path.write_bytes(b"")  # an empty file holds nothing to keep either
    build(path, None, say=lambda _m: None, departements={"43"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locator.sqlite"]  # nothing left aside
    assert check(path) is None
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT COUNT(*) FROM communes WHERE departement = '43'").fetchone()[0] > 250
