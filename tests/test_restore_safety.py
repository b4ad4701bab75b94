"""A restore cannot plant a backdoor nor bring back revoked accounts, sessions or lockouts; backups and
the files behind them are readable by their owner only."""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import closing

import pytest
from admin_helpers import ADMIN, EDITOR, accounts_file, csrf_token, login, make_app
from click.testing import CliRunner
from store_helpers import as_version
from werkzeug.security import generate_password_hash

from locator.cli import main

AMBERT_ML = "mission-locale-du-livradois-forez-63003"
PIRATE = ("pirate@example.fr", "sesame-ouvre-toi-la-porte")
ADMIN_PAGE = "/admin/"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need four départements only: the small store (fast tier)."""
    return small_built_store


def cli(*args, stdin: str | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], input=stdin)


def count(path, sql="SELECT COUNT(*) FROM structures"):
    with closing(sqlite3.connect(path)) as c:
        return c.execute(sql).fetchone()[0]


def objects(path) -> set[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as c:
        return {(r[0], r[1]) for r in c.execute("SELECT type, name FROM sqlite_master")}


def backup_of(store, tmp_path, *flags, name="sauvegarde.sqlite"):
    target = tmp_path / name
    result = cli("backup", "--db", store, target, *flags)
    assert result.exit_code == 0, result.output
    return target


def plant(backup, *statements) -> None:
    with closing(sqlite3.connect(backup)) as c:
        for sql in statements:
            c.execute(sql)
        c.commit()


def logs_in(app, email, password) -> bool:
    return login(app.test_client(), email, password).status_code == 302


def report(app, message):
    client = app.test_client()
    form = f"/structures/{AMBERT_ML}/signaler"
    token = csrf_token(client, form)
    return client.post(form, data={"champ": "autre", "message": message, "csrf_token": token})


OPEN_SESAME = """
CREATE TRIGGER porte_derobee AFTER INSERT ON signalements
WHEN new.message LIKE '%open sesame%'
BEGIN
    INSERT INTO utilisateurs (email, role, mot_de_passe, cree_le) VALUES ('{email}', 'admin', '{hash}', 'x');
