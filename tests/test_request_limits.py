"""Bounded requests: small bodies and few form fields everywhere but the import upload (a real server)."""

from __future__ import annotations

import io
import re
import select
import socket
from pathlib import Path

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


def _post(url: str, body: bytes) -> requests.Response:
    return requests.post(url, data=body, headers={"Content-Type": FORM}, timeout=60)


def _answer_to_headers_alone(port: int, path: str, length: int) -> bytes:
    """Send a POST's headers announcing `length` bytes, never the body; return what the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:  # a safety net
        sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (path.encode(), FORM.encode(), length)
        )
        return sock.recv(65536)


@pytest.mark.parametrize("path", [f"/structures/{AMBERT_ML}/signaler", "/admin/login"])
def test_a_big_form_is_refused_with_413_before_it_is_parsed(server, path):
    body = b"a=&" * 700_000  # 2 MB, 700,000 fields: far below the old 51 MB limit
    r = _post(server + path, body)
    assert r.status_code == 413
    assert "trop grosse" in r.text and "256 Ko au plus" in r.text
    assert "Traceback" not in r.text
    # Before it is parsed, or even read: the answer comes to the headers alone, the body never sent.
    assert _answer_to_headers_alone(server.port, path, len(body)).startswith(b"HTTP/1.1 413")


def test_a_small_form_with_too_many_fields_is_refused_with_413(server):
    body = b"&".join(b"c%d=" % i for i in range(5000))  # 34 KB: small, but 5,000 fields
    r = _post(server + "/admin/login", body)
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


HUGE = 51_000_000  # the upload: 51 MB to a route that takes 256 KB (the old server read it all)


def _workers(base) -> list[int]:
    """The pids of the server's worker processes (children of the gunicorn master)."""
    master = base.process.pid
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def _bytes_written(pids: list[int]) -> int:
    """What these processes have written through write() so far: files (spooled bodies), logs; not sockets."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                total += int(line.split()[1])
    return total


def _post_huge(port: int, path: str, chunked: bool) -> tuple[bytes, int]:
    """POST a HUGE body as fast as the server reads it, until it answers; return (answer, bytes sent)."""
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % HUGE
    block = b"a" * 65536
    piece = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n%s\r\n\r\n"
            % (path.encode(), FORM.encode(), framing)
        )
        while sent < HUGE:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable or not writable:
                break
            try:
                sock.send(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(block)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # the rest of the body, unread, made the server's close a reset: its answer came first
    return answer, sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", [f"/structures/{AMBERT_ML}/signaler", "/admin/login", "/api/v1/structures"])
def test_a_51_mb_post_gets_413_before_it_is_sent_and_nothing_is_written_to_disk(server, path, chunked):
    workers = _workers(server)
    written = _bytes_written(workers)
    answer, sent = _post_huge(server.port, path, chunked)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"Connection: close" in head
    assert "trop grosse (256 Ko au plus)" in body.decode()
    assert sent < HUGE / 2, f"the client sent {sent} bytes before the 413"
    spooled = _bytes_written(workers) - written
    assert spooled < 64 * 1024, f"the server wrote {spooled} bytes while refusing"


def test_a_client_that_asks_before_sending_gets_413_not_100_continue(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n"
            b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (FORM.encode(), HUGE)
        )
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]


@pytest.mark.server
def test_the_import_upload_takes_files_up_to_its_limit_over_http(admin_store):
    from admin_helpers import ADMIN

    row = "mission_locale,Essai %d,63003," + "x" * 30_000 + "\n"
    csv = ("type,nom,code_insee,description\n" + "".join(row % i for i in range(12))).encode()  # 360 KB
    with serve_in_background(admin_store) as base:
        session = requests.Session()
        token = _token(session, base + "/admin/login")
        r = session.post(
            base + "/admin/login",
            data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        assert r.status_code == 302
        form = {"csrf_token": _token(session, base + "/admin/import"), "statut": "brouillon"}
        r = session.post(
            base + "/admin/import",
            data=form,
            files={"fichier": ("essai.csv", csv)},
            allow_redirects=False,
            timeout=60,
        )
        assert r.status_code == 302 and "/admin/import/" in r.headers["Location"], r.text[-500:]
        answer, sent = _post_huge(base.port, "/admin/import", chunked=False)
        assert answer.startswith(b"HTTP/1.1 413") and "6 Mo au plus" in answer.decode(), answer[:300]
        assert sent < HUGE / 2


def _token(session: requests.Session, url: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=30).text)
    assert m, url
    return m.group(1)
