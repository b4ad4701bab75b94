"""`locator export`: CSV French Excel opens right (formulas defused), GeoJSON, data·inclusion validated."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

from click.testing import CliRunner
from import_helpers import run_import, write

from locator.cli import main
from locator.publish.exports import data_inclusion
from locator.publish.spreadsheet import safe_cell
from locator.store import db as store_db
from locator.store import structures as store_structures

# The default store's published structures: the seed's 193 rows and the 2 Missions locales of other
# régions that the coverage list names (Mâcon, Gueugnon).
PUBLISHED = 195


def export(db, fmt: str, *args: str, output=None) -> tuple[int, bytes, str]:
    runner = CliRunner()
    argv = ["export", "--db", str(db), "--format", fmt, *args]
    if output is not None:
        argv += ["--output", str(output)]
    result = runner.invoke(main, argv)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout_bytes, result.stderr


def test_csv_has_a_bom_semicolons_and_decimal_commas(built_store, tmp_path):
    out = tmp_path / "annuaire.csv"
    code, _stdout, err = export(built_store, "csv", output=out)
    assert code == 0 and f"{PUBLISHED} structures exportées" in err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["id", "type", "nom"]
    assert len(rows) == PUBLISHED + 1  # and the header
    ambert = next(r for r in rows if r[0] == "mission-locale-du-livradois-forez-63003")
    header = rows[0]
    assert ambert[header.index("latitude")].startswith("45,")
    assert ambert[header.index("code_insee")] == "63003"
    assert not (tmp_path / "annuaire.csv.part").exists()


def test_formula_cells_are_neutralised(store_copy, tmp_path):
    # Imports refuse such cells now; a store written before that (or by hand) may still hold them.
    rows = [
        {
            "id": "formule-1",
            "type": "cio",
            "nom": '=HYPERLINK("http://x","clic")',
            "code_insee": "63430",
            "telephone": "+33473000000",
            "adresse": "@SUM(A1)",
            "statut": "publie",
        },
        {"id": "formule-2", "type": "cio", "nom": "-2+3", "code_insee": "63430", "statut": "publie"},
    ]
    with store_db.writer(store_copy) as db:
        store_structures.upsert(db, rows, "2026-01-01")
    out = tmp_path / "e.csv"
    export(store_copy, "csv", output=out)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    noms = {r[2] for r in rows}
    assert '\'=HYPERLINK("http://x","clic")' in noms
    assert "'-2+3" in noms
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r)
    assert not any(
        cell.startswith("-") and not cell.lstrip("-").replace(",", "").isdigit() for r in rows for cell in r
    )


def test_safe_cell_rules():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("\tx") == "'\tx"
    assert safe_cell("\rx") == "'\rx"
    assert safe_cell(-1.5) == "-1,5"  # a number stays a number
    assert safe_cell(None) == ""
    assert safe_cell("Mission locale") == "Mission locale"


def test_csv_export_defuses_full_width_and_hidden_formulas(store_copy, tmp_path):
    hostile = ['\uff1dHYPERLINK("http://x")', '\n=HYPERLINK("http://x")', " \t-2+3", "\uff20SUM(A1)"]
    conn = sqlite3.connect(store_copy)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM structures WHERE id = 'cio-de-thiers-63430'").fetchone())
    row.pop("pk")
    with conn:  # written as stored, past the import's cleaning: the export must stand on its own
        for i, nom in enumerate(hostile):
            values = {**row, "id": f"piege-{i}", "nom": nom}
            conn.execute(
                f"INSERT INTO structures ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                list(values.values()),
            )
    conn.close()
    out = tmp_path / "e.csv"
    export(store_copy, "csv", output=out)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    by_id = {r[0]: r for r in rows[1:]}
    assert [by_id[f"piege-{i}"][2] for i in range(len(hostile))] == ["'" + n for n in hostile]
    assert by_id["piege-0"][rows[0].index("latitude")].startswith("45,")


def test_geojson_export_is_a_feature_collection_to_stdout(built_store):
    code, stdout, _err = export(built_store, "geojson")
    assert code == 0
    data = json.loads(stdout.decode("utf-8"))
    assert data["type"] == "FeatureCollection" and "Licence" in data["licence"]
    assert len(data["features"]) == PUBLISHED
    f = next(f for f in data["features"] if f["id"] == "cio-de-thiers-63430")
    lon, lat = f["geometry"]["coordinates"]
    assert 3.4 < lon < 3.7 and 45.8 < lat < 45.9
    assert f["properties"]["type"] == "cio" and f["properties"]["date_maj"] == "2022-05-25"


def test_data_inclusion_export_validates_every_structure(built_store, tmp_path):
    out = tmp_path / "di.json"
    code, _stdout, err = export(built_store, "data-inclusion", output=out)
    assert code == 0 and "refusée" not in err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data) == PUBLISHED
    ml = next(d for d in data if d["id"] == "locator-aura--mission-locale-du-livradois-forez-63003")
    assert ml["reseaux_porteurs"] == ["mission-locale"]
    assert ml["code_insee"] == "63003" and ml["date_maj"] == "2022-05-25"
    assert ml["lien_source"].startswith("https://github.com/")


def test_data_inclusion_refusals_are_reported_not_exported(store_copy, tmp_path):
    from data_inclusion.schema.v1 import Structure
    from pydantic import ValidationError

    row = {"id": "x", "type": "cio", "nom": "CI", "date_maj": "2022-01-01", "source": None}
    try:
        Structure.model_validate(data_inclusion(row, "locator-aura"))
        refused = False
    except ValidationError:
        refused = True
    assert refused  # a two-letter name is below the schema's minimum
    text = "type;nom;code_insee\ncio;CI;63430\n"
    run_import(store_copy, write(tmp_path, text))
    out = tmp_path / "di.json"
    code, _stdout, err = export(store_copy, "data-inclusion", output=out)
    assert code == 0 and "ci-63430" in err
    assert len(json.loads(out.read_text(encoding="utf-8"))) == PUBLISHED


def test_drafts_are_exported_only_when_asked(store_copy, tmp_path):
    run_import(store_copy, write(tmp_path, "type;nom;code_insee\ncio;CIO brouillon;63430\n"), "--brouillon")
    _code, stdout, _ = export(store_copy, "geojson")
    assert len(json.loads(stdout)["features"]) == PUBLISHED
    _code, stdout, _ = export(store_copy, "geojson", "--tous")
    assert len(json.loads(stdout)["features"]) == PUBLISHED + 1
