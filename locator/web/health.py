"""Liveness: answers 200 when the store can be read."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..store import db
from .store import get_conn

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with {"statut": "ok"} when a read of the store succeeds."""
    db.ping(get_conn())
    return jsonify({"statut": "ok"})
