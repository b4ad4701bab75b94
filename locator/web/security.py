"""Security headers on every answer: a Content-Security-Policy with a per-request nonce, and friends."""

from __future__ import annotations

import secrets

from flask import Flask, g, request


def csp_nonce() -> str:
    """Return this request's nonce for inline <script>/<style> blocks we write ourselves."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(*, script: str, tiles: str, base_uri: str, frame_ancestors: str) -> str:
    """Return the policy of our pages: everything from this site, map tiles from their server."""
    # Styles: Leaflet and Folium set inline style attributes, which carry no script.
    return (
        f"default-src 'self'; script-src {script}; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: {tiles}; connect-src 'self'; font-src 'self'; "
        f"object-src 'none'; base-uri {base_uri}; form-action 'self'; "
        f"frame-ancestors {frame_ancestors}"
    )


def init(app: Flask) -> None:
    """Install the headers and the `csp_nonce()` template function."""
    from .maps import tile_layer, tile_origin

    app.jinja_env.globals["csp_nonce"] = csp_nonce
    tiles = tile_origin(tile_layer(app.config)["url"])  # map tiles: the only images from elsewhere

    @app.after_request
    def _headers(response):
        nonce = g.get("csp_nonce", "")
        script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
        response.headers.setdefault(
            "Content-Security-Policy",
            content_security_policy(
                script=script, tiles=tiles, base_uri="'self'", frame_ancestors=app.config["FRAME_ANCESTORS"]
            ),
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
