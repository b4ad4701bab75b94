"""Hostile files: archive and JSON bombs, swallowed CSV rows, future dates, odd annuaire records.

Each bomb is small to generate and the caps are lowered through settings, so every test reads a few
megabytes at most; the CLI runs in a subprocess whose peak memory is measured.
"""

from __future__ import annotations

import bz2
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from import_helpers import DATA, HEADER, dump, run_import, write


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


ROW = "cio;CIO de Thiers {n};1 rue de la République;63300;Thiers;45,8564;3,5478"
# Runs the CLI and writes its own peak memory (kB) to stderr's last line: VmHWM starts afresh at
# exec, where ru_maxrss would keep the size of the pytest process it was forked from.
MEASURED = (
    "import sys\n"
    "from locator.cli import main\n"
    "try:\n    main()\n"
    "finally:\n"
    "    hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM')][0].split()[1]\n"
    "    print('PEAK_KB', hwm, file=sys.stderr)\n"
)


def cli(db: Path, file: Path, **settings) -> tuple[int, dict | None, int]:
    """Run `locator import FILE --json` in a subprocess; return (exit, report, peak MB).

    Its peak memory is the bound these tests check: a busy machine does not change it. How long the
    bombs take is measured by scripts/measure_import_limits.py, not here.
    """
    env = {**os.environ, **{f"LOCATOR_{k}": str(v) for k, v in settings.items()}}
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, "import", str(file), "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,  # a safety net
    )
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-2000:]
    peak = int(done.stderr.rsplit("PEAK_KB", 1)[1].split()[0]) // 1024
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = None
    return done.returncode, report, peak


def test_deeply_nested_json_is_refused_before_the_parser(store_copy, tmp_path):
    before = dump(store_copy)
    bomb = write(tmp_path, '{"service":[' + "[" * 50_000, name="profond.json")
    code, report, peak = cli(store_copy, bomb)
    assert code == 1 and "imbriqué sur plus de 64 niveaux" in report["erreur"]
    assert peak < 250, peak
    assert dump(store_copy) == before


def test_a_gzip_bomb_is_refused_by_its_expansion_ratio(store_copy, tmp_path):
    before = dump(store_copy)
    path = tmp_path / "bombe.json.gz"
    path.write_bytes(gzip.compress(b'{"service":[' + b" " * 5_000_000 + b"]}", 9))
    code, report, peak = cli(store_copy, path, IMPORT_MAX_RATIO=50)
    assert code == 1 and "Archive refusée" in report["erreur"] and "50 fois" in report["erreur"]
    assert peak < 250, peak
    assert dump(store_copy) == before


def test_a_bz2_bomb_is_refused_by_the_unpacked_size_cap(store_copy, tmp_path):
    path = tmp_path / "bombe.json.bz2"
    path.write_bytes(bz2.compress(b'{"service":[' + b" " * 5_000_000 + b"]}"))
    code, report, peak = cli(
        store_copy, path, IMPORT_MAX_DECOMPRESSED_BYTES=1_000_000, IMPORT_MAX_RATIO=10**9
    )
    assert code == 1 and "plus de 1.0 Mo" in report["erreur"], report
    assert peak < 250, peak


def test_a_compressed_real_annuaire_still_imports(store_copy, tmp_path):
    path = tmp_path / "annuaire.json.gz"
    path.write_bytes(gzip.compress((DATA / "annuaire_2022_extrait.json").read_bytes()))
    code, report, _ = run_import(store_copy, path, "--dry-run")
    assert code == 0 and report["lus"] > 0 and "erreur" not in report


# -- CSV rows are never swallowed ------------------------------------------------------------------
def test_an_unclosed_quote_rejects_its_line_and_reads_the_rows_after(store_copy, tmp_path):
    rows = [ROW.format(n=n) for n in range(1, 56)]
    rows[2] = 'cio;CIO de Thiers 3;"Accueil 9h-12h;63300;Thiers;45,8564;3,5478'
    code, report, _ = run_import(
        store_copy, write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"), "--dry-run"
    )
    assert code == 0
    assert report["lus"] == 55 and report["importes"] == 54
    assert [r["ligne"] for r in report["rejetes"]] == [4]
    assert "guillemet ouvert non refermé" in report["rejetes"][0]["erreurs"][0]


def test_a_quote_open_to_the_end_of_the_file_is_reported(store_copy, tmp_path):
    text = HEADER + "\n" + ROW.format(n=1) + '\ncio;CIO 2;"rue;63300;Thiers;45,8564;3,5478\nsuite\n'
    code, report, _ = run_import(store_copy, write(tmp_path, text), "--dry-run")
    assert code == 0 and report["importes"] == 1
    rejected = {r["ligne"]: r["erreurs"][0] for r in report["rejetes"]}
    assert "jusqu’à la fin du fichier" in rejected[3]
    assert 4 in rejected  # the line after is read again as a row of its own, and said wrong


def test_a_quoted_cell_may_span_a_few_lines_and_lines_stay_physical(store_copy, tmp_path):
    text = (
        HEADER
        + ";description\n"
        + ROW.format(n=1)
        + ';"Accueil\nsur rendez-vous\nle mardi"\n'
        + ROW.format(n=2)
        + ";\ncio;;x;63300;Thiers;45,8564;3,5478;\n"
    )
    code, report, _ = run_import(store_copy, write(tmp_path, text), "--dry-run")
    assert code == 0 and report["importes"] == 2
    assert [r["ligne"] for r in report["rejetes"]] == [6]


