"""Admin accounts and their server-side sessions (in the accounts file, store/authdb.py)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlite-utils is heavy: the writer connection brings it in
    import sqlite_utils


ROLES = ("admin", "editeur")

DDL = """
-- Admin accounts: `mot_de_passe` is a KDF hash (locator.admin.accounts), never the password.
CREATE TABLE IF NOT EXISTS utilisateurs (
    email TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editeur')),
    mot_de_passe TEXT NOT NULL,
    cree_le TEXT NOT NULL,
    modifie_le TEXT
);
-- One row per open admin session; the cookie carries a random token, the store only its SHA-256,
-- so that logout, a password change or a removed account ends the session on every worker.
CREATE TABLE IF NOT EXISTS sessions_admin (
    jeton TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES utilisateurs(email) ON DELETE CASCADE,
    cree_le REAL NOT NULL,
    expire_le REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_admin_email ON sessions_admin(email);
"""


# A backup made with --avec-comptes carries the accounts alone: no session, no failed login.
BACKUP_DDL = DDL.split("-- One row per open admin session")[0]


def create(db: sqlite_utils.Database) -> None:
    """Create the account tables when missing."""
    db.conn.executescript(DDL)


_ACCOUNT_COLUMNS = ("email", "role", "mot_de_passe", "cree_le", "modifie_le")


def all_rows(conn: sqlite3.Connection) -> list[tuple]:
    """Return every account as stored (hashes included): a backup with accounts, a restore."""
    return conn.execute(f"SELECT {', '.join(_ACCOUNT_COLUMNS)} FROM utilisateurs ORDER BY email").fetchall()


def put_rows(db: sqlite_utils.Database, rows: list[tuple]) -> None:
    """Insert accounts as all_rows returns them (into an empty table)."""
    marks = ", ".join("?" * len(_ACCOUNT_COLUMNS))
    db.conn.executemany(f"INSERT INTO utilisateurs ({', '.join(_ACCOUNT_COLUMNS)}) VALUES ({marks})", rows)


def replace_all(db: sqlite_utils.Database, rows: list[tuple]) -> None:
    """Replace every account by these rows and end every session (a restore with the accounts)."""
    db.execute("DELETE FROM sessions_admin")
    db.execute("DELETE FROM utilisateurs")
    put_rows(db, rows)


def get(conn: sqlite3.Connection, email: str) -> dict[str, Any] | None:
    """Return the account with this email (hash included), or None."""
    row = conn.execute(
        "SELECT email, role, mot_de_passe, cree_le, modifie_le FROM utilisateurs WHERE email = ?", (email,)
    ).fetchone()
    return dict(row) if row else None


def list_all(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return every account (without hashes), by email."""
    rows = conn.execute("SELECT email, role, cree_le, modifie_le FROM utilisateurs ORDER BY email")
    return [dict(r) for r in rows]


def count_admins(conn: sqlite3.Connection) -> int:
    """Return how many accounts have the admin role."""
    return conn.execute("SELECT COUNT(*) FROM utilisateurs WHERE role = 'admin'").fetchone()[0]


def add(db: sqlite_utils.Database, email: str, role: str, password_hash: str, now: str) -> None:
    """Create an account; raises sqlite3.IntegrityError when the email exists."""
    db.execute(
        "INSERT INTO utilisateurs (email, role, mot_de_passe, cree_le, modifie_le) VALUES (?, ?, ?, ?, ?)",
        (email, role, password_hash, now, now),
    )


def set_password(db: sqlite_utils.Database, email: str, password_hash: str, now: str) -> bool:
    """Replace an account's password hash and end its sessions; False when the account is unknown."""
    cur = db.execute(
        "UPDATE utilisateurs SET mot_de_passe = ?, modifie_le = ? WHERE email = ?",
        (password_hash, now, email),
    )
    db.execute("DELETE FROM sessions_admin WHERE email = ?", (email,))
    return cur.rowcount == 1


def set_role(db: sqlite_utils.Database, email: str, role: str, now: str) -> bool:
    """Change an account's role; False when the account is unknown."""
    cur = db.execute("UPDATE utilisateurs SET role = ?, modifie_le = ? WHERE email = ?", (role, now, email))
    return cur.rowcount == 1


def remove(db: sqlite_utils.Database, email: str) -> bool:
    """Delete an account and its sessions; False when it did not exist."""
    db.execute("DELETE FROM sessions_admin WHERE email = ?", (email,))
    cur = db.execute("DELETE FROM utilisateurs WHERE email = ?", (email,))
    return cur.rowcount == 1


def open_session(db: sqlite_utils.Database, token_hash: str, email: str, now: float, expires: float) -> None:
    """Record a new session (and forget the expired ones)."""
    db.execute("DELETE FROM sessions_admin WHERE expire_le < ?", (now,))
    db.execute(
        "INSERT INTO sessions_admin (jeton, email, cree_le, expire_le) VALUES (?, ?, ?, ?)",
        (token_hash, email, now, expires),
    )


def session_user(conn: sqlite3.Connection, token_hash: str, now: float) -> dict[str, Any] | None:
    """Return the account (email, role) of a live session, or None."""
    row = conn.execute(
        "SELECT u.email, u.role FROM sessions_admin s JOIN utilisateurs u ON u.email = s.email "
        "WHERE s.jeton = ? AND s.expire_le > ?",
        (token_hash, now),
    ).fetchone()
    return dict(row) if row else None


def close_session(db: sqlite_utils.Database, token_hash: str) -> None:
    """End one session."""
    db.execute("DELETE FROM sessions_admin WHERE jeton = ?", (token_hash,))
