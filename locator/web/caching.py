"""HTTP caching and compression: ETag + Cache-Control on API answers, gzip/brotli when asked."""

from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_compress import Compress

_COMPRESSED = [
    "text/html",
    "text/css",
    "text/csv",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "image/svg+xml",
]


def init(app: Flask) -> None:
    """Install compression (runs last) and the caching headers (run before it, on the raw body)."""
    app.config.setdefault("COMPRESS_MIMETYPES", _COMPRESSED)
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = app.config["STATIC_MAX_AGE"]
    Compress(app)  # after_request handlers run in reverse order: this one runs after ours

    api_cache = f"public, max-age={int(app.config['API_MAX_AGE'])}"

    @app.after_request
    def _cache_headers(response):
        if request.method not in ("GET", "HEAD"):
            return response
        path = request.path
        headers = response.headers
        if path.startswith("/api/") and response.status_code == 200 and not response.is_streamed:
            # The body is the data: its hash is the validator; a client revalidates after max-age.
            # (Written out rather than werkzeug's add_etag/make_conditional: a third of the cost.)
            digest = hashlib.blake2b(response.get_data(), digest_size=16).hexdigest()
            headers["ETag"] = f'"{digest}"'
            headers["Cache-Control"] = api_cache
            headers["Vary"] = "Accept-Encoding"
            # Compression turns the tag into "digest:gzip" (Flask-Compress): both forms match.
            if digest in request.headers.get("If-None-Match", ""):
                response.status_code = 304
                response.set_data(b"")
                headers.pop("Content-Type", None)
            return response
        if path.startswith("/static/cartes/") and response.status_code == 200:
            # A map's skeleton is named after its content's hash: a new skeleton is a new name.
            headers["Cache-Control"] = "public, max-age=31536000, immutable"
        elif path.startswith("/admin") or path == "/healthz":
            headers["Cache-Control"] = "no-store"
        elif not path.startswith("/static/") and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-cache"  # pages carry a fresh CSP nonce each time
        return response
