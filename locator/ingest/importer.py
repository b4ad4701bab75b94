"""Imports: plan a file (writes nothing), apply a plan (one transaction, recorded, undoable), or stream one.

The admin wizard calls `plan_import` then `apply_import`; the CLI calls `import_file`, which streams
the same steps so that memory stays flat on large files. Three kinds of file are recognised:
structures (admin CSV), the DILA annuaire (JSON), and coverage lists (commune → Mission locale).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

from .. import territories
from ..store import coverage as store_coverage
from ..store import geocache
from ..store import history as store_history
from ..store import imports as store_imports
from ..store import positions as store_positions
from ..store import structures as store_structures
from . import annuaire, collector, table
from . import front as ingest_front
from . import pipeline as row_pipeline
from .coverage import FOUND_BY, CoverageLine, plan_lines
from .geocoders import BanGeocoder, Geocoder, OfflineGeocoder
from .limits import Limits
from .pipeline import Options, PlanRow, RowPipeline
from .table import FileProblem

TERRITORY_TYPES = territories.TERRITORY_TYPES
ORIGIN_OF_GENRE = {"structures": "import", "annuaire": "annuaire", "couverture": "import"}
# The report's count of each row action ("vide" rows are counted apart: they are not read rows).
COUNT_OF_ACTION = {
    "nouveau": "crees",
    "mis_a_jour": "mis_a_jour",
    "inchange": "inchanges",
    "rejete": "rejetes",
    "doublon": "doublons",
}


def new_counts() -> dict[str, int]:
    """Return the counts of an import before its first row."""
    return {
        "lus": 0,
        "crees": 0,
        "mis_a_jour": 0,
        "inchanges": 0,
        "rejetes": 0,
        "doublons": 0,
        "vides": 0,
        "importes": 0,
    }


def count(counts: dict[str, int], action: str) -> None:
    """Add one row's action to the counts."""
    if action == "vide":
        counts["vides"] += 1
        return
    counts["lus"] += 1
    counts[COUNT_OF_ACTION[action]] += 1
    # A probable duplicate is not imported until the admin says what it is.
    counts["importes"] = counts["lus"] - counts["rejetes"] - counts.get("doublons", 0)


class PlanStale(RuntimeError):
    """The store changed since the plan was made: plan again before applying."""


