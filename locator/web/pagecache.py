"""Rendered public pages kept per worker thread, keyed by the parameters they read and the store's version.

A page is a pure function of its path and the parameters its view reads, the store, the app's
settings and the clock: once rendered, it is served again until any commit changes the store
(SQLite's `PRAGMA data_version` moves on this thread's connection). A page that says "ouvert
maintenant, jusqu'à 17 h" is kept only until the first such text it shows stops being true
(`expires_at`), by the app's CLOCK.

The one per-visitor part of a public page, the CSRF token of its « Signaler une erreur » form, is not
kept: while a page renders for the cache, `csrf_token()` writes a mark, and every serve puts the
visitor's own token in its place (a string replacement, not a render).
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlencode

from flask import Response, current_app, g, request
from flask_wtf.csrf import generate_csrf

from ..store import db
from . import params
from .store import get_conn

# Where a kept page's CSRF token goes: drawn once per process, so no stored text can know it; plain
# letters and digits, which escaping leaves as they are.
CSRF_MARK = f"jeton-csrf-{secrets.token_hex(16)}"


class Kept(NamedTuple):
    """A rendered page: its HTML, until when it holds (None: until the store changes), and whether
    it holds CSRF_MARK."""

    html: str
    until: dt.datetime | None
    token: bool


class _ThreadPages(threading.local):
    def __init__(self) -> None:
        self.version: Any = None
        self.pages: OrderedDict[str, Kept] = OrderedDict()  # key (see `_key`) → page


def now() -> dt.datetime:
    """Return the present by the app's CLOCK setting (aware, UTC): tests move it instead of waiting."""
    return dt.datetime.fromtimestamp(current_app.config["CLOCK"](), dt.UTC)


def expires_at(moment: dt.datetime | None) -> None:
    """Keep the page being rendered no later than this (aware) moment: what it says changes then."""
    if moment is not None and (g.get("page_expires") is None or moment < g.page_expires):
        g.page_expires = moment


def csrf_token() -> str:
    """The page's CSRF token (`csrf_token()` in templates): a mark while a page renders for the cache."""
    if g.get("page_caching"):
        g.page_token = True
        return CSRF_MARK
    return generate_csrf()


def _served(html: str, with_token: bool) -> Response:
    """The kept HTML with this visitor's own CSRF token put in, when it has a form."""
    return Response(html.replace(CSRF_MARK, generate_csrf()) if with_token else html, mimetype="text/html")


def _key(reads: tuple[str, ...]) -> str:
    """The page's URL reduced to what the view reads: the path, then each parameter it reads, trimmed
    (`types` as a sorted set). Other parameters (a tracker's, a counter added to miss the cache) and
    the order or repetition of types make no new page, so they cannot force a render."""
    args = request.args
    kept = []
    for name in reads:
        if name == "types":
            if name in args:
                kept.append((name, ",".join(sorted(params.listed(args, name)))))
        elif name in args:
            kept.append((name, args[name].strip()))
    return f"{request.path}?{urlencode(kept)}"


def cached(*reads: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve the view's HTML from this thread's cache while the store has not changed; `reads`: the
    query parameters the page depends on (trimmed values; the view itself trims them the same way)."""
    return functools.partial(_cached, reads=reads)


def _cached(view: Callable[..., Any], reads: tuple[str, ...]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        most = int(current_app.config["PAGES_KEPT"])  # a few MB per worker at most
        if most <= 0:
            return view(*args, **kwargs)
        local = current_app.extensions.get("locator_pages")
        if local is None:
            local = current_app.extensions.setdefault("locator_pages", _ThreadPages())
        version = db.version(get_conn())
        if local.version != version:
            local.version = version
            local.pages.clear()
        key = _key(reads)
        kept = local.pages.get(key)
        if kept is not None and (kept.until is None or now() < kept.until):
            local.pages.move_to_end(key)
            return _served(kept.html, kept.token)
        g.page_expires = None
        g.page_caching, g.page_token = True, False
        try:
            result = view(*args, **kwargs)
        finally:
            g.page_caching = False
        if isinstance(result, str):  # a rendered page (redirects and error pages are not kept)
            local.pages[key] = Kept(result, g.page_expires, g.page_token)
            if len(local.pages) > most:
                local.pages.popitem(last=False)
            return _served(result, g.page_token)
        if g.page_token and isinstance(result, tuple) and isinstance(result[0], str):
            return (_served(result[0], True), *result[1:])  # not kept (a status), but its form works
        return result

    return wrapper
