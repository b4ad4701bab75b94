"""Backups with SQLite's online backup API: consistent copies while the site serves and imports run.

A restore takes only a file whose every table, index, trigger and view is one this code makes, with the
same SQL (a trigger planted in a backup would run at the first write after the restore), and never
brings back accounts, sessions or failed logins unless asked to (`with_accounts`, which then ends every
session). Files are created readable by their owner only: they hold what the store holds.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from .. import wording
from . import authdb, schema, structures
from . import users as store_users
from .db import check, create_private, read_only_uri

# Reference tables that are never empty in a built store.
_NON_EMPTY = ("regions", "departements", "communes", "communes_rtree", "codes_postaux", "noms")
# How objects are named in messages.
_KINDS = {"table": "table", "index": "index", "trigger": "déclencheur", "view": "vue"}


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why, in French."""


@dataclass(frozen=True)
class _Examined:
    version: str
    accounts: bool  # the file holds accounts (a store of version 5 or older, or a backup --avec-comptes)


def _partial(target: Path, suffix: str) -> Path:
    """A new private file beside `target` (any leftover of an interrupted run removed first)."""
    partial = target.with_name(target.name + suffix)
    for leftover in (partial, *(partial.with_name(partial.name + s) for s in ("-wal", "-shm", "-journal"))):
        leftover.unlink(missing_ok=True)
    create_private(partial)
    return partial


