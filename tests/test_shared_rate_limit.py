"""Rate-limit counters shared by several servers through RATE_LIMIT_STORAGE, with a real Redis.

`make test` installs Debian's redis-server (Makefile target `redis`); the test starts its own on
127.0.0.1, on a free port, with a temporary directory and no persistence.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import ExitStack

import pytest
import requests

from locator.testing import free_port, serve_in_background

LIMIT = 10
URL = "/api/v1/communes/63430"  # Thiers


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server on 127.0.0.1 (no snapshot, data in a temp dir); yields (process, port)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: run `make redis` (Debian package redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.05)
    yield proc, port
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


def test_two_servers_share_one_limit_and_fail_open_when_redis_goes_away(redis_server, built_store, tmp_path):
    redis_proc, port = redis_server
    env = {
        "LOCATOR_RATE_LIMIT_STORAGE": f"redis://127.0.0.1:{port}",
        "LOCATOR_RATE_LIMIT_API": f"{LIMIT} per day",  # one window for the whole test
    }
    http = requests.Session()
    with ExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            db = tmp_path / f"{name}.sqlite"
            shutil.copyfile(built_store, db)
            servers.append(stack.enter_context(serve_in_background(db, env)))
        a, b = servers
        answers = [http.get((a, b)[i % 2] + URL, timeout=10).status_code for i in range(LIMIT + 4)]
        assert answers[:LIMIT] == [200] * LIMIT, answers
        assert answers[LIMIT:] == [429] * 4, answers  # both servers refuse: they count together
        assert http.get(a + URL, timeout=10).headers.get("Retry-After")

        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        assert not _ping(port)
        after = [http.get(base + URL, timeout=10) for base in (a, b, a, b)]
        assert [r.status_code for r in after] == [200] * 4  # fail open: answered, not counted
        assert after[0].json()["code"] == "63430"
        for server in servers:
            log = server.log()
            assert "rate-limit storage unreachable" in log and "fail open" in log, log[-2000:]
