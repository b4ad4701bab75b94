"""Shared fixtures: real stores (a small one for the fast tier, the national one), copies, a real server."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from locator import config
from locator.ingest.build import build
from locator.testing import serve_in_background

SEED = Path(config.SEED)
COUVERTURE = Path(config.COUVERTURE)
TESTS = Path(__file__).parent
# The small store: four départements of the région, every commune of them, and their seed structures.
SMALL_DEPARTEMENTS = ("43", "63", "69", "74")
# Fixtures that start `locator serve`; a test that starts one itself carries @pytest.mark.server.
SERVER_FIXTURES = {
    "live_server",
    "site",
    "admin_site",
    "busy_server",
    "patient_server",
    "template_server",
    "server",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark each test with its tiers (see pyproject.toml) from its fixtures and folder, before -m selects."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & {"national_store", "inferred_store"}:
            item.add_marker(pytest.mark.national)
        if fixtures & SERVER_FIXTURES:
            item.add_marker(pytest.mark.server)
        if (TESTS / "browser") in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def national_store(tmp_path_factory) -> Path:
    """The default store, as `locator build` makes it: the real reference geography, the team's seed
    file and the network's coverage list (every commune of the région answers `couverture`); read-only."""
    for needed in (SEED, COUVERTURE):
        if not needed.is_file():
            pytest.fail(f"shared file missing: {needed} (../shared must sit beside the repository)")
    path = tmp_path_factory.mktemp("store") / "locator.sqlite"
    build(path, SEED, say=lambda _m: None, coverage_path=COUVERTURE)
    return path


@pytest.fixture(scope="session")
def inferred_store(tmp_path_factory) -> Path:
    """The national store built with COUVERTURE='' (no coverage list): every commune of the région gets
    its inferred Mission locale (`territoire_probable`); for the tests of the inference (read-only)."""
    if not SEED.is_file():
        pytest.fail(f"seed file missing: {SEED} (../shared must sit beside the repository)")
    path = tmp_path_factory.mktemp("inferred-store") / "locator.sqlite"
    build(path, SEED, say=lambda _m: None, coverage_path="")
    return path


@pytest.fixture(scope="session")
def built_store(national_store) -> Path:
    """The store of the shared fixtures; a module overriding it with small_built_store joins the fast tier."""
    return national_store


@pytest.fixture(scope="session")
def small_built_store(tmp_path_factory) -> Path:
    """A store of four départements: real communes and their seed structures, built in seconds (read-only)."""
    if not SEED.is_file():
        pytest.fail(f"seed file missing: {SEED} (../shared must sit beside the repository)")
    folder = tmp_path_factory.mktemp("small-store")
    with SEED.open(encoding="utf-8", newline="") as f:
        lines = f.read().splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    column = header.index("departement")
    seed = folder / "structures.csv"
    kept = [line for line in csv.reader(lines[1:]) if line[column] in SMALL_DEPARTEMENTS]
    with seed.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *kept])
    path = folder / "locator.sqlite"
    build(path, seed, say=lambda _m: None, departements=SMALL_DEPARTEMENTS)
    return path


@pytest.fixture
def store_copy(built_store, tmp_path) -> Path:
    """A private copy of the built store, for tests that write."""
    path = tmp_path / "locator.sqlite"
    shutil.copyfile(built_store, path)
    return path


@pytest.fixture
def conn(built_store):
    """A read-only connection to the session store."""
    from locator.store.db import connect

    c = connect(built_store)
    yield c
    c.close()