END
"""


def test_restore_refuses_the_open_sesame_trigger_and_changes_nothing(admin_store, tmp_path):
    backup = backup_of(admin_store, tmp_path)
    # The accounts table the trigger fills, as a backup of accounts holds it, and the trigger itself.
    with closing(sqlite3.connect(backup)) as c:
        if "utilisateurs" not in {r[0] for r in c.execute("SELECT name FROM sqlite_master")}:
            from locator.store.users import BACKUP_DDL

            c.executescript(BACKUP_DDL)
    plant(backup, OPEN_SESAME.format(email=PIRATE[0], hash=generate_password_hash(PIRATE[1])))
    before = (count(admin_store), objects(admin_store))
    result = cli("restore", "--db", admin_store, backup, "--yes")
    assert result.exit_code == 1, result.output
    assert "sauvegarde refusée" in result.output and "déclencheur « porte_derobee »" in result.output
    assert (count(admin_store), objects(admin_store)) == before
    app = make_app(admin_store)
    assert report(app, "open sesame").status_code == 200
    assert not logs_in(app, *PIRATE)


def test_restore_refuses_a_trigger_of_ours_whose_body_was_changed(admin_store, tmp_path):
    backup = backup_of(admin_store, tmp_path)
    plant(
        backup,
        "DROP TRIGGER structures_version",
        # Same name, same event; the body also copies every new phone number somewhere else.
        "CREATE TRIGGER structures_version AFTER UPDATE ON structures WHEN new.version <= old.version "
        "BEGIN UPDATE structures SET version = old.version + 1 WHERE pk = new.pk; "
        "INSERT INTO signalements (structure_id, champ, message, cree_le) "
        "VALUES (new.id, 'autre', new.telephone, 'x'); END",
    )
    before = (count(admin_store), objects(admin_store))
    result = cli("restore", "--db", admin_store, backup, "--yes")
    assert result.exit_code == 1, result.output
    assert "différent de ceux de locator" in result.output
    assert "déclencheur « structures_version »" in result.output
    assert (count(admin_store), objects(admin_store)) == before


@pytest.mark.parametrize(
    ("planted", "said"),
    [
        ("CREATE INDEX structures_courriel ON structures(courriel)", "index « structures_courriel »"),
        ("CREATE VIEW contacts AS SELECT contact FROM signalements", "vue « contacts »"),
        ("CREATE TABLE notes (texte TEXT)", "table « notes »"),
    ],
)
def test_restore_refuses_an_extra_index_view_or_table(admin_store, tmp_path, planted, said):
    backup = backup_of(admin_store, tmp_path)
    plant(backup, planted)
    before = objects(admin_store)
    result = cli("restore", "--db", admin_store, backup, "--yes")
    assert result.exit_code == 1, result.output
    assert said in result.output and "qu’un fichier de locator n’a pas" in result.output
    assert objects(admin_store) == before


def test_a_revoked_password_and_an_old_session_do_not_come_back_after_restore(admin_store, tmp_path):
    app = make_app(admin_store)
    browser = app.test_client()
    assert login(browser, *EDITOR).status_code == 302
    backup = backup_of(admin_store, tmp_path)
    # The editor's password leaked: it is changed, which ends the editor's sessions.
    changed = cli(
        "user",
        "set-password",
        EDITOR[0],
        "--password-stdin",
        "--db",
        admin_store,
        stdin="nouveau-secret-solide\n",
    )
    assert changed.exit_code == 0, changed.output
    result = cli("restore", "--db", admin_store, backup, "--yes")
    assert result.exit_code == 0, result.output
    app = make_app(admin_store)
    assert not logs_in(app, *EDITOR)
    assert logs_in(app, EDITOR[0], "nouveau-secret-solide")
    stolen = app.test_client()
    stolen.set_cookie("session", browser.get_cookie("session").value)
    r = stolen.get(ADMIN_PAGE)
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin/login")
    assert "comptes inchangés" in result.output


def test_backups_hold_no_account_unless_asked_and_never_sessions_nor_failed_logins(admin_store, tmp_path):
    app = make_app(admin_store)
    assert login(app.test_client(), *ADMIN).status_code == 302
    assert login(app.test_client(), ADMIN[0], "pas-le-bon-mot-de-passe").status_code == 401
    plain = backup_of(admin_store, tmp_path)
    names = {n for _k, n in objects(plain)}
    assert not names & {"utilisateurs", "sessions_admin"}
    assert count(plain, "SELECT COUNT(*) FROM tentatives") == 0
    full = backup_of(admin_store, tmp_path, "--avec-comptes", name="avec-comptes.sqlite")
    names = {n for _k, n in objects(full)}
    assert "utilisateurs" in names and "sessions_admin" not in names
    assert count(full, "SELECT COUNT(*) FROM utilisateurs") == 2
    assert count(full, "SELECT COUNT(*) FROM tentatives") == 0


def test_restore_with_accounts_brings_them_back_and_ends_every_session(admin_store, tmp_path):
    backup = backup_of(admin_store, tmp_path, "--avec-comptes")
    assert cli("user", "remove", EDITOR[0], "--db", admin_store).exit_code == 0
    added = cli(
        "user",
        "add",
        "nouvelle@example.fr",
        "--role",
        "admin",
        "--password-stdin",
        "--db",
        admin_store,
        stdin="arrivee-apres-la-sauvegarde\n",
    )
    assert added.exit_code == 0, added.output
    app = make_app(admin_store)
    browser = app.test_client()
    assert login(browser, *ADMIN).status_code == 302
    assert browser.get(ADMIN_PAGE).status_code == 200
    result = cli("restore", "--db", admin_store, backup, "--yes", "--avec-comptes")
    assert result.exit_code == 0, result.output
    assert "toutes les sessions sont fermées" in result.output
    app = make_app(admin_store)
    assert logs_in(app, *EDITOR)
    assert not logs_in(app, "nouvelle@example.fr", "arrivee-apres-la-sauvegarde")
    assert browser.get(ADMIN_PAGE).status_code == 302  # the session opened before the restore ended
    with closing(sqlite3.connect(accounts_file(admin_store))) as c:
        opened = c.execute("SELECT COUNT(*) FROM sessions_admin").fetchone()[0]
    assert opened == 1  # the editor's login just above, no other


def test_restore_with_accounts_refuses_a_backup_made_without_them(admin_store, tmp_path):
    backup = backup_of(admin_store, tmp_path)
    assert cli("user", "remove", EDITOR[0], "--db", admin_store).exit_code == 0
    result = cli("restore", "--db", admin_store, backup, "--yes", "--avec-comptes")
    assert result.exit_code == 1 and "ne contient pas les comptes" in result.output
    assert not logs_in(make_app(admin_store), *EDITOR)


def test_a_backup_of_the_previous_version_is_restored_without_its_accounts(admin_store, tmp_path):
    backup = backup_of(admin_store, tmp_path)
    as_version(backup, "5")
    with closing(sqlite3.connect(backup)) as c:
        c.execute(
            "INSERT INTO utilisateurs VALUES (?, 'admin', ?, 'x', NULL)",
            (PIRATE[0], generate_password_hash(PIRATE[1])),
        )
        c.execute("INSERT INTO tentatives VALUES (?, 1e12)", (f"compte:{ADMIN[0]}",))
        c.commit()
    result = cli("restore", "--db", admin_store, backup, "--yes")
    assert result.exit_code == 0, result.output
    assert not {"utilisateurs", "sessions_admin", "imports_en_attente"} & {
        n for _k, n in objects(admin_store)
    }
    app = make_app(admin_store)
    assert not logs_in(app, *PIRATE)
    assert logs_in(app, *ADMIN)


def _private(path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_fresh_build_its_accounts_file_and_its_backups_are_readable_by_their_owner_only(tmp_path):
    from locator.ingest.build import build

    old = os.umask(0o022)  # what a server's default would give everyone: read access
    try:
        store = tmp_path / "neuf.sqlite"
        build(store, None, say=lambda _m: None, departements=("15",))
        result = cli(
            "user",
            "add",
            ADMIN[0],
            "--role",
            "admin",
            "--password-stdin",
            "--db",
            store,
            stdin=ADMIN[1] + "\n",
        )
        assert result.exit_code == 0, result.output
        app = make_app(store)
        assert logs_in(app, *ADMIN)  # the accounts file gets its -wal and -shm
        backup = backup_of(store, tmp_path)
        made = [p for p in tmp_path.iterdir() if p.is_file()]
        assert {store, accounts_file(store), backup} <= set(made)
        assert any(p.name.endswith("-wal") for p in made)
        assert [p.name for p in made if not _private(p)] == []
        with_accounts = backup_of(store, tmp_path, "--avec-comptes", name="avec-comptes.sqlite")
    finally:
        os.umask(old)
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert with_accounts in files
    assert [p.name for p in files if not _private(p)] == []
