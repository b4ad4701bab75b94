"""Rendered public pages kept per worker thread, keyed by URL and the store's data version.

A page is a pure function of its URL, the store and the app's settings: once rendered, it is served
again until any commit changes the store (SQLite's `PRAGMA data_version` moves on this thread's
connection). Pages with per-visitor content (a CSRF token) are not cached. A page that says
"ouvert maintenant, jusqu'à 17 h" is kept only until the first such change it shows (`expires_at`).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request

from ..store import db
from .store import get_conn

# Pages kept per thread (about 40 kB each): a few MB per worker at most.
MAX_PAGES = 128


class _ThreadPages(threading.local):
    def __init__(self) -> None:
        self.version: Any = None
        self.pages: OrderedDict[str, tuple[str, dt.datetime | None]] = OrderedDict()


def expires_at(moment: dt.datetime | None) -> None:
    """Keep the page being rendered no later than this (aware) moment: what it says changes then."""
    if moment is not None and (g.get("page_expires") is None or moment < g.page_expires):
        g.page_expires = moment


def cached(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the view's HTML from this thread's cache while the store has not changed."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        local = current_app.extensions.get("locator_pages")
        if local is None:
            local = current_app.extensions.setdefault("locator_pages", _ThreadPages())
        version = db.version(get_conn())
        if local.version != version:
            local.version = version
            local.pages.clear()
        key = request.full_path
        kept = local.pages.get(key)
        if kept is not None and (kept[1] is None or dt.datetime.now(dt.UTC) < kept[1]):
            local.pages.move_to_end(key)
            return Response(kept[0], mimetype="text/html")
        g.page_expires = None
        result = view(*args, **kwargs)
        if isinstance(result, str):  # a rendered page (redirects and error pages are not kept)
            local.pages[key] = (result, g.page_expires)
            if len(local.pages) > MAX_PAGES:
                local.pages.popitem(last=False)
        return result

    return wrapper
