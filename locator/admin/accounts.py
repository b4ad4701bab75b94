"""Admin accounts: password hashing (scrypt), login with throttling, and server-side sessions.

Passwords are hashed with scrypt through werkzeug (`scrypt:32768:8:1`, 16-byte salt): a memory-hard KDF
from the standard library's OpenSSL binding, so no new dependency, and the parameters travel with each
hash, so they can be raised later without breaking old ones.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from ..ingest import clean
from ..store import authdb, throttle
from ..store import users as store_users

ROLES = store_users.ROLES
MIN_PASSWORD_LENGTH = 12
_METHOD = "scrypt:32768:8:1"
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
    per_account_all: int = 50
    lockout_max: float = 86400.0
    clock: Callable[[], float] = field(default=time.time, compare=False)  # seconds since the epoch

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> Throttling:
        """Read the LOGIN_* settings and the CLOCK."""
        return cls(
            int(cfg["LOGIN_FAILURES_PER_ACCOUNT"]),
            int(cfg["LOGIN_FAILURES_PER_IP"]),
            float(cfg["LOGIN_WINDOW_SECONDS"]),
            float(cfg["LOGIN_LOCKOUT_SECONDS"]),
            int(cfg["LOGIN_FAILURES_PER_ACCOUNT_ALL"]),
            float(cfg["LOGIN_LOCKOUT_MAX_SECONDS"]),
            cfg.get("CLOCK") or time.time,
        )


def now_iso() -> str:
    """Return the current UTC time as ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def account_key(email: str) -> str:
    """Return the email of an existing account as stored: trimmed, lower-case, without the invisible,
    bidi and control characters imports strip (the same cleaning); raise AccountError when empty."""
    try:
        email = (clean.text(email or "", "email") or "").lower()
    except clean.Invalid:
        email = ""
    if not email or len(email) > 254:
        raise AccountError("Adresse électronique invalide.")
    return email


def normalize_email(email: str) -> str:
    """Return a new account's email as stored (cleaned like `account_key`, then checked by
    email-validator); raise AccountError when it is not one."""
    email = account_key(email)
    try:
        return clean.email_address(email).lower()
    except clean.Invalid:
        raise AccountError("Adresse électronique invalide.") from None


def check_role(role: str) -> str:
    """Return the role when valid; raise AccountError otherwise."""
    if role not in ROLES:
        raise AccountError("Rôle inconnu : choisissez « admin » ou « editeur ».")
    return role


