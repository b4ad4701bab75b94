"""Error answers: JSON under /api, a French page elsewhere; never a traceback."""

from __future__ import annotations

import logging
import time

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, SecurityError

from ..store.db import StoreBusy, StoreMissing
from .limits import BodyTooLarge
from .negotiation import wants_json

log = logging.getLogger(__name__)
UNTRUSTED_HOST = "Ce site ne répond pas sous ce nom."
WARN_EVERY_S = 60.0
_warned_at = [float("-inf")]

_MESSAGES = {
    400: "La demande est mal formée.",
    404: "Cette page n’existe pas.",
    405: "Cette méthode n’est pas permise ici.",
    413: "La demande envoyée est trop grosse.",
    429: "Trop de demandes : réessayez dans un moment.",
    500: "Une erreur interne s’est produite ; elle a été enregistrée.",
    503: "Le service est momentanément indisponible.",
}


def _answer(status: int, message: str):
    if wants_json():
        return jsonify({"erreur": message}), status
    return render_template("erreur.html", status=status, message=message), status


def _retry_after(err: HTTPException) -> int:
    """Seconds to wait after a 429: what the limiter computed, or what the raiser said."""
    if getattr(err, "retry_after", None):
        return int(err.retry_after)
    if err.response is not None and err.response.headers.get("Retry-After", "").isdigit():
        return int(err.response.headers["Retry-After"])
    return 60


def register(app: Flask) -> None:
    """Install the handlers on the app."""

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        message = _MESSAGES.get(err.code or 500, err.description or "Erreur.")
        if isinstance(err, BodyTooLarge):
            message = err.description  # French, with the limit
        body, status = _answer(err.code or 500, message)
        if err.code == 429:
            return body, status, {"Retry-After": str(_retry_after(err))}
        return body, status

    @app.errorhandler(SecurityError)
    def _untrusted_host(err: SecurityError):
        # No page template: without a trusted host Flask cannot build the page's URLs.
        if time.monotonic() - _warned_at[0] >= WARN_EVERY_S:
            _warned_at[0] = time.monotonic()
            log.warning("refused a request for a host name not in TRUSTED_HOSTS: %s", err.description)
        if wants_json():
            return jsonify({"erreur": UNTRUSTED_HOST}), 400
        return UNTRUSTED_HOST, 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(StoreMissing)
    def _store_missing(err: StoreMissing):
        log.error("store missing: %s", err)
        return _answer(503, "Les données ne sont pas encore construites (« locator build »).")

    @app.errorhandler(StoreBusy)
    def _store_busy(err: StoreBusy):
        log.warning("store busy on %s %s", request.method, request.path)
        body, status = _answer(503, str(err))
        return body, status, {"Retry-After": str(err.retry_after)}

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unexpected error on %s", request.path)
        return _answer(500, _MESSAGES[500])
