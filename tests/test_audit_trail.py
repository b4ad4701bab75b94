"""The audit trail: imports that change nothing, who imported, undo from the command line, Paris times."""

from __future__ import annotations

import getpass
import io
import json
import re
import sqlite3

from admin_helpers import csrf_token, post_form, text
from click.testing import CliRunner
from import_helpers import DATA, content_rows, run_import

from locator.cli import main
from locator.web.admin.history import paris_time

MESSY = DATA / "import_desordre.csv"
AMBERT_ML = "mission-locale-du-livradois-forez-63003"


def directory(db) -> dict[str, list[tuple]]:
    """What an undo must put back: structures, their coverage and external ids."""
    conn = sqlite3.connect(db)
    try:
        return {
            t: sorted(content_rows(conn, t), key=repr) for t in ("structures", "couverture", "structure_refs")
        }
    finally:
        conn.close()


def imports_and_history(db) -> tuple[int, int]:
    with sqlite3.connect(db) as c:
        return tuple(c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("imports", "historique"))


def undo(db, *args: str, input: str | None = None):
    result = CliRunner().invoke(main, ["undo", "--db", str(db), *args], input=input)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# -- an import that changes nothing -----------------------------------------------------------------
def test_importing_the_same_messy_file_twice_leaves_one_import_in_the_history(store_copy):
    code, first, _ = run_import(store_copy, MESSY)
    assert code == 0 and first["import_id"] and first["aucun_changement"] is False
    after_first = imports_and_history(store_copy)
    code, second, _ = run_import(store_copy, MESSY)
    assert code == 0 and second["aucun_changement"] is True and "import_id" not in second
    assert second["crees"] == second["mis_a_jour"] == 0 and second["inchanges"] == first["importes"]
    assert imports_and_history(store_copy) == after_first == (1, after_first[1])
    said = CliRunner().invoke(main, ["import", str(MESSY), "--db", str(store_copy)]).output
    assert "Aucun changement" in said and "aucun import n’est ajouté à l’historique" in said


def test_the_wizard_records_no_import_when_nothing_changes(admin_client, admin_store):
    def confirm():
        token = csrf_token(admin_client, "/admin/import")
        r = admin_client.post(
            "/admin/import",
            data={
                "csrf_token": token,
                "statut": "publie",
                "fichier": (io.BytesIO(MESSY.read_bytes()), "d.csv"),
            },
            content_type="multipart/form-data",
        )
        preview = r.headers["Location"]
        return post_form(admin_client, preview + "/confirmer", page=preview)

    assert confirm().headers["Location"].startswith("/admin/imports/")
    r = confirm()
    assert r.headers["Location"] == "/admin/historique"
    assert "Aucun changement" in text(admin_client.get(r.headers["Location"]))
    assert imports_and_history(admin_store)[0] == 1


# -- who imported ---------------------------------------------------------------------------------
def test_command_line_author_defaults_to_the_system_user(store_copy):
    _code, report, _ = run_import(store_copy, MESSY)
    expected = f"{getpass.getuser()} (ligne de commande)"
    with sqlite3.connect(store_copy) as c:
        assert c.execute("SELECT auteur FROM imports").fetchall() == [(expected,)]
        assert {r[0] for r in c.execute("SELECT auteur FROM historique")} == {expected}
    run_import(store_copy, DATA / "hors_region.csv", "--auteur", "Camille Martin")
    with sqlite3.connect(store_copy) as c:
        assert c.execute("SELECT auteur FROM imports ORDER BY id DESC").fetchone() == ("Camille Martin",)


