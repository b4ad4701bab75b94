"""`locator import` on admin CSVs: detection, cleaning, places, duplicates, bad files; never a traceback."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner
from import_helpers import (
    DATA,
    HEADER,
    by_name,
    dump,
    duplicates,
    rejected,
    run_import,
    structure,
    warnings,
    write,
)

from locator.cli import main


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need four départements only: the small store (fast tier)."""
    return small_built_store


# -- the messy Windows-1252 spreadsheet ------------------------------------------------------------
def test_messy_cp1252_spreadsheet_imports_with_a_readable_report(store_copy):
    code, report, _ = run_import(store_copy, DATA / "permanences_cp1252.csv")
    assert code == 0
    assert report["lus"] == 13 and report["vides"] == 2
    assert report["crees"] == 8 and report["mis_a_jour"] == 2 and report["importes"] == 10
    bad = rejected(report)
    assert "javascript:" in bad[6]
    assert "type inconnu « Association »" in bad[10]
    assert "doublon de la ligne 2" in bad[11]
    notes = warnings(report)
    assert "Windows-1252" in notes[None]
    assert "CEDEX 63502" in notes[5] and "Issoire" in notes[5]
    assert "ne dessert pas Courpière" in notes[7]
    assert "inversées" in notes[9]
    assert "63999" in notes[14]
    assert "hors de France" in notes[15]

    arlanc = by_name(store_copy, "Permanence Mission locale du Livradois-Forez - Arlanc")
    assert (arlanc["latitude"], arlanc["longitude"]) == (45.4146, 3.7245)  # decimal commas
    assert arlanc["precision_geocodage"] == "source"
    assert arlanc["parent_id"] == "mission-locale-du-livradois-forez-63003"
    assert arlanc["telephone"] == "+33473823595"
    assert arlanc["source"] == "Fichier importé : permanences_cp1252.csv"
    assert arlanc["origine"] == "import"
    cunlhat = by_name(store_copy, "Permanence Mission locale du Livradois-Forez - Cunlhat")
    assert cunlhat["precision_geocodage"] == "commune" and cunlhat["code_insee"] == "63132"
    courpiere = by_name(store_copy, "Permanence Mission locale - Courpière")
    assert courpiere["code_insee"] == "63125" and courpiere["code_postal"] == "63120"
    assert courpiere["telephone"] == "+33473515050"  # the spreadsheet had eaten the leading zero
    puy = by_name(store_copy, "Permanence Mission locale - Puy-Guillaume")
    assert (puy["latitude"], puy["longitude"]) == (45.9604, 3.4749)
    olliergues = by_name(store_copy, "Permanence Mission locale - Olliergues")
    assert olliergues["precision_geocodage"] == "commune"


def test_cedex_row_keeps_the_precise_stored_point_and_real_postcode(store_copy):
    before = structure(store_copy, "cio-d-issoire-63178")
    run_import(store_copy, DATA / "permanences_cp1252.csv")
    after = structure(store_copy, "cio-d-issoire-63178")
    assert after["adresse"] == "Place Veysseire BP 77"
    assert after["code_postal"] == "63500"
    assert (after["latitude"], after["longitude"]) == (before["latitude"], before["longitude"])
    assert after["precision_geocodage"] == "source"


def test_update_changes_given_cells_and_keeps_the_others(store_copy):
    before = structure(store_copy, "mission-locale-du-bassin-de-thiers-63430")
    run_import(store_copy, DATA / "permanences_cp1252.csv")
    after = structure(store_copy, "mission-locale-du-bassin-de-thiers-63430")
    assert after["telephone"] == "+33473804970"
    assert after["site_web"] == "https://www.mission-locale-thiers.com"
    assert after["cree_le"] == before["cree_le"]
    assert after["latitude"] == before["latitude"]  # no coordinates in the file: the source point stays
    assert after["date_maj"] > before["date_maj"]


def test_importing_the_same_file_twice_changes_nothing_the_second_time(store_copy):
    run_import(store_copy, DATA / "permanences_cp1252.csv")
    with sqlite3.connect(store_copy) as c:
        data = [
            c.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("structures", "historique")
        ]
    code, report, _ = run_import(store_copy, DATA / "permanences_cp1252.csv")
    assert code == 0
    assert report["crees"] == 0 and report["mis_a_jour"] == 0 and report["inchanges"] == 10
    with sqlite3.connect(store_copy) as c:
        assert data == [
            c.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("structures", "historique")
        ]
        # issue 12: an import that changes nothing is not recorded (was: both recorded)
        assert c.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == 1
    assert report["aucun_changement"] is True


