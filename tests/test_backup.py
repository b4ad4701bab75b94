"""`locator backup` / `locator restore`: consistent copies while serving; a bad backup changes nothing."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import requests
from click.testing import CliRunner

from locator.cli import main
from locator.store.db import writer
from locator.store.schema import SCHEMA_VERSION
from locator.testing import serve_in_background

ML_AMBERT = "mission-locale-du-livradois-forez-63003"


def count(path, sql="SELECT COUNT(*) FROM structures"):
    with sqlite3.connect(path) as c:
        return c.execute(sql).fetchone()[0]


@pytest.mark.server
def test_backup_while_serving_then_restore_brings_data_back(store_copy, tmp_path):
    with serve_in_background(store_copy) as base:
        errors = []
        stop = threading.Event()

        def traffic():
            while not stop.is_set():
                try:
                    r = requests.get(base + "/api/v1/structures?commune=63003&limit=5", timeout=60)
                except requests.RequestException as err:  # counted, not lost with the thread
                    errors.append(repr(err))
                    continue
                if r.status_code != 200:
                    errors.append(r.status_code)

        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            saved = tmp_path / "sauvegarde.sqlite"
            result = CliRunner().invoke(main, ["backup", "--db", str(store_copy), str(saved)])
            assert result.exit_code == 0, result.output
            assert count(saved) == count(store_copy)

            db = writer(store_copy)
            with db.atomic():
                db.execute("DELETE FROM structures WHERE id = ?", [ML_AMBERT])
            db.close()
            assert requests.get(f"{base}/api/v1/structures/{ML_AMBERT}", timeout=60).status_code == 404

            result = CliRunner().invoke(main, ["restore", "--db", str(store_copy), str(saved), "--yes"])
            assert result.exit_code == 0, result.output
            assert requests.get(f"{base}/api/v1/structures/{ML_AMBERT}", timeout=60).status_code == 200
        finally:
            stop.set()
            worker.join()
        assert errors == []


def test_restore_refuses_a_damaged_backup_and_changes_nothing(store_copy, tmp_path):
    bad = tmp_path / "abimee.sqlite"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    before = count(store_copy)
    result = CliRunner().invoke(main, ["restore", "--db", str(store_copy), str(bad), "--yes"])
    assert result.exit_code == 1
    assert "refusée" in result.output
    assert count(store_copy) == before


def test_restore_refuses_a_file_that_is_not_a_store(store_copy, tmp_path):
    other = tmp_path / "autre.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE t (x)")
    result = CliRunner().invoke(main, ["restore", "--db", str(store_copy), str(other), "--yes"])
    assert result.exit_code == 1
    assert "pas construit" in result.output


def test_backup_of_a_missing_store_says_so(tmp_path):
    result = CliRunner().invoke(
        main, ["backup", "--db", str(tmp_path / "absent.sqlite"), str(tmp_path / "b")]
    )
    assert result.exit_code == 1
    assert "n’existe pas" in result.output
    assert not (tmp_path / "b").exists()


def test_restore_refuses_a_file_holding_only_the_meta_table_and_changes_nothing(store_copy, tmp_path):
    only_meta = tmp_path / "meta_seule.sqlite"
    with sqlite3.connect(only_meta) as c:
        c.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        c.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    before = (count(store_copy), count(store_copy, "SELECT COUNT(*) FROM communes"))
    result = CliRunner().invoke(main, ["restore", "--db", str(store_copy), str(only_meta), "--yes"])
    assert result.exit_code == 1
    assert "refusée" in result.output and "il manque" in result.output and "communes" in result.output
    assert (count(store_copy), count(store_copy, "SELECT COUNT(*) FROM communes")) == before


def test_restore_refuses_a_backup_missing_an_index_or_with_empty_communes(store_copy, tmp_path):
    for damage, said in (
        ("DROP INDEX structures_parent", "structures_parent"),
        ("DELETE FROM communes", "vide"),
    ):
        backup = tmp_path / "incomplete.sqlite"
        backup.unlink(missing_ok=True)
        CliRunner().invoke(main, ["backup", "--db", str(store_copy), str(backup)])
        with sqlite3.connect(backup) as c:
            c.execute(damage)
        before = count(store_copy)
        result = CliRunner().invoke(main, ["restore", "--db", str(store_copy), str(backup), "--yes"])
        assert result.exit_code == 1 and said in result.output, result.output
        assert count(store_copy) == before


def test_healthz_is_not_ok_when_a_required_table_is_missing(store_copy):
    from locator import create_app

    with sqlite3.connect(store_copy) as c:
        c.execute("DROP TABLE couverture")
    client = create_app({"DB": str(store_copy), "TESTING": True, "SECRET_KEY": "t"}).test_client()
    r = client.get("/healthz")
    assert r.status_code == 503 and "couverture" in r.get_json()["erreur"]
