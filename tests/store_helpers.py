"""Stores as older versions of this code made them, for migration and restore tests."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from locator.store import schema


def as_version(path: Path, version: str) -> None:
    """Turn a store built by this code into exactly what it would have made at an older `version`
    (schema.layout): later objects dropped, earlier ones (the accounts, before 6) created empty."""
    target = schema.layout(version)
    with closing(sqlite3.connect(path)) as c:
        found = {(r[0], r[1]) for r in c.execute("SELECT type, name FROM sqlite_master")}
        virtual = {n for (k, n) in found if k == "table" and n.endswith("_rtree")}
        for kind in ("trigger", "index", "view", "table"):
            for k, name in sorted(found - target.keys()):
                shadow = any(name.startswith(v + "_") for v in virtual)
                if k == kind and not name.startswith("sqlite_") and not shadow:
                    c.execute(f"DROP {kind.upper()} IF EXISTS {name}")
        for table, columns in schema._ADDED_COLUMNS.items():
            present = {r[1] for r in c.execute(f"PRAGMA table_info({table})")}
            for name, (_decl, since) in columns.items():
                if int(version) < since and name in present:
                    c.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
        found = {(r[0], r[1]) for r in c.execute("SELECT type, name FROM sqlite_master")}
        for kind in ("table", "index", "trigger"):
            for (k, _name), sql in target.items():
                if k == kind and (k, _name) not in found and sql:
                    c.execute(sql)
        c.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
        c.commit()
