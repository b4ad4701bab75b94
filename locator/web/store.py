"""The request side's store connection: one read-only connection per thread and store file."""

from __future__ import annotations

import sqlite3
import threading

from flask import current_app

from ..store import db

_local = threading.local()


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


def close_all() -> None:
    """Close this thread's connections (tests, and before a store file is replaced)."""
    for conn in getattr(_local, "conns", {}).values():
        conn.close()
    _local.conns = {}
