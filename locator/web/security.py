"""Security headers on every answer (a Content-Security-Policy with a per-request nonce, and friends),
the host names the site answers to (TRUSTED_HOSTS), and redirects that never leave the site."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

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


def trusted_hosts(setting: str | Iterable[str] | None) -> list[str] | None:
    """The TRUSTED_HOSTS setting (names separated by spaces or commas) as Flask reads it; None: any."""
    names = setting.replace(",", " ").split() if isinstance(setting, str) else list(setting or ())
    return names or None


def local_location(target: str) -> str:
    """Return a redirect's target as a path of this site: no scheme, no host, no `//host` form."""
    parts = urlsplit(target)
    if not (parts.scheme or parts.netloc or target.startswith(("//", "/\\", "\\"))):
        return target
    path = "/" + parts.path.replace("\\", "/").lstrip("/")
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def init(app: Flask) -> None:
    """Install the headers, the trusted host names and the `csp_nonce()` template function."""
    from .maps import tile_layer, tile_origin

    # Flask refuses (400) a Host header, or X-Forwarded-Host behind PROXY_COUNT, not in this list.
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["TRUSTED_HOSTS"])
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
        if "Location" in response.headers:  # Werkzeug's slash redirects are absolute, from the Host header
            response.headers["Location"] = local_location(response.headers["Location"])
        return response