def test_dry_run_reports_and_writes_nothing(store_copy):
    before = dump(store_copy)
    code, report, _ = run_import(store_copy, DATA / "permanences_cp1252.csv", "--dry-run")
    assert code == 0 and report["crees"] == 8
    assert dump(store_copy) == before


def test_html_and_sql_looking_text_is_kept_as_text(store_copy):
    with sqlite3.connect(store_copy) as c:
        before = c.execute("SELECT COUNT(*) FROM structures").fetchone()[0]
    run_import(store_copy, DATA / "permanences_cp1252.csv")
    html = by_name(store_copy, "<b>Permanence</b> <script>alert('x')</script> Saint-Anthème")
    assert html is not None and html["code_insee"] == "63319"
    sql = by_name(store_copy, "Robert'); DROP TABLE structures;--")
    assert sql["type"] == "partenaire"
    with sqlite3.connect(store_copy) as c:
        assert c.execute("SELECT COUNT(*) FROM structures").fetchone()[0] == before + 8


def test_human_report_lists_each_problem_row(store_copy):
    result = CliRunner().invoke(
        main, ["import", str(DATA / "permanences_cp1252.csv"), "--db", str(store_copy)]
    )
    assert result.exit_code == 0
    assert "ligne 6 rejetée : adresse web refusée" in result.output
    assert "13 lignes lues ; 8 créées, 2 mises à jour, 0 inchangée, 3 rejetées" in result.output


# -- detection: encodings, delimiters, headers ----------------------------------------------------
@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("utf-8-sig", ";"), ("utf-8", ","), ("cp1252", ";"), ("utf-8", "\t")],
)
def test_encodings_and_delimiters_are_detected(store_copy, tmp_path, encoding, sep):
    text = sep.join(["Type", "Nom", "Code postal", "Ville"]) + "\r\n"
    text += sep.join(["CIO", "Point conseil orientation Thiers-Château", "63300", "Thiers"]) + "\r\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text, encoding))
    assert code == 0 and report["crees"] == 1, report
    row = by_name(store_copy, "Point conseil orientation Thiers-Château")
    assert row["commune"] == "Thiers" and row["type"] == "cio"


def test_english_headers_and_aliases_are_understood(store_copy, tmp_path):
    text = "TYPE,Name,Address,Postcode,City,Phone,E-mail,Website,Lat,Lng,Parent_name\n"
    text += (
        "antenne_mission_locale,Permanence jeunes de Vic-le-Comte,Mairie,63270,Vic-le-Comte,"
        "0473698000,contact@exemple.fr,http://exemple.fr,45.6432,3.2462,Mission locale du Val d'Allier\n"
    )
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0 and report["crees"] == 1, report
    row = by_name(store_copy, "Permanence jeunes de Vic-le-Comte")
    assert row["parent_id"] == "mission-locale-du-val-d-allier-63178"
    assert row["courriel"] == "contact@exemple.fr" and row["telephone"] == "+33473698000"


def test_lambert93_coordinates_are_converted(store_copy, tmp_path):
    # Town hall of Ambert in Lambert-93 (EPSG:2154), computed independently with pyproj.
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True).transform(3.7432, 45.5490)
    text = f"type;nom;x;y\nantenne;Permanence Lambert Ambert;{x:.1f};{y:.1f}\n"
    text += f"antenne;Permanence XY inversés;{y:.1f};{x:.1f}\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text.replace(".", ",")))
    assert code == 0 and report["crees"] == 2, report
    row = by_name(store_copy, "Permanence Lambert Ambert")
    assert row["code_insee"] == "63003"
    assert abs(row["latitude"] - 45.5490) < 1e-4 and abs(row["longitude"] - 3.7432) < 1e-4
    assert "inversés" in warnings(report)[3]


