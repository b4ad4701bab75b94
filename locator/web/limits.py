"""Request limits: body size and form fields (413), and rates per client address (429).

Bodies: BODY_MAX_BYTES for every route but the import upload (its file, at most the wizard's
file limit, and the form around it), and at most FORM_MAX_FIELDS form fields, checked before
CSRFProtect parses the form (it parses all of it). `body_limit` is the one source of these limits:
the server (web/server.py) applies it too, from a request's Content-Length before reading its body.
Rates, with the `limits` library: the public API, and the public HTML pages with the report form,
each its own rule; static files, /healthz and /admin are not counted.

The public forms (login, "Signaler une erreur") have their own counters in the store (web/admin).

Flask-Limiter resolved its rules on every request (≈ 100 µs, more than a nearest lookup); the same
counters through `limits` directly cost ≈ 4 µs. Counters live in RATE_LIMIT_STORAGE:
"shared-memory://" (web/shared_counters.py) is one table for every worker of the host, "memory://"
counts per worker process; several servers share "redis://..." or "memcached://...". When that
storage cannot be reached the limit fails open: requests are answered, uncounted, and a warning is
logged (at most once a minute per process) — a rate limit must not take the site down with it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Flask, request
from limits import parse, storage, strategies
from limits.errors import StorageError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, TooManyRequests

from . import shared_counters  # noqa: F401  (registers the "shared-memory://" storage)

# The routes that receive a file: the only ones allowed a body bigger than BODY_MAX_BYTES.
UPLOAD_ENDPOINTS = frozenset({"admin.import_start"})
# Room for the multipart form around an uploaded file (boundaries, headers, the other fields).
FORM_AROUND_FILE = 1024 * 1024
_URLENCODED = "application/x-www-form-urlencoded"
# A shared counter store that does not answer within this delay counts as down (fail open).
SHARED_TIMEOUT_S = 0.5
WARN_EVERY_S = 60.0
log = logging.getLogger(__name__)


class BodyTooLarge(RequestEntityTooLarge):
    """A 413 whose description is the French message shown to the client."""

    def __init__(self, message: str):
        super().__init__(description=message)


class RateLimited(TooManyRequests):
    """A 429 that knows how many seconds the client should wait."""

    def __init__(self, retry_after: int):
        super().__init__()
        self.retry_after = retry_after


class Limits:
    """The app's counters: one sliding-window-counter limiter, rules parsed once."""

    def __init__(self, app: Flask):
        self.enabled = bool(app.config["RATE_LIMIT_ENABLED"])
        uri = app.config["RATE_LIMIT_STORAGE"]
        options = {}
        if uri.startswith(("redis://", "rediss://", "redis+unix://")):
            options = {"socket_timeout": SHARED_TIMEOUT_S, "socket_connect_timeout": SHARED_TIMEOUT_S}
        self.limiter = strategies.SlidingWindowCounterRateLimiter(
            storage.storage_from_string(uri, wrap_exceptions=True, **options)
        )
        self._warned_at = float("-inf")
        self.rules = {
            "api": parse(app.config["RATE_LIMIT_API"]),
            "pages": parse(app.config["RATE_LIMIT_PAGES"]),
        }

    def hit(self, scope: str) -> None:
        """Count one request of the client in this scope; raise RateLimited when over the limit."""
        if not self.enabled:
            return
        rule = self.rules[scope]
        key = request.remote_addr or "inconnu"
        try:
            if self.limiter.hit(rule, scope, key):
                return
            reset, _remaining = self.limiter.get_window_stats(rule, scope, key)
        except StorageError as err:  # the shared counters are unreachable: answer, uncounted
            self._warn(err)
            return
        raise RateLimited(max(1, math.ceil(reset - time.time())))

    def _warn(self, err: StorageError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "rate-limit storage unreachable, requests are not counted (fail open): %s", err.storage_error
            )


def upload_max_bytes(config: Mapping[str, Any]) -> int:
    """The largest file the import wizard takes (it keeps every row's plan: less than the CLI's)."""
    return min(
        int(config["IMPORT_MAX_BYTES"]), int(config.get("WIZARD_MAX_BYTES", config["IMPORT_MAX_BYTES"]))
    )


def body_limit(config: Mapping[str, Any], endpoint: str | None) -> int:
    """The largest request body (bytes) the route of `endpoint` accepts (None: no route matched)."""
    if endpoint in UPLOAD_ENDPOINTS:
        return upload_max_bytes(config) + FORM_AROUND_FILE
    return int(config["BODY_MAX_BYTES"])


def largest_body_limit(config: Mapping[str, Any]) -> int:
    """The largest body any route accepts."""
    return max(body_limit(config, endpoint) for endpoint in (*UPLOAD_ENDPOINTS, None))


def route_body_limits(app: Flask) -> Callable[[str, str], int]:
    """Return a function (method, path) → the body limit of the route the app would route it to."""
    urls = app.url_map.bind("localhost")

    def limit(method: str, path: str) -> int:
        try:
            endpoint, _args = urls.match("/" + path.lstrip("/"), method=method)
        except HTTPException:  # 404, 405, a redirect: no route reads the body, the default applies
            endpoint = None
        return body_limit(app.config, endpoint)

    return limit


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} Mo" if n >= 1024 * 1024 else f"{max(1, n // 1024)} Ko"


def _bound_body(app: Flask) -> None:
    """Refuse an oversized body or too many form fields before anything parses the form."""
    most = request.max_content_length = body_limit(app.config, request.endpoint)
    if (request.content_length or 0) > most:
        raise BodyTooLarge(f"La demande envoyée est trop grosse ({_size(most)} au plus).")
    if request.mimetype == _URLENCODED:
        most_fields = int(app.config["FORM_MAX_FIELDS"])
        if request.get_data(cache=True).count(b"&") >= most_fields:  # read within max_content_length
            raise BodyTooLarge(f"Le formulaire envoyé a trop de champs ({most_fields} au plus).")


def init_bodies(app: Flask) -> None:
    """Bound request bodies; call before CSRFProtect(app) so that this check runs first."""
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["BODY_MAX_BYTES"])
    app.config["MAX_FORM_PARTS"] = int(app.config["FORM_MAX_FIELDS"])  # multipart: Flask counts them
    app.before_request(lambda: _bound_body(app))


def init(app: Flask, api: list[Blueprint], pages: list[Blueprint]) -> Limits:
    """Create the app's limits: every request to these blueprints counts, API and pages apart."""
    limits = Limits(app)
    scopes = {bp.name: "api" for bp in api} | {bp.name: "pages" for bp in pages}

    @app.before_request
    def _count():
        scope = scopes.get(request.blueprint)
        if scope is not None:
            limits.hit(scope)

    app.extensions["locator_limits"] = limits
    return limits