def backup(store: str | Path, target: str | Path, accounts_file: str | Path | None = None) -> int:
    """Copy the store to `target` (a new file, written then renamed); return its size in bytes.

    With `accounts_file`, the accounts (e-mail, role, password hash; no session) are copied in too.
    """
    store, target = Path(store), Path(target)
    problem = check(store)
    if problem:
        raise BackupError(problem)
    if target.exists() and target.is_dir():
        raise BackupError(f"{target} est un dossier : donnez un nom de fichier.")
    if accounts_file is not None and not Path(accounts_file).exists():
        raise BackupError(f"le fichier des comptes {accounts_file} n’existe pas : aucun compte à garder.")
    partial = _partial(target, ".partiel")
    src = sqlite3.connect(read_only_uri(store), uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            # Small steps let writers in between; a write during the copy restarts it from a consistent state.
            src.backup(dst, pages=1024)
            if accounts_file is not None:
                with closing(sqlite3.connect(read_only_uri(accounts_file), uri=True)) as accounts:
                    rows = store_users.all_rows(accounts)
                dst.executescript(store_users.BACKUP_DDL)
                with dst:
                    dst.executemany("INSERT INTO utilisateurs VALUES (?, ?, ?, ?, ?)", rows)
            dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        finally:
            dst.close()
    except (sqlite3.Error, OSError) as err:
        partial.unlink(missing_ok=True)
        raise BackupError(f"la sauvegarde a échoué : {err}") from err
    finally:
        src.close()
    os.replace(partial, target)
    return target.stat().st_size


def normalized(sql: str | None) -> str | None:
    """Return SQL without its comments and with its blanks reduced (none next to punctuation), so that
    the same statement compares equal however it was laid out; quoted text is kept as written."""
    if sql is None:
        return None
    out: list[str] = []
    i, n = 0, len(sql)
    blank = False
    closing_quote = {"'": "'", '"': '"', "`": "`", "[": "]"}
    while i < n:
        c = sql[i]
        if c in closing_quote:
            end = sql.find(closing_quote[c], i + 1)
            while end != -1 and c != "[" and sql[end + 1 : end + 2] == c:  # a doubled quote stays inside
                end = sql.find(c, end + 2)
            end = n - 1 if end == -1 else end
            piece, i = sql[i : end + 1], end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end
            blank = True
            continue
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end == -1 else end + 2
            blank = True
            continue
        elif c.isspace():
            blank, i = True, i + 1
            continue
        else:
            piece, i = c, i + 1
        if blank and out and out[-1] not in "(,;=" and piece not in "),;=(":
            out.append(" ")
        blank = False
        out.append(piece)
    return "".join(out).strip()


def _catalogue(conn: sqlite3.Connection) -> dict[tuple[str, str], str | None]:
    """Every object of a file: (type, name) → its SQL, normalised."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    return {(r[0], r[1]): normalized(r[2]) for r in rows}


def _sqlite_own() -> dict[tuple[str, str], str | None]:
    """Tables SQLite adds by itself to a store: the planner's statistics, AUTOINCREMENT counters."""
    with closing(sqlite3.connect(":memory:")) as mem:
        mem.executescript(
            "CREATE TABLE t (x INTEGER PRIMARY KEY AUTOINCREMENT); INSERT INTO t VALUES (1); ANALYZE;"
        )
        return {k: v for k, v in _catalogue(mem).items() if k[1].startswith("sqlite_")}


def _expected(version: str) -> dict[tuple[str, str], str | None]:
    return {k: normalized(v) for k, v in schema.layout(version).items()}


def _accounts_objects() -> dict[tuple[str, str], str | None]:
    """What `backup --avec-comptes` adds to a store of this version."""
    with closing(sqlite3.connect(":memory:")) as mem:
        mem.executescript(store_users.BACKUP_DDL)
        return _catalogue(mem)


def _named(keys) -> str:
    shown = [f"{_KINDS.get(kind, kind)} « {name} »" for kind, name in sorted(keys, key=lambda k: k[1])]
    return ", ".join(shown[:8]) + (f" et {wording.count(len(shown) - 8, 'autre')}" if len(shown) > 8 else "")


def _differences(
    found: dict[tuple[str, str], str | None], expected: dict[tuple[str, str], str | None]
) -> str | None:
    """Say in French how a file's objects differ from those of a store this code makes, or None."""
    extra = {k for k in found.keys() - expected.keys() if found.get(k) != _SQLITE_OWN.get(k)}
    # SQLite's own indexes of a table's UNIQUE columns come with it: name the table only.
    missing = sorted(n for _k, n in expected.keys() - found.keys() if not n.startswith("sqlite_autoindex_"))
    changed = {k for k in expected.keys() & found.keys() if found[k] != expected[k]}
    problems = []
    if extra:
        problems.append(
            f"{wording.count(len(extra), 'objet')} qu’un fichier de locator n’a pas : {_named(extra)}"
        )
    if changed:
        problems.append(
            f"{wording.count(len(changed), 'objet différent')} de ceux de locator : {_named(changed)}"
        )
    if missing:
        problems.append(
            "il manque "
            + ("des tables ou index" if len(missing) > 1 else "une table ou un index")
            + f" : {', '.join(missing[:8])}"
        )
    return " ; ".join(problems) + "." if problems else None


_SQLITE_OWN = _sqlite_own()


def _examine(source: str | Path) -> _Examined:
    """Check a file is a complete store of this project, object by object; BackupError says why not."""
    problem = check(source)
    if problem:
        raise BackupError(problem)
    conn = sqlite3.connect(read_only_uri(source), uri=True)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")  # nothing in the file runs while it is read
        found = _catalogue(conn)
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        expected = _expected(version)
        accounts = ("table", "utilisateurs") in expected
        if not accounts and ("table", "utilisateurs") in found:
            expected, accounts = {**expected, **_accounts_objects()}, True
        problem = _differences(found, expected)
        if problem:
            raise BackupError(problem)
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"le fichier est endommagé ({result}).")
        empty = [t for t in _NON_EMPTY if conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is None]
        if empty:
            raise BackupError(
                ("tables vides" if len(empty) > 1 else "table vide")
                + f" : {', '.join(empty)} (pas un fichier construit)."
            )
    except sqlite3.Error as err:
        raise BackupError(f"le fichier n’a pas pu être lu ({err}).") from err
    finally:
        conn.close()
    return _Examined(version, accounts)


def verify(source: str | Path) -> str | None:
    """Say in French why a file is not a complete store of this project (None: it can be restored)."""
    try:
        _examine(source)
    except BackupError as err:
        return str(err)
    return None


