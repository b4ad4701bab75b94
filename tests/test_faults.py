"""Fault drills: killed import, full disk, read-only store, damaged store, address service down."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from import_helpers import dump

from locator.cli import main
from locator.ingest.geocoders import BanGeocoder
from locator.store import communes

HERE = Path(__file__).parent
LOCATOR = Path(sys.executable).parent / "locator"


def csv_of_real_communes(conn, path: Path, rows: int) -> Path:
    """An admin CSV of `rows` new antennes placed at real communes of the région (no coordinates)."""
    found = conn.execute(
        "SELECT code, nom FROM communes WHERE region = '84' AND type = 'COM' ORDER BY code LIMIT ?", (rows,)
    ).fetchall()
    lines = ["type;nom;adresse;code_insee;commune"]
    lines += [
        f"partenaire;Permanence d'essai {i};1 place de la Mairie;{c};{n}" for i, (c, n) in enumerate(found)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _wal_size(wal: Path) -> int:
    try:
        return wal.stat().st_size
    except FileNotFoundError:
        return 0


def test_import_killed_at_random_moments_leaves_the_store_exactly_as_before(conn, store_copy, tmp_path):
    big = csv_of_real_communes(conn, tmp_path / "gros.csv", 4000)
    pristine = tmp_path / "avant.sqlite"
    shutil.copyfile(store_copy, pristine)
    before = dump(store_copy)
    wal = Path(f"{store_copy}-wal")

    def reset():
        # The killed writer's WAL belongs to the old file: a fresh copy must not inherit it.
        for extra in ("-wal", "-shm"):
            Path(f"{store_copy}{extra}").unlink(missing_ok=True)
        shutil.copyfile(pristine, store_copy)

    def start():
        command = [LOCATOR, "import", str(big), "--db", str(store_copy)]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL)

    # Left alone, the import changes the store (so the drill below could see a partial write); it tells
    # how long it runs and how far its write transaction fills the WAL before the commit.
    reset()
    started, proc, wal_peak = time.monotonic(), start(), 0
    while proc.poll() is None:
        wal_peak = max(wal_peak, _wal_size(wal))
        time.sleep(0.002)  # sampling the WAL's growth
    duration = time.monotonic() - started
    assert proc.returncode == 0
    completed = dump(store_copy)
    assert len(completed[0]) == len(before[0]) + 4000
    assert wal_peak > 256 * 1024, f"the import's transaction never spilled into the WAL ({wal_peak} bytes)"

    def ids(tables):
        return sorted(row[1] for row in tables[0])

    def kill_and_check(proc) -> tuple[bool, bool]:
        """Kill the import (if still running); check all or nothing; return (killed, store unchanged)."""
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Closed at once: a connection left open would still hold the killed writer's WAL when reset()
        # replaces the files, and could check that stale WAL into the next copy when it is collected.
        with closing(sqlite3.connect(store_copy)) as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after = dump(store_copy)
        # All or nothing: exactly as before, or (killed after its commit) the whole import.
        if after != before:
            assert ids(after) == ids(completed)
            assert len(after[3]) == 1 and len(after[4]) == len(completed[4])  # one import, all its history
        return killed, after == before

    rng = random.Random(84)
    killed = interrupted = mid_write = 0
    # Kills at random moments from start-up to the end: wherever they land (the machine's speed decides),
    # the store is all or nothing.
    for _ in range(4):
        reset()
        proc = start()
        time.sleep(rng.uniform(0.05, 0.95) * duration)  # a random moment: what is checked holds at any
        was_killed, unchanged = kill_and_check(proc)
        killed += was_killed
        interrupted += unchanged
    # Kills inside the write transaction, whatever the machine's speed: once the WAL holds part of the
    # import's pages (a random share, at most half, of what it holds before the commit).
    for _ in range(4):
        reset()
        proc = start()
        threshold = rng.uniform(0.05, 0.5) * wal_peak
        while proc.poll() is None and _wal_size(wal) < threshold:
            time.sleep(0.002)  # sampling the WAL's growth
        was_killed, unchanged = kill_and_check(proc)
        killed += was_killed
        interrupted += unchanged
        mid_write += was_killed and unchanged
    assert killed >= 4 and interrupted >= 3 and mid_write >= 1, (killed, interrupted, mid_write)


def run_drill(mode: str, store: Path, csv_file: Path) -> dict:
    cmd = [sys.executable, str(HERE / "fault_scenario.py"), mode, str(store), str(csv_file)]
    if os.geteuid() != 0:
        cmd = ["unshare", "--map-root-user", "--mount", *cmd]
    else:
        cmd = ["unshare", "--mount", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "server_error" not in result, result["server_error"]
    return result


@pytest.mark.server
def test_full_disk_gives_a_clear_error_and_the_site_keeps_serving(conn, built_store, tmp_path):
    csv_file = csv_of_real_communes(conn, tmp_path / "lot.csv", 500)
    result = run_drill("full", built_store, csv_file)
    assert result["read_before"] == 200
    assert result["import_exit"] == 1
    assert "le disque est plein" in result["import_output"]
    assert "Traceback" not in result["import_output"]
    assert result["unchanged"]
    assert result["read_after"] == 200 and result["page_after"] == 200


@pytest.mark.server
def test_read_only_store_serves_reads_and_refuses_writes_clearly(conn, built_store, tmp_path):
    csv_file = csv_of_real_communes(conn, tmp_path / "lot.csv", 50)
    result = run_drill("readonly", built_store, csv_file)
    assert "server_error" not in result, result
    assert result["read_before"] == 200
    assert result["import_exit"] == 1
    assert "lecture seule" in result["import_output"]
    assert "Traceback" not in result["import_output"]
    assert result["unchanged"]
    assert result["read_after"] == 200 and result["page_after"] == 200


@pytest.mark.parametrize("damage", ["truncated", "garbage", "header"])
def test_damaged_store_is_refused_at_start_up_with_a_clear_message(built_store, tmp_path, damage):
    path = tmp_path / "abime.sqlite"
    data = built_store.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif damage == "garbage":
        path.write_bytes(data[:4096] + os.urandom(len(data) // 2))
    else:
        path.write_bytes(b"not a database" + data[14:])
    done = subprocess.run(
        [LOCATOR, "serve", "--db", str(path), "--port", "1"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "Erreur" in done.stderr and "Traceback" not in done.stderr
    assert "endommagé" in done.stderr or "lisible" in done.stderr


def test_address_service_down_degrades_to_the_commune_centre(conn):
    import socket

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    thiers = communes.get(conn, "63430")
    geocoder = BanGeocoder(domain=f"127.0.0.1:{dead}", scheme="http", timeout=0.5)
    found = geocoder.geocode(conn, "20 rue des Docteurs-Dumas", "63300", thiers)
    assert (found.latitude, found.longitude, found.precision) == (
        thiers["latitude"],
        thiers["longitude"],
        "commune",
    )
    assert "centre de la commune" in found.note


def test_import_with_the_address_service_down_still_imports_at_the_commune(store_copy, tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    monkeypatch.setenv("LOCATOR_BAN_DOMAIN", f"127.0.0.1:{dead}")
    monkeypatch.setenv("LOCATOR_BAN_SCHEME", "http")
    f = tmp_path / "a.csv"
    f.write_text(
        "type;nom;adresse;code_postal;commune\ncio;CIO d'essai;20 rue des Docteurs-Dumas;63300;Thiers\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["import", str(f), "--db", str(store_copy), "--json", "--geocoder", "ban"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["crees"] == 1
    with sqlite3.connect(store_copy) as c:
        precision = c.execute(
            "SELECT precision_geocodage FROM structures WHERE nom = ?", ("CIO d'essai",)
        ).fetchone()
    assert precision == ("commune",)
