"""Liveness: answers 200 when the store can be read and holds every table the pages need."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..store import db
from .store import get_conn

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with {"statut": "ok"} when a read of the store succeeds."""
    conn = get_conn()
    db.ping(conn)
    missing = db.missing_tables(conn)
    if missing:
        message = "Données incomplètes : il manque " + ", ".join(missing) + " (restaurez une sauvegarde)."
        return jsonify({"statut": "ko", "erreur": message}), 503
    return jsonify({"statut": "ok"})