def hash_password(password: str) -> str:
    """Return the scrypt hash of a password long enough to be one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.")
    if len(password) > 1024:
        raise AccountError("Le mot de passe est trop long (1024 caractères au plus).")
    return generate_password_hash(password, method=_METHOD)


def add_user(auth: str | Path, email: str, role: str, password: str) -> str:
    """Create an account in the accounts file `auth`; return its normalised email."""
    email = normalize_email(email)
    check_role(role)
    hashed = hash_password(password)
    with authdb.writer(auth) as db, db.atomic():
        try:
            store_users.add(db, email, role, hashed, now_iso())
        except sqlite3.IntegrityError:
            raise AccountError(f"Le compte {email} existe déjà.") from None
    return email


def set_password(auth: str | Path, email: str, password: str) -> str:
    """Replace an account's password (its open sessions end); return the account's email."""
    email = account_key(email)
    hashed = hash_password(password)
    with authdb.writer(auth) as db, db.atomic():
        if not store_users.set_password(db, email, hashed, now_iso()):
            raise AccountError(f"Aucun compte {email}.")
    return email


def set_role(auth: str | Path, email: str, role: str) -> str:
    """Change an account's role, keeping at least one admin; return the account's email."""
    email = account_key(email)
    check_role(role)
    with authdb.writer(auth) as db, db.atomic():
        user = store_users.get(db.conn, email)
        if user is None:
            raise AccountError(f"Aucun compte {email}.")
        if user["role"] == "admin" and role != "admin" and store_users.count_admins(db.conn) == 1:
            raise AccountError("C’est le dernier compte admin : il garde son rôle.")
        store_users.set_role(db, email, role, now_iso())
    return email


def remove_user(auth: str | Path, email: str) -> str:
    """Delete an account, keeping at least one admin; return its email."""
    email = account_key(email)
    with authdb.writer(auth) as db, db.atomic():
        user = store_users.get(db.conn, email)
        if user is None:
            raise AccountError(f"Aucun compte {email}.")
        if user["role"] == "admin" and store_users.count_admins(db.conn) == 1:
            raise AccountError("C’est le dernier compte admin : il ne peut pas être supprimé.")
        store_users.remove(db, email)
    return email


# Failures are remembered this long to make lockouts progressive (each new lockout lasts twice longer).
_PROGRESSION_SECONDS = 86400.0


def _lock_remaining(conn: sqlite3.Connection, key: str, limit: int, rules: Throttling, now: float) -> float:
    """Seconds this key stays locked: `limit` failures in the window lock it, longer each time."""
    count, _first, last = throttle.recent(conn, key, now - rules.window)
    if count < limit or last is None:
        return 0.0
    in_a_day, _first, _last = throttle.recent(conn, key, now - _PROGRESSION_SECONDS)
    lockout = min(rules.lockout * 2 ** (in_a_day // limit - 1), rules.lockout_max)
    return last + lockout - now


@dataclass(frozen=True)
class Attempt:
    """The throttling keys of one attempt: those checked (with their limits) and those recorded."""

    checked: tuple[tuple[str, int], ...]
    recorded: tuple[str, ...]


def login_attempt(email: str, ip: str, device: str | None, rules: Throttling) -> Attempt:
    """Keys of a login: a known device answers only for itself, so strangers cannot lock it out.

    From an unknown browser, failures count per account and address, per address, and per account
    from everywhere (a higher limit, against guesses spread over many addresses).
    """
    account, pair, address = f"compte:{email}", f"compte-ip:{email}|{ip}", f"ip:{ip}"
    recorded = (account, pair, address)
    if device:
        own = f"appareil:{email}|{device}"
        return Attempt(((own, rules.per_account),), (*recorded, own))
    checked = ((pair, rules.per_account), (address, rules.per_ip), (account, rules.per_account_all))
    return Attempt(checked, recorded)


def check_lockout(conn: sqlite3.Connection, attempt: Attempt, rules: Throttling, now: float) -> None:
    """Raise LockedOut while any checked key has failed too often."""
    wait = max(_lock_remaining(conn, key, limit, rules, now) for key, limit in attempt.checked)
    if wait > 0:
        raise LockedOut(max(1, math.ceil(wait)))


def unlock(auth: str | Path, email: str, address: str | None = None) -> int:
    """Lift the lockouts of an account (every key naming it, known browsers included) and, when given,
    of an address; return how many failed attempts were forgotten. Raises AccountError if unknown."""
    email = account_key(email)
    with authdb.writer(auth) as db, db.atomic():
        if store_users.get(db.conn, email) is None:
            raise AccountError(f"Aucun compte {email}.")
        keys = [f"compte:{email}", f"mon-compte:{email}"]
        prefixes = [f"compte-ip:{email}|", f"appareil:{email}|"]
        if address:
            keys.append(f"ip:{address}")
        return throttle.clear_keys(db, keys, prefixes)


def _throttled_check(
    auth: str | Path, attempt: Attempt, rules: Throttling, check: Any
) -> dict[str, Any] | None:
    """Count the attempt (atomically with the lockout check), run `check`; a success clears the count.

    The attempt is counted before the password is checked, in the same write transaction as the
    lockout check, so that parallel guesses cannot slip past the limit.
    """
    now = rules.clock()
    with authdb.writer(auth) as db:
        with throttle.immediate(db):
            check_lockout(db.conn, attempt, rules, now)
            throttle.record(db, list(attempt.recorded), now)
        user = check()
        if user is None:
            return None
        with db.atomic():
            for key in attempt.recorded:
                if key.startswith("ip:"):
                    throttle.forget(db, key, now)  # other accounts' failures from there still count
                else:
                    throttle.clear(db, key)
    return user


def _password_check(conn: sqlite3.Connection, email: str, password: str) -> Any:
    def check() -> dict[str, Any] | None:
        user = store_users.get(conn, email)
        ok = check_password_hash(user["mot_de_passe"] if user else _DUMMY_HASH, password or "")
        return {"email": user["email"], "role": user["role"]} if ok and user else None

    return check


def login(
    conn: sqlite3.Connection,
    auth: str | Path,
    email: str,
    password: str,
    ip: str,
    rules: Throttling,
    device: str | None = None,
) -> dict[str, Any] | None:
    """Check a password against the accounts file (`conn` reads it, `auth` is its path); return the
    account, or None (the failure stays recorded).

    Raises LockedOut, without checking the password, while the attempt's keys are locked.
    `device` is the id a known-device cookie of this account carries (see login_attempt).
    """
    try:
        email = account_key(email)
    except AccountError:
        email = (email or "").strip().lower()[:254]
    attempt = login_attempt(email, ip, device, rules)
    return _throttled_check(auth, attempt, rules, _password_check(conn, email, password))


def check_current_password(
    conn: sqlite3.Connection, auth: str | Path, email: str, password: str, rules: Throttling
) -> bool:
    """Tell whether this is the account's password, throttled like a login (raises LockedOut)."""
    attempt = Attempt(((f"mon-compte:{email}", rules.per_account),), (f"mon-compte:{email}",))
    return _throttled_check(auth, attempt, rules, _password_check(conn, email, password)) is not None


def token_hash(token: str) -> str:
    """Return what the store keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(auth: str | Path, email: str, hours: float) -> str:
    """Start a session for an account; return the token the cookie carries."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with authdb.writer(auth) as db, db.atomic():
        store_users.open_session(db, token_hash(token), email, now, now + hours * 3600)
    return token


def session_user(conn: sqlite3.Connection, token: str) -> dict[str, Any] | None:
    """Return the account of a live session token, or None."""
    return store_users.session_user(conn, token_hash(token), time.time())


def close_session(auth: str | Path, token: str) -> None:
    """End a session (logout)."""
    with authdb.writer(auth) as db, db.atomic():
        store_users.close_session(db, token_hash(token))
