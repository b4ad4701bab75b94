"""Rate limits per client address on the public API, with the `limits` library: over it, a 429.

The public forms (login, "Signaler une erreur") have their own counters in the store (web/admin).

Flask-Limiter resolved its rules on every request (≈ 100 µs, more than a nearest lookup); the same
counters through `limits` directly cost ≈ 4 µs. Counters live in RATE_LIMIT_STORAGE: "memory://"
counts per worker process; several servers share "redis://..." or "memcached://...".
"""

from __future__ import annotations

import math
import time

from flask import Blueprint, Flask, request
from limits import parse, storage, strategies
from werkzeug.exceptions import TooManyRequests


class RateLimited(TooManyRequests):
    """A 429 that knows how many seconds the client should wait."""

    def __init__(self, retry_after: int):
        super().__init__()
        self.retry_after = retry_after


class Limits:
    """The app's counters: one sliding-window-counter limiter, rules parsed once."""

    def __init__(self, app: Flask):
        self.enabled = bool(app.config["RATE_LIMIT_ENABLED"])
        self.limiter = strategies.SlidingWindowCounterRateLimiter(
            storage.storage_from_string(app.config["RATE_LIMIT_STORAGE"])
        )
        self.rules = {"api": parse(app.config["RATE_LIMIT_API"])}

    def hit(self, scope: str) -> None:
        """Count one request of the client in this scope; raise RateLimited when over the limit."""
        if not self.enabled:
            return
        rule = self.rules[scope]
        key = request.remote_addr or "inconnu"
        if not self.limiter.hit(rule, scope, key):
            reset, _remaining = self.limiter.get_window_stats(rule, scope, key)
            raise RateLimited(max(1, math.ceil(reset - time.time())))


def init(app: Flask, api: list[Blueprint]) -> Limits:
    """Create the app's limits: every request to these blueprints counts."""
    limits = Limits(app)
    api_names = {bp.name for bp in api}

    @app.before_request
    def _count():
        if request.blueprint in api_names:
            limits.hit("api")

    app.extensions["locator_limits"] = limits
    return limits
