"""Lost updates: every write moves a structure's version counter, and every form must send it back."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from admin_helpers import post_form, text
from click.testing import CliRunner
from import_helpers import run_import, write
from test_admin_structures import AMBERT_ML, EDIT, form_of, press, save, status_form, stored

from locator.cli import main
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
    assert r.status_code == 409 and "modifiée par quelqu’un d’autre" in text(r)
    s = stored(admin_store, AMBERT_ML)
    assert s["telephone"] == "+33473111111" and s["courriel"] != "autre@example.fr"


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
    assert r.status_code == 409 and "modifiée par quelqu’un d’autre" in text(r)
    s = stored(admin_store, AMBERT_ML)
    assert s["statut"] == "publie" and s["telephone"] == "+33473222222"
    assert press(admin_client, EDIT, "archiver").status_code == 302  # the 409 page carries the new one
    assert stored(admin_store, AMBERT_ML)["statut"] == "archive"


def test_restoring_from_a_page_opened_before_another_write_conflicts(admin_client, admin_store):
    assert press(admin_client, EDIT, "archiver").status_code == 302
    restore = status_form(admin_client, EDIT, "restaurer")
    assert save(admin_client, EDIT, telephone="04 73 33 33 33").status_code == 302  # someone else
    r = post_form(admin_client, f"{EDIT}/restaurer", restore, page=EDIT)
    assert r.status_code == 409 and "modifiée par quelqu’un d’autre" in text(r)
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
        for trigger in ("structures_version", "structures_version_deleted", "structures_version_created"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE plancher_version")
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


CIO_ID = "cio-des-essais"
CIO_CSV = "id;type;nom;code_insee;telephone\n" + f"{CIO_ID};cio;CIO des Essais;63132;{{telephone}}\n"


def _import(admin_store, tmp_path, telephone: str) -> int:
    """Import the test CIO with this phone through the CLI; return the import's number."""
    code, report, out = run_import(admin_store, write(tmp_path, CIO_CSV.format(telephone=telephone)))
    assert code == 0, out
    return report["import_id"]


def _undo(admin_client, import_id: int) -> None:
    page = f"/admin/imports/{import_id}"
    r = post_form(admin_client, f"{page}/annuler", {"confirmer": "oui"}, page=page)
    assert r.status_code == 302 and "annulé" in text(admin_client.get(page))


def test_a_form_opened_before_an_undo_and_a_reimport_cannot_wipe_the_reimported_phone(
    admin_client, admin_store, tmp_path
):
    first = _import(admin_store, tmp_path, telephone="")
    path = f"/admin/structures/{CIO_ID}"
    opened = form_of(admin_client, path)  # the form of the first import: no phone
    _undo(admin_client, first)
    assert stored(admin_store, CIO_ID) is None
    _import(admin_store, tmp_path, telephone="04 73 11 22 33")  # the same id, created again
    opened["description"] = "Accueil le mercredi."
    r = post_form(admin_client, path, opened, page=path)
    assert r.status_code == 409 and "modifiée par quelqu’un d’autre" in text(r)
    s = stored(admin_store, CIO_ID)
    assert s["telephone"] == "+33473112233" and s["description"] is None
    assert s["version"] > int(opened["version"])


def test_a_structure_deleted_then_created_again_starts_above_every_counter_it_had(store_copy):
    conn = sqlite3.connect(store_copy)
    conn.row_factory = sqlite3.Row
    with conn:  # by hand in SQL: the triggers hold whoever writes
        for _ in range(5):
            conn.execute("UPDATE structures SET nom = nom || '.' WHERE id = ?", (AMBERT_ML,))
        row = dict(conn.execute("SELECT * FROM structures WHERE id = ?", (AMBERT_ML,)).fetchone())
        conn.execute("DELETE FROM structures WHERE id = ?", (AMBERT_ML,))
        had = row.pop("version")
        del row["pk"]
        conn.execute(
            f"INSERT INTO structures ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        again = conn.execute("SELECT version FROM structures WHERE id = ?", (AMBERT_ML,)).fetchone()[0]
    conn.close()
    assert had >= 5 and again > had


def test_a_form_opened_before_a_backup_is_restored_conflicts_with_the_restored_row(
    admin_client, admin_store, tmp_path
):
    saved = tmp_path / "sauvegarde.sqlite"
    assert CliRunner().invoke(main, ["backup", "--db", str(admin_store), str(saved)]).exit_code == 0
    assert save(admin_client, EDIT, telephone="04 73 44 44 44").status_code == 302
    assert save(admin_client, EDIT, telephone="04 73 55 55 55").status_code == 302
    opened = form_of(admin_client, EDIT)
    result = CliRunner().invoke(main, ["restore", "--db", str(admin_store), str(saved), "--yes"])
    assert result.exit_code == 0, result.output
    s = stored(admin_store, AMBERT_ML)
    assert s["telephone"] == "+33473820588" and s["version"] > int(opened["version"])
    opened["telephone"] = "04 73 66 66 66"
    r = post_form(admin_client, EDIT, opened, page=EDIT)
    assert r.status_code == 409 and "modifiée par quelqu’un d’autre" in text(r)
    assert stored(admin_store, AMBERT_ML)["telephone"] == "+33473820588"


def test_a_store_of_schema_5_keeps_the_counters_of_structures_it_deleted_out_of_reach(
    admin_client, admin_store, tmp_path
):
    first = _import(admin_store, tmp_path, telephone="")
    path = f"/admin/structures/{CIO_ID}"
    for phone in ("04 73 00 00 01", "04 73 00 00 02", "04 73 00 00 03"):
        assert save(admin_client, path, telephone=phone).status_code == 302
    opened = form_of(admin_client, path)
    page = f"/admin/imports/{first}"
    r = post_form(admin_client, f"{page}/annuler", {"confirmer": "oui", "dependants": "annuler"}, page=page)
    assert r.status_code == 302 and stored(admin_store, CIO_ID) is None
    conn = sqlite3.connect(admin_store)
    with conn:  # the store as schema 5 left it: no floor, the deleted counter forgotten
        for trigger in ("structures_version_deleted", "structures_version_created"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE plancher_version")
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    conn.close()
    store_db.migrate(admin_store)
    _import(admin_store, tmp_path, telephone="04 73 11 22 33")
    assert stored(admin_store, CIO_ID)["version"] > int(opened["version"])


def test_an_app_started_on_a_store_of_the_previous_schema_serves_its_pages(store_copy):
    from store_helpers import as_version

    from locator import create_app

    as_version(store_copy, "6")  # no hours note, no name positions yet
    client = create_app({"DB": str(store_copy), "TESTING": True}).test_client()
    for url in ("/", f"/structures/{AMBERT_ML}", "/communes/63003", "/api/v1/structures?commune=63003"):
        assert client.get(url).status_code == 200, url
    with closing(sqlite3.connect(store_copy)) as c:
        version = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        unlabelled = c.execute(
            "SELECT COUNT(*) FROM territoires WHERE geometrie IS NOT NULL AND etiquette_latitude IS NULL"
        ).fetchone()
    assert version == SCHEMA_VERSION and unlabelled == (0,)
