"""A big file's rows read and placed by a second process (locator.ingest.front) give the import a
single process gives: same report, same stored rows, same history; a file that breaks while being read
leaves the store as it was, with the same message.

Real communes of the small store; chunks of a few rows, so the rows cross the pipe in many pieces.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from locator.ingest import front, importer, pipeline
from locator.ingest.importer import import_file
from locator.ingest.table import FileProblem
from locator.store.db import writer

# What differs between two runs of the same import: when it ran.
WHEN = ("cree_le", "modifie_le")


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Four départements are enough: the fast tier."""
    return small_built_store


def _messy_file(store: Path, path: Path, rows: int) -> None:
    """An Excel-like export: cp1252, decimal commas, CEDEX, antennes naming Missions locales further
    down, repeated rows, rows outside any commune, a formula, empty lines."""
    rng = random.Random(18)
    with closing(sqlite3.connect(store)) as c:
        communes = c.execute(
            "SELECT c.code, c.nom, c.latitude, c.longitude, MIN(p.code_postal) FROM communes c "
            "JOIN codes_postaux p ON p.code_insee = c.code WHERE c.type = 'COM' AND c.latitude IS NOT NULL "
            "GROUP BY c.code ORDER BY c.code"
        ).fetchall()
        stored = c.execute(
            "SELECT type, nom, code_postal, commune, code_insee, latitude, longitude FROM structures "
            "WHERE latitude IS NOT NULL AND code_insee IS NOT NULL ORDER BY id"
        ).fetchall()
    lines = ["Type;Nom;Adresse;CP;Ville;Code INSEE;Téléphone;Latitude;Longitude;Parent"]
    for n, (kind, nom, cp, ville, code, lat, lon) in enumerate(stored[:60]):
        # The store's own structures again: the same name (an update), a name alike (a probable
        # duplicate), a few metres away under another wording, then twice in the file.
        point = f"{lat:.6f}".replace(".", ","), f"{lon:.6f}".replace(".", ",")
        shape = n % 4
        name = [nom, f"{nom} (accueil)", f"Accueil {nom}", nom.upper()][shape]
        lines.append(f"{kind};{name};;{cp};{ville};{code};04 71 00 00 {n:02d};{point[0]};{point[1]};")
        if shape == 3:
            lines.append(f"{kind};{nom} – accueil;;{cp};{ville};{code};;{point[0]};{point[1]};")
    for i in range(rows):
        code, nom, lat, lon, cp = rng.choice(communes)
        kind = rng.choice(["Antenne", "CIO", "Mission Locale", "partenaire", "E2C"])
        point = ["", ""]
        if i % 2:
            point = [f"{lat + rng.uniform(-0.003, 0.003):.6f}", f"{lon + rng.uniform(-0.003, 0.003):.6f}"]
        parent = f"Mission locale d’essai n° {i + 5}" if kind == "Antenne" and i % 3 == 0 else ""
        name = f"Mission locale d’essai n° {i}" if kind == "Mission Locale" else f"Permanence {i} – {nom}"
        lines.append(
            f"{kind};{name};{rng.randint(1, 90)} rue de l'Église;{cp};{nom} CEDEX;{code if i % 4 else ''};"
            f"04 73 {i % 100:02d} {i % 97:02d} 00;{point[0].replace('.', ',')};{point[1].replace('.', ',')};"
            f"{parent}"
        )
        if i % 37 == 0:
            lines.append(lines[-1])  # the same row twice
        if i % 41 == 0:
            lines.append(f'CIO;=HYPERLINK("x");1 rue;{cp};{nom};;;;;')
        if i % 43 == 0:
            lines.append("partenaire;Point en mer;;;;;;44,0;-3,0;")
        if i % 47 == 0:
            lines.append(";;;;;;;;;")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace"))


def _stored(store: Path) -> tuple[list, list]:
    with closing(sqlite3.connect(store)) as c:
        c.row_factory = sqlite3.Row
        structures = [
            {k: v for k, v in dict(r).items() if k not in WHEN}
            for r in c.execute("SELECT * FROM structures ORDER BY id")
        ]
        history = [
            (r["structure_id"], r["action"], r["avant"], r["apres"])
            for r in c.execute("SELECT * FROM historique ORDER BY id")
        ]
    for structure in structures:
        structure.pop("pk", None)
    # The history records the write time inside the row it stores: read it without.
    return structures, [(s, a, b, _without_when(after)) for s, a, b, after in history]


def _without_when(text: str | None) -> str | None:
    if text is None:
        return None
    return json.dumps({k: v for k, v in json.loads(text).items() if k not in WHEN}, sort_keys=True)


def _import(store: Path, csv: Path, parallel: bool) -> dict:
    db = writer(store)
    try:
        return import_file(db, csv, options={"hors_region": True}, parallel=parallel)
    finally:
        db.close()


@pytest.mark.parametrize("ask", [True, False, None], ids=["store-asked-apart", "store-asked-here", "either"])
def test_rows_read_by_a_second_process_are_imported_as_one_process_imports_them(
    built_store, tmp_path, monkeypatch, ask
):
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 7)  # many chunks through the pipe, one cut mid-antennes
    monkeypatch.setattr(front, "ASK", ask)
    csv = tmp_path / "export.csv"
    _messy_file(built_store, csv, 400)
    alone, apart = tmp_path / "alone.sqlite", tmp_path / "apart.sqlite"
    for path in (alone, apart):
        path.write_bytes(built_store.read_bytes())
    report_alone = _import(alone, csv, parallel=False)
    report_apart = _import(apart, csv, parallel=True)
    assert report_alone["crees"] > 300 and report_alone["rejetes"] and report_alone["avertissements"]
    assert report_alone["mis_a_jour"] and report_alone["doublons_probables"]
    assert report_apart == report_alone
    assert _stored(apart) == _stored(alone)


