"""Shared fixtures: one real store built per session, copied for tests that write, and a real server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from locator import config, create_app
from locator.ingest.build import build

SEED = Path(config.SEED)


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    """A store built from the real reference geography and the team's seed file (read-only use)."""
    if not SEED.is_file():
        pytest.fail(f"seed file missing: {SEED} (../shared must sit beside the repository)")
    path = tmp_path_factory.mktemp("store") / "locator.sqlite"
    build(path, SEED, say=lambda _m: None)
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
    return create_app({"DB": str(built_store), "TESTING": True, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    return app.test_client()


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start `locator serve` (gunicorn) on a free port and wait for /healthz; return (process, base URL)."""
    import os

    port = free_port()
    # Tests send many requests from one address: a high default limit, unless a test sets its own.
    env = {
        **os.environ,
        "LOCATOR_RATE_LIMIT_API": "100000 per minute",
        "LOCATOR_RATE_LIMIT_PAGES": "100000 per minute",
        **(extra_env or {}),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locator.cli",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not answer /healthz within 30 s")


@pytest.fixture(scope="session")
def live_server(built_store):
    """A real gunicorn server on the session store; yields its base URL."""
    proc, base = start_server(built_store)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def admin_store(store_copy):
    """A private copy of the built store with one admin and one editor account (tests/admin_helpers.py)."""
    from admin_helpers import ADMIN, EDITOR

    from locator.admin import accounts

    accounts.add_user(store_copy, ADMIN[0], "admin", ADMIN[1])
    accounts.add_user(store_copy, EDITOR[0], "editeur", EDITOR[1])
    return store_copy


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
