"""Bounded requests: small bodies and few form fields everywhere but the import upload (a real server)."""

from __future__ import annotations

import io
import time

import pytest
import requests
from admin_helpers import csrf_token

from locator.testing import serve_in_background

AMBERT_ML = "mission-locale-du-livradois-forez-63003"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def server(built_store):
    with serve_in_background(built_store) as base:
        yield base


def _post(url: str, body: bytes) -> tuple[requests.Response, float]:
    start = time.monotonic()
    r = requests.post(url, data=body, headers={"Content-Type": FORM}, timeout=30)
    return r, time.monotonic() - start


@pytest.mark.parametrize("path", [f"/structures/{AMBERT_ML}/signaler", "/admin/login"])
def test_a_big_form_is_refused_with_413_before_it_is_parsed(server, path):
    body = b"a=&" * 700_000  # 2 MB, 700,000 fields: far below the old 51 MB limit
    r, seconds = _post(server + path, body)
    assert r.status_code == 413
    assert "trop grosse" in r.text and "256 Ko au plus" in r.text
    assert "Traceback" not in r.text
    assert seconds < 2


def test_a_small_form_with_too_many_fields_is_refused_with_413(server):
    body = b"&".join(b"c%d=" % i for i in range(5000))  # 34 KB: small, but 5,000 fields
    r, _seconds = _post(server + "/admin/login", body)
    assert r.status_code == 413
    assert "trop de champs" in r.text


def test_a_big_json_body_gets_a_french_413(server):
    r = requests.post(
        server + "/api/v1/structures", data=b"[" * 400_000, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert "trop grosse" in r.json()["erreur"]


def test_the_import_upload_still_takes_files_bigger_than_the_form_limit(admin_client):
    token = csrf_token(admin_client, "/admin/import")
    big = b"type,nom,code_insee\n" + b"mission_locale,Essai,63003\n" * 20_000  # 540 KB
    r = admin_client.post(
        "/admin/import",
        data={"csrf_token": token, "statut": "publie", "fichier": (io.BytesIO(big), "gros.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code != 413
