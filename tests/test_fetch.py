"""`locator fetch annuaire` against a local HTTP server: streamed, checked, last good copy kept, imported."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner
from http_helpers import serve_routes
from import_helpers import DATA, dump

from locator.cli import main

SAMPLE = (DATA / "annuaire_2022_extrait.json").read_bytes()
# A 5 MB annuaire that gzip packs into a few kB: its ratio gives it away.
BOMB = gzip.compress(b'{"service":[' + b" " * 5_000_000 + b"]}", 9)


ROUTES = {
    "/annuaire.json": (200, SAMPLE, len(SAMPLE)),
    "/coupe.json": (200, SAMPLE[:2000], len(SAMPLE)),  # connection lost mid-file
    "/tronque.json": (200, SAMPLE[:2000], 2000),  # a complete answer holding half a JSON file
    "/panne.html": (200, b"<html><body>Maintenance</body></html>", 37),
    "/vide.json": (200, b'{"service": []}', 15),
    "/bombe.json.gz": (200, BOMB, len(BOMB)),
    "/profond.json": (200, b'{"service":[' + b"[" * 50_000, 50_012),
}


@pytest.fixture
def server():
    """Serves the sample, and the ways a download goes wrong."""
    with serve_routes(ROUTES, "application/json") as base:
        yield base


def fetch(db, url: str, folder, *args: str):
    result = CliRunner().invoke(
        main, ["fetch", "annuaire", "--db", str(db), "--url", url, "--dir", str(folder), "--json", *args]
    )
    assert "Traceback" not in result.output
    return result


def test_fetch_downloads_checks_and_imports(server, store_copy, tmp_path):
    folder = tmp_path / "annuaire"
    result = fetch(store_copy, server + "/annuaire.json", folder)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["genre"] == "annuaire" and report["crees"] == 1 and report["lus"] == 4
    assert (folder / "annuaire.json").read_bytes() == SAMPLE
    assert not (folder / "annuaire.json.part").exists()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/coupe.json", "incomplet"),
        ("/tronque.json", "tronqué"),
        ("/panne.html", "inutilisable"),
        ("/vide.json", "aucun organisme"),
        ("/absent.json", "répondu 404"),
    ],
)
def test_a_bad_download_keeps_the_last_good_copy_and_the_store(server, store_copy, tmp_path, path, message):
    folder = tmp_path / "annuaire"
    assert fetch(store_copy, server + "/annuaire.json", folder).exit_code == 0
    before = dump(store_copy)
    result = fetch(store_copy, server + path, folder)
    assert result.exit_code == 1
    assert message in result.stderr and "dernière copie valide est gardée" in result.stderr
    assert (folder / "annuaire.json").read_bytes() == SAMPLE
    assert sorted(p.name for p in folder.iterdir()) == ["annuaire.json"]
    assert dump(store_copy) == before


def test_unreachable_server_and_refused_scheme(store_copy, tmp_path):
    result = fetch(store_copy, "http://127.0.0.1:9/annuaire.json", tmp_path)
    assert result.exit_code == 1 and "téléchargement impossible" in result.stderr
    result = fetch(store_copy, "file:///etc/passwd", tmp_path)
    assert result.exit_code == 1 and "http ou https" in result.stderr


def test_dry_run_downloads_but_writes_nothing_in_the_store(server, store_copy, tmp_path):
    before = dump(store_copy)
    result = fetch(store_copy, server + "/annuaire.json", tmp_path, "--dry-run")
    assert result.exit_code == 0 and json.loads(result.stdout)["crees"] == 1
    assert dump(store_copy) == before


@pytest.mark.parametrize(
    ("path", "message"),
    [("/bombe.json.gz", "Archive refusée"), ("/profond.json", "imbriqué sur plus de 64 niveaux")],
)
def test_a_bomb_download_is_refused_within_bounds_and_keeps_the_last_copy(
    server, store_copy, tmp_path, path, message
):
    folder = tmp_path / "annuaire"
    assert fetch(store_copy, server + "/annuaire.json", folder).exit_code == 0
    before = dump(store_copy)
    result = fetch(store_copy, server + path, folder)  # the message names the bound that stopped it
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert (folder / "annuaire.json").read_bytes() == SAMPLE
    assert dump(store_copy) == before
