"""The command line speaks French everywhere: click's own messages, prompts, and « o »/« n » answers."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
from babel.messages import extract, pofile
from click.testing import CliRunner
from import_helpers import DATA, run_import

from locator import clifrench
from locator.cli import main

BIN = Path(sys.executable).parent
CATALOG = clifrench.LOCALE_DIR / "fr" / "LC_MESSAGES"
ENGLISH = ("Error:", "Usage:", "Aborted!", "do not match", "No such", "Try '", "Invalid value", "[y/N]")


@pytest.fixture(scope="module")
def built_store(small_built_store):
    return small_built_store


@pytest.fixture
def imported(store_copy) -> Path:
    """A store with one import recorded (8 permanences created, 2 structures updated)."""
    code, report, out = run_import(store_copy, DATA / "permanences_cp1252.csv")
    assert code == 0 and report["crees"] == 8, out
    return store_copy


def _undone(db: Path, import_id: int = 1) -> bool:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT annule_le FROM imports WHERE id = ?", (import_id,)).fetchone()
    return row[0] is not None


def _english_left(output: str) -> list[str]:
    return [word for word in ENGLISH if word in output]


def test_an_unknown_option_is_refused_in_french_with_exit_2(tmp_path):
    r = CliRunner().invoke(main, ["import", str(tmp_path / "x.csv"), "--pas-une-option"], prog_name="locator")
    assert r.exit_code == 2
    assert "Erreur\u202f: Option inconnue\u202f: « --pas-une-option »." in r.output
    assert "Utilisation\u202f: locator import" in r.output
    assert "Pour de l’aide\u202f: locator import --help" in r.output
    assert _english_left(r.output) == []


def test_a_mistyped_command_gets_a_french_suggestion():
    r = CliRunner().invoke(main, ["imprt"])
    assert r.exit_code == 2
    assert "Commande inconnue\u202f: « imprt »." in r.output
    assert "Vouliez-vous dire 'import'\u202f?" in r.output
    assert _english_left(r.output) == []


def test_a_value_of_the_wrong_kind_and_a_missing_file_are_said_in_french(tmp_path):
    r = CliRunner().invoke(main, ["undo", "trois", "--db", str(tmp_path / "d.sqlite")])
    assert r.exit_code == 2 and "« trois » n’est pas un nombre valable." in r.output
    missing = tmp_path / "absente.sqlite"
    r = CliRunner().invoke(main, ["restore", str(missing), "--db", str(tmp_path / "d.sqlite")])
    assert r.exit_code == 2 and f"« {missing} » n’existe pas." in r.output
    assert _english_left(r.output) == []


def test_help_is_in_french():
    r = CliRunner().invoke(main, ["--help"], prog_name="locator")
    assert r.exit_code == 0
    assert "Utilisation\u202f: locator" in r.output and "Commandes:" in r.output
    assert "Afficher cette aide et quitter." in r.output and "Afficher la version et quitter." in r.output
    assert "Show this message" not in r.output and "Show the version" not in r.output


def test_two_different_passwords_are_said_in_french_and_asked_again(store_copy):
    typed = "premier-mot-de-passe\nsecond-mot-de-passe\nle-bon-mot-de-passe\nle-bon-mot-de-passe\n"
    r = CliRunner().invoke(
        main, ["user", "add", "saisie@region.fr", "--role", "editeur", "--db", str(store_copy)], input=typed
    )
    assert r.exit_code == 0, r.output
    assert "Erreur\u202f: les deux saisies ne sont pas identiques, recommencez." in r.output
    assert "Mot de passe\u202f: " in r.output and "Confirmez le mot de passe\u202f: " in r.output
    assert "Compte créé" in r.output and _english_left(r.output) == []


def test_undo_asks_o_or_n_and_n_changes_nothing(imported):
    r = CliRunner().invoke(main, ["undo", "1", "--db", str(imported)], input="n\n")
    assert r.exit_code == 1
    assert "8 fiches créées, 2 mises à jour)\u202f? [o/N] " in r.output
    assert re.search(r"\(permanences_cp1252\.csv, le \d\d/\d\d/\d{4} à \d\d:\d\d, 8 fiches", r.output)
    assert "Abandon\u202f: rien n’a été fait." in r.output and _english_left(r.output) == []
    assert not _undone(imported)


def test_undo_accepts_o_after_an_answer_it_does_not_understand(imported):
    r = CliRunner().invoke(main, ["undo", "1", "--db", str(imported)], input="y\no\n")
    assert r.exit_code == 0, r.output
    assert "Erreur\u202f: répondez « o » (oui) ou « n » (non)." in r.output
    assert "Import n° 1 annulé" in r.output and _undone(imported)


def test_an_empty_answer_is_no(imported, tmp_path):
    backup = tmp_path / "sauvegarde.sqlite"
    shutil.copyfile(imported, backup)
    r = CliRunner().invoke(main, ["restore", str(backup), "--db", str(imported)], input="\n")
    assert r.exit_code == 1 and "[o/N]" in r.output and "Abandon" in r.output
    r = CliRunner().invoke(main, ["undo", "1", "--db", str(imported)], input="OUI\n")
    assert r.exit_code == 0 and _undone(imported)


def test_the_installed_command_speaks_french_whatever_the_system_language(tmp_path):
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "LANGUAGE": "en"}
    done = subprocess.run(
        [BIN / "locator", "import", str(tmp_path / "x.csv"), "--inconnue"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Erreur\u202f: Option inconnue\u202f: « --inconnue »." in done.stderr
    assert _english_left(done.stderr) == []


def test_the_compiled_catalog_says_what_its_source_says():
    with (CATALOG / "messages.po").open("rb") as f:
        source = pofile.read_po(f, locale="fr")
    with (CATALOG / "messages.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for message in source:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for n, text in enumerate(message.string):
                assert compiled.ngettext(*message.id, 1 if n == 0 else 2) == text
        else:
            assert compiled.gettext(message.id) == message.string, message.id


def test_every_message_of_the_installed_click_is_translated():
    # A new click version with new messages fails here until messages.po says them in French.
    folder = Path(click.__file__).parent
    wanted = set()
    for path in sorted(folder.glob("*.py")):
        with path.open("rb") as f:
            for _line, ids, _comments, _context in extract.extract("python", f):
                wanted.add(ids if isinstance(ids, str) else ids[0])
    with (CATALOG / "messages.po").open("rb") as f:
        source = pofile.read_po(f, locale="fr")
    have = {m.id[0] if isinstance(m.id, tuple) else m.id for m in source if m.string}
    assert wanted - have == set()
