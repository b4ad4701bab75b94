"""Shared fixtures: real stores (a small one for the fast tier, the national one), copies, a real server."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from locator import config
from locator.ingest.build import build
from locator.testing import serve_in_background

SEED = Path(config.SEED)
TESTS = Path(__file__).parent
# The small store: four départements of the région, every commune of them, and their seed structures.
SMALL_DEPARTEMENTS = ("43", "63", "69", "74")
# Fixtures that start `locator serve`; a test that starts one itself carries @pytest.mark.server.
SERVER_FIXTURES = {"live_server", "site", "admin_site", "busy_server", "template_server", "server"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark each test with its tiers (see pyproject.toml) from its fixtures and folder, before -m selects."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "national_store" in fixtures:
            item.add_marker(pytest.mark.national)
        if fixtures & SERVER_FIXTURES:
            item.add_marker(pytest.mark.server)
        if (TESTS / "browser") in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def national_store(tmp_path_factory) -> Path:
    """A store built from the real reference geography and the team's seed file (read-only use)."""
    if not SEED.is_file():
        pytest.fail(f"seed file missing: {SEED} (../shared must sit beside the repository)")
    path = tmp_path_factory.mktemp("store") / "locator.sqlite"
    build(path, SEED, say=lambda _m: None)
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


@pytest.fixture(scope="session")
def stores_with_accounts(tmp_path_factory):
    """Return a function: built store → a copy of it with the admin and editor accounts (read-only use).

    Each copy is made once per session: the two scrypt hashes (the production cost, a third of a
    second each) are paid once, not by every admin test.
    """
    from admin_helpers import ADMIN, EDITOR

    from locator.admin import accounts

    made: dict[Path, Path] = {}

    def with_accounts(store: Path) -> Path:
        if store not in made:
            path = tmp_path_factory.mktemp("accounts") / "locator.sqlite"
            shutil.copyfile(store, path)
            accounts.add_user(path, ADMIN[0], "admin", ADMIN[1])
            accounts.add_user(path, EDITOR[0], "editeur", EDITOR[1])
            # The writer closed: its WAL is folded into the main file, the one file copied below.
            assert not path.with_name(path.name + "-wal").exists()
            made[store] = path
        return made[store]

    return with_accounts


@pytest.fixture
def admin_store(built_store, stores_with_accounts, tmp_path):
    """A private copy of the built store with one admin and one editor account (tests/admin_helpers.py)."""
    path = tmp_path / "locator.sqlite"
    shutil.copyfile(stores_with_accounts(built_store), path)
    return path


@pytest.fixture
def admin_app(admin_store):
    """The app on the store with accounts."""
    from admin_helpers import make_app

    return make_app(admin_store)


@pytest.fixture
def admin_client(admin_app):
    """A client logged in as the admin account."""
    from admin_helpers import ADMIN, login

    client = admin_app.test_client()
    assert login(client, *ADMIN).status_code == 302
    return client


@pytest.fixture
def editor_client(admin_app):
    """A client logged in as the editor account."""
    from admin_helpers import EDITOR, login

    client = admin_app.test_client()
    assert login(client, *EDITOR).status_code == 302
    return client
