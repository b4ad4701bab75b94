"""A busy store: writes wait their turn (a bounded wait), then a French 503 with Retry-After, never a 500."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
import requests
from admin_helpers import ADMIN
from http_helpers import PendingPost, wait_until

from locator.store import authdb
from locator.testing import serve_in_background

MESSY = Path(__file__).parent / "data" / "import_desordre.csv"
WAIT = 2  # seconds a write waits for the lock in these tests (setting WRITE_WAIT_SECONDS)
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _server_with_an_admin(tmp_path_factory, built_store, wait: float):
    import shutil

    from locator.admin import accounts

    db = tmp_path_factory.mktemp("busy") / "locator.sqlite"
    shutil.copyfile(built_store, db)
    accounts.add_user(authdb.location(db), ADMIN[0], "admin", ADMIN[1])
    with serve_in_background(db, env={"LOCATOR_WRITE_WAIT_SECONDS": str(wait)}) as base:
        yield db, base


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory, built_store):
    """A real server on a private store with accounts, whose writes wait WAIT seconds at most."""
    yield from _server_with_an_admin(tmp_path_factory, built_store, WAIT)


@pytest.fixture(scope="module")
def patient_server(tmp_path_factory, built_store):
    """The same, whose writes wait long enough for another one however busy the machine is."""
    yield from _server_with_an_admin(tmp_path_factory, built_store, 120)


class WriteLock:
    """Another writer holding the store's write lock (BEGIN IMMEDIATE) until released."""

    def __init__(self, db: Path):
        self.conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def csrf(session: requests.Session, url: str) -> str:
    m = _TOKEN.search(session.get(url, timeout=60).text)
    assert m, url
    return m.group(1)