def _copy(source: Path, target: Path, busy_ms: int = 30000) -> None:
    """Copy a whole file into another in one step: readers of `target` see the old content or the new."""
    src = sqlite3.connect(read_only_uri(source), uri=True)
    try:
        dst = sqlite3.connect(target, timeout=busy_ms / 1000)
        try:
            dst.execute(f"PRAGMA busy_timeout = {busy_ms}")
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _prepared_copy(source: Path, store: Path, with_accounts: bool, replaced: int) -> tuple[Path, list[tuple]]:
    """Return a private copy of the backup, without accounts, sessions nor failed logins, brought to this
    version, its edit counters above `replaced` (the highest of the store it replaces); and the
    backup's accounts when asked for."""
    from .db import writer

    temp = _partial(store, ".restauration")
    try:
        _copy(source, temp)
        with writer(temp) as db:
            accounts = store_users.all_rows(db.conn) if with_accounts else []
            with db.atomic():
                db.execute("DROP TABLE IF EXISTS sessions_admin")
                db.execute("DROP TABLE IF EXISTS utilisateurs")
                db.execute("DELETE FROM tentatives")
            schema.create(db)  # a backup of an older version is brought to this one
            # Edit counters never go back: a form opened on the replaced store conflicts with every row.
            structures.lift_versions(db, replaced)
            if "sqlite_stat1" in db.table_names():
                db.execute("ANALYZE")  # the planner's statistics of this data, not the file's
            problem = _differences(_catalogue(db.conn), _expected(schema.SCHEMA_VERSION))
            if problem:
                raise BackupError(f"la sauvegarde n’a pas pu être mise à jour : {problem}")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("PRAGMA journal_mode = DELETE")
    except BaseException:
        _remove(temp)
        raise
    return temp, accounts


def _remove(path: Path) -> None:
    for f in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        f.unlink(missing_ok=True)


def restore(
    source: str | Path,
    store: str | Path,
    accounts_file: str | Path | None = None,
    with_accounts: bool = False,
) -> None:
    """Replace the store's content with a backup, in place: readers keep serving, then see the restored data.

    The backup is checked first (every table, index, trigger and view, with its SQL; version,
    integrity, non-empty reference tables); a bad file changes nothing. A backup of an older version is
    migrated. Accounts, sessions and failed logins in the backup are left out; `with_accounts` puts the
    backup's accounts in the accounts file instead of the current ones and ends every session. Uploads
    waiting in the wizard are forgotten (planned against the data before).
    """
    source, store = Path(source), Path(store)
    accounts_file = Path(accounts_file) if accounts_file else authdb.location(store)
    if store.exists():  # a store of version 5 still holding its accounts gives them away first
        authdb.prepare(accounts_file, store)
    try:
        examined = _examine(source)
    except BackupError as err:
        raise BackupError(f"sauvegarde refusée : {err}") from None
    if with_accounts and not examined.accounts:
        raise BackupError(
            "sauvegarde refusée : elle ne contient pas les comptes (faite sans « --avec-comptes ») ; "
            "sans « --avec-comptes », seules les données sont restaurées."
        )
    replaced = _highest_version(store)
    try:
        temp, accounts = _prepared_copy(source, store, with_accounts, replaced)
    except sqlite3.Error as err:
        raise BackupError(f"la restauration a échoué : {err}") from err
    try:
        create_private(store)
        _copy(temp, store)
        with closing(sqlite3.connect(store)) as dst:
            dst.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as err:
        raise BackupError(f"la restauration a échoué : {err}") from err
    finally:
        _remove(temp)
    with authdb.writer(accounts_file) as adb:
        from . import pending

        with adb.atomic():
            if with_accounts:
                store_users.replace_all(adb, accounts)
            pending.drop_all(adb)
        pending.sweep(adb)


def _highest_version(store: Path) -> int:
    """The highest edit counter of the store about to be replaced (0 when there is none to read)."""
    if check(store) is not None:
        return 0
    conn = sqlite3.connect(read_only_uri(store), uri=True)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'plancher_version'").fetchone():
            return structures.highest_version(conn)
        return conn.execute("SELECT COALESCE(MAX(version), 0) FROM structures").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()
