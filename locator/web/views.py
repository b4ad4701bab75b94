"""Public pages (French)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("views", __name__)


@bp.get("/")
def index():
    """Home page: one search box."""
    return render_template("index.html")