def logged_in(base: str) -> requests.Session:
    s = requests.Session()
    token = csrf(s, base + "/admin/login")
    r = s.post(
        base + "/admin/login",
        data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302, r.text[-500:]
    return s


AMBERT_ML = "mission-locale-du-livradois-forez-63003"
REPORT = f"/structures/{AMBERT_ML}/signaler"


def post_report(base: str, headers: dict | None = None) -> requests.Response:
    """Post « Signaler une erreur »: a public form that writes to the store."""
    s = requests.Session()
    token = csrf(s, base + REPORT)
    return s.post(
        base + REPORT,
        data={"champ": "horaires", "message": "Fermé le mercredi.", "csrf_token": token},
        headers=headers or {},
        allow_redirects=False,
        timeout=30,
    )


def test_a_write_during_another_write_waits_then_answers_503_in_french(busy_server):
    db, base = busy_server
    lock = WriteLock(db)
    try:
        started = time.monotonic()
        r = post_report(base)
        waited = time.monotonic() - started
    finally:
        lock.release()
    assert r.status_code == 503, r.text[-500:]
    assert waited >= WAIT - 0.5
    assert int(r.headers["Retry-After"]) >= 1
    assert "text/html" in r.headers["Content-Type"]
    assert "Une autre écriture est en cours" in r.text and "Traceback" not in r.text


def test_json_client_gets_a_json_503_when_the_store_is_busy(busy_server):
    db, base = busy_server
    lock = WriteLock(db)
    try:
        r = post_report(base, headers={"Accept": "application/json"})
    finally:
        lock.release()
    assert r.status_code == 503, r.text[-500:]
    assert "Retry-After" in r.headers
    assert "écriture est en cours" in r.json()["erreur"]


def _cookies(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def _reports(db: Path) -> int:
    with closing(sqlite3.connect(db)) as c:
        return c.execute("SELECT COUNT(*) FROM signalements").fetchone()[0]


def test_a_write_waits_its_turn_when_the_other_write_ends_in_time(patient_server):
    # The other write ends once the report is in the server's hands, waiting: the patient server's
    # wait (120 s) makes "in time" hold however slow the machine is; the busy server's 2 s would not.
    db, base = patient_server
    s = requests.Session()
    form = {"champ": "horaires", "message": "Fermé le jeudi.", "csrf_token": csrf(s, base + REPORT)}
    before = _reports(db)
    lock = WriteLock(db)
    try:
        post = PendingPost(base, REPORT, form, cookies=_cookies(s))
        wait_until(post.read_by_server, what="the server reading the report")
        assert not post.done.is_set()  # no answer while the store is locked: the write waits
        assert _reports(db) == before
    finally:
        lock.release()
    assert post.answer().status == 200, post.body[-500:]
    assert _reports(db) == before + 1


class LockingProcess:
    """Another process holding the store's write lock (BEGIN IMMEDIATE), as a long import does."""

    HOLD = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('verrou', flush=True)\n"
        "sys.stdin.read()\n"
    )

    def __init__(self, db: Path):
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
            [sys.executable, "-c", self.HOLD, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "verrou"  # waits until the lock is held

    def release(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def test_admin_logs_in_and_is_throttled_while_another_process_holds_the_store(busy_server):
    db, base = busy_server
    lock = LockingProcess(db)
    try:
        assert sqlite3.connect(db, timeout=0).execute("BEGIN IMMEDIATE").fetchall() is None
    except sqlite3.OperationalError as err:  # the store is really locked for writing
        assert "locked" in str(err)
    else:
        pytest.fail("the store was not locked")
    try:
        s = logged_in(base)  # a 302 at once: logins never wait for the store
        assert s.get(base + "/admin/", timeout=30).status_code == 200
        guesser = requests.Session()
        token = csrf(guesser, base + "/admin/login")
        answers = [
            guesser.post(
                base + "/admin/login",
                data={"email": "intrus@example.fr", "password": f"essai-{n}", "csrf_token": token},
                allow_redirects=False,
                timeout=30,
            ).status_code
            for n in range(6)
        ]
        still_locked = sqlite3.connect(db, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            still_locked.execute("BEGIN IMMEDIATE")
        still_locked.close()
    finally:
        lock.release()
    assert answers == [401] * 5 + [429]  # the throttle counts and locks, the store locked throughout


def test_double_confirmation_of_an_import_imports_once(patient_server):
    # The second click waits for the first one's import: its wait must not depend on the machine's load.
    db, base = patient_server
    s = logged_in(base)
    token = csrf(s, base + "/admin/import")
    with MESSY.open("rb") as f:
        r = s.post(
            base + "/admin/import",
            data={"csrf_token": token, "statut": "publie"},
            files={"fichier": ("double.csv", f)},
            allow_redirects=False,
            timeout=60,
        )
    assert r.status_code == 302, r.text[-500:]
    preview = r.headers["Location"]
    if preview.startswith("/"):
        preview = base + preview
    token = csrf(s, preview)
    count = "SELECT COUNT(*) FROM imports"
    before = sqlite3.connect(db).execute(count).fetchone()[0]
    lock = WriteLock(db)  # both clicks arrive while another write runs: both read the upload first
    try:
        confirm = preview.removeprefix(base) + "/confirmer"
        clicks = [PendingPost(base, confirm, {"csrf_token": token}, _cookies(s)) for _ in range(2)]
        for click in clicks:
            wait_until(click.read_by_server, what="the server reading a click")
        assert not any(click.done.is_set() for click in clicks)
    finally:
        lock.release()
    answers = [click.answer() for click in clicks]
    assert sorted(r.status for r in answers) == [302, 302], [r.body[-300:] for r in answers]
    assert sqlite3.connect(db).execute(count).fetchone()[0] == before + 1
    targets = {r.headers["Location"].removeprefix(base) for r in answers}
    assert len(targets) == 1 and targets.pop().startswith("/admin/imports/")


def test_cli_says_in_french_that_another_write_is_running(store_copy):
    lock = WriteLock(store_copy)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "locator.cli", "import", str(MESSY), "--db", str(store_copy)],
            capture_output=True,
            text=True,
            env={**os.environ, "LOCATOR_WRITE_WAIT_SECONDS": "1"},
            timeout=60,
        )
    finally:
        lock.release()
    assert done.returncode == 1
    assert "une autre écriture est en cours" in done.stderr.lower() and "Traceback" not in done.stderr
