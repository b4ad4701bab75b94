"""Whether a request wants a JSON answer rather than a French page (errors, refusals, redirects)."""

from __future__ import annotations

from flask import request


def wants_json() -> bool:
    """Tell whether the caller expects JSON: the API, /healthz, .json routes, JSON bodies, or its Accept."""
    path = request.path
    if path.startswith("/api/") or path == "/healthz" or path.endswith(".json") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )
