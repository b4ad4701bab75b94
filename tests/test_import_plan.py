"""The contract the admin wizard relies on: plan_import (writes nothing), apply_import, history, undo."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from import_helpers import DATA, content_rows, dump

from locator.ingest.importer import ImportPlan, PlanStale, apply_import, plan_import
from locator.ingest.table import FileProblem
from locator.store import history, imports
from locator.store import structures as store_structures
from locator.store.db import connect, writer


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


@pytest.fixture
def db(store_copy):
    w = writer(store_copy)
    yield w
    w.close()


def plan_of(db, content: str | bytes, name: str = "f.csv", **options) -> ImportPlan:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return plan_import(db.conn, data, name, options=options or None)


def test_plan_lists_every_row_with_its_action_and_writes_nothing(db, store_copy):
    before = dump(store_copy)
    plan = plan_import(db.conn, DATA / "permanences_cp1252.csv")
    assert dump(store_copy) == before
    actions = {r.ligne: r.action for r in plan.lignes}
    assert actions[2] == "nouveau" and actions[4] == "mis_a_jour" and actions[6] == "rejete"
    assert actions[8] == "vide"
    thiers = next(r for r in plan.lignes if r.ligne == 4)
    assert thiers.avant["telephone"] == "+33473804969"
    assert thiers.structure["telephone"] == "+33473804970"
    assert "telephone" in thiers.changements and "nom" not in thiers.changements
    assert plan.counts() == {
        "lus": 13,
        "crees": 8,
        "mis_a_jour": 2,
        "inchanges": 0,
        "rejetes": 3,
        "doublons": 0,
        "vides": 2,
        "importes": 10,
    }
    report = plan.report()
    assert {"lus", "importes", "crees", "mis_a_jour", "rejetes", "avertissements"} <= set(report)
    assert plan.sha256 and plan.genre == "structures"


def test_ambiguous_postcode_gives_candidates_and_the_admin_choice_resolves_it(db):
    content = "type;nom;code_postal\nantenne;Permanence du 63600;63600\n"
    plan = plan_of(db, content)
    row = plan.lignes[0]
    assert row.action == "rejete"
    codes = {c["code_insee"] for c in row.communes_candidates}
    assert {"63003", "63341"} <= codes  # Ambert, Saint-Ferréol-des-Côtes
    plan = plan_of(db, content, choix_communes={2: "63003"})
    assert plan.lignes[0].action == "nouveau"
    assert plan.lignes[0].structure["commune"] == "Ambert"


def test_apply_records_the_import_and_the_history_of_every_change(db):
    plan = plan_import(db.conn, DATA / "permanences_cp1252.csv")
    report = apply_import(db, plan, auteur="admin@region")
    record = imports.get(db.conn, report["import_id"])
    assert record["fichier"] == "permanences_cp1252.csv" and record["auteur"] == "admin@region"
    assert record["sha256"] == plan.sha256 and record["crees"] == 8 and record["rejetes"] == 3
    assert record["rapport"]["mis_a_jour"] == 2
    changes = history.changes_of_import(db.conn, report["import_id"])
    assert len(changes) == 10
    assert {c["action"] for c in changes} == {"cree", "modifie"}
    thiers = next(c for c in changes if c["structure_id"] == "mission-locale-du-bassin-de-thiers-63430")
    assert thiers["avant"]["telephone"] == "+33473804969"
    assert thiers["apres"]["telephone"] == "+33473804970"
    assert thiers["apres"] == store_structures.get_stored(db.conn, thiers["structure_id"])


def test_undoing_an_import_restores_exactly_the_previous_state(db, store_copy):
    with sqlite3.connect(store_copy) as c:
        before = content_rows(c, "structures", order="id")
    report = apply_import(db, plan_import(db.conn, DATA / "permanences_cp1252.csv"), auteur="a")
    restored = history.undo_import(db, report["import_id"], auteur="b", quand="2026-01-02T00:00:00+00:00")
    assert restored == 10
    with sqlite3.connect(store_copy) as c:
        assert content_rows(c, "structures", order="id") == before
        rtree = c.execute("SELECT COUNT(*) FROM structures_rtree").fetchone()[0]
        located = c.execute("SELECT COUNT(*) FROM structures WHERE latitude IS NOT NULL").fetchone()[0]
        assert rtree == located
    assert imports.get(db.conn, report["import_id"])["annule_par"] == "b"
    with pytest.raises(ValueError, match="déjà été annulé"):
        history.undo_import(db, report["import_id"], auteur="b", quand="2026-01-02T00:00:00+00:00")
    with pytest.raises(history.AlreadyUndone):
        history.undo_import(db, report["import_id"], auteur="b", quand="2026-01-02T00:00:00+00:00")
    with pytest.raises(history.UnknownImport):
        history.undo_import(db, 999_999, auteur="b", quand="2026-01-02T00:00:00+00:00")


def test_undo_refuses_when_a_structure_changed_since(db):
    report = apply_import(db, plan_import(db.conn, DATA / "permanences_cp1252.csv"), auteur="a")
    sid = "mission-locale-du-bassin-de-thiers-63430"
    with db.atomic():
        before = store_structures.get_stored(db.conn, sid)
        store_structures.update(db, sid, {"telephone": "04 73 00 00 00", "origine": "manuel"})
        history.record_change(
            db,
            structure_id=sid,
            action="modifie",
            avant=before,
            apres=store_structures.get_stored(db.conn, sid),
            auteur="editeur",
            quand="2026-01-03T00:00:00+00:00",
        )
    with pytest.raises(history.UndoConflict) as err:
        history.undo_import(db, report["import_id"], auteur="b", quand="2026-01-04T00:00:00+00:00")
    assert err.value.ids == [sid]
    assert store_structures.get_stored(db.conn, sid)["telephone"] == "04 73 00 00 00"
    assert [c["auteur"] for c in history.changes_of_structure(db.conn, sid)] == ["a", "editeur"]


def test_apply_refuses_a_stale_plan(db):
    plan = plan_import(db.conn, DATA / "permanences_cp1252.csv")
    with db.atomic():
        store_structures.update(
            db, "mission-locale-du-bassin-de-thiers-63430", {"telephone": "01 00 00 00 00"}
        )
    with pytest.raises(PlanStale):
        apply_import(db, plan, auteur="a")
    assert imports.recent(db.conn) == []


def test_a_plan_survives_a_round_trip_through_json(db):
    plan = plan_import(db.conn, DATA / "permanences_cp1252.csv")
    again = ImportPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.report() == plan.report()
    report = apply_import(db, again, auteur="a")
    assert report["crees"] == 8


def test_a_plan_of_a_bad_file_says_why_and_cannot_be_applied(db, store_copy):
    before = dump(store_copy)
    plan = plan_of(db, "nom;telephone\nX;0\n")
    assert plan.erreur.startswith("Colonnes obligatoires absentes")
    assert plan.lignes == []
    with pytest.raises(FileProblem):
        apply_import(db, plan)
    plan = plan_of(db, "type;nom;code_insee\ncio;CIO;99999\n")
    with pytest.raises(FileProblem, match="Aucune ligne valide"):
        apply_import(db, plan)
    assert dump(store_copy) == before


def test_plan_reads_bytes_as_uploaded(db):
    data = (DATA / "permanences_cp1252.csv").read_bytes()
    plan = plan_import(db.conn, data, "upload.csv")
    assert plan.fichier == "upload.csv" and plan.counts()["crees"] == 8


def test_plan_works_on_a_read_only_connection(store_copy):
    conn = connect(store_copy)
    plan = plan_import(conn, DATA / "permanences_cp1252.csv")
    assert plan.counts()["crees"] == 8
    conn.close()


def test_history_records_are_decoded(db):
    with db.atomic():
        hid = history.record_change(
            db,
            structure_id="x",
            action="couverture",
            avant=None,
            apres=[["63003", "s", "2026-01-01"]],
            auteur="a",
            quand="2026-01-01T00:00:00+00:00",
            objet="couverture",
        )
    (change,) = history.changes_of_structure(db.conn, "x")
    assert (
        change["id"] == hid and change["avant"] is None and change["apres"] == [["63003", "s", "2026-01-01"]]
    )
    assert not history.has_history(db.conn, "x")  # coverage history does not count as a structure change


def test_dumps_compare_equal_helper_is_sensitive(store_copy, tmp_path):
    # The helper the bad-file tests rely on must see a change when there is one.
    before = dump(store_copy)
    with sqlite3.connect(store_copy) as c:
        c.execute("UPDATE structures SET nom = nom || ' ' WHERE id = 'cio-de-thiers-63430'")
    assert dump(store_copy) != before
    assert Path(store_copy).exists()


def test_counts_of_a_plan_and_of_a_streamed_import_come_from_one_mapping():
    from locator.ingest.importer import count, new_counts

    counts = new_counts()
    for action in ("nouveau", "nouveau", "mis_a_jour", "inchange", "rejete", "doublon", "vide"):
        count(counts, action)
    assert counts == {
        "lus": 6,
        "crees": 2,
        "mis_a_jour": 1,
        "inchanges": 1,
        "rejetes": 1,
        "doublons": 1,
        "vides": 1,
        "importes": 4,
    }
