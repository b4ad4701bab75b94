"""HTTP caching and compression: ETag + Cache-Control on API answers, gzip/brotli when asked."""

from __future__ import annotations

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

    @app.after_request
    def _cache_headers(response):
        if request.method not in ("GET", "HEAD"):
            return response
        path = request.path
        if path.startswith("/api/") and response.status_code == 200:
            # The body is the data: its hash is the validator; a client revalidates after max-age.
            response.add_etag()
            response.cache_control.public = True
            response.cache_control.max_age = app.config["API_MAX_AGE"]
            response.vary.add("Accept-Encoding")
            return response.make_conditional(request)
        if path.startswith("/admin") or path == "/healthz":
            response.cache_control.no_store = True
        elif not path.startswith("/static/") and "Cache-Control" not in response.headers:
            response.cache_control.no_cache = True  # pages carry a fresh CSP nonce each time
        return response
