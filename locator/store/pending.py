"""Imports waiting for an admin's confirmation: the uploaded file, the fixes made, the plan of each row.

Kept in the accounts file (store/authdb.py), not in a worker's memory, so that every worker serves the
wizard; keyed by a random token and bound to the account that uploaded the file.

The plan is never one value: its rows are kept a page at a time (PAGE_ROWS rows compressed together:
they repeat the same keys and messages, so a page shrinks about thirtyfold), and each line has a slim
index row (action, point, page). A preview page, the map, a row's form and the confirmation read only
the pages they need, whatever the size of the file. A new plan (after a fix) is written under a new
version in short transactions, then made current in one statement: readers see one plan, whole, and
the rows of older versions are swept afterwards, a batch at a time.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlite-utils is heavy: the writer connection brings it in
    import sqlite_utils


PAGE_ROWS = 200  # rows compressed together
BATCH_PAGES = 5  # pages written per transaction: the accounts file's write lock is held briefly
SWEEP_ROWS = 5000  # index rows deleted per transaction when an old plan is swept

DDL = """
-- An upload waiting for confirmation: `contenu` is the file (zlib), `reglages` the admin's fixes,
-- `resume` the plan's header and counts (JSON), `version` the current plan, `derniere` the last
-- version handed out (a plan being written has a version above the current one).
CREATE TABLE IF NOT EXISTS imports_en_attente (
    id INTEGER PRIMARY KEY,
    jeton TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    cree_le REAL NOT NULL,
    fichier TEXT NOT NULL,
    contenu BLOB NOT NULL,
    reglages TEXT NOT NULL,
    resume TEXT NOT NULL,
    version INTEGER,
    derniere INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS imports_en_attente_email ON imports_en_attente(email, cree_le);
-- One row per planned line (blank lines left out): what the preview filters and pages, the map's
-- point, and the page that holds the rest of the row.
CREATE TABLE IF NOT EXISTS imports_en_attente_lignes (
    attente INTEGER NOT NULL,
    version INTEGER NOT NULL,
    ligne INTEGER NOT NULL,
    action TEXT NOT NULL,
    corrigee INTEGER NOT NULL,
    page INTEGER NOT NULL,
    latitude REAL,
    longitude REAL,
    PRIMARY KEY (attente, version, ligne)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS imports_en_attente_lignes_action
    ON imports_en_attente_lignes(attente, version, action, ligne);
-- The rows themselves, PAGE_ROWS at a time, as compressed JSON (in the order the plan made them).
CREATE TABLE IF NOT EXISTS imports_en_attente_pages (
    attente INTEGER NOT NULL,
    version INTEGER NOT NULL,
    page INTEGER NOT NULL,
    lignes BLOB NOT NULL,
    PRIMARY KEY (attente, version, page)
);
"""

# What the preview's filters select (besides every row).
FILTERS = ("tous", "rejete", "doublon", "nouveau", "mis_a_jour", "inchange", "corrigees")


class PlanGone(RuntimeError):
    """The upload was confirmed, abandoned or forgotten while a plan of it was being written or read."""


def create(db: sqlite_utils.Database) -> None:
    """Create the tables when missing."""
    db.conn.executescript(DDL)


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 6)


def _unpack(value: bytes) -> Any:
    return json.loads(zlib.decompress(value))


def count(conn: sqlite3.Connection, since: float, email: str | None = None) -> int:
    """Return how many recent pending imports there are (of this account, when given)."""
    sql = "SELECT count(*) FROM imports_en_attente WHERE cree_le >= ?"
    args: tuple = (since,)
    if email is not None:
        sql, args = sql + " AND email = ?", (since, email)
    return conn.execute(sql, args).fetchone()[0]


def of_account(conn: sqlite3.Connection, email: str, since: float) -> list[dict[str, Any]]:
    """Return this account's recent pending imports (token, file name), newest first."""
    rows = conn.execute(
        "SELECT jeton, fichier FROM imports_en_attente WHERE email = ? AND cree_le >= ? "
        "AND version IS NOT NULL ORDER BY cree_le DESC",
        (email, since),
    ).fetchall()
    return [{"jeton": r[0], "fichier": r[1]} for r in rows]


def put(
    db: sqlite_utils.Database,
    token: str,
    email: str,
    now: float,
    fichier: str,
    contenu: bytes,
    reglages: dict[str, Any],
    forget_before: float,
) -> int:
    """Keep a new upload, its plan still to write (PlanWriter); forget the uploads older than
    `forget_before` (their rows go with the next sweep). Return the upload's id."""
    db.execute("DELETE FROM imports_en_attente WHERE cree_le < ?", (forget_before,))
    cur = db.execute(
        "INSERT INTO imports_en_attente (jeton, email, cree_le, fichier, contenu, reglages, resume) "
        "VALUES (?, ?, ?, ?, ?, ?, '{}')",
        (token, email, now, fichier, zlib.compress(contenu, 6), json.dumps(reglages)),
    )
    return cur.lastrowid


def get(conn: sqlite3.Connection, token: str, email: str, since: float) -> dict[str, Any] | None:
    """Return the upload of this token (without its file, nor its rows) if it belongs to this account,
    is recent and has a plan; else None."""
    row = conn.execute(
        "SELECT id, jeton, email, cree_le, fichier, reglages, resume, version FROM imports_en_attente "
        "WHERE jeton = ? AND email = ? AND cree_le >= ? AND version IS NOT NULL",
        (token, email, since),
    ).fetchone()
    if row is None:
        return None
    keys = ("id", "jeton", "email", "cree_le", "fichier", "reglages", "resume", "version")
    out = dict(zip(keys, row, strict=True))
    out["reglages"] = json.loads(out["reglages"])
    out["resume"] = json.loads(out["resume"])
    return out


def content(conn: sqlite3.Connection, item: dict[str, Any]) -> bytes:
    """Return the uploaded file of an upload."""
    row = conn.execute("SELECT contenu FROM imports_en_attente WHERE id = ?", (item["id"],)).fetchone()
    if row is None:
        raise PlanGone(item["jeton"])
    return zlib.decompress(row[0])


def new_version(db: sqlite_utils.Database, item_id: int) -> int:
    """Hand out the version number of a plan about to be written (above every earlier one)."""
    row = db.execute(
        "UPDATE imports_en_attente SET derniere = derniere + 1 WHERE id = ? RETURNING derniere", (item_id,)
    ).fetchone()
    if row is None:
        raise PlanGone(str(item_id))
    return row[0]


class PlanWriter:
    """Writes the rows of one plan version, a few pages per transaction (see the module docstring)."""

    def __init__(self, db: sqlite_utils.Database, item_id: int, version: int):
        self.db, self.item_id, self.version = db, item_id, version
        self.page: list[dict[str, Any]] = []
        self.index: list[tuple] = []
        self.done: list[tuple[list[tuple], bytes]] = []
        self.pages = 0

    def add(self, record: dict[str, Any], corrigee: bool, point: tuple[float, float] | None) -> None:
        """Add one planned row (its record as the readers get it back, with `ligne` and `action`)."""
        lat, lon = point if point else (None, None)
        where = (self.pages, lat, lon)
        self.index.append(
            (self.item_id, self.version, record["ligne"], record["action"], int(corrigee), *where)
        )
        self.page.append(record)
        if len(self.page) >= PAGE_ROWS:
            self._close_page()

    def _close_page(self) -> None:
        if self.page:
            self.done.append((self.index, _pack(self.page)))
            self.page, self.index = [], []
            self.pages += 1
        if len(self.done) >= BATCH_PAGES:
            self._write()

    def _write(self) -> None:
        if not self.done:
            return
        with self.db.atomic():
            alive = self.db.execute("SELECT 1 FROM imports_en_attente WHERE id = ?", (self.item_id,))
            if alive.fetchone() is None:
                raise PlanGone(str(self.item_id))
            first = self.pages - len(self.done)
            for n, (index, packed) in enumerate(self.done):
                self.db.conn.executemany(
                    "INSERT INTO imports_en_attente_lignes "
                    "(attente, version, ligne, action, corrigee, page, latitude, longitude) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    index,
                )
                self.db.execute(
                    "INSERT INTO imports_en_attente_pages (attente, version, page, lignes) "
                    "VALUES (?, ?, ?, ?)",
                    (self.item_id, self.version, first + n, packed),
                )
        self.done = []

    def close(self) -> None:
        """Write the rows still buffered."""
        self._close_page()
        self._write()


def publish(
    db: sqlite_utils.Database, item_id: int, version: int, reglages: dict[str, Any], resume: dict[str, Any]
) -> bool:
    """Make a fully written plan the current one (unless a later one already is); False if not."""
    cur = db.execute(
        "UPDATE imports_en_attente SET version = ?, reglages = ?, resume = ? "
        "WHERE id = ? AND (version IS NULL OR version < ?)",
        (version, json.dumps(reglages), json.dumps(resume, ensure_ascii=False), item_id, version),
    )
    return cur.rowcount == 1


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection, item: dict[str, Any]) -> Iterator[int]:
    """One read transaction over the upload's current plan; yields its version (PlanGone if none)."""
    conn.execute("BEGIN")
    try:
        row = conn.execute("SELECT version FROM imports_en_attente WHERE id = ?", (item["id"],)).fetchone()
        if row is None or row[0] is None:
            raise PlanGone(item["jeton"])
        yield row[0]
    finally:
        conn.execute("ROLLBACK")


def _where(voir: str) -> tuple[str, tuple]:
    if voir == "corrigees":
        return " AND corrigee = 1", ()
    if voir in FILTERS and voir != "tous":
        return " AND action = ?", (voir,)
    return "", ()


def count_rows(conn: sqlite3.Connection, item: dict[str, Any], voir: str = "tous") -> int:
    """Return how many rows the preview filter `voir` (see FILTERS) selects."""
    extra, args = _where(voir)
    with _snapshot(conn, item) as version:
        sql = f"SELECT count(*) FROM imports_en_attente_lignes WHERE attente = ? AND version = ?{extra}"
        return conn.execute(sql, (item["id"], version, *args)).fetchone()[0]


def _pages(conn: sqlite3.Connection, item_id: int, version: int, wanted: list[tuple]) -> list[dict[str, Any]]:
    """Return the records of `wanted` (ligne, page, ...) rows in that order, reading each page once."""
    by_page: dict[int, set[int]] = {}
    for ligne, page, *_rest in wanted:
        by_page.setdefault(page, set()).add(ligne)
    found: dict[int, dict[str, Any]] = {}
    for page, lignes in by_page.items():
        row = conn.execute(
            "SELECT lignes FROM imports_en_attente_pages WHERE attente = ? AND version = ? AND page = ?",
            (item_id, version, page),
        ).fetchone()
        if row is None:
            raise PlanGone(str(item_id))
        for record in _unpack(row[0]):
            if record["ligne"] in lignes:
                found[record["ligne"]] = record
    return [found[w[0]] for w in wanted]


def rows(
    conn: sqlite3.Connection, item: dict[str, Any], voir: str = "tous", offset: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """Return the records of the rows the filter selects, by line, `limit` from `offset`."""
    extra, args = _where(voir)
    with _snapshot(conn, item) as version:
        wanted = conn.execute(
            "SELECT ligne, page FROM imports_en_attente_lignes WHERE attente = ? AND version = ?"
            f"{extra} ORDER BY ligne LIMIT ? OFFSET ?",
            (item["id"], version, *args, limit, offset),
        ).fetchall()
        return _pages(conn, item["id"], version, [tuple(w) for w in wanted])


def row(conn: sqlite3.Connection, item: dict[str, Any], ligne: int) -> dict[str, Any] | None:
    """Return the record of one planned line, or None (a blank line, or no such line)."""
    with _snapshot(conn, item) as version:
        found = conn.execute(
            "SELECT ligne, page FROM imports_en_attente_lignes "
            "WHERE attente = ? AND version = ? AND ligne = ?",
            (item["id"], version, ligne),
        ).fetchone()
        return _pages(conn, item["id"], version, [tuple(found)])[0] if found else None


def points(
    conn: sqlite3.Connection,
    item: dict[str, Any],
    limit: int,
    box: tuple[float, float, float, float] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Return the first `limit` rows that have a point (inside `box`: min_lat, min_lon, max_lat, max_lon,
    when given), by line, each with `latitude` and `longitude`; and how many such rows there are."""
    where = " AND latitude IS NOT NULL"
    args: tuple = ()
    if box is not None:
        where += " AND latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ?"
        args = (box[0], box[2], box[1], box[3])
    with _snapshot(conn, item) as version:
        head = "FROM imports_en_attente_lignes WHERE attente = ? AND version = ?"
        total = conn.execute(f"SELECT count(*) {head}{where}", (item["id"], version, *args)).fetchone()[0]
        wanted = conn.execute(
            f"SELECT ligne, page, latitude, longitude {head}{where} ORDER BY ligne LIMIT ?",
            (item["id"], version, *args, limit),
        ).fetchall()
        records = _pages(conn, item["id"], version, [tuple(w) for w in wanted])
    return [{**r, "latitude": w[2], "longitude": w[3]} for r, w in zip(records, wanted, strict=True)], total


def all_rows(conn: sqlite3.Connection, item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield every planned row, a page at a time, in the order the plan made them (one read snapshot)."""
    with _snapshot(conn, item) as version:
        page = 0
        while True:
            found = conn.execute(
                "SELECT lignes FROM imports_en_attente_pages WHERE attente = ? AND version = ? AND page = ?",
                (item["id"], version, page),
            ).fetchone()
            if found is None:
                return
            yield from _unpack(found[0])
            page += 1


def drop(db: sqlite_utils.Database, token: str) -> bool:
    """Forget a pending import (applied or abandoned); False when it was already gone (a double click).

    Its rows go with the next sweep."""
    return db.execute("DELETE FROM imports_en_attente WHERE jeton = ?", (token,)).rowcount > 0


def drop_all(db: sqlite_utils.Database) -> int:
    """Forget every pending import (after a restore: they were planned against other data)."""
    return db.execute("DELETE FROM imports_en_attente").rowcount


def _stale(db: sqlite_utils.Database) -> list[tuple[int, int]]:
    """The (upload, version) pairs whose rows nobody reads: of a forgotten upload, or older than its plan."""
    return db.execute(
        "SELECT DISTINCT p.attente, p.version FROM imports_en_attente_pages p "
        "LEFT JOIN imports_en_attente i ON i.id = p.attente "
        "WHERE i.id IS NULL OR (i.version IS NOT NULL AND p.version < i.version)"
    ).fetchall()


def sweep(db: sqlite_utils.Database) -> None:
    """Delete the rows of old plans and forgotten uploads, a batch per transaction; give the space back."""
    for item_id, version in _stale(db):
        discard(db, item_id, version)
    # executescript steps the pragma to its end (execute would free a single page).
    db.conn.executescript("PRAGMA incremental_vacuum;")


def discard(db: sqlite_utils.Database, item_id: int, version: int) -> None:
    """Delete the rows of one plan version (a plan given up half-written, or an old one), in batches."""
    key = (item_id, version)
    while True:
        with db.atomic():
            cur = db.execute(
                "DELETE FROM imports_en_attente_lignes WHERE attente = ? AND version = ? AND ligne IN "
                "(SELECT ligne FROM imports_en_attente_lignes WHERE attente = ? AND version = ? LIMIT ?)",
                (*key, *key, SWEEP_ROWS),
            )
        if cur.rowcount < SWEEP_ROWS:
            break
    with db.atomic():
        db.execute("DELETE FROM imports_en_attente_pages WHERE attente = ? AND version = ?", key)
