"""Helpers of the admin tests: accounts, logging in, posting forms with their CSRF token."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import jinja2

from locator import create_app
from locator.store import authdb

ADMIN = ("admin@example.fr", "un-mot-de-passe-admin-solide")
EDITOR = ("editeur@example.fr", "un-mot-de-passe-editeur-solide")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """A clock the test moves by hand (the CLOCK setting): seconds since the epoch, starting now."""

    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per test session, shared by every app a test creates (Jinja's own cache:
    a template whose source changed is compiled again)."""

    def __init__(self):
        self.codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.codes:
            bucket.bytecode_from_string(self.codes[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.codes[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def new_app(test_config: dict):
    """create_app(test_config) with the session's compiled templates: a new app does not parse them again."""
    app = create_app(test_config)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


def accounts_file(db) -> Path:
    """The accounts file of a store (the default one, beside it)."""
    return authdb.location(db)


def copy_store(source, target) -> None:
    """Copy a store and, when it has one, its accounts file (each folded into one file beforehand)."""
    for src, dst in ((source, target), (accounts_file(source), accounts_file(target))):
        if Path(src).exists():
            with closing(sqlite3.connect(src)) as c:
                c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(src, dst)


def make_app(db, **extra):
    """The app on a store, as a test would configure it."""
    return new_app({"DB": str(db), "TESTING": True, "SECRET_KEY": "test-admin", **extra})


def csrf_token(client, path="/admin/login") -> str:
    """Return the CSRF token a page of this client's session carries."""
    page = client.get(path).get_data(as_text=True)
    m = _TOKEN.search(page)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def login(client, email, password, **extra):
    """Post the login form (with its CSRF token); return the response."""
    token = csrf_token(client)
    return client.post(
        "/admin/login", data={"email": email, "password": password, "csrf_token": token, **extra}
    )


def post_form(client, path, data=None, page=None, **kwargs):
    """Post a form the way a browser would: with the CSRF token of a page of the same session."""
    token = csrf_token(client, page or "/admin/")
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def text(response) -> str:
    """The page's text with HTML entities decoded (Jinja escapes quotes)."""
    return html.unescape(response.get_data(as_text=True))
