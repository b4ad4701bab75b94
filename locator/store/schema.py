"""The store's tables, indexes and triggers; creating them twice changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlite-utils pulls in heavy modules: writers import it, readers do not
    import sqlite_utils


SCHEMA_VERSION = "7"  # 2: published-only R*Tree with the type; 3: origins, refs, imports, history;
# 4: structures.version, the edit counter (concurrency check of the admin form); 5: competences and
# territoires (commune → Mission locale of the région, territory polygons) and step "positions"
# (store/positions.py), one index entry per distinct point and type; 6: accounts, sessions, failed
# logins and pending wizard uploads moved out to the accounts file (store/authdb.py), imports.jeton;
# plancher_version, the floor of the edit counter (a structure deleted then created again never starts
# below its old counter); couverture_sieges (what a coverage file says of each Mission locale's seat);
# communes.epci and the epci table (intercommunalities, which the probable territory groups communes by);
# 7: territoires.etiquette_latitude/longitude (where the map writes each territory's name);
#    structures.horaires_note (hours an import could not read as OSM opening_hours, kept as text)
MIGRATABLE_VERSIONS = ("3", "4", "5", "6")  # older stores the next writer brings up to date without a rebuild

STRUCTURE_TYPES = (
    "mission_locale",
    "antenne_mission_locale",
    "cio",
    "psad",
    "mlds",
    "e2c",
    "epide",
    "dispositif",
    "partenaire",
)
STATUSES = ("publie", "brouillon", "archive")
# Where the current values of a structure come from: the seed file, the official annuaire, an admin
# import, or an edit by hand. `locator build` only updates rows whose origin is still the seed.
ORIGINS = ("seed", "annuaire", "import", "manuel")

# Public fields of a structure, in the order of the API (data·inclusion names where they exist).
STRUCTURE_FIELDS = (
    "id",
    "type",
    "nom",
    "adresse",
    "complement_adresse",
    "code_postal",
    "commune",
    "code_insee",
    "departement",
    "latitude",
    "longitude",
    "telephone",
    "courriel",
    "site_web",
    "horaires_accueil",
    "horaires_note",
    "parent_id",
    "description",
    "source",
    "date_maj",
    "precision_geocodage",
)

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS regions (code TEXT PRIMARY KEY, nom TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS departements (
    code TEXT PRIMARY KEY, nom TEXT NOT NULL, region TEXT NOT NULL
);
-- Current communes (COM) and PLM arrondissements (ARM). `pk` keys the R*Tree: a rowid alias,
-- because a plain rowid may be renumbered by VACUUM. `contour` is the package's WKB, already
-- generalised (about 30 vertices a commune): one version serves display and point-in-commune.
CREATE TABLE IF NOT EXISTS communes (
    pk INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    nom TEXT NOT NULL,
    type TEXT NOT NULL,
    commune_parent TEXT,
    departement TEXT NOT NULL,
    region TEXT NOT NULL,
    population INTEGER,
    latitude REAL,
    longitude REAL,
    centre TEXT,
    contour BLOB
);
CREATE INDEX IF NOT EXISTS communes_departement ON communes(departement);
CREATE VIRTUAL TABLE IF NOT EXISTS communes_rtree USING rtree(
    pk, min_lat, max_lat, min_lon, max_lon
);
-- Former communes (déléguées COMD, associées COMA): names that resolve to a current commune.
CREATE TABLE IF NOT EXISTS anciennes_communes (
    code TEXT NOT NULL,
    nom TEXT NOT NULL,
    type TEXT NOT NULL,
    commune TEXT NOT NULL,
    PRIMARY KEY (code, type, nom)
);
CREATE INDEX IF NOT EXISTS anciennes_communes_commune ON anciennes_communes(commune);
CREATE TABLE IF NOT EXISTS codes_postaux (
    code_postal TEXT NOT NULL,
    code_insee TEXT NOT NULL,
    PRIMARY KEY (code_postal, code_insee)
);
CREATE INDEX IF NOT EXISTS codes_postaux_insee ON codes_postaux(code_insee);
-- Search keys of every name (locator.geo.names.normalize). kind: commune, arrondissement,
-- departement, deleguee or associee (a former commune; `code` is then the current commune).
CREATE TABLE IF NOT EXISTS noms (
    cle TEXT NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    nom TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS noms_cle ON noms(cle);
CREATE TABLE IF NOT EXISTS structures (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    nom TEXT NOT NULL,
    adresse TEXT,
    complement_adresse TEXT,
    code_postal TEXT,
    commune TEXT,
    code_insee TEXT,
    departement TEXT,
    latitude REAL,
    longitude REAL,
    telephone TEXT,
    courriel TEXT,
    site_web TEXT,
    horaires_accueil TEXT,
    parent_id TEXT,
    description TEXT,
    source TEXT,
    date_maj TEXT,
    precision_geocodage TEXT,
    statut TEXT NOT NULL DEFAULT 'publie',
    cree_le TEXT,
    modifie_le TEXT,
    origine TEXT
);
CREATE INDEX IF NOT EXISTS structures_type ON structures(type, statut);
CREATE INDEX IF NOT EXISTS structures_departement ON structures(departement);
CREATE INDEX IF NOT EXISTS structures_code_insee ON structures(code_insee);
CREATE INDEX IF NOT EXISTS structures_parent ON structures(parent_id);
-- Published, located structures only: `nearest` reads this index alone, no join. The auxiliary
-- column carries the type, filtered in the scan. Boxes are float32, rounded outwards by SQLite.
CREATE VIRTUAL TABLE IF NOT EXISTS structures_rtree USING rtree(
    pk, min_lat, max_lat, min_lon, max_lon, +type
);
-- The R*Tree follows the table whatever writes it (build, import, admin edit, rollback).
CREATE TRIGGER IF NOT EXISTS structures_rtree_insert AFTER INSERT ON structures
WHEN new.latitude IS NOT NULL AND new.longitude IS NOT NULL AND new.statut = 'publie'
BEGIN
    INSERT INTO structures_rtree VALUES (
        new.pk, new.latitude, new.latitude, new.longitude, new.longitude, new.type
    );
END;
CREATE TRIGGER IF NOT EXISTS structures_rtree_update
AFTER UPDATE OF latitude, longitude, statut, type, pk ON structures
BEGIN
    DELETE FROM structures_rtree WHERE pk = old.pk;
    INSERT INTO structures_rtree
        SELECT new.pk, new.latitude, new.latitude, new.longitude, new.longitude, new.type
        WHERE new.latitude IS NOT NULL AND new.longitude IS NOT NULL AND new.statut = 'publie';
END;
CREATE TRIGGER IF NOT EXISTS structures_rtree_delete AFTER DELETE ON structures
BEGIN
    DELETE FROM structures_rtree WHERE pk = old.pk;
END;
-- Which Mission locale (or PSAD) covers which commune; a commune may be listed for several.
CREATE TABLE IF NOT EXISTS couverture (
    code_insee TEXT NOT NULL,
    structure_id TEXT NOT NULL,
    source TEXT,
    date_maj TEXT,
    PRIMARY KEY (code_insee, structure_id)
);
CREATE INDEX IF NOT EXISTS couverture_structure ON couverture(structure_id);
-- Identifiers a structure has in other directories (espace "dila": the annuaire's old-style pivot id,
-- "dila_uuid": its 2022+ id), so that a refresh from that source finds the same structure again.
CREATE TABLE IF NOT EXISTS structure_refs (
    espace TEXT NOT NULL,
    valeur TEXT NOT NULL,
    structure_id TEXT NOT NULL,
    PRIMARY KEY (espace, valeur)
);
CREATE INDEX IF NOT EXISTS structure_refs_structure ON structure_refs(structure_id);
-- Every import applied (not dry runs): what file, by whom, what it did; `rapport` is the JSON report.
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY,
    fichier TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    genre TEXT NOT NULL,
    quand TEXT NOT NULL,
    auteur TEXT,
    lus INTEGER NOT NULL DEFAULT 0,
    crees INTEGER NOT NULL DEFAULT 0,
    mis_a_jour INTEGER NOT NULL DEFAULT 0,
    inchanges INTEGER NOT NULL DEFAULT 0,
    rejetes INTEGER NOT NULL DEFAULT 0,
    rapport TEXT,
    annule_le TEXT,
    annule_par TEXT
);
-- Before/after of every change to a structure or to a coverage list, by import, edit or undo:
-- enough to put the store back exactly as it was. `objet` is "structure" or "couverture";
-- `avant`/`apres` are JSON (a full structure row, or the [code_insee, source, date_maj] rows), NULL
-- when the thing did not exist before / does not exist after.
CREATE TABLE IF NOT EXISTS historique (
    id INTEGER PRIMARY KEY,
    import_id INTEGER,
    auteur TEXT,
    quand TEXT NOT NULL,
    objet TEXT NOT NULL DEFAULT 'structure',
    structure_id TEXT NOT NULL,
    action TEXT NOT NULL,
    avant TEXT,
    apres TEXT
);
CREATE INDEX IF NOT EXISTS historique_import ON historique(import_id);
CREATE INDEX IF NOT EXISTS historique_structure ON historique(structure_id);
-- Answers of the online geocoder, so that the same address is never asked twice.
CREATE TABLE IF NOT EXISTS geocodage_cache (
    requete TEXT PRIMARY KEY,
    reponse TEXT,
    quand TEXT NOT NULL
);
"""

