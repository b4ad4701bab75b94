"""Helpers shared by the import tests: run the CLI, read the store, dump it for before/after checks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from locator.cli import main

DATA = Path(__file__).parent / "data"
HEADER = "type;nom;adresse;code_postal;commune;latitude;longitude"


def content_rows(conn: sqlite3.Connection, table: str, order: str = "1, 2") -> list[tuple]:
    """A table's rows without the `version` counter, which moves on every write (an undo too) by design."""
    columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "version"]
    return conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}").fetchall()


def dump(path: Path) -> list:
    """Every row of the tables an import may write, in a stable order."""
    with sqlite3.connect(path) as c:
        return [
            c.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
            for t in (
                "structures",
                "couverture",
                "structure_refs",
                "imports",
                "historique",
                "geocodage_cache",
            )
        ]


def run_import(db: Path, file: Path, *args: str):
    """Run the CLI in-process; return (exit code, JSON report or None, output)."""
    result = CliRunner().invoke(main, ["import", str(file), "--db", str(db), "--json", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    try:
        report = json.loads(result.output)
    except ValueError:
        report = None
    return result.exit_code, report, result.output


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def structure(db: Path, sid: str) -> dict | None:
    with sqlite3.connect(db) as c:
        c.row_factory = sqlite3.Row
        row = c.execute("SELECT * FROM structures WHERE id = ?", (sid,)).fetchone()
        return dict(row) if row else None


def by_name(db: Path, nom: str) -> dict | None:
    with sqlite3.connect(db) as c:
        c.row_factory = sqlite3.Row
        row = c.execute("SELECT * FROM structures WHERE nom = ?", (nom,)).fetchone()
        return dict(row) if row else None


def rejected(report: dict) -> dict[int, str]:
    return {r["ligne"]: " ; ".join(r["erreurs"]) for r in report["rejetes"]}


def warnings(report: dict) -> dict[int | None, str]:
    return {w["ligne"]: " ; ".join(w["messages"]) for w in report["avertissements"]}


def duplicates(report: dict) -> dict[int, str]:
    """Line → the message of each row the import took for a probable duplicate (not imported)."""
    return {d["ligne"]: d["message"] for d in report["doublons_probables"]}
