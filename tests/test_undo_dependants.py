"""Undoing an import never orphans later work: it refuses and says what blocks it, or undoes it too."""

from __future__ import annotations

import io
import sqlite3

import pytest
from admin_helpers import csrf_token, post_form, text
from test_admin_structures import save, stored


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


ML_CSV = "type;nom;code_insee;telephone\nmission_locale;Mission locale des Essais;63132;04 73 11 22 33\n"


def import_new_ml(client) -> tuple[int, str]:
    """Import a new Mission locale through the wizard; return (import id, structure id)."""
    token = csrf_token(client, "/admin/import")
    r = client.post(
        "/admin/import",
        data={"csrf_token": token, "statut": "publie", "fichier": (io.BytesIO(ML_CSV.encode()), "ml.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302, text(r)[-1500:]
    preview = r.headers["Location"]
    r = post_form(client, preview + "/confirmer", page=preview)
    assert r.headers["Location"].startswith("/admin/imports/"), r.headers["Location"]
    import_id = int(r.headers["Location"].rsplit("/", 1)[1])
    conn = sqlite3.connect(client.application.config["DB"])
    sid = conn.execute("SELECT structure_id FROM historique WHERE import_id = ?", (import_id,)).fetchone()[0]
    conn.close()
    return import_id, sid


def later_work(client, sid: str) -> str:
    """Hand work after the import: coverage of the new ML, and a new antenne attached to it."""
    assert save(client, f"/admin/structures/{sid}", couverture="63132\n63003\n").status_code == 302
    r = save(
        client,
        "/admin/structures/nouvelle",
        type="antenne_mission_locale",
        nom="Antenne des Essais à Ambert",
        code_insee="63003",
        statut="publie",
        parent_id=sid,
    )
    assert r.status_code == 302, text(r)[-1500:]
    return r.headers["Location"].rsplit("/", 1)[1]


def orphans(db) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        coverage = conn.execute(
            "SELECT COUNT(*) FROM couverture WHERE structure_id NOT IN (SELECT id FROM structures)"
        ).fetchone()[0]
        parents = conn.execute(
            "SELECT COUNT(*) FROM structures WHERE parent_id IS NOT NULL "
            "AND parent_id NOT IN (SELECT id FROM structures)"
        ).fetchone()[0]
        return coverage, parents
    finally:
        conn.close()


def snapshot(db):
    conn = sqlite3.connect(db)
    try:
        return [
            sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in ("structures", "couverture")
        ]
    finally:
        conn.close()


def test_undo_refuses_and_names_the_coverage_and_antennes_added_since(admin_client, admin_store):
    import_id, sid = import_new_ml(admin_client)
    antenne = later_work(admin_client, sid)
    before = snapshot(admin_store)
    detail = f"/admin/imports/{import_id}"
    r = post_form(admin_client, detail + "/annuler", {"confirmer": "oui"}, page=detail)
    page = text(admin_client.get(r.headers["Location"]))
    assert "Annulation impossible" in page
    assert "63003" in page and antenne in page and "Antenne des Essais à Ambert" in page
    assert snapshot(admin_store) == before and orphans(admin_store) == (0, 0)


def test_undo_with_dependants_needs_the_box_then_leaves_no_orphan(admin_client, admin_store):
    import_id, sid = import_new_ml(admin_client)
    antenne = later_work(admin_client, sid)
    detail = f"/admin/imports/{import_id}"
    page = text(admin_client.get(detail))
    assert "Annuler l’import et ces changements" in page and 'name="confirmer"' in page
    before = snapshot(admin_store)
    r = post_form(admin_client, detail + "/annuler", {"dependants": "annuler"}, page=detail)
    assert "Cochez la case" in text(admin_client.get(r.headers["Location"]))
    assert snapshot(admin_store) == before
    r = post_form(
        admin_client, detail + "/annuler", {"dependants": "annuler", "confirmer": "oui"}, page=detail
    )
    assert "annulé" in text(admin_client.get(r.headers["Location"]))
    assert stored(admin_store, sid) is None and stored(admin_store, antenne)["parent_id"] is None
    assert orphans(admin_store) == (0, 0)


def test_undo_refuses_when_the_structure_was_edited_by_hand_since_and_says_its_name(
    admin_client, admin_store
):
    import_id, sid = import_new_ml(admin_client)
    assert save(admin_client, f"/admin/structures/{sid}", telephone="04 73 99 99 99").status_code == 302
    detail = f"/admin/imports/{import_id}"
    r = post_form(admin_client, detail + "/annuler", {"confirmer": "oui"}, page=detail)
    page = text(admin_client.get(r.headers["Location"]))
    assert "Annulation impossible" in page and "Mission locale des Essais" in page
    assert stored(admin_store, sid)["telephone"] == "+33473999999"