def test_a_cell_over_the_limit_is_refused_with_its_line(store_copy, tmp_path):
    text = HEADER + "\n" + ROW.format(n=1) + "\n" + ROW.format(n="x" * 40_000) + "\n" + ROW.format(n=3) + "\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text), "--dry-run")
    assert code == 0 and report["importes"] == 2
    assert report["rejetes"][0]["ligne"] == 3 and "trop longue" in report["rejetes"][0]["erreurs"][0]


def test_rows_with_too_few_or_too_many_fields_are_said(store_copy, tmp_path):
    text = HEADER + "\ncio;CIO de Thiers;1 rue;63300;Thiers\n" + ROW.format(n=2) + ";en trop\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text), "--dry-run")
    said = {w["ligne"]: " ".join(w["messages"]) for w in report["avertissements"]}
    assert "2 colonnes manquantes" in said[2]
    assert "au-delà des colonnes" in said[3]


def test_a_header_field_over_128_kb_is_a_french_error(store_copy, tmp_path):
    before = dump(store_copy)
    path = write(tmp_path, "type;nom;commune;" + '"' + "x" * 200_000 + '"\n' + ROW.format(n=1) + "\n")
    code, report, _ = run_import(store_copy, path)
    assert code == 1 and "première ligne" in report["erreur"]
    assert dump(store_copy) == before


# -- dates, invisible characters, odd annuaire records ---------------------------------------------
def test_a_date_maj_in_the_future_is_refused(store_copy, tmp_path):
    text = HEADER + ";date_maj\n" + ROW.format(n=1) + ";31/12/2999\n" + ROW.format(n=2) + ";01/02/2024\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text), "--dry-run")
    assert code == 0 and report["importes"] == 1
    assert report["rejetes"][0]["ligne"] == 2 and "dans le futur" in report["rejetes"][0]["erreurs"][0]


def test_an_annuaire_record_dated_in_the_future_is_refused(store_copy, tmp_path):
    data = json.loads((DATA / "annuaire_2022_extrait.json").read_text())
    data["service"][0]["date_modification"] = "2999-12-31 10:00:00"
    path = write(tmp_path, json.dumps(data), name="annuaire.json")
    code, report, _ = run_import(store_copy, path, "--dry-run")
    assert code == 0
    assert any("dans le futur" in e for r in report["rejetes"] for e in r["erreurs"]), report["rejetes"]


def test_bidi_and_invisible_characters_are_removed_from_text(store_copy, tmp_path):
    name = "CIO\u202e de\u2066 Thi\u200bers\u2069\ufeff\u200f"
    text = (
        HEADER
        + ";description\n"
        + ROW.format(n=1).replace("CIO de Thiers 1", name)
        + ";Accueil\u202d\u00ad ok\n"
    )
    code, _, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0
    import sqlite3

    with sqlite3.connect(store_copy) as c:
        found = c.execute("SELECT nom, description FROM structures WHERE nom LIKE 'CIO de Thi%'").fetchall()
    assert found == [("CIO de Thiers", "Accueil ok")]


def test_every_control_and_format_character_is_removed():
    import unicodedata

    from locator.ingest import clean

    kept = [
        hex(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) in ("Cc", "Cf")
        and chr(c) not in "\t\n\r"
        and clean.text(f"a{chr(c)}b") not in ("ab", "a b")
    ]
    assert kept == []


def test_the_fast_path_for_plain_cells_answers_as_the_full_cleaning():
    from locator.ingest import clean

    def answer(f, *args):
        try:
            return f(*args)
        except clean.Invalid as err:
            return ("Invalid", str(err))

    import unicodedata

    # The whole BMP, the format and mark characters beyond it, and a sample of the rest.
    chars = [
        c
        for c in range(sys.maxunicode + 1)
        if not 0xD800 <= c <= 0xDFFF
        and (c < 0x10000 or unicodedata.category(chr(c)) in ("Cf", "Mn", "Mc", "Me") or c % 97 == 0)
    ]
    for c in chars:
        ch = chr(c)
        for cell in (f"a{ch}b", f"{ch}ab", f"ab{ch}"):
            for field in ("", "nom"):
                expected = answer(clean._clean_text, cell, field, False)
                assert answer(clean.text, cell, field) == expected, (hex(c), cell, field)
    fields = ("", "nom", "telephone", "description")
    cells = (
        "a  b",
        " a",
        "a ",
        "x" * 301,
        "=1+1",
        " @a",
        "+33 4 72 00 00 00",
        "Lyon 3e",
        "Saint-Étienne",
        "e\u0301",
    )
    for cell in cells:
        for field in fields:
            for multiline in (False, True):
                expected = answer(clean._clean_text, cell, field, multiline)
                assert answer(clean.text, cell, field, multiline) == expected, (cell, field)


def test_annuaire_records_of_unexpected_shapes_are_refused_one_by_one(store_copy, tmp_path):
    data = json.loads((DATA / "annuaire_2022_extrait.json").read_text())
    good = data["service"][0]
    odd = [
        {**good, "date_modification": 20240101},
        {**good, "pivot": [{"type_service_local": ["cio"]}]},
        {**good, "adresse": "12 rue Nationale"},
        {**good, "nom": ["liste"], "adresse": [{"type_adresse": 5, "latitude": {"x": 1}}]},
    ]
    old = [
        {
            "type": "Feature",
            "properties": {"pivotLocal": "cio", "Adresse": "rue"},
            "geometry": {"coordinates": [5]},
        },
        {"type": "Feature", "properties": {"pivotLocal": ["cio"]}, "geometry": None},
        {"type": "Feature", "properties": "texte"},
    ]
    for records in (data["service"] + odd, old):
        path = write(tmp_path, json.dumps({"service": records}), name="annuaire.json")
        code, report, output = run_import(store_copy, path, "--dry-run")
        assert code in (0, 1) and report is not None, output