@dataclass
class ImportPlan:
    """What importing a file would do, row by row; nothing is written until `apply_import`."""

    fichier: str
    sha256: str
    genre: str  # "structures", "annuaire" or "couverture"
    taille: int = 0
    lignes: list[PlanRow] = field(default_factory=list)
    couverture: list[CoverageLine] = field(default_factory=list)
    couverture_par_structure: dict[str, dict[str, Any]] = field(default_factory=dict)
    couverture_source: str | None = None  # the source and vintage its coverage rows will carry
    couverture_date: str | None = None
    avertissements: list[str] = field(default_factory=list)  # about the whole file
    erreur: str | None = None  # why the whole file cannot be imported
    enregistrements: int | None = None  # records in an annuaire file (before the région filter)
    geocache: dict[str, Any] = field(default_factory=dict)  # new online geocoder answers

    def counts(self) -> dict[str, int]:
        """Return how many rows each action concerns."""
        out = new_counts()
        for r in self.couverture if self.genre == "couverture" else self.lignes:
            count(out, r.action)
        return out

    def report(self) -> dict[str, Any]:
        """Return the report of the contract: lus, importes, crees, mis_a_jour, rejetes, avertissements."""
        return build_report(self, self.lignes if self.genre != "couverture" else self.couverture)

    def to_dict(self) -> dict[str, Any]:
        """Return the whole plan as JSON-able data (the wizard keeps it between two requests)."""
        return {
            "fichier": self.fichier,
            "sha256": self.sha256,
            "genre": self.genre,
            "taille": self.taille,
            "lignes": [r.to_dict() for r in self.lignes],
            "couverture": [c.to_dict() for c in self.couverture],
            "couverture_par_structure": {
                k: {**v, "codes": sorted(v["codes"]), "refs": sorted(v["refs"])}
                for k, v in self.couverture_par_structure.items()
            },
            "couverture_source": self.couverture_source,
            "couverture_date": self.couverture_date,
            "avertissements": self.avertissements,
            "erreur": self.erreur,
            "enregistrements": self.enregistrements,
            "geocache": self.geocache,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImportPlan:
        """Rebuild a plan from `to_dict` data."""
        plan = cls(
            **{k: v for k, v in d.items() if k not in ("lignes", "couverture", "couverture_par_structure")}
        )
        plan.lignes = [PlanRow.from_dict(r) for r in d.get("lignes", [])]
        plan.couverture = [CoverageLine(**c) for c in d.get("couverture", [])]
        plan.couverture_par_structure = {
            k: {**v, "codes": set(v["codes"]), "refs": set(v["refs"])}
            for k, v in d.get("couverture_par_structure", {}).items()
        }
        return plan


def build_report(
    plan: ImportPlan, rows: Iterable[Any], counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """Return the JSON report of an import from its rows."""
    counts = counts or plan.counts()
    rejetes, avertissements = (
        [],
        [{"ligne": None, "messages": list(plan.avertissements)}] if plan.avertissements else [],
    )
    changements, doublons = [], []
    horaires: list[dict[str, Any]] = []  # hours as written and as read (French → OSM, notes)
    for r in rows:
        if r.action == "rejete":
            rejetes.append({"ligne": r.ligne, "erreurs": r.erreurs})
        if getattr(r, "avertissements", None):
            avertissements.append({"ligne": r.ligne, "messages": r.avertissements})
        if r.action == "mis_a_jour":
            changements.append(update_entry(r))
        elif r.action == "doublon":
            doublons.append(duplicate_entry(r))
        if getattr(r, "horaires_lus", None):
            horaires.append({"ligne": r.ligne, **r.horaires_lus})
    out = {
        "fichier": plan.fichier,
        "genre": plan.genre,
        "lus": counts["lus"],
        "importes": counts["importes"],
        "crees": counts["crees"],
        "mis_a_jour": counts["mis_a_jour"],
        "inchanges": counts["inchanges"],
        "vides": counts["vides"],
        "rejetes": rejetes,
        "doublons": counts.get("doublons", 0),
        "doublons_probables": doublons,
        "changements": changements,
        "avertissements": avertissements,
        "horaires": horaires,
        "aucun_changement": False,  # set once written: True when the import changed nothing
    }
    if plan.genre == "couverture":
        out["retires"] = counts.get("retires", 0)
        out["missions_locales"] = coverage_summary(plan)
        out["structures_creees"] = sorted(r.structure["id"] for r in plan.lignes if r.action == "nouveau")
    if plan.erreur:
        out["erreur"] = plan.erreur
    return out


def update_entry(row: PlanRow) -> dict[str, Any]:
    """What the report says of an update: the structure, and each changed field as before → after."""
    s = row.structure or {}
    return {"ligne": row.ligne, "id": s.get("id"), "nom": s.get("nom"), "champs": row.diff}


def duplicate_entry(row: PlanRow) -> dict[str, Any]:
    """What the report says of a probable duplicate: the stored structure it looks like, what updating it
    would change, and how to decide."""
    found = row.doublon or {}
    skipped = found.get("choix") == "ignorer"
    return {
        "ligne": row.ligne,
        "id": found.get("id"),
        "nom": found.get("nom"),
        "nom_fichier": (row.brut or {}).get("nom") or (row.structure or {}).get("nom"),
        "champs": row.diff,
        "message": (
            f"doublon probable de « {found.get('nom')} » (id {found.get('id')}) : "
            + (
                "ligne ignorée, comme choisi"
                if skipped
                else f"non importée ; ajoutez une colonne id = {found.get('id')} pour mettre cette fiche "
                "à jour, ou choisissez dans l’assistant d’import"
            )
        ),
    }


def coverage_summary(plan: ImportPlan) -> list[dict[str, Any]]:
    """Per Mission locale of a coverage file: which one it is, which column placed it, how many communes."""
    out = [
        {
            "id": sid,
            "code_ml": entry.get("code_ml") or None,
            "nom_ml": entry.get("nom_ml") or None,
            "trouvee_par": entry.get("trouvee_par"),
            "colonne": FOUND_BY.get(entry.get("trouvee_par") or ""),
            "communes": len(entry["codes"]),
        }
        for sid, entry in plan.couverture_par_structure.items()
    ]
    return sorted(out, key=lambda m: (m["code_ml"] or "", m["id"]))


def _sha256(source: Path | bytes) -> str:
    h = hashlib.sha256()
    for chunk in table._chunks(source):
        h.update(chunk)
    return h.hexdigest()


def _head(source: Path | bytes) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source[:4096])
    with open(source, "rb") as f:
        return f.read(4096)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _options(options: Options | dict[str, Any] | None, genre: str) -> Options:
    if isinstance(options, Options):
        return options
    opts = Options(**(options or {}))
    if not options or "origine" not in options:
        opts.origine = ORIGIN_OF_GENRE[genre]
    return opts


def _with_source(opts: Options, filename: str) -> Options:
    """Rows of an admin file that cite no source are credited to the file."""
    if opts.source is None and opts.origine == "import":
        opts.source = f"Fichier importé : {filename}"
    if opts.fichier is None and opts.origine == "import":
        opts.fichier = filename
    return opts


def sniff(source: Path | bytes, max_bytes: int, limits: Limits | None = None) -> str:
    """Return the genre of a file from its first bytes and header alone, before any pipeline runs.

    "annuaire" (JSON or an archive), "structures" or "couverture" (CSV). Raises FileProblem.
    """
    return _sniff(source, max_bytes, limits)[0]


def _sniff(source: Path | bytes, max_bytes: int, limits: Limits | None) -> tuple[str, table.Table | None]:
    table.check_size(source, max_bytes)
    head = _head(source)
    if annuaire.looks_like_annuaire(head):
        if head.startswith(b"PK") and not annuaire.zip_has_json(source):
            raise FileProblem(table.NOT_TEXT)
        return "annuaire", None
    t = table.open_table(source, max_bytes, limits)
    return t.genre, t


def _open(
    source: Path | bytes, filename: str, max_bytes: int, limits: Limits | None = None
) -> tuple[str, table.Table | None, int]:
    """Check a file and return (genre, table for CSV files, size). Raises FileProblem."""
    genre, t = _sniff(source, max_bytes, limits)
    if t is not None and t.genre == "structures":
        table.require_structure_columns(t)
    return genre, t, table.size_of(source)


def _inputs(
    conn, genre: str, tab: table.Table | None, source, region: str, plan: ImportPlan, limits: Limits
) -> Iterator:
    if genre == "annuaire":
        items, total = annuaire.rows(conn, source, region, limits)
        plan.enregistrements = total
        if not items:
            raise FileProblem(
                f"Aucune Mission locale ni aucun CIO de la région {region} parmi les {total} "
                "organismes du fichier."
            )
        return iter(items)
    plan.avertissements += tab.warnings
    return ((ligne, raw, {}) for ligne, raw in tab.rows())


def open_rows(source: Path | bytes, filename: str, options: Options) -> Iterator:
    """Open a file of structures again and yield its rows as `_inputs` does (ingest.front reads them
    in its own process)."""
    _genre, tab, _size = _open(source, filename, options.max_bytes, options.limits)
    return ((ligne, raw, {}) for ligne, raw in tab.rows())


def _defaults(
    source: Path | bytes | str, filename: str | None, geocoder: Geocoder | None
) -> tuple[Path | bytes, str, Geocoder]:
    """Return the source as a path or bytes, its display name and the geocoder (offline by default)."""
    source = Path(source) if isinstance(source, str) else source
    filename = filename or (source.name if isinstance(source, Path) else "fichier")
    return source, filename, geocoder or OfflineGeocoder()


def _open_into(plan: ImportPlan, source: Path | bytes, options: Options | dict[str, Any] | None):
    """Open the file (size limit, genre, table) and note its genre, size and checksum in the plan."""
    opts = _options(options, "structures")
    plan.genre, tab, plan.taille = _open(source, plan.fichier, opts.max_bytes, opts.limits)
    plan.sha256 = _sha256(source)
    return tab


def plan_import(
    conn: sqlite3.Connection,
    source: Path | bytes | str,
    filename: str | None = None,
    geocoder: Geocoder | None = None,
    options: Options | dict[str, Any] | None = None,
    region: str = "84",
) -> ImportPlan:
    """Plan the import of a file (path or bytes): every row with its action, problems and candidates.

    Writes nothing. A file that cannot be imported at all has `erreur` set and no rows. Options: see
    `pipeline.Options` (e.g. {"statut": "brouillon", "choix_communes": {12: "63003"}}).
    """
    source, filename, geocoder = _defaults(source, filename, geocoder)
    plan = ImportPlan(fichier=filename, sha256="", genre="structures")
    try:
        tab = _open_into(plan, source, options)
        opts = _with_source(_options(options, plan.genre), filename)
        if plan.genre == "couverture":
            plan.avertissements += tab.warnings
            found = plan_lines(conn, tab, opts, region, filename)
            plan.couverture, plan.couverture_par_structure = found.lignes, found.par_structure
            plan.lignes = found.structures  # Missions locales of other régions to add to the directory
            plan.couverture_source, plan.couverture_date = found.source, found.date_maj
        else:
            pipeline = RowPipeline(conn, geocoder, opts)
            inputs = _inputs(conn, plan.genre, tab, source, region, plan, opts.limits)
            plan.lignes = list(pipeline.run(inputs))
            plan.avertissements += pipeline.notes()
    except FileProblem as err:
        plan.erreur = str(err)
        plan.lignes, plan.couverture = [], []
    if isinstance(geocoder, BanGeocoder):
        plan.geocache = dict(geocoder.pending)
    return plan


def plan_rows(
    conn: sqlite3.Connection,
    source: Path | bytes | str,
    filename: str | None = None,
    geocoder: Geocoder | None = None,
    options: Options | dict[str, Any] | None = None,
    region: str = "84",
) -> tuple[ImportPlan, Iterator[PlanRow]]:
    """Plan a table of structures (or the annuaire) row by row, keeping no row: (header, rows).

    The header (file name, checksum, size, genre) is filled at once, its warnings and new geocoder
    answers once `rows` is exhausted; each row carries the cells as read (`brut`). Raises FileProblem
    for a file that cannot be imported at all, also while iterating (discard the rows already seen).
    Working maps and rows waiting for a parent spill to TEMP tables of `conn`, which must allow them.
    """
    source, filename, geocoder = _defaults(source, filename, geocoder)
    plan = ImportPlan(fichier=filename, sha256="", genre="structures")
    tab = _open_into(plan, source, options)
    if plan.genre == "couverture":
        raise FileProblem("Une liste de communes couvertes s’importe en une fois : « locator import ».")
    opts = _with_source(_options(options, plan.genre), filename)

    def rows() -> Iterator[PlanRow]:
        pipeline = RowPipeline(conn, geocoder, opts, spill=True)
        yield from pipeline.run(_inputs(conn, plan.genre, tab, source, region, plan, opts.limits))
        plan.avertissements += pipeline.notes()
        if isinstance(geocoder, BanGeocoder):
            plan.geocache = dict(geocoder.pending)

    return plan, rows()


# -- writing --------------------------------------------------------------------------------------
class _Writes:
    """New structures and history rows of a streamed import, written WRITE_BATCH at a time.

    Nothing the import reads while it runs can miss them: rows are matched against the structures
    stored before the import and against the ids the file already took (`RowPipeline.seen`); a row
    with external ids is written at once, after the rows before it, as its ids are looked up.
    """

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.structures: list[dict[str, Any]] = []
        self.changes: list[tuple[Any, ...]] = []

    def full(self) -> bool:
        return len(self.structures) + len(self.changes) >= WRITE_BATCH

    def flush(self) -> None:
        """Write what waits, structures first (the history rows name them)."""
        if self.structures:
            store_structures.insert_many(self.db, self.structures)
        if self.changes:
            store_history.record_changes(self.db, self.changes)
        self.structures, self.changes = [], []


# Rows a streamed import writes in one statement: one statement per row costs about a third more.
WRITE_BATCH = 500


def _write_row(
    db: sqlite_utils.Database,
    row: PlanRow,
    import_id: int | None,
    auteur: str | None,
    now: str,
    writes: _Writes | None = None,
) -> None:
    """Write one planned row and its history (inside the caller's transaction), or leave them to
    `writes` when given."""
    s = row.structure
    if row.action == "doublon":  # not written until the admin decides
        return
    if writes is not None and row.refs:
        writes.flush()
        writes = None
    apres = None
    if row.action == "nouveau":
        apres = {c: s.get(c) for c in store_structures.STORED_COLUMNS}
        apres["cree_le"] = apres["modifie_le"] = now
        s = apres
        if writes is None:
            store_structures.insert(db, s)
        else:
            writes.structures.append(apres)
        action = "cree"
    elif row.action == "mis_a_jour":
        s = {**s, "modifie_le": now}
        store_structures.update(db, s["id"], s)
        action = "modifie"
    else:
        if s is not None:
            for espace, valeur in row.refs:
                if store_structures.by_ref(db.conn, espace, valeur) is None:
                    store_structures.set_ref(db, s["id"], espace, valeur)
        return
    for espace, valeur in row.refs:
        store_structures.set_ref(db, s["id"], espace, valeur)
    if import_id is None:
        return
    if apres is None:
        apres = {c: s.get(c) for c in store_structures.STORED_COLUMNS}
    if writes is None:
        store_history.record_change(
            db,
            structure_id=s["id"],
            action=action,
            avant=row.avant,
            apres=apres,
            auteur=auteur,
            quand=now,
            import_id=import_id,
        )
    else:
        writes.changes.append(
            store_history.change_values(s["id"], action, row.avant, apres, auteur, now, import_id)
        )
    if writes is not None and writes.full():
        writes.flush()


def _write_coverage(
    db, plan: ImportPlan, import_id: int | None, auteur: str | None, now: str, opts: Options
) -> tuple[int, list[str]]:
    """Replace the coverage list of every Mission locale of the file (its seat as the file gives it
    kept beside); return how many pairs were removed, and the Missions locales left alone.

    The seed's rule for re-builds (`seed_only`): a list changed since by anything but this same file
    (an admin import, the form) is left as it is.
    """
    removed, left = 0, []
    source = plan.couverture_source or f"Liste des communes couvertes : {plan.fichier}"
    vintage = plan.couverture_date or opts.vintage()
    for sid, entry in sorted(plan.couverture_par_structure.items()):
        for ref in sorted(entry["refs"]):
            if store_structures.by_ref(db.conn, "code_ml", ref) is None:
                store_structures.set_ref(db, sid, "code_ml", ref)
        if entry.get("siege"):
            store_coverage.put_seat(db, sid, {**entry["siege"], "source": source, "date_maj": vintage})
        before = store_coverage.rows_of(db.conn, sid)
        if {r[0] for r in before} == entry["codes"] and all(r[1] == source for r in before):
            continue
        if opts.seed_only and any(r[1] != source for r in before):
            left.append(sid)
            continue
        removed += len({r[0] for r in before} - entry["codes"])
        kept = {r[0]: r for r in before if r[1] == source}  # a newer list brings its own source and date
        rows = [kept.get(c, [c, source, vintage]) for c in sorted(entry["codes"])]
        store_coverage.put_rows(db, sid, rows)
        if import_id is None:
            continue
        store_history.record_change(
            db,
            structure_id=sid,
            action="couverture",
            avant=before or None,
            apres=store_coverage.rows_of(db.conn, sid),
            auteur=auteur,
            quand=now,
            import_id=import_id,
            objet="couverture",
        )
    return removed, left


class _Abort(Exception):
    """Roll the import's transaction back (no valid row)."""


def apply_import(
    db: sqlite_utils.Database,
    plan: ImportPlan,
    auteur: str | None = None,
    options: Options | dict | None = None,
    region: str | None = None,
    record: bool = True,
) -> dict[str, Any]:
    """Apply a plan in one transaction (territories recomputed in it when Missions locales, antennes
    or coverage change); record the import and, per row created or changed, its history.

    Returns the report with `import_id`. Raises FileProblem when the plan holds no importable row
    (nothing written) and PlanStale when a structure changed since planning (nothing written).
    `record=False` (the build) writes neither the import record nor history, and leaves the territories
    to the caller.
    """
    if plan.erreur:
        raise FileProblem(plan.erreur)
    counts = plan.counts()
    if counts["importes"] == 0:
        raise FileProblem("Aucune ligne valide : rien n’a été importé.")
    opts = _options(options, plan.genre)
    now = _now()
    with db.atomic():
        for row in plan.lignes:
            if row.action in ("nouveau", "mis_a_jour") and row.structure is not None:
                current = store_structures.get_stored(db.conn, row.structure["id"])
                if current != row.avant:
                    raise PlanStale(
                        f"La structure {row.structure['id']} a changé depuis l’analyse du fichier : "
                        "relancez l'analyse."
                    )
        report = plan.report()
        import_id = None
        if record:
            import_id = store_imports.record(
                db,
                fichier=plan.fichier,
                sha256=plan.sha256,
                genre=plan.genre,
                quand=now,
                auteur=auteur,
                rapport=report,
            )
        # Structures first: a coverage file's Missions locales of other régions receive its lines.
        for row in plan.lignes:
            _write_row(db, row, import_id, auteur, now)
        if plan.genre == "couverture":
            counts["retires"], left = _write_coverage(db, plan, import_id, auteur, now, opts)
            report = build_report(plan, plan.couverture, counts)
            if left:
                report["avertissements"].insert(
                    0,
                    {
                        "ligne": None,
                        "messages": [
                            f"Liste des communes couvertes de {sid} modifiée depuis (import ou "
                            "formulaire) : laissée telle quelle"
                            for sid in left
                        ],
                    },
                )
        if plan.geocache:
            geocache.put_many(db, plan.geocache, now)
        if not record:
            return report
        if plan.genre == "couverture" or any(_reception(row) for row in plan.lignes):
            report["territoires"] = territories.refresh(db, region)
        _close_record(db, import_id, report)
    return report


# A report written from a stored plan lists this many rejected rows and warnings at most (and says
# how many more): an import's record stays small whatever the size of the file.
LISTED_ROWS = 1000


def apply_rows(
    db: sqlite_utils.Database,
    plan: ImportPlan,
    counts: dict[str, int],
    rows: Iterable[PlanRow],
    auteur: str | None = None,
    jeton: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """Apply a plan whose rows are read as they come (`counts`: the plan's, known beforehand), in one
    transaction, like apply_import; the report lists LISTED_ROWS rejected rows and warnings at most.

    A row whose structure changed since planning raises PlanStale and the transaction is rolled back,
    as any failure: nothing is written. `jeton`: the wizard upload, recorded with the import.
    """
    if plan.erreur:
        raise FileProblem(plan.erreur)
    if counts["importes"] == 0:
        raise FileProblem("Aucune ligne valide : rien n’a été importé.")
    now = _now()
    report = build_report(plan, [], counts)
    touched = False
    with db.atomic():
        import_id = store_imports.record(
            db,
            fichier=plan.fichier,
            sha256=plan.sha256,
            genre=plan.genre,
            quand=now,
            auteur=auteur,
            rapport=report,
            jeton=jeton,
        )
        for row in rows:
            if row.action in ("nouveau", "mis_a_jour") and row.structure is not None:
                current = store_structures.get_stored(db.conn, row.structure["id"])
                if current != row.avant:
                    raise PlanStale(
                        f"La structure {row.structure['id']} a changé depuis l’analyse du fichier : "
                        "relancez l'analyse."
                    )
            _write_row(db, row, import_id, auteur, now)
            touched = touched or _reception(row)
            if row.action == "rejete":
                _listed(report, "rejetes", {"ligne": row.ligne, "erreurs": row.erreurs})
            if row.avertissements:
                _listed(report, "avertissements", {"ligne": row.ligne, "messages": row.avertissements})
            if row.action == "mis_a_jour":
                _listed(report, "changements", update_entry(row))
            elif row.action == "doublon":
                _listed(report, "doublons_probables", duplicate_entry(row))
        if plan.geocache:
            geocache.put_many(db, plan.geocache, now)
        if touched:
            report["territoires"] = territories.refresh(db, region)
        _close_record(db, import_id, report)
    return report


def _listed(report: dict[str, Any], key: str, item: dict[str, Any]) -> None:
    """Add an item to a list of the report, or count it among those not listed beyond LISTED_ROWS."""
    if len(report[key]) < LISTED_ROWS:
        report[key].append(item)
    else:
        report[f"{key}_non_listes"] = report.get(f"{key}_non_listes", 0) + 1


def _close_record(db: sqlite_utils.Database, import_id: int, report: dict[str, Any]) -> None:
    """Keep the import's record with its final report, or drop it when the import changed nothing."""
    if store_history.import_changed_anything(db.conn, import_id):
        report["import_id"] = import_id
        store_imports.set_report(db, import_id, report)
    else:
        store_imports.forget(db, import_id)
        report["aucun_changement"] = True


def _reception(row: PlanRow) -> bool:
    """Tell whether a row writes a Mission locale or an antenne (territories then change)."""
    if row.action not in ("nouveau", "mis_a_jour"):
        return False
    return any((s or {}).get("type") in TERRITORY_TYPES for s in (row.structure, row.avant))


def _reported(row: PlanRow) -> PlanRow:
    """What a streamed import keeps of a row for its report (not the whole structure)."""
    s = row.structure or {}
    return PlanRow(
        ligne=row.ligne,
        action=row.action,
        structure={"id": s.get("id"), "nom": s.get("nom")} if s else None,
        erreurs=row.erreurs,
        avertissements=row.avertissements,
        doublon=row.doublon,
        diff=row.diff,
        horaires_lus=row.horaires_lus,
        brut={"nom": (row.brut or {}).get("nom")},
    )


def import_file(
    db: sqlite_utils.Database,
    source: Path | bytes | str,
    filename: str | None = None,
    geocoder: Geocoder | None = None,
    options: Options | dict[str, Any] | None = None,
    dry_run: bool = False,
    auteur: str | None = None,
    region: str = "84",
    record: bool = True,
    parallel: bool | None = None,
) -> dict[str, Any]:
    """Import a file streamed row by row in one transaction (the CLI's path); return the report.

    Same steps and report as plan + apply, but rows are written as they are read, so memory does not
    grow with the file. With `dry_run` nothing is written. When no row is valid, or on any failure,
    the transaction is rolled back and the store is unchanged (`erreur` in the report). `record=False`
    (the seed) writes neither the import record nor history. `parallel`: read and place the rows in a
    second process (ingest.front): None decides by the file's size.
    """
    source, filename, geocoder = _defaults(source, filename, geocoder)
    plan = ImportPlan(fichier=filename, sha256="", genre="structures")
    try:
        tab = _open_into(plan, source, options)
    except FileProblem as err:
        plan.erreur = str(err)
        return plan.report()
    if plan.genre == "couverture":
        plan = plan_import(db.conn, source, filename, geocoder, options, region)
        if dry_run or plan.erreur:
            return plan.report()
        try:
            return apply_import(db, plan, auteur, options, region, record=record)
        except FileProblem as err:
            plan.erreur = str(err)
            return plan.report()
    opts = _with_source(_options(options, plan.genre), filename)
    apart = (
        plan.genre == "structures"
        and tab is not None
        and ingest_front.worth_it(db.conn, source, geocoder, parallel)
    )
    return _stream(db, plan, tab, source, geocoder, opts, apart, dry_run, auteur, region, record)


def _stream(
    db: sqlite_utils.Database,
    plan: ImportPlan,
    tab: table.Table | None,
    source: Path | bytes,
    geocoder: Geocoder,
    opts: Options,
    apart: bool,
    dry_run: bool,
    auteur: str | None,
    region: str,
    record: bool,
) -> dict[str, Any]:
    """`import_file`'s rows: read here, or, `apart`, by a second process (ingest.front)."""
    filename = plan.fichier
    counts = new_counts()
    kept: list[PlanRow] = []  # rows with something to report (problems), not the others
    diffs = 0  # updates and probable duplicates with nothing else to report, met so far
    now = _now()
    report: dict[str, Any] = {}
    touched = False
    try:
        with db.atomic(), ExitStack() as stack:
            # The write lock is taken first: what this process matches the rows against and what the
            # second process reads are then the same store, and no other write can come in between.
            front = None
            if apart:  # started first: it loads GeoPandas while this process gets ready
                store = ingest_front.store_path(db.conn)
                front = ingest_front.Front(
                    store, source, filename, opts, row_pipeline.CHUNK_ROWS, ingest_front.ASK
                )
                stack.enter_context(closing(front))
            pipeline = RowPipeline(db.conn, geocoder, opts, spill=True, offline=True)  # the CLI, the build
            import_id = None
            if record and not dry_run:
                import_id = store_imports.record(
                    db,
                    fichier=filename,
                    sha256=plan.sha256,
                    genre=plan.genre,
                    quand=now,
                    auteur=auteur,
                    rapport={},
                )
            # New rows are indexed in bulk once all are written (a row of the file never updates a row
            # the same file created: the file's id check refuses it first).
            deferred = None if dry_run else store_positions.defer_insert_indexing(db)
            writes = _Writes(db)
            pipeline.unwritten = writes.flush
            if front is None:
                rows = pipeline.run(_inputs(db.conn, plan.genre, tab, source, region, plan, opts.limits))
            else:
                plan.avertissements += tab.warnings  # what `_inputs` adds in the other case
                rows = pipeline.run((), front.chunks())
            with collector.Settling(row_pipeline.CHUNK_ROWS) as settling:
                for row in rows:
                    settling.step()
                    count(counts, row.action)
                    if row.action == "vide":
                        continue
                    if not dry_run:
                        _write_row(db, row, import_id, auteur, now, writes)
                        touched = touched or _reception(row)
                    listed = row.action in ("mis_a_jour", "doublon")
                    if listed and not (row.erreurs or row.avertissements):
                        # Diffs of a big file are listed up to a point, as the wizard's record lists them.
                        listed = diffs < LISTED_ROWS
                        diffs += 1
                    if row.erreurs or row.avertissements or row.horaires_lus or listed:
                        kept.append(_reported(row))
            writes.flush()
            if deferred is not None:
                store_positions.index_inserted(db, *deferred)
            plan.avertissements += pipeline.notes()
            kept.sort(key=lambda r: r.ligne)
            report = build_report(plan, kept, counts)
            if diffs > LISTED_ROWS:
                report["changements_non_listes"] = diffs - LISTED_ROWS
            if counts["importes"] == 0:
                report["erreur"] = "Aucune ligne valide : rien n’a été importé."
                raise _Abort
            if isinstance(geocoder, BanGeocoder) and geocoder.pending and not dry_run:
                geocache.put_many(db, geocoder.pending, now)
            if import_id is not None:
                _close_record(db, import_id, report)
            elif counts["crees"] == counts["mis_a_jour"] == 0:
                report["aucun_changement"] = True
            if touched and record and not dry_run:  # the seed's build recomputes once, after it
                territories.refresh(db, region)
            if dry_run:
                raise _Abort
    except _Abort:
        pass
    except (FileProblem, ingest_front.Stopped) as err:
        plan.erreur = str(err)
        return plan.report()
    return report