# -- locator undo -----------------------------------------------------------------------------------
def test_undo_command_puts_the_directory_back_as_before(store_copy):
    before = directory(store_copy)
    _code, report, _ = run_import(store_copy, MESSY)
    assert directory(store_copy) != before
    result = undo(store_copy, str(report["import_id"]), "--yes", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["annule"] is True and out["fiches"] == report["crees"] + report["mis_a_jour"]
    assert directory(store_copy) == before
    with sqlite3.connect(store_copy) as c:
        assert c.execute("SELECT annule_par FROM imports").fetchone()[0].endswith("(ligne de commande)")
    again = undo(store_copy, str(report["import_id"]), "--yes")
    assert again.exit_code == 1 and "déjà été annulé" in again.output


def test_undo_command_asks_for_confirmation_unless_yes(store_copy):
    _code, report, _ = run_import(store_copy, MESSY)
    imported = directory(store_copy)
    result = undo(store_copy, str(report["import_id"]), input="n\n")
    assert result.exit_code == 1 and f"Annuler l’import n° {report['import_id']}" in result.output
    assert directory(store_copy) == imported
    result = undo(store_copy, str(report["import_id"]), input="o\n")
    assert result.exit_code == 0 and "annulé" in result.output


def test_undo_command_refuses_and_lists_later_edits_unless_avec_dependances(store_copy):
    _code, report, _ = run_import(store_copy, MESSY)
    with sqlite3.connect(store_copy) as c:
        c.execute("UPDATE structures SET telephone = '04 73 00 00 00' WHERE id = ?", (AMBERT_ML,))
    edited = directory(store_copy)
    result = undo(store_copy, str(report["import_id"]), "--yes", "--json")
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["annule"] is False and "Annulation impossible" in out["erreur"]
    assert out["bloquants"]["structures_modifiees"] == [
        {"id": AMBERT_ML, "nom": "Mission locale du Livradois-Forez"}
    ]
    assert directory(store_copy) == edited
    plain = undo(store_copy, str(report["import_id"]), "--yes")
    assert plain.exit_code == 1 and AMBERT_ML in plain.output and "--avec-dependances" in plain.output
    result = undo(store_copy, str(report["import_id"]), "--yes", "--avec-dependances")
    assert result.exit_code == 0, result.output


def test_undo_command_usage_and_unknown_import(store_copy):
    assert undo(store_copy, "pas-un-nombre").exit_code == 2
    assert undo(store_copy).exit_code == 2
    result = undo(store_copy, "999", "--yes")
    assert result.exit_code == 1 and "inconnu" in result.output


# -- the admin pages --------------------------------------------------------------------------------
def test_admin_undo_asks_for_confirmation(admin_client, admin_store):
    _code, report, _ = run_import(admin_store, MESSY)
    detail = f"/admin/imports/{report['import_id']}"
    page = text(admin_client.get(detail))
    assert re.search(r'<input type="checkbox" name="confirmer" value="oui" required>', page)
    imported = directory(admin_store)
    r = post_form(admin_client, detail + "/annuler", page=detail)
    assert "Cochez la case de confirmation" in text(admin_client.get(r.headers["Location"]))
    assert directory(admin_store) == imported
    r = post_form(admin_client, detail + "/annuler", {"confirmer": "oui"}, page=detail)
    fiches = report["crees"] + report["mis_a_jour"]
    said = text(admin_client.get(r.headers["Location"]))
    assert f"{fiches} fiches remises dans leur état précédent" in said


def test_times_are_shown_in_paris_time_winter_and_summer():
    assert paris_time("2026-01-15T14:30:00+00:00") == "15/01/2026 à 15:30"  # UTC+1
    assert paris_time("2026-07-15T14:30:00+00:00") == "15/07/2026 à 16:30"  # UTC+2
    assert paris_time("2026-03-29T00:59:59+00:00") == "29/03/2026 à 01:59"  # just before the change
    assert paris_time("2026-03-29T01:00:00+00:00") == "29/03/2026 à 03:00"
    assert paris_time("2026-12-31T23:30:00+00:00") == "01/01/2027 à 00:30"
    assert paris_time("plus tard") == "plus tard" and paris_time(None) == ""


def test_admin_history_pages_show_stored_utc_times_in_paris_time(admin_client, admin_store):
    _code, report, _ = run_import(admin_store, MESSY)
    with sqlite3.connect(admin_store) as c:
        c.execute("UPDATE imports SET quand = '2026-07-15T14:30:00+00:00'")
        c.execute("UPDATE historique SET quand = '2026-01-15T14:30:00+00:00'")
    history = text(admin_client.get("/admin/historique"))
    assert "15/07/2026 à 16:30" in history and "2026-07-15T14:30" not in history
    detail = text(admin_client.get(f"/admin/imports/{report['import_id']}"))
    assert "Le 15/07/2026 à 16:30" in detail and "15/01/2026 à 15:30" in detail
    assert "T14:30:00" not in detail