@pytest.fixture
def app(built_store):
    """The app on the session store."""
    from admin_helpers import new_app

    return new_app({"DB": str(built_store), "TESTING": True, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(national_store):
    """A real gunicorn server on the national store (one per session, whatever a module overrides)."""
    with serve_in_background(national_store) as base:
        yield base


# The clients a test may ask for, the role each is logged in as.
LOGGED_IN_CLIENTS = {"admin_client": "admin", "editor_client": "editeur"}
# The cookies a login leaves in a browser: the Flask session and the known-device cookie.
LOGIN_COOKIES = (("session", "/"), ("locator_appareil", "/admin"))


@pytest.fixture(scope="session")
def stores_with_accounts(tmp_path_factory):
    """Return a function: (built store, roles) → (a copy with the admin and editor accounts, where the
    roles are logged in, and the cookies of each role's browser), for read-only use.

    Each copy is made once per session: the scrypt hashes and checks (the production cost, a third of a
    second each under load) are paid once, not by every admin test; each test copies the file.
    """
    from admin_helpers import ADMIN, EDITOR, accounts_file, copy_store, login, make_app

    from locator.admin import accounts

    passwords = {"admin": ADMIN, "editeur": EDITOR}
    made: dict[tuple[Path, tuple[str, ...]], tuple[Path, dict]] = {}

    def with_accounts(store: Path, logged_in: tuple[str, ...] = ()) -> tuple[Path, dict]:
        if (store, logged_in) not in made:
            path = tmp_path_factory.mktemp("accounts") / "locator.sqlite"
            cookies: dict[str, list[tuple[str, str, str]]] = {}
            if logged_in:
                copy_store(with_accounts(store)[0], path)
                app = make_app(path)
                for role in logged_in:
                    client = app.test_client()
                    assert login(client, *passwords[role]).status_code == 302
                    found = [
                        (name, where, client.get_cookie(name, path=where)) for name, where in LOGIN_COOKIES
                    ]
                    cookies[role] = [(name, where, c.value) for name, where, c in found if c is not None]
            else:
                shutil.copyfile(store, path)
                accounts.add_user(accounts_file(path), ADMIN[0], "admin", ADMIN[1])
                accounts.add_user(accounts_file(path), EDITOR[0], "editeur", EDITOR[1])
            # The WAL folded into the main file, the one file the tests copy (of the store and of the
            # accounts file beside it).
            for made_file in (path, accounts_file(path)):
                with closing(sqlite3.connect(made_file)) as c:
                    assert c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
                wal = made_file.with_name(made_file.name + "-wal")
                assert not wal.exists() or wal.stat().st_size == 0
            made[store, logged_in] = path, cookies
        return made[store, logged_in]

    return with_accounts


def _logged_in(request) -> tuple[str, ...]:
    """The roles of the logged-in clients the test asks for."""
    return tuple(role for name, role in LOGGED_IN_CLIENTS.items() if name in request.fixturenames)


@pytest.fixture
def admin_store(request, built_store, stores_with_accounts, tmp_path):
    """A private copy of the built store with one admin and one editor account (tests/admin_helpers.py),
    with the sessions of the logged-in clients the test asks for (admin_client, editor_client); the
    accounts are in the accounts file beside it."""
    from admin_helpers import copy_store

    path = tmp_path / "locator.sqlite"
    copy_store(stores_with_accounts(built_store, _logged_in(request))[0], path)
    return path


@pytest.fixture
def admin_app(admin_store):
    """The app on the store with accounts."""
    from admin_helpers import make_app

    return make_app(admin_store)


def _client_of(request, app, role: str):
    """A client of the app logged in as `role`: the browser of the login made once with the store copy."""
    from admin_helpers import ADMIN, EDITOR, login

    client = app.test_client()
    cookies = request.getfixturevalue("stores_with_accounts")(
        request.getfixturevalue("built_store"), _logged_in(request)
    )[1]
    if role in cookies:
        for name, where, value in cookies[role]:
            client.set_cookie(name, value, path=where)
    else:  # asked for through getfixturevalue: log in now
        assert login(client, *{"admin": ADMIN, "editeur": EDITOR}[role]).status_code == 302
    return client


@pytest.fixture
def admin_client(request, admin_app):
    """A client logged in as the admin account."""
    return _client_of(request, admin_app, "admin")


@pytest.fixture
def editor_client(request, admin_app):
    """A client logged in as the editor account."""
    return _client_of(request, admin_app, "editeur")
