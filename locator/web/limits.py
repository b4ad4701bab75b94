"""Rate limits per client address (Flask-Limiter): the public API and the public forms answer 429."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def init(app: Flask, api: list[Blueprint], forms: list[Blueprint]) -> Limiter:
    """Create the app's limiter: API blueprints limited on every request, forms on POST only."""
    app.config.setdefault("RATELIMIT_ENABLED", app.config["RATE_LIMIT_ENABLED"])
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["RATE_LIMIT_STORAGE"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(get_remote_address, app=app, strategy="moving-window")
    for bp in api:
        limiter.limit(lambda: current_app.config["RATE_LIMIT_API"])(bp)
    for bp in forms:
        limiter.limit(lambda: current_app.config["RATE_LIMIT_FORMS"], methods=["POST"])(bp)
    return limiter
