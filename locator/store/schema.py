"""The store's tables, indexes and triggers; creating them twice changes nothing."""

from __future__ import annotations

import sqlite_utils

SCHEMA_VERSION = "1"

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
    modifie_le TEXT
);
CREATE INDEX IF NOT EXISTS structures_type ON structures(type, statut);
CREATE INDEX IF NOT EXISTS structures_departement ON structures(departement);
CREATE INDEX IF NOT EXISTS structures_code_insee ON structures(code_insee);
CREATE INDEX IF NOT EXISTS structures_parent ON structures(parent_id);
CREATE VIRTUAL TABLE IF NOT EXISTS structures_rtree USING rtree(
    pk, min_lat, max_lat, min_lon, max_lon
);
-- The R*Tree follows the table whatever writes it (build, import, admin edit, rollback).
CREATE TRIGGER IF NOT EXISTS structures_rtree_insert AFTER INSERT ON structures
WHEN new.latitude IS NOT NULL AND new.longitude IS NOT NULL
BEGIN
    INSERT INTO structures_rtree VALUES
        (new.pk, new.latitude, new.latitude, new.longitude, new.longitude);
END;
CREATE TRIGGER IF NOT EXISTS structures_rtree_update AFTER UPDATE OF latitude, longitude, pk
ON structures
BEGIN
    DELETE FROM structures_rtree WHERE pk = old.pk;
    INSERT INTO structures_rtree
        SELECT new.pk, new.latitude, new.latitude, new.longitude, new.longitude
        WHERE new.latitude IS NOT NULL AND new.longitude IS NOT NULL;
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
"""


def create(db: sqlite_utils.Database) -> None:
    """Create every table, index and trigger that is missing."""
    from . import pending, reports, throttle, users

    db.conn.executescript(_DDL)
    for module in (users, throttle, reports, pending):
        module.create(db)
    db["meta"].upsert({"key": "schema_version", "value": SCHEMA_VERSION}, pk="key")