def test_what_stops_the_second_process_is_raised_in_the_importing_one(built_store, tmp_path):
    options = importer._options({}, "structures")
    binary = front.Front(built_store, b"\x00\x01\x02" * 100, "f.csv", options, 10)
    try:
        with pytest.raises(FileProblem, match="n’est pas un fichier texte|octets nuls|CSV"):
            list(binary.chunks())
    finally:
        binary.close()
    gone = front.Front(built_store, tmp_path / "absent.csv", "absent.csv", options, 10)
    try:
        with pytest.raises(FileNotFoundError):
            list(gone.chunks())
    finally:
        gone.close()


def test_an_import_that_stops_early_stops_the_second_process(built_store, tmp_path):
    csv = tmp_path / "export.csv"
    _messy_file(built_store, csv, 300)
    reading = front.Front(built_store, csv, "export.csv", importer._options({}, "structures"), 5)
    first = next(reading.chunks())
    reading.close()  # the importing process gave up after one chunk: the other one is gone at once
    assert len(first) == 5 and reading._process.poll() is not None


CHILD = """
import sys
sys.path.insert(0, sys.argv[3])  # this checkout's locator, not the one in the current directory
from pathlib import Path
from locator.ingest.importer import import_file
from locator.store.db import writer

db = writer(sys.argv[1])
report = import_file(db, Path(sys.argv[2]), parallel=True)
print(report["crees"], "geopandas" in sys.modules)
"""


def test_the_importing_process_leaves_the_geography_to_the_second_one(built_store, tmp_path):
    store = tmp_path / "store.sqlite"
    store.write_bytes(built_store.read_bytes())
    csv = tmp_path / "points.csv"
    _messy_file(built_store, csv, 60)
    # Another `locator` where the import is run from: the second process must run its parent's code.
    (tmp_path / "locator").mkdir()
    (tmp_path / "locator" / "__init__.py").write_text("raise SystemExit('another locator')\n")
    root = Path(importer.__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(store), str(csv), str(root)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    created, loaded = done.stdout.split()
    assert int(created) > 40 and loaded == "False"  # placed, with GeoPandas, in the other process


def test_a_second_process_that_dies_is_told_with_its_last_words(built_store, tmp_path):
    csv = tmp_path / "export.csv"
    # Far more chunks than the pipe and the queue hold: the second process cannot be done when killed.
    _messy_file(built_store, csv, 3000)
    reading = front.Front(built_store, csv, "export.csv", importer._options({}, "structures"), 5)
    try:
        chunks = reading.chunks()
        next(chunks)
        reading._process.kill()  # as the kernel does to a process out of memory
        with pytest.raises(front.Stopped, match="s’est arrêtée avant sa fin"):
            list(chunks)
    finally:
        reading.close()


def test_an_import_whose_second_process_dies_says_so_and_leaves_the_store_as_it_was(
    built_store, tmp_path, monkeypatch
):
    reading = front.Front.chunks

    def killed_after_the_first(self):  # the kernel kills the second process once it has begun
        chunks = reading(self)
        yield next(chunks)
        self._process.kill()
        yield from chunks

    monkeypatch.setattr(front.Front, "chunks", killed_after_the_first)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 5)
    store = tmp_path / "store.sqlite"
    store.write_bytes(built_store.read_bytes())
    before = _stored(store)
    csv = tmp_path / "export.csv"
    _messy_file(built_store, csv, 3000)
    report = _import(store, csv, parallel=True)
    assert report["erreur"].startswith("La lecture du fichier s’est arrêtée avant sa fin (")
    assert report["erreur"].endswith(" : rien n’a été importé.")
    assert _stored(store) == before


def test_the_second_process_starts_without_the_web_app():
    # Its start is on the import's clock: the modules it loads are those of an offline job, not Flask's.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; import locator, locator.ingest.front, locator.ingest.importer; "
            "print(sorted({'flask', 'werkzeug', 'jinja2'} & set(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
    assert callable(__import__("locator").create_app)  # the app is still there for those who ask


@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "two-processes"])
def test_no_other_write_comes_between_the_store_an_import_reads_and_the_one_it_writes(
    built_store, tmp_path, monkeypatch, parallel
):
    store = tmp_path / "store.sqlite"
    store.write_bytes(built_store.read_bytes())
    csv = tmp_path / "export.csv"
    _messy_file(built_store, csv, 30)
    tried: list[str] = []

    class Watched(pipeline.RowPipeline):
        """The import's pipeline, which reads the store as it starts: an admin's edit tries to get in."""

        def __init__(self, *args, **kwargs):
            with closing(sqlite3.connect(store, timeout=0)) as admin:
                try:
                    admin.execute("BEGIN IMMEDIATE")
                    tried.append("écrit")
                    admin.rollback()
                except sqlite3.OperationalError as err:
                    tried.append(str(err))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(importer, "RowPipeline", Watched)
    report = _import(store, csv, parallel)
    assert report["crees"] > 20
    assert tried == ["database is locked"]  # the import's write lock was taken before
