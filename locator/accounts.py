"""Admin accounts: password hashing (scrypt), login with throttling, and server-side sessions.

Passwords are hashed with scrypt through werkzeug (`scrypt:32768:8:1`, 16-byte salt): a memory-hard KDF
from the standard library's OpenSSL binding, so no new dependency, and the parameters travel with each
hash, so they can be raised later without breaking old ones.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from .store import db as store_db
from .store import throttle
from .store import users as store_users

ROLES = store_users.ROLES
MIN_PASSWORD_LENGTH = 12
_METHOD = "scrypt:32768:8:1"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked when the email is unknown, so that a wrong email costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method=_METHOD)


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is French and shown as is."""


@dataclass
class LockedOut(Exception):
    """Too many failed logins: try again in `retry_after` seconds."""

    retry_after: int


@dataclass(frozen=True)
class Throttling:
    """Login throttling settings (see config.py)."""

    per_account: int = 5
    per_ip: int = 20
    window: float = 900.0
    lockout: float = 900.0

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> Throttling:
        """Read the LOGIN_* settings."""
        return cls(
            int(cfg["LOGIN_FAILURES_PER_ACCOUNT"]),
            int(cfg["LOGIN_FAILURES_PER_IP"]),
            float(cfg["LOGIN_WINDOW_SECONDS"]),
            float(cfg["LOGIN_LOCKOUT_SECONDS"]),
        )


def now_iso() -> str:
    """Return the current UTC time as ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def normalize_email(email: str) -> str:
    """Return the email as stored (trimmed, lower-case); raise AccountError when it is not one."""
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise AccountError("Adresse électronique invalide.")
    return email


def check_role(role: str) -> str:
    """Return the role when valid; raise AccountError otherwise."""
    if role not in ROLES:
        raise AccountError("Rôle inconnu : choisissez « admin » ou « editeur ».")
    return role


def hash_password(password: str) -> str:
    """Return the scrypt hash of a password long enough to be one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.")
    if len(password) > 1024:
        raise AccountError("Le mot de passe est trop long (1024 caractères au plus).")
    return generate_password_hash(password, method=_METHOD)


def add_user(db_path: str | Path, email: str, role: str, password: str) -> str:
    """Create an account; return its normalised email."""
    email = normalize_email(email)
    check_role(role)
    hashed = hash_password(password)
    db = store_db.writer(db_path)
    try:
        store_users.create(db)
        with db.atomic():
            try:
                store_users.add(db, email, role, hashed, now_iso())
            except sqlite3.IntegrityError:
                raise AccountError(f"Le compte {email} existe déjà.") from None
    finally:
        db.close()
    return email


def set_password(db_path: str | Path, email: str, password: str) -> None:
    """Replace an account's password; its open sessions end."""
    email = normalize_email(email)
    hashed = hash_password(password)
    db = store_db.writer(db_path)
    try:
        with db.atomic():
            if not store_users.set_password(db, email, hashed, now_iso()):
                raise AccountError(f"Aucun compte {email}.")
    finally:
        db.close()


def set_role(db_path: str | Path, email: str, role: str) -> None:
    """Change an account's role, keeping at least one admin."""
    email = normalize_email(email)
    check_role(role)
    db = store_db.writer(db_path)
    try:
        with db.atomic():
            user = store_users.get(db.conn, email)
            if user is None:
                raise AccountError(f"Aucun compte {email}.")
            if user["role"] == "admin" and role != "admin" and store_users.count_admins(db.conn) == 1:
                raise AccountError("C'est le dernier compte admin : il garde son rôle.")
            store_users.set_role(db, email, role, now_iso())
    finally:
        db.close()


def remove_user(db_path: str | Path, email: str) -> None:
    """Delete an account, keeping at least one admin."""
    email = normalize_email(email)
    db = store_db.writer(db_path)
    try:
        with db.atomic():
            user = store_users.get(db.conn, email)
            if user is None:
                raise AccountError(f"Aucun compte {email}.")
            if user["role"] == "admin" and store_users.count_admins(db.conn) == 1:
                raise AccountError("C'est le dernier compte admin : il ne peut pas être supprimé.")
            store_users.remove(db, email)
    finally:
        db.close()


def _lock_remaining(conn: sqlite3.Connection, key: str, limit: int, rules: Throttling, now: float) -> float:
    count, _first, last = throttle.recent(conn, key, now - rules.window)
    if count >= limit and last is not None:
        return last + rules.lockout - now
    return 0.0


def _keys(email: str, ip: str) -> tuple[str, str]:
    return f"compte:{email}", f"ip:{ip}"


def check_lockout(conn: sqlite3.Connection, email: str, ip: str, rules: Throttling, now: float) -> None:
    """Raise LockedOut while the account or the address has failed too often."""
    account_key, ip_key = _keys(email, ip)
    wait = max(
        _lock_remaining(conn, account_key, rules.per_account, rules, now),
        _lock_remaining(conn, ip_key, rules.per_ip, rules, now),
    )
    if wait > 0:
        raise LockedOut(max(1, math.ceil(wait)))


def login(
    conn: sqlite3.Connection, db_path: str | Path, email: str, password: str, ip: str, rules: Throttling
) -> dict[str, Any] | None:
    """Check a password; return the account, or None (the failure stays recorded).

    Raises LockedOut, without checking the password, while the account or the address is locked.
    The attempt is counted before the password is checked, in the same write transaction as the
    lockout check, so that parallel guesses cannot slip past the limit; a success clears the count.
    """
    try:
        email = normalize_email(email)
    except AccountError:
        email = (email or "").strip().lower()[:254]
    account_key, ip_key = _keys(email, ip)
    now = time.time()
    db = store_db.writer(db_path)
    try:
        with throttle.immediate(db):
            check_lockout(db.conn, email, ip, rules, now)
            throttle.record(db, [account_key, ip_key], now)
        user = store_users.get(conn, email)
        ok = check_password_hash(user["mot_de_passe"] if user else _DUMMY_HASH, password or "")
        if not (ok and user):
            return None
        with db.atomic():
            throttle.clear(db, account_key)
            throttle.forget(db, ip_key, now)
    finally:
        db.close()
    return {"email": user["email"], "role": user["role"]}


def verify_password(conn: sqlite3.Connection, email: str, password: str) -> bool:
    """Tell whether this is the account's password."""
    user = store_users.get(conn, email)
    return check_password_hash(user["mot_de_passe"] if user else _DUMMY_HASH, password or "") and bool(user)


def token_hash(token: str) -> str:
    """Return what the store keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db_path: str | Path, email: str, hours: float) -> str:
    """Start a session for an account; return the token the cookie carries."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    db = store_db.writer(db_path)
    try:
        with db.atomic():
            store_users.open_session(db, token_hash(token), email, now, now + hours * 3600)
    finally:
        db.close()
    return token


def session_user(conn: sqlite3.Connection, token: str) -> dict[str, Any] | None:
    """Return the account of a live session token, or None."""
    return store_users.session_user(conn, token_hash(token), time.time())


def close_session(db_path: str | Path, token: str) -> None:
    """End a session (logout)."""
    db = store_db.writer(db_path)
    try:
        with db.atomic():
            store_users.close_session(db, token_hash(token))
    finally:
        db.close()
