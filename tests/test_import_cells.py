"""Cells read right: encodings per line, mojibake repaired, phones and e-mails read by their libraries."""

from __future__ import annotations

import re
import sqlite3

import pytest
from import_helpers import DATA, run_import, structure, write

from locator.ingest import table
from locator.ingest.table import FALLBACK, detect_decoding, open_table

MIXED = DATA / "cellules_melangees.csv"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Riom, Thiers and Ambert are in the small store (fast tier)."""
    return small_built_store


def by_name(db, nom: str) -> dict | None:
    with sqlite3.connect(db) as c:
        c.row_factory = sqlite3.Row
        row = c.execute("SELECT * FROM structures WHERE nom = ?", (nom,)).fetchone()
    return dict(row) if row else None


@pytest.fixture
def mixed_import(store_copy):
    code, report, out = run_import(store_copy, MIXED)
    assert code == 0, out
    notes = {w["ligne"]: " ".join(w["messages"]) for w in report["avertissements"]}
    errors = {r["ligne"]: " ".join(r["erreurs"]) for r in report["rejetes"]}
    return store_copy, report, notes, errors


# -- encodings per line -----------------------------------------------------------------------------
def test_utf8_file_with_one_cp1252_line_is_read_as_utf8_and_that_line_is_named(mixed_import):
    db, report, notes, _errors = mixed_import
    assert by_name(db, "Accueil d’été des lycéens")["adresse"] == "2 rue de l’Hôtel de Ville"
    assert by_name(db, "Espace jeunes à Thiers") is not None
    assert "Windows-1252" in notes[3] and "« Espace jeunes à Thiers »" in notes[3]
    assert not any("Windows-1252" in notes.get(n, "") for n in (2, 4, 5))
    assert "Windows-1252 (export Excel)" not in notes[None]  # not read as a cp1252 file
    assert "quelques caractères en Windows-1252" in notes[None]


def test_mojibake_cells_are_repaired_and_flagged_on_their_row(mixed_import):
    db, _report, notes, _errors = mixed_import
    assert by_name(db, "Relais étudiants de Thiers") is not None
    assert by_name(db, "Maison de l’emploi d’Ambert") is not None
    assert "« Relais Ã©tudiants de Thiers » → « Relais étudiants de Thiers »" in notes[4]
    assert "→ « Maison de l’emploi d’Ambert »" in notes[5]
    with sqlite3.connect(db) as c:
        assert (
            c.execute("SELECT COUNT(*) FROM structures WHERE nom LIKE '%Ã%' OR nom LIKE '%â€%'").fetchone()[0]
            == 0
        )


def test_a_pure_cp1252_file_is_still_detected_as_such():
    text = "type;nom;commune\ncio;CIO d’été à Riom;Riom\n"
    assert detect_decoding(text.encode("cp1252")) == ("cp1252", "strict")
    assert detect_decoding(text.encode("utf-8")) == ("utf-8", "strict")
    assert detect_decoding(b"\xef\xbb\xbf" + text.encode("utf-8")) == ("utf-8-sig", "strict")
    t = open_table(text.encode("cp1252"), 10**6)
    assert [row["nom"] for _n, row in t.rows()] == ["CIO d’été à Riom"]
    assert any("Windows-1252 (export Excel)" in w for w in t.warnings)


def test_a_cp1252_line_among_many_utf8_lines_is_found_wherever_it_sits():
    # The bad byte lands far past the first read chunk: the file is still read per character.
    lines = [f"cio;CIO n° {i} de Thiers, été;Thiers\n".encode() for i in range(5000)]
    lines[4321] = "cio;Relais jeunes de Thiers, rentrée;Thiers\n".encode("cp1252")
    data = b"type;nom;commune\n" + b"".join(lines)
    assert len(data) > 2 * table.CHUNK
    t = open_table(data, 10**7)
    assert t.errors == FALLBACK
    flagged = [(n, row) for n, row in t.rows() if "__encodage__" in row]
    assert [n for n, _row in flagged] == [4323]
    assert flagged[0][1]["nom"] == "Relais jeunes de Thiers, rentrée"


def test_a_cp1252_header_in_a_utf8_file_is_still_understood():
    data = "Téléphone;type;nom;commune\n".encode("cp1252") + "04 73 38 00 00;cio;CIO été;Riom\n".encode()
    t = open_table(data, 10**6)
    assert t.columns[0] == "telephone"
    assert [row["nom"] for _n, row in t.rows()] == ["CIO été"]


def test_a_cell_with_nothing_to_repair_is_left_as_typed():
    text = "type;nom;commune\ncio;Âge d’or – accueil « Ô » Ménétrol;Riom\n"
    t = open_table(text.encode(), 10**6)
    [(_n, row)] = list(t.rows())
    assert row["nom"] == "Âge d’or – accueil « Ô » Ménétrol" and "__repare__" not in row


# -- phones and e-mails -----------------------------------------------------------------------------
def test_phones_are_stored_in_e164_whatever_the_way_they_were_written(mixed_import):
    db, _report, notes, _errors = mixed_import
    assert by_name(db, "Accueil d’été des lycéens")["telephone"] == "+33473380000"
    assert by_name(db, "Espace jeunes à Thiers")["telephone"] == "+33473801122"
    assert by_name(db, "Relais étudiants de Thiers")["telephone"] == "+41223456789"
    assert by_name(db, "Maison de l’emploi d’Ambert")["telephone"] == "+33473826543"  # leading zero eaten
    assert by_name(db, "Relais emploi de Riom")["telephone"] == "+33473382222"
    assert "seul le 04 73 38 22 22 est gardé" in notes[10]


def test_cells_that_are_no_phone_or_a_formula_address_are_row_errors(mixed_import):
    db, report, _notes, errors = mixed_import
    assert "téléphone invalide" in errors[6] and "voir site" in errors[6]
    assert "formule de tableur" in errors[7]
    assert "courriel refusé" in errors[8] and "+cmd@evil.fr" in errors[8]
    assert "téléphone invalide" in errors[9] and "« 12 »" in errors[9]
    for nom in ("Point information jeunesse de Riom", "Permanence de Riom", "Accueil jeunes de Riom"):
        assert by_name(db, nom) is None
    assert report["crees"] == 5 and sorted(errors) == [6, 7, 8, 9]


def test_an_update_with_a_bad_phone_keeps_the_stored_one(store_copy, tmp_path):
    before = structure(store_copy, "cio-de-thiers-63430")["telephone"]
    code, report, _ = run_import(
        store_copy,
        write(
            tmp_path,
            "id;type;nom;code_insee;telephone\ncio-de-thiers-63430;cio;CIO de Thiers;63430;voir site\n",
        ),
    )
    assert code != 0 or report["rejetes"]
    assert structure(store_copy, "cio-de-thiers-63430")["telephone"] == before


# -- what the API gives ------------------------------------------------------------------------------
HOSTILE = (
    "type;nom;adresse;code_postal;commune;telephone;courriel;site_web;description;horaires\n"
    'partenaire;"=HYPERLINK(""http://x"")";1 rue de Lyon;63300;Thiers;04 73 80 00 10;;;;\n'
    "partenaire;Relais A de Thiers;2 rue de Lyon;63300;Thiers;+cmd;;;;\n"
    "partenaire;Relais B de Thiers;3 rue de Lyon;63300;Thiers;04 73 80 00 11;+cmd@evil.fr;;;\n"
    "partenaire;Relais C de Thiers;4 rue de Lyon;63300;Thiers;04 73 80 00 12;;=cmd|calc;;\n"
    "partenaire;Relais D de Thiers;5 rue de Lyon;63300;Thiers;04 73 80 00 13;;;@SUM(1);\n"
    'partenaire;Relais E de Thiers;6 rue de Lyon;63300;Thiers;04 73 80 00 14;;;;"\t-2+3"\n'
    "partenaire;Relais F de Thiers;7 rue de Lyon;63300;Thiers;\t=1+1;;;;\n"
    "partenaire;Relais G de Thiers;8 rue de Lyon;63300;Thiers;04 73 80 00 15;-x@exemple.fr;;;\n"
    "partenaire;Relais sans formule de Thiers;9 rue de Lyon;63300;Thiers;+33 4 73 80 00 16;a@exemple.fr;;;\n"
)
FORMULA = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@pytest.mark.server
def test_no_formula_looking_value_reaches_the_api_from_any_field(store_copy, tmp_path):
    import requests

    from locator.testing import serve_in_background

    for path in (DATA / "formules_tableur.csv", MIXED, write(tmp_path, HOSTILE)):
        run_import(store_copy, path)
    assert by_name(store_copy, "Relais sans formule de Thiers")["telephone"] == "+33473800016"
    with serve_in_background(store_copy) as base:
        answers = [
            requests.get(base + "/api/v1/structures", params={"commune": c, "limit": 100}, timeout=60).json()
            for c in ("63430", "63300", "63003")  # Thiers, Riom, Ambert
        ]
        features = requests.get(base + "/api/v1/structures.geojson", timeout=60).json()["features"]
    structures = [s for a in answers for s in a["results"]] + [f["properties"] for f in features]
    assert any(s["nom"] == "Relais sans formule de Thiers" for s in structures)
    for s in structures:
        for key, value in s.items():
            if not isinstance(value, str):
                continue
            if key == "telephone":  # the one normal form, E.164: a + and digits only
                assert re.fullmatch(r"\+\d{8,15}", value), (s["id"], value)
            else:
                assert not value.startswith(FORMULA), (s["id"], key, value)


def test_a_utf8_file_with_a_bom_and_a_cp1252_line_keeps_both_readings():
    data = (
        b"\xef\xbb\xbf"
        + "type;nom;commune\ncio;CIO été;Riom\n".encode()
        + "cio;CIO à Thiers;Thiers\n".encode("cp1252")
    )
    t = open_table(data, 10**6)
    assert (t.encoding, t.errors, t.headers[0]) == ("utf-8-sig", FALLBACK, "type")
    rows = dict(t.rows())
    assert rows[2] == {"type": "cio", "nom": "CIO été", "commune": "Riom"}
    assert rows[3]["nom"] == "CIO à Thiers" and "« CIO à Thiers »" in rows[3]["__encodage__"]