# Columns added after version 1 (name → declaration, version that added it): a store built by an
# older version gets them on its next write.
_ADDED_COLUMNS = {
    "structures": {
        "origine": ("TEXT", 2),
        "version": ("INTEGER NOT NULL DEFAULT 0", 4),
        "horaires_note": ("TEXT", 7),
    },
    "imports": {"jeton": ("TEXT", 6)},
    "communes": {"epci": ("TEXT", 6)},
    # Where the map writes the territory's name (locator.geo.labels): NULL until the next refresh.
    "territoires": {"etiquette_latitude": ("REAL", 7), "etiquette_longitude": ("REAL", 7)},
}
# Every write of a structure (import, form, archive, undo, by hand in SQL) moves its counter forward,
# even one that puts back an older row: a form opened before any write is then refused, never merged.
_VERSION_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS structures_version AFTER UPDATE ON structures
WHEN new.version <= old.version
BEGIN
    UPDATE structures SET version = old.version + 1 WHERE pk = new.pk;
END;
"""
# Objects version 6 added to the store.
# - epci: intercommunalities (EPCI à fiscalité propre) by SIREN code; communes.epci names one (an
#   arrondissement its city's); type CC, CA, CU or ME.
# - couverture_sieges: what the last coverage file imported says of each Mission locale it names (the
#   network's code and name, the seat address: Adresse ML, Code Postal ML, Ville ML; code_insee: the
#   commune those give), kept so that the quality page can compare them with the directory's.
# - plancher_version: a deleted structure (an undone import) leaves its counter there, the highest
#   counter any deleted structure had; a structure created afterwards (the same id imported again)
#   starts above it, so that a form opened before the deletion still conflicts. One number for the
#   whole store, not one per id: a restored backup lifts it in one statement (`structures.lift_versions`).
_DDL_6 = """
CREATE TABLE IF NOT EXISTS epci (code TEXT PRIMARY KEY, nom TEXT NOT NULL, type TEXT);
CREATE INDEX IF NOT EXISTS communes_epci ON communes(epci, departement);
CREATE TABLE IF NOT EXISTS couverture_sieges (
    structure_id TEXT PRIMARY KEY,
    code_ml TEXT,
    nom_ml TEXT,
    adresse TEXT,
    code_postal TEXT,
    commune TEXT,
    code_insee TEXT,
    source TEXT,
    date_maj TEXT
);
CREATE TABLE IF NOT EXISTS plancher_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS structures_version_deleted AFTER DELETE ON structures
BEGIN
    INSERT INTO plancher_version (id, version) VALUES (1, old.version)
        ON CONFLICT (id) DO UPDATE SET version = max(version, excluded.version);
