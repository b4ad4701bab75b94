"""Lost updates: every write moves a structure's version counter, and every form must send it back."""

from __future__ import annotations

import sqlite3

import pytest
from admin_helpers import post_form, text
from test_admin_structures import AMBERT_ML, EDIT, form_of, press, save, status_form, stored

from locator.store import db as store_db
from locator.store.schema import SCHEMA_VERSION


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need four départements only: the small store (fast tier)."""
    return small_built_store


def test_a_form_without_its_version_is_refused(admin_client, admin_store):
    values = form_of(admin_client, EDIT)
    assert values["version"].isdigit()
    del values["version"]
    values["nom"] = "Nom changé sans version"
    r = post_form(admin_client, EDIT, values, page=EDIT)
    assert r.status_code == 400 and "quelle version de la fiche" in text(r)
    assert stored(admin_store, AMBERT_ML)["nom"] == "Mission locale du Livradois-Forez"


def test_a_malformed_version_is_refused_not_a_500(admin_client, admin_store):
    values = form_of(admin_client, EDIT)
    values["version"] = "²"
    r = post_form(admin_client, EDIT, values, page=EDIT)
    assert r.status_code == 400 and "quelle version de la fiche" in text(r)


def test_two_saves_of_the_same_opened_form_within_a_second_conflict(admin_client, admin_store):
    first = form_of(admin_client, EDIT)
    second = dict(first)
    first["telephone"] = "04 73 11 11 11"
    assert post_form(admin_client, EDIT, first, page=EDIT).status_code == 302
    second["courriel"] = "autre@example.fr"
    r = post_form(admin_client, EDIT, second, page=EDIT)
    assert r.status_code == 409 and "modifiée par quelqu'un d'autre" in text(r)
    s = stored(admin_store, AMBERT_ML)
    assert s["telephone"] == "04 73 11 11 11" and s["courriel"] != "autre@example.fr"


def test_every_write_moves_the_version_even_one_that_puts_back_an_older_row(admin_client, admin_store):
    versions = [stored(admin_store, AMBERT_ML)["version"]]
    assert press(admin_client, EDIT, "archiver").status_code == 302
    versions.append(stored(admin_store, AMBERT_ML)["version"])
    assert press(admin_client, EDIT, "restaurer").status_code == 302
    versions.append(stored(admin_store, AMBERT_ML)["version"])
    conn = sqlite3.connect(admin_store)
    with conn:  # an undo puts back every stored column: the counter still moves forward
        conn.execute("UPDATE structures SET version = 0 WHERE id = ?", (AMBERT_ML,))
    conn.close()
    versions.append(stored(admin_store, AMBERT_ML)["version"])
    assert versions == sorted(set(versions)), versions


def test_archiving_from_a_page_opened_before_another_write_conflicts(admin_client, admin_store):
    archive = status_form(admin_client, EDIT, "archiver")
    assert archive["version"] == str(stored(admin_store, AMBERT_ML)["version"])
    assert save(admin_client, EDIT, telephone="04 73 22 22 22").status_code == 302  # someone else
    r = post_form(admin_client, f"{EDIT}/archiver", archive, page=EDIT)
    assert r.status_code == 409 and "modifiée par quelqu'un d'autre" in text(r)
    s = stored(admin_store, AMBERT_ML)
    assert s["statut"] == "publie" and s["telephone"] == "04 73 22 22 22"
    assert press(admin_client, EDIT, "archiver").status_code == 302  # the 409 page carries the new one
    assert stored(admin_store, AMBERT_ML)["statut"] == "archive"


def test_restoring_from_a_page_opened_before_another_write_conflicts(admin_client, admin_store):
    assert press(admin_client, EDIT, "archiver").status_code == 302
    restore = status_form(admin_client, EDIT, "restaurer")
    assert save(admin_client, EDIT, telephone="04 73 33 33 33").status_code == 302  # someone else
    r = post_form(admin_client, f"{EDIT}/restaurer", restore, page=EDIT)
    assert r.status_code == 409 and "modifiée par quelqu'un d'autre" in text(r)
    assert stored(admin_store, AMBERT_ML)["statut"] == "archive"


@pytest.mark.parametrize("action", ["archiver", "restaurer"])
@pytest.mark.parametrize("version", [None, "", "²", "abc"])
def test_archive_or_restore_without_a_valid_version_is_refused(admin_client, admin_store, action, version):
    if action == "restaurer":
        assert press(admin_client, EDIT, "archiver").status_code == 302
    before = stored(admin_store, AMBERT_ML)
    data = {} if version is None else {"version": version}
    r = post_form(admin_client, f"{EDIT}/{action}", data, page=EDIT)
    assert r.status_code == 400 and "quelle version de la fiche" in text(r)
    assert "Traceback" not in text(r)
    assert stored(admin_store, AMBERT_ML) == before


def test_a_store_of_the_previous_version_is_migrated_without_a_rebuild(store_copy):
    conn = sqlite3.connect(store_copy)
    with conn:
        conn.execute("DROP TRIGGER structures_version")
        conn.execute("ALTER TABLE structures DROP COLUMN version")
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.close()
    assert store_db.check(store_copy) is None
    store_db.migrate(store_copy)
    conn = sqlite3.connect(store_copy)
    try:
        assert (
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            == SCHEMA_VERSION
        )
        assert conn.execute("SELECT MIN(version) FROM structures").fetchone()[0] == 0
    finally:
        conn.close()


def test_a_store_of_schema_4_gets_the_territory_tables(store_copy):
    conn = sqlite3.connect(store_copy)
    with conn:
        conn.execute("DROP TABLE competences")
        conn.execute("DROP TABLE territoires")
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.close()
    assert store_db.check(store_copy) is None
    store_db.migrate(store_copy)
    conn = sqlite3.connect(store_copy)
    try:
        assert (
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            == SCHEMA_VERSION
        )
        assert conn.execute("SELECT COUNT(*) FROM territoires").fetchone()[0] == 0
    finally:
        conn.close()
