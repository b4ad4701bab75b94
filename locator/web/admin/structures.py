"""Structures in the admin area: the list (every status), the form, archive and restore."""

from __future__ import annotations

from flask import render_template, request

from ...store import listing
from ...store.schema import STATUSES, STRUCTURE_TYPES
from ..store import get_conn
from . import bp

PAGE_SIZE = 50


@bp.get("/structures")
def structures():
    """Structures of every status, searchable by name, commune or id, filtered by status/type/département."""
    q = (request.args.get("q") or "").strip()[:200]
    statut = request.args.get("statut") if request.args.get("statut") in STATUSES else None
    type_ = request.args.get("type") if request.args.get("type") in STRUCTURE_TYPES else None
    departement = (request.args.get("departement") or "").strip()[:3] or None
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    total, rows = listing.structures(
        get_conn(), q.split(), statut, type_, departement, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "admin/structures.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        q=q,
        statut=statut,
        type_=type_,
        departement=departement,
        statuses=STATUSES,
        types=STRUCTURE_TYPES,
    )
