"""Backups with SQLite's online backup API: consistent copies while the site serves and imports run."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .db import check, read_only_uri


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why, in French."""


def backup(store: str | Path, target: str | Path) -> int:
    """Copy the store to `target` (a new file, written then renamed); return its size in bytes."""
    store, target = Path(store), Path(target)
    problem = check(store)
    if problem:
        raise BackupError(problem)
    if target.exists() and target.is_dir():
        raise BackupError(f"{target} est un dossier : donnez un nom de fichier.")
    partial = target.with_name(target.name + ".partiel")
    src = sqlite3.connect(read_only_uri(store), uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            # Small steps let writers in between; a write during the copy restarts it from a consistent state.
            src.backup(dst, pages=1024)
            dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        finally:
            dst.close()
    except (sqlite3.Error, OSError) as err:
        partial.unlink(missing_ok=True)
        raise BackupError(f"la sauvegarde a échoué : {err}") from err
    finally:
        src.close()
    os.replace(partial, target)
    return target.stat().st_size


def restore(source: str | Path, store: str | Path) -> None:
    """Replace the store's content with a backup, in place: readers keep serving, then see the restored data.

    The backup is checked first (readable, not damaged, a locator store); a bad file changes nothing.
    """
    source, store = Path(source), Path(store)
    problem = check(source)
    if problem:
        raise BackupError(f"sauvegarde refusée : {problem}")
    src = sqlite3.connect(read_only_uri(source), uri=True)
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(store, timeout=30)
        try:
            dst.execute("PRAGMA busy_timeout = 30000")
            src.backup(dst)  # one step: the destination changes in a single transaction
            dst.execute("PRAGMA journal_mode = WAL")
        finally:
            dst.close()
    except sqlite3.Error as err:
        raise BackupError(f"la restauration a échoué : {err}") from err
    finally:
        src.close()
