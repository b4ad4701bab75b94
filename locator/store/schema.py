"""The store's tables, indexes and triggers; creating them twice changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlite-utils pulls in heavy modules: writers import it, readers do not
    import sqlite_utils


SCHEMA_VERSION = "6"  # 2: published-only R*Tree with the type; 3: origins, refs, imports, history;
# 4: structures.version, the edit counter (concurrency check of the admin form); 5: competences and
# territoires (commune → Mission locale of the région, territory polygons) and step "positions"
# (store/positions.py), one index entry per distinct point and type; 6: plancher_version, the floor
# of the edit counter (a structure deleted then created again never starts below its old counter),
# couverture_sieges (what a coverage file says of each Mission locale's seat), communes.epci and the
# epci table (intercommunalities, which the probable territory groups communes by)
MIGRATABLE_VERSIONS = ("3", "4", "5")  # older stores the next writer brings up to date without a rebuild

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
    contour BLOB,
    epci TEXT
);
CREATE INDEX IF NOT EXISTS communes_departement ON communes(departement);
-- Intercommunalities (EPCI à fiscalité propre), by SIREN code: communes.epci names one (an
-- arrondissement its city's); type CC, CA, CU or ME.
CREATE TABLE IF NOT EXISTS epci (code TEXT PRIMARY KEY, nom TEXT NOT NULL, type TEXT);
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
-- What the last coverage file imported says of each Mission locale it names: the network's code and
-- name, and the seat address (Adresse ML, Code Postal ML, Ville ML; code_insee: the commune those give),
-- kept so that the quality page can compare them with the directory's.
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

# Columns added after version 1: a store built by an older version gets them on the next build.
_ADDED_COLUMNS = {
    "structures": {"origine": "TEXT", "version": "INTEGER NOT NULL DEFAULT 0"},
    "communes": {"epci": "TEXT"},
}
# Indexes on added columns: created once the columns exist (a store of schema 5 lacks communes.epci).
_ADDED_INDEXES = "CREATE INDEX IF NOT EXISTS communes_epci ON communes(epci, departement);"
# Every write of a structure (import, form, archive, undo, by hand in SQL) moves its counter forward,
# even one that puts back an older row: a form opened before any write is then refused, never merged.
# A deleted structure (an undone import) leaves its counter in plancher_version, the highest counter
# any deleted structure had: a structure created afterwards (the same id imported again) starts above
# it, so that a form opened before the deletion still conflicts. One number for the whole store, not
# one per id: a restored backup lifts it in one statement too (`structures.lift_versions`).
_VERSION_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS structures_version AFTER UPDATE ON structures
WHEN new.version <= old.version
BEGIN
    UPDATE structures SET version = old.version + 1 WHERE pk = new.pk;
END;
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


def create(db: sqlite_utils.Database) -> None:
    """Create every table, index and trigger that is missing; migrate derived objects of older stores."""
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
    db.conn.executescript(_DDL)
    from . import pending, positions, reports, territories, throttle, users  # each module owns its DDL

    for module in (users, throttle, reports, pending, territories, positions):
        module.create(db)
    for table, columns in _ADDED_COLUMNS.items():
        present = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        for name, decl in columns.items():
            if name not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
    had_floor = "plancher_version" in db.table_names()
    db.conn.executescript(_ADDED_INDEXES)
    db.conn.executescript(_VERSION_TRIGGER)
    if not had_floor:
        with db.atomic():
            db.execute(_VERSION_FLOOR_OF_OLD_STORES)
    db["meta"].upsert({"key": "schema_version", "value": SCHEMA_VERSION}, pk="key")