END;
CREATE TRIGGER IF NOT EXISTS structures_version_created AFTER INSERT ON structures
WHEN new.version <= (SELECT version FROM plancher_version WHERE id = 1)
BEGIN
    UPDATE structures SET version = (SELECT version + 1 FROM plancher_version WHERE id = 1)
        WHERE pk = new.pk;
END;
"""
# A store of schema 5 or older forgot the counters of the structures it deleted. History bounds
# them: a structure is only ever deleted by undoing the import that created it (counter 0), and each
# recorded change moved its counter by two at most (the form claims the counter, then writes the row).
_VERSION_FLOOR_OF_OLD_STORES = """
INSERT OR IGNORE INTO plancher_version (id, version)
SELECT 1, MAX(n) FROM (
    SELECT 2 * COUNT(*) AS n FROM historique h
    WHERE NOT EXISTS (SELECT 1 FROM structures s WHERE s.id = h.structure_id)
    GROUP BY h.structure_id
) HAVING MAX(n) IS NOT NULL
"""
# The wizard's upload an import came from: a second confirmation of the same upload finds it (version 6).
_IMPORTS_UPLOAD = "CREATE UNIQUE INDEX IF NOT EXISTS imports_jeton ON imports(jeton) WHERE jeton IS NOT NULL;"
# Uploads waiting in the wizard, as stores of version 5 and older kept them (the wizard now keeps them
# in the accounts file, a page at a time: store/pending.py).
_PENDING_UNTIL_5 = """
CREATE TABLE IF NOT EXISTS imports_en_attente (
    jeton TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    cree_le REAL NOT NULL,
    fichier TEXT NOT NULL,
    contenu BLOB NOT NULL,
    reglages TEXT NOT NULL,
    plan TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS imports_en_attente_email ON imports_en_attente(email);
"""
# What version 6 took out of the store: the account tables (moved to the accounts file), the old
# wizard's uploads (dropped: they expire within a day).
_LEFT_IN_6 = ("sessions_admin", "utilisateurs", "imports_en_attente")


def _objects(db: sqlite_utils.Database, version: int) -> None:
    """Create every table, index and trigger a store of this version holds (those missing only)."""
    from . import positions, reports, territories, throttle, users  # each module owns its DDL

    db.conn.executescript(_DDL)
    for module in (throttle, reports):
        module.create(db)
    if version <= 5:
        users.create(db)
        db.conn.executescript(_PENDING_UNTIL_5)
    if version >= 5:
        territories.create(db)
        positions.create(db)
    for table, columns in _ADDED_COLUMNS.items():
        present = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        for name, (decl, since) in columns.items():
            if version >= since and name not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
    if version >= 4:
        db.conn.executescript(_VERSION_TRIGGER)
    if version >= 6:
        db.conn.executescript(_IMPORTS_UPLOAD)
        db.conn.executescript(_DDL_6)


def layout(version: str) -> dict[tuple[str, str], str | None]:
    """Return what a store of this version made by this code holds: (type, name) → its SQL."""
    import sqlite_utils

    with sqlite_utils.Database(memory=True) as mem:
        _objects(mem, int(version))
        rows = mem.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def _leave_accounts(db: sqlite_utils.Database, accounts_file: str | Path | None) -> None:
    """Move the accounts a store of version 5 or older holds to the accounts file, then drop them here."""
    tables = set(db.table_names())
    if not tables & set(_LEFT_IN_6):
        return
    if tables & {"utilisateurs", "sessions_admin"}:
        from .. import config
        from . import authdb

        store = db.execute("PRAGMA database_list").fetchone()[2]
        if store:  # an in-memory database has no accounts file
            where = authdb.location(store, accounts_file or config.load()["AUTH_DB"])
            authdb.prepare(where, store)
    from .throttle import REPORT_PREFIX

    with db.atomic():
        for table in _LEFT_IN_6:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        # Failed logins are counted in the accounts file now: only the report brake stays here.
        db.execute("DELETE FROM tentatives WHERE NOT cle LIKE ?", (REPORT_PREFIX + "%",))


def create(db: sqlite_utils.Database, accounts_file: str | Path | None = None) -> None:
    """Create every table, index and trigger that is missing; migrate older stores in place.

    A store of version 5 or older gives its accounts to the accounts file (`accounts_file`, else the
    AUTH_DB setting's, else the one beside the store) before they are dropped here.
    """
    if "meta" in db.table_names():
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row and row[0] == "1":
            # Version 1 indexed every structure, with a join at query time: rebuild the index.
            db.conn.executescript(
                "DROP TRIGGER IF EXISTS structures_rtree_insert;"
                "DROP TRIGGER IF EXISTS structures_rtree_update;"
                "DROP TRIGGER IF EXISTS structures_rtree_delete;"
                "DROP TABLE IF EXISTS structures_rtree;"
            )
            db.conn.executescript(_DDL)
            db.execute(
                "INSERT INTO structures_rtree SELECT pk, latitude, latitude, longitude, longitude, type "
                "FROM structures WHERE latitude IS NOT NULL AND longitude IS NOT NULL AND statut = 'publie'"
            )
            db.conn.commit()
    had_floor = "plancher_version" in db.table_names()
    _objects(db, int(SCHEMA_VERSION))
    if not had_floor:
        with db.atomic():
            db.execute(_VERSION_FLOOR_OF_OLD_STORES)
    _leave_accounts(db, accounts_file)
    db["meta"].upsert({"key": "schema_version", "value": SCHEMA_VERSION}, pk="key")