def test_a_point_far_from_its_commune_is_not_trusted(store_copy, tmp_path):
    # Ambert's postcode and name, but a point in Clermont-Ferrand (60 km away).
    text = HEADER + "\nantenne;Permanence mal placée;Mairie;63600;Ambert;45,7772;3,0870\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0
    assert "km d'Ambert" in warnings(report)[2] or "km de Ambert" in warnings(report)[2]
    row = by_name(store_copy, "Permanence mal placée")
    assert row["code_insee"] == "63003" and row["precision_geocodage"] == "commune"
    assert abs(row["latitude"] - 45.549) < 0.01


def test_postcode_serving_several_communes_asks_which(store_copy, tmp_path):
    text = "type;nom;code_postal\nantenne;Permanence du 63600;63600\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 1  # no valid row: nothing imported
    assert "dessert" in rejected(report)[2] and "Ambert" in rejected(report)[2]


def test_postcode_that_does_not_exist_without_commune_is_rejected(store_copy, tmp_path):
    text = "type;nom;code_postal\ncio;CIO imaginaire;99999\nantenne;Permanence de Clermont;63000\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0
    assert "code postal 99999 inexistant" in rejected(report)[2]
    assert report["crees"] == 1


def test_unknown_insee_code_and_former_commune_code(store_copy, tmp_path):
    text = "type;nom;code_insee\ncio;CIO nulle part;63999\nantenne;Permanence d'Annecy-le-Vieux;74011\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0
    assert "code INSEE 63999 inconnu" in rejected(report)[2]
    assert "ancienne commune" in warnings(report)[3]
    assert by_name(store_copy, "Permanence d'Annecy-le-Vieux")["code_insee"] == "74010"


def test_french_type_labels_are_mapped(store_copy, tmp_path):
    text = "type;nom;code_insee\nMission Locale;Mission locale d'essai;63430\n"
    text += "École de la 2e chance;E2C d'essai;63430\n"
    text += "Centre d'information et d'orientation;CIO d'essai;63430\nAntenne;Antenne d'essai;63430\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0 and report["crees"] == 4, report
    assert by_name(store_copy, "Mission locale d'essai")["type"] == "mission_locale"
    assert by_name(store_copy, "E2C d'essai")["type"] == "e2c"
    assert by_name(store_copy, "CIO d'essai")["type"] == "cio"
    assert by_name(store_copy, "Antenne d'essai")["type"] == "antenne_mission_locale"


def test_near_duplicate_of_a_stored_structure_is_not_imported_and_an_explicit_id_updates_it(
    store_copy, tmp_path
):
    thiers = structure(store_copy, "cio-de-thiers-63430")
    text = f"type;nom;latitude;longitude\ncio;C.I.O. de Thiers;{thiers['latitude']};{thiers['longitude']}\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 1 and report["doublons"] == 1 and report["importes"] == 0
    assert "doublon probable" in duplicates(report)[2] and "cio-de-thiers-63430" in duplicates(report)[2]
    text = "id;type;nom;code_insee;telephone\ncio-de-thiers-63430;cio;CIO de Thiers;63430;04 73 80 21 53\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text, name="g.csv"))
    assert code == 0 and report["mis_a_jour"] == 1
    assert structure(store_copy, "cio-de-thiers-63430")["telephone"] == "+33473802153"


def test_control_characters_are_stripped(store_copy, tmp_path):
    text = "type;nom;code_insee\ncio;CIO\x07 de\x1b[31m Courpière\u200b;63125\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0
    row = structure(store_copy, "cio-de-31m-courpiere-63125")
    assert row["nom"] == "CIO de [31m Courpière"


def test_brouillon_option_creates_unpublished_rows(store_copy, tmp_path):
    text = "type;nom;code_insee\nantenne;Permanence en attente;63430\n"
    code, _report, _ = run_import(store_copy, write(tmp_path, text), "--brouillon")
    assert code == 0
    assert by_name(store_copy, "Permanence en attente")["statut"] == "brouillon"


