"""The request side's connections: one read-only connection per thread to the store, and one to the
accounts file (store/authdb.py), opened on first use."""

from __future__ import annotations

import sqlite3
import threading

from flask import current_app

from ..store import authdb, db

_local = threading.local()
_prepared: set[str] = set()  # accounts files this process made sure of (created, accounts taken over)
_prepare_lock = threading.Lock()


def get_conn() -> sqlite3.Connection:
    """Return this thread's read-only connection to the app's store (opened on first use).

    Connections are kept across requests: in WAL mode each read transaction sees the last commit.
    """
    path = current_app.config["DB"]
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    conn = conns.get(path)
    if conn is None:
        conn = conns[path] = db.connect(path)
    return conn


def get_auth_conn() -> sqlite3.Connection:
    """Return this thread's read-only connection to the app's accounts file (setting AUTH_DB).

    The first use in a process creates the file when absent and takes over the accounts an older store
    kept (authdb.prepare): logins read and write only there, never waiting for the store.
    """
    path = current_app.config["AUTH_DB"]
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    conn = conns.get(path)
    if conn is None:
        with _prepare_lock:
            if path not in _prepared:
                authdb.prepare(path, current_app.config["DB"])
                _prepared.add(path)
        conn = conns[path] = authdb.connect(path)
    return conn


def close_all() -> None:
    """Close this thread's connections (tests, and before a store file is replaced)."""
    for conn in getattr(_local, "conns", {}).values():
        conn.close()
    _local.conns = {}
