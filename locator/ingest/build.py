"""`locator build`: reference geography + seed structures → store, idempotent."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ..store import communes as store_communes
from ..store import db as store_db
from ..store import schema
from ..store import structures as store_structures
from . import reference
from . import structures as seed


def build(db_path: str | Path, seed_path: str | Path | None, say: Callable[[str], None] = print) -> dict:
    """Create or refresh the store; return what was done. Each step is one transaction."""
    started = time.perf_counter()
    db = store_db.writer(db_path)
    report: dict = {"communes": None, "structures": None}
    try:
        schema.create(db)
        wanted = reference.checksum()
        if store_communes.reference_checksum(db) == wanted:
            say("Géographie de référence : déjà à jour.")
        else:
            ref = reference.load()
            with db.atomic():
                store_communes.replace_reference(db, ref)
            report["communes"] = len(ref.communes)
            say(f"Géographie de référence : {len(ref.communes)} communes et arrondissements chargés.")
        if seed_path and Path(seed_path).is_file():
            reader = sqlite3.connect(str(db_path))
            reader.row_factory = sqlite3.Row
            try:
                rows = seed.read_seed(seed_path, reader)
            finally:
                reader.close()
            now = datetime.now(UTC).isoformat(timespec="seconds")
            with db.atomic():
                created, updated = store_structures.upsert(db, rows, now)
            report["structures"] = {"lus": len(rows), "crees": created, "mis_a_jour": updated}
            say(f"Structures : {len(rows)} lues, {created} créées, {updated} mises à jour.")
        else:
            say(
                f"Fichier des structures introuvable ({seed_path}) : seule la géographie de "
                "référence est construite. « locator fetch annuaire » remplit l'annuaire depuis "
                "la source officielle."
            )
        db.execute("PRAGMA optimize")
        # Fold the WAL into the main file: the store is then one self-contained file to copy or ship.
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    report["secondes"] = round(time.perf_counter() - started, 1)
    return report