# -- bad files: exit 1, store unchanged -------------------------------------------------------------
def _xlsx() -> bytes:
    """A spreadsheet saved as .xlsx (a zip of XML files) instead of CSV."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return buf.getvalue()


BAD_FILES = {
    "empty": (b"", "vide"),
    "binary": (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4, "pas un fichier texte"),
    "nul_bytes": (b"type;nom\nantenne;x\x00y\n", "pas un fichier texte"),
    "xlsx": (_xlsx(), "pas un fichier texte"),
    "header_only": (HEADER.encode() + b"\r\n", "Aucune ligne valide"),
    "missing_columns": (
        b"nom;telephone\nMission locale;0473000000\n",
        "Colonnes obligatoires absentes : type",
    ),
    "no_place_column": (b"type;nom;telephone\ncio;CIO;0473000000\n", "un lieu"),
    "every_field_empty": (HEADER.encode() + b"\r\n;;;;;;\r\n;;;;;;\r\n", "Aucune ligne valide"),
    "blank_header": (b"\r\n\r\ntype;nom\r\n", "première ligne est vide"),
    "impossible_coordinates": (
        b"type;nom;latitude;longitude\ncio;CIO perdu;999;-999\n",
        "Aucune ligne valide",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_with_a_clear_message_and_the_store_is_unchanged(store_copy, tmp_path, case):
    content, message = BAD_FILES[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(content)
    before = dump(store_copy)
    code, report, output = run_import(store_copy, path)
    assert code == 1, output
    assert message in report["erreur"] + json.dumps(report["rejetes"], ensure_ascii=False)
    assert dump(store_copy) == before


def test_file_over_the_size_limit_is_refused(store_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_IMPORT_MAX_BYTES", "1000")
    path = write(tmp_path, HEADER + "\n" + "cio;CIO de Thiers;;63300;Thiers;;\n" * 100)
    before = dump(store_copy)
    code, report, _ = run_import(store_copy, path)
    assert code == 1 and "plus que la limite" in report["erreur"] and "découpez" in report["erreur"]
    assert dump(store_copy) == before


def test_missing_file_and_usage_errors(store_copy, tmp_path):
    code, report, _ = run_import(store_copy, tmp_path / "absent.csv")
    assert code == 2 and "introuvable" in report["erreur"]  # a usage error (was 1 before issue 12)
    result = CliRunner().invoke(main, ["import", "--db", str(store_copy), "--geocoder", "google", "x.csv"])
    assert result.exit_code == 2


def test_a_file_with_one_good_row_among_bad_ones_imports_the_good_one(store_copy, tmp_path):
    text = "type;nom;code_insee;site_web\n"
    text += "cio;CIO piégé;63430;javascript:alert(1)\n"
    text += "cio;CIO piégé 2;63430;  JaVaScRiPt:alert(1)\n"
    text += "cio;CIO piégé 3;63430;data:text/html,<script>alert(1)</script>\n"
    text += "cio;CIO correct;63430;www.exemple.fr\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0 and report["crees"] == 1
    assert set(rejected(report)) == {2, 3, 4}
    assert by_name(store_copy, "CIO correct")["site_web"] == "https://www.exemple.fr"


def test_a_store_that_was_never_built_is_refused(tmp_path):
    path = write(tmp_path, "type;nom;code_insee\ncio;CIO;63430\n")
    code, _report, output = run_import(tmp_path / "none.sqlite", path)
    assert code == 1 and "locator build" in output


def test_mangled_spreadsheets_never_end_in_a_traceback(store_copy, tmp_path):
    import random

    rng = random.Random(3)
    original = (DATA / "permanences_cp1252.csv").read_bytes()
    for n in range(40):
        data = bytearray(original)
        for _ in range(rng.randint(1, 12)):
            pos = rng.randrange(len(data))
            what = rng.random()
            if what < 0.3:
                data[pos] = rng.randrange(256)
            elif what < 0.5:
                data.insert(pos, rng.choice(b'";\r\n,\t\x00\xff'))
            elif what < 0.7:
                del data[pos : pos + rng.randint(1, 40)]
            else:
                data[pos:pos] = rng.choice([b"CEDEX 9", b"=1+1", b"999999", b"-0,0", b"1e308", b"nan", b'"'])
        path = tmp_path / f"m{n}.csv"
        path.write_bytes(bytes(data))
        code, report, output = run_import(store_copy, path, "--dry-run")
        assert code in (0, 1), output
        assert report is not None, output


def test_a_locked_store_gives_a_clear_error_and_no_change(store_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_DB", str(store_copy))
    holder = sqlite3.connect(store_copy, timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        import locator.store.db as store_db

        real_writer = store_db.writer

        def impatient(path):
            db = real_writer(path)
            db.conn.execute("PRAGMA busy_timeout = 100")
            return db

        monkeypatch.setattr(store_db, "writer", impatient)
        code, report, _ = run_import(store_copy, write(tmp_path, "type;nom;code_insee\ncio;CIO;63430\n"))
    finally:
        holder.rollback()
        holder.close()
    assert code == 1 and "n’a pas pu être écrit" in report["erreur"]
    assert by_name(store_copy, "CIO") is None


# -- row checks (issue 12) -------------------------------------------------------------------------
def test_cells_that_start_like_a_spreadsheet_formula_are_refused_with_the_reason(store_copy):
    code, report, _ = run_import(store_copy, DATA / "formules_tableur.csv")
    assert code == 0
    bad = rejected(report)
    assert "formule de tableur" in bad[2] and "nom" in bad[2]  # =HYPERLINK(...)
    assert "formule de tableur" in bad[3] and "adresse" in bad[3]  # after leading spaces
    assert "formule de tableur" in bad[4] and "description" in bad[4]  # after a line break
    assert "formule de tableur" in bad[6]  # full-width ＝
    assert report["crees"] == 1  # phone numbers written +33 4 … stay valid
    kept = by_name(store_copy, "Permanence jeunesse de Thiers")
    assert kept["telephone"].replace(" ", "").endswith("473800004")
    assert by_name(store_copy, "Point info jeunes de Thiers") is None


def test_duplicate_checks_answer_the_same_whether_the_store_is_read_at_once_or_cell_by_cell(
    built_store, tmp_path, monkeypatch
):
    """A small store is read in one statement when the import begins; a big one commune by commune."""
    import shutil

    from locator.ingest import dedupe

    thiers = structure(built_store, "cio-de-thiers-63430")
    near = f"type;nom;latitude;longitude\ncio;C.I.O. de Thiers;{thiers['latitude']};{thiers['longitude']}\n"
    reports = []
    for preload in (dedupe.PRELOAD_MAX, 0):
        monkeypatch.setattr(dedupe, "PRELOAD_MAX", preload)
        db = tmp_path / f"store-{preload}.sqlite"
        shutil.copyfile(built_store, db)
        runs = [run_import(db, DATA / "permanences_cp1252.csv")[1], run_import(db, write(tmp_path, near))[1]]
        reports.append([{k: v for k, v in r.items() if k != "import_id"} for r in runs])
    assert reports[0] == reports[1]
    assert (
        "doublon probable" in duplicates(reports[0][1])[2]
        and "doublon de la ligne 2" in rejected(reports[0][0])[11]
    )


def test_an_import_leaves_both_spatial_indexes_exact_and_their_triggers_in_place(store_copy, tmp_path):
    # The streamed import indexes its new rows in bulk at the end (issue 12): same indexes as row by row.
    with sqlite3.connect(store_copy) as c:
        triggers = c.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY 1"
        ).fetchall()
    pile = "\n".join(
        f"{kind};Permanence {i} quartier {i % 7};{i} rue Garibaldi;69003;Lyon;;"
        for i, kind in enumerate(["Antenne", "CIO", "partenaire"] * 20)
    )
    run_import(store_copy, DATA / "permanences_cp1252.csv")  # updates stored rows, creates others
    code, report, _ = run_import(store_copy, write(tmp_path, f"{HEADER}\n{pile}\n"))
    assert code == 0 and report["crees"] == 60
    located = "statut = 'publie' AND latitude IS NOT NULL AND longitude IS NOT NULL"
    with sqlite3.connect(store_copy) as c:
        assert c.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY 1"
        ).fetchall() == (triggers)
        positions = c.execute(
            "SELECT latitude, longitude, type, n FROM positions ORDER BY 1, 2, 3"
        ).fetchall()
        assert (
            positions
            == c.execute(
                f"SELECT latitude, longitude, type, COUNT(*) FROM structures WHERE {located} "
                "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
            ).fetchall()
        )
        assert max(n for *_p, n in positions) >= 20  # the pile on Lyon 3e's town hall is one entry per type
        assert c.execute("SELECT COUNT(*) FROM positions_rtree").fetchone() == (len(positions),)
        assert (
            c.execute("SELECT pk, type FROM structures_rtree ORDER BY pk").fetchall()
            == c.execute(f"SELECT pk, type FROM structures WHERE {located} ORDER BY pk").fetchall()
        )
